#!/usr/bin/env bash
# End-to-end `dnas sweep` on the tiny PIT config (about a second a run):
# a 2-rank campaign under mpirun (as a singleton when mpirun is missing)
# leaves campaign.h5 with the root attributes, every run, /summary and
# /pareto (read with python3-h5py when installed, else h5dump); every rank
# computed; the warmup was trained once and each run started from it, and a
# run equals the same `dnas search`; the report writes its tables and
# plots, also from the run files alone; an existing campaign needs
# --resume; a diverging run (in the warmup, or one run in its search
# among good ones) is recorded and the campaign goes on; a missing dataset
# is reported once, naming the path (and the Debian package of a packaged
# dataset); progress lines name each rank's run, logs are per rank; the
# deploy stage compiles, builds and checks the front's runs (c on 8 real
# test images; a failing target recorded as failed) and records
# /deploy and the report's section, a run
# the sweep wrote deploys with dnas deploy, --resume redoes no deployment,
# best_within_budget picks the most accurate run that fits each target
# (gap8, cortex-m) or records that none fits.
# Usage: cli_sweep.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$(realpath "$1")"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
SRC="$src" . "$(dirname "$0")/lib_mpi.sh"; mpi_env
cd "$tmp"
if command -v mpirun > /dev/null; then np=2; launch=(mpirun -np 2); else np=1; launch=(); fi
h5get() { h5dump -a "$2" "$1" 2>/dev/null | sed -n 's/.*(0): *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' | head -1; }

cat > c1.yaml <<YAML
campaign: c1
output: out/c1
search: $src/configs/search_pit_tcn_fmnist_tiny.yaml
mu: [0, 1.0e-4]
constraints:
  - []
  - [{cost: params, max: 20000}]
threads: 1
deploy:
  select: front
  front: params_vs_test_acc
  targets: [c, {backend: gap8, l1: 10}]
  images: 8
YAML
"$dnas" sweep c1.yaml --dry-run > dry.out 2>&1
check "--dry-run lists the 4 jobs without training" sh -c \
    "grep -q 'campaign c1: 4 jobs (2 mu x 2 constraint sets x 1 seeds)' dry.out && grep -q '^3 .*0.0001 .*params<=20000' dry.out && test ! -d out/c1"
check "--dry-run names the deploy stage" grep -q '^then deploy: the points of front params_vs_test_acc on c gap8-l1_10, 8 test-image samples each' dry.out

"${launch[@]}" "$dnas" sweep c1.yaml > c1.out 2> c1.err
rc=$?
check "the sweep exits 0 (got $rc; $np ranks)" test $rc -eq 0
check "progress shows runs done/total, the front and an ETA" sh -c \
    "grep -q '^sweep .*: runs 4/4 .*front params: .* points\{0,1\}, best .* | ETA' c1.err"
check "progress shows each rank's run, its mu and time" grep -Eq '^sweep .*: runs [0-9]+/4 .*\| rank 0: run [0-3] mu [0-9.e+-]+ [0-9]+m[0-9]+s' c1.err
if [ "$np" = 2 ]; then
    check "and rank 1's" grep -Eq '^sweep .*: runs [0-9]+/4 .*\| rank 1: run [0-3] mu [0-9.e+-]+ [0-9]+m[0-9]+s' c1.err
fi
check "it starts with the runs, the ranks and where the logs go" grep -q "^sweep c1: 4 runs (0 done before), $np ranks\{0,1\}; logs in out/c1/logs/" c1.err
check "each rank's search log is a file in the campaign folder" sh -c \
    "for r in \$(seq 0 $((np - 1))); do grep -q '^== run [0-3]: mu' out/c1/logs/rank\$r.log || exit 1; done"
check "the report's table is printed" sh -c "grep -q '^## params vs test_acc' c1.out && grep -q '^| run | μ | constraints' c1.out"
check "campaign.h5, pareto.md and pareto.csv are written" \
    test -f out/c1/campaign.h5 -a -f out/c1/pareto.md -a -f out/c1/pareto.csv
if command -v gnuplot > /dev/null; then
    check "a PNG per front" sh -c "test -s out/c1/pareto_params_vs_test_acc.png && head -c 4 out/c1/pareto_params_vs_test_acc.png | grep -q PNG"
fi
check "the warmup was trained once" test "$(cat out/c1/logs/rank*.log | grep -c '^warmup 1/1 done')" = 1
check "and every run loaded it" test "$(cat out/c1/logs/rank*.log | grep -c '^warmup 1/1 loaded from')" = 4
if [ "$np" = 2 ]; then
    check "both ranks ran jobs" sh -c "grep -q ' 0 start ' out/c1/logs/events.log && grep -q ' 1 start ' out/c1/logs/events.log"
fi

py=""   # Debian's python3-h5py: /usr/bin/python3 when another python3 comes first on PATH
for p in python3 /usr/bin/python3; do "$p" -c 'import h5py' 2> /dev/null && { py=$p; break; }; done
if [ -n "$py" ]; then
    cat > check.py <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
a = f.attrs
def s(v): return v.decode() if isinstance(v, bytes) else str(v)
assert s(a["format"]) == "dnas-results-1", a["format"]
for k in ("version", "commit", "start_time", "end_time", "campaign"): assert s(a[k]), k
assert int(a["ranks"]) == int(sys.argv[2]), a["ranks"]
assert b"mu:" in f["config_yaml"][()] and b"method: pit" in f["search_config_yaml"][()]
t = f["summary"][()]
ids = [s(x) for x in t["id"]]
assert ids == ["0", "1", "2", "3"], ids
assert all(s(x) == "ok" for x in t["status"]), t["status"]
assert list(t["mu"]) == [0, 1e-4, 0, 1e-4] and list(t["constraint_set"]) == [0, 0, 1, 1]
assert [s(x) for x in t["constraints"]] == ["none", "none", "params<=20000", "params<=20000"]
for c in ("params", "macs", "bitops", "memory", "test_acc", "int_test_acc", "val_acc", "seed", "rank", "wall_seconds"):
    assert c in t.dtype.names, c
assert t["params"][0] == 73226 and t["params"][2] < t["params"][0], t["params"]  # the params hinge prunes
assert sorted(f["runs"].keys()) == ids
for k in ids: assert "arch" in f["runs"][k] and "qnet" in f["runs"][k]
p = f["pareto/params_vs_test_acc"]
pts = p[()]
assert len(pts) >= 2 and list(pts["cost"]) == sorted(pts["cost"]), pts
assert all(s(i) in ids for i in pts["id"])
assert p.attrs["reference_point"][0] == 73226 and p.attrs["hypervolume"] > 0
assert "params_vs_int_test_acc" in f["pareto"] and "memory_vs_test_acc" in f["pareto"]
print("ok", len(pts), float(p.attrs["hypervolume"]))
PY
    check "campaign.h5 has the root attributes, /runs, /summary and /pareto (h5py)" "$py" check.py out/c1/campaign.h5 $np
else
    check "campaign.h5 has /summary, /pareto and 4 runs (h5dump)" sh -c \
        "h5dump -n out/c1/campaign.h5 > n && grep -q ' /summary\$' n && grep -q ' /pareto/params_vs_test_acc\$' n && \
         test \$(grep -c ' /runs/[0-9]*\$' n) = 4 && h5dump -a /pareto/params_vs_test_acc/hypervolume out/c1/campaign.h5 > /dev/null"
fi

# the deploy stage: every point of the front on c, checked; on gap8 with a
# 10-byte L1 each fails (no tiling fits), is recorded as failed and the
# others go on (gap8 builds and checks in the best_within_budget stage below)
npts=$(grep -c '^deploy [0-9]*/[0-9]*: run [0-9]* on c: ' c1.err)
neq=$(grep -c '^deploy [0-9]*/[0-9]*: run [0-9]* on c: equal (8 samples, accuracy [0-9.]*%); flash [0-9]* B' c1.err)
nfail=$(grep -c "^deploy [0-9]*/[0-9]*: run [0-9]* on gap8-l1_10: failed: .*does not fit a tiled memory of 10 bytes" c1.err)
check "deploy: progress names each deployment: $npts front points, $neq equal, $nfail failed" sh -c \
    "grep -q \"^deploy: $((2 * npts)) deployments (front params_vs_test_acc: $npts runs x 2 targets) -> out/c1/deploy/\" c1.err && \
     test $npts -ge 2 && test $neq = $npts && test $nfail = $npts && \
     grep -q \"^deploy c1: $((2 * npts)) deployments ($neq equal, 0 differ, 0 skipped, $npts failed)\" c1.err"
check "the report has a Deployments section (printed and in pareto.md)" sh -c \
    "grep -q '^## Deployments' c1.out && grep -q '^## Deployments' out/c1/pareto.md && \
     grep -Eq '^\| [0-9]+ \| c \| equal \| 8 \| [0-9.]+% \| [0-9]+ \| [0-9]+ \| [0-9]+ \([0-9]+\) \| - \| - \| 0 \(0\) \| - \| 0 \(0\) \|  \|$' out/c1/pareto.md"
front_ids=$(sed -n '/^## params vs test_acc/,/^## [^p]/p' c1.out | sed -n 's/^| \([0-9][0-9]*\) | .*/\1/p' | sort | tr '\n' ' ')
dep_ids() { sed -n '/^## Deployments/,$p' c1.out | sed -n "s/^| \([0-9][0-9]*\) | $1 | $2 | .*/\1/p" | sort | tr '\n' ' '; }
check "the Deployments table: each front point ($front_ids) on c equal on 8 samples, failed on gap8-l1_10" sh -c \
    "test -n '$front_ids' && test '$(dep_ids c 'equal | 8')' = '$front_ids' && \
     test '$(dep_ids gap8-l1_10 'failed | 0')' = '$front_ids'"
h5dump -d /deploy out/c1/campaign.h5 > dep.txt 2>&1
check "campaign.h5 /deploy: $((2 * npts)) rows with the recorded fields, $neq equal, $npts failed" sh -c \
    "grep -q 'DATASPACE  SIMPLE { ( $((2 * npts)) ) / ( $((2 * npts)) ) }' dep.txt && \
     for f in run target backend target_desc verified reason flash ram arena arena_lower_bound cycles latency_ms samples accuracy; do \
       grep -q \"} \\\"\$f\\\";\" dep.txt || grep -q \"H5T_.* \\\"\$f\\\";\" dep.txt || exit 1; done && \
     test \$(grep -c '\"equal\"' dep.txt) = $neq && test \$(grep -c '\"failed\"' dep.txt) = $npts && \
     ! grep -q '\"differ\"\\|\"skipped\"' dep.txt"
# issue 8: a run the sweep wrote deploys with dnas deploy from campaign.h5
run=$(sed -n 's/^deploy [0-9]*\/[0-9]*: run \([0-9]*\) on c: .*/\1/p' c1.err | head -1)
"$dnas" deploy out/c1/campaign.h5 --run "$run" --target c --out dep_c > dep_c.out 2>&1
make -s -C dep_c check > dep_c.check 2>&1
check "dnas deploy out/c1/campaign.h5 --run $run --target c builds and make check prints equal" sh -c \
    "grep -q '^result arena=' dep_c.out && grep -q '^8 samples: equal (0 values differ)' dep_c.check"
check "its arena is the one the deploy stage recorded" sh -c \
    "grep -q \"^arena \$(sed -n 's/^result arena=\([0-9]*\) .*/\1/p' dep_c.out)\$\" out/c1/deploy/${run}_c/result.txt"

# a sweep run is the same run as dnas search with its mu and constraints
"$dnas" search "$src/configs/search_pit_tcn_fmnist_tiny.yaml" --mu 1e-4 --threads 1 --out s.h5 --quiet > s.out 2>&1
want=$(sed -n 's/.* cost=\([0-9]*\) .* test_acc=\([0-9.]*\) .*/\1 \2/p' s.out)
got="$(h5get out/c1/campaign.h5 /runs/1/cost/params) $(h5get out/c1/campaign.h5 /runs/1/metrics/finetune_test_acc)"
check "run 1 (mu 1e-4 from the shared warmup) equals dnas search --mu 1e-4 ($got ~ $want)" \
    awk -v g="$got" -v w="$want" 'BEGIN { split(g, a); split(w, b); d = a[2] - b[2]; exit !(a[1] == b[1] && d < 1e-4 && d > -1e-4) }'

# an existing campaign: --resume or an error
"$dnas" sweep c1.yaml > again.out 2> again.err
rc=$?
check "a second sweep without --resume fails (exit $rc) and says to pass --resume" sh -c \
    "test $rc -eq 1 && grep -q 'out/c1: the campaign folder has results already (4 run files and campaign.h5): pass --resume' again.err"
"$dnas" sweep c1.yaml --resume --no-report > res.out 2> res.err
check "--resume of a finished campaign retrains nothing" sh -c "grep -q '0 runs done now, 4 before, of 4' res.err"
check "and redoes no finished deployment: each read back from its result.txt (compile failures are tried again)" sh -c \
    "test \$(grep -c '^deploy [0-9]*/[0-9]*: run [0-9]* on c: equal (recorded before, in out/c1/deploy/[0-9]*_c/result.txt)' res.err) = $neq && \
     test \$(grep -c '^deploy [0-9]*/[0-9]*: run [0-9]* on gap8-l1_10: failed: ' res.err) = $npts"

# the report, also from the run files alone
"$dnas" report out/c1/campaign.h5 --no-plot > rep.out 2> rep.err
check "dnas report prints a table per front with the architecture" sh -c \
    "grep -q '^## macs vs int_test_acc' rep.out && grep -Eq '^\| [0-9]+ \| .* conv1:[0-9]+' rep.out"
check "pareto.csv has a header and rows" sh -c "head -1 out/c1/pareto.csv | grep -q '^campaign,front,run,mu' && grep -q '^c1,params_vs_test_acc,' out/c1/pareto.csv"
rm out/c1/campaign.h5
"$dnas" report out/c1/campaign.h5 --no-plot > rep2.out 2> rep2.err
check "without campaign.h5 the report reads the run files" bash -c \
    "grep -q 'is missing: reading the run files' rep2.err && diff <(sed '/^## Deployments/,\$d' rep.out | grep '^|') <(grep '^|' rep2.out) > /dev/null"
cp -r out/c1 out/c2
"$dnas" report out/c1 out/c2 --no-plot --fronts params > rep3.out 2>&1
check "two campaigns side by side, told apart" test "$(grep -c '^c1 (' rep3.out) $(grep -c '^c1@c2 (' rep3.out)" = "2 2"

# diverging runs are recorded and the campaign goes on (here the warmup
# diverges: no checkpoint is kept and each run meets it again)
printf 'input: [1, 1, 4]\nlayers:\n  - {name: fc1, op: linear, out: 8}\n  - {name: r, op: relu}\n  - {name: fc2, op: linear, out: 3}\n' > tiny.yaml
awk 'BEGIN { srand(3); print "a,b,c,d,label"; for (i = 0; i < 300; i++) { c = i % 3; printf "%.3f,%.3f,%.3f,%.3f,%d\n", c + rand(), rand(), c - rand(), rand(), c } }' > good.csv
cat > nan.yaml <<YAML
campaign: nan
output: out/nan
search:
  model: tiny.yaml
  data: {format: csv, train: good.csv, test: good.csv, header: true, normalize: false, val_split: 60}
  method: pit
  schedule: {warmup: 1, search: 1, finetune: 1, batch: 32, lr: 1.0e+30}
mu: [0, 1.0e-4, 1.0e-3]
YAML
"${launch[@]}" "$dnas" sweep nan.yaml --no-report > nan.out 2> nan.err
rc=$?
check "a campaign of diverging runs finishes (exit $rc)" sh -c "test $rc -eq 0 && grep -q '(0 ok, 3 diverged, 0 failed)' nan.err"
check "each run says diverged, in the warmup, and why" sh -c \
    "test \"\$(h5dump -a /runs/2/status out/nan/campaign.h5 | grep -c diverged)\" = 1 && h5dump -a /runs/2/phase out/nan/campaign.h5 | grep -q warmup && \
     h5dump -a /runs/2/error out/nan/campaign.h5 | grep -Eq 'loss is (NaN|infinite)'"
check "progress counts them" grep -q 'runs 3/3 (3 diverged, 0 failed)' nan.err
# one run diverging in its search (mu 1e30 with a large arch_lr) among good ones
sed 's/lr: 1.0e+30}/arch_lr: 1.0e+20}/; s/mu: .*/mu: [0, 1.0e+30, 1.0e-4]/; s/out\/nan/out\/dv/; s/campaign: nan/campaign: dv/' nan.yaml > dv.yaml
# its deploy stage: the most accurate ok run (never the diverged one) per
# target; a target whose memory no run fits is a skipped row
sed -e 's/bytes: 1048576/bytes: 10/' "$src/configs/targets/cortex_m4.yaml" > tiny_m4.yaml
cat >> dv.yaml <<YAML
deploy:
  select: best_within_budget
  targets: [gap8, cortex-m, {backend: c, target: tiny_m4.yaml}]
  vectors: 3
YAML
"${launch[@]}" "$dnas" sweep dv.yaml --no-report > dv.out 2> dv.err
rc=$?
check "a run that diverges in its search is recorded and the others finish (exit $rc)" sh -c \
    "test $rc -eq 0 && grep -q '3 runs done now, 0 before, of 3 (2 ok, 1 diverged, 0 failed)' dv.err"
check "it is the mu 1e30 run, in its search, its architecture parameters not finite" sh -c \
    "h5dump -a /runs/1/status out/dv/campaign.h5 | grep -q diverged && h5dump -a /runs/1/phase out/dv/campaign.h5 | grep -q '\"search\"' && \
     h5dump -a /runs/1/error out/dv/campaign.h5 | grep -q 'architecture parameters are not finite' && \
     h5dump -a /runs/0/status out/dv/campaign.h5 | grep -q '\"ok\"' && h5dump -a /runs/2/status out/dv/campaign.h5 | grep -q '\"ok\"'"
best=$(sed -n 's/^deploy: cortex-m: run \([0-9]*\), accuracy .*/\1/p' dv.err)
check "best_within_budget deploys an ok run on cortex-m (run '$best')" sh -c "test '$best' = 0 -o '$best' = 2"
check "and the same run on gap8, built and checked on the host model of its runtime" \
    grep -q "^deploy 1/3: run $best on gap8: equal (3 samples); flash [0-9]* B, RAM [0-9]* B (arena [0-9]*, lower bound [0-9]*), [0-9]* cycles" dv.err
if command -v arm-none-eabi-gcc > /dev/null && command -v qemu-system-arm > /dev/null; then
    check "cortex-m: built and run under QEMU, equal" grep -q "^deploy 2/3: run $best on cortex-m: equal (3 samples)" dv.err
else
    check "cortex-m without its toolchain: skipped with the reason" grep -q "^deploy 2/3: run $best on cortex-m: skipped: .* not on PATH" dv.err
fi
check "no run fits a 10-byte flash: a skipped row naming the memory" sh -c \
    "grep -q \"^deploy 3/3: c-tiny_m4: no run fits: 2 ok runs tried; first: run .*memory 'flash' of target cortex_m4 holds 10 bytes\" dv.err && \
     h5dump -d /deploy out/dv/campaign.h5 | grep -q '\"no run fits: 2 ok runs tried'"
check "/deploy records the tiling: tiled cycles, DMA bytes and their lower bound, tiled layers and tiles" sh -c \
    "h5dump -H -d /deploy out/dv/campaign.h5 | grep -c '\"\(tiled_cycles\|dma_bytes\|dma_lower_bound\|tiled_layers\|tiles\)\"' | grep -qx 5 && \
     grep -q '| cycles tiled | DMA B (lower bound) |' c1.out"

# a missing dataset: named once, before any run
sed 's/train: good.csv, test: good.csv/train: nosuch.csv/; s/out\/nan/out\/miss/; s/campaign: nan/campaign: miss/' nan.yaml > miss.yaml
"${launch[@]}" "$dnas" sweep miss.yaml > miss.out 2> miss.err
rc=$?
check "a missing dataset fails the sweep (exit $rc)" test $rc -eq 1
check "its path is named once, not once per rank" test "$(grep -c 'nosuch.csv: cannot open' miss.err)" = 1
check "and no run file is written" sh -c "test -z \"\$(ls out/miss/runs)\""
# a packaged dataset's file missing: the message names the Debian package
sed 's|format: csv, train: good.csv, test: good.csv, header: true, normalize: false|format: idx, train_x: /usr/share/datasets/fashion-mnist/nosuch-idx3-ubyte.gz, train_y: /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz|; s/out\/nan/out\/pkg/; s/campaign: nan/campaign: pkg/' nan.yaml > pkg.yaml
"${launch[@]}" "$dnas" sweep pkg.yaml > pkg.out 2> pkg.err
rc=$?
check "a missing file of a packaged dataset fails the sweep (exit $rc), naming the path and the Debian package once" sh -c \
    "test $rc -eq 1 && test \"\$(grep -c 'fashion-mnist/nosuch-idx3-ubyte.gz: cannot open: .* comes with the Debian package dataset-fashion-mnist' pkg.err)\" = 1"

"$dnas" sweep --help > help.out
check "--help names the options" sh -c "grep -q -- '--resume' help.out && grep -q -- '--threads T' help.out"
"$dnas" sweep > /dev/null 2>&1
check "no config is a usage error" test $? -eq 2
finish
