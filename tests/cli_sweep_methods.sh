#!/usr/bin/env bash
# A campaign of two search methods (search: a list): the tiny PIT config
# and the tiny SuperNet config on the same data, 2 mu values, one seed, 2
# ranks under mpirun (a singleton when mpirun is missing). --dry-run names
# each job's search settings; every job runs once; the warmup of each
# (seed, search settings) is trained once (warmup/seed1_s<k>.h5) and each
# run loads its own; /summary's method column and each run's search_index
# attribute say which search a run used; the report has the method column;
# --resume after removing a run file trains only that run, from its
# warmup, and trains no warmup again.
# Usage: cli_sweep_methods.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$(realpath "$1")"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
SRC="$src" . "$(dirname "$0")/lib_mpi.sh"; mpi_env
cd "$tmp"
if command -v mpirun > /dev/null; then np=2; launch=(mpirun -np 2); else np=1; launch=(); fi

cat > m.yaml <<YAML
campaign: m
output: out/m
search:
  - $src/configs/search_pit_tcn_fmnist_tiny.yaml
  - $src/configs/search_supernet_tcn_fmnist_tiny.yaml
mu: [0, 1.0e-4]
threads: 1
YAML
"$dnas" sweep m.yaml --dry-run > dry.out 2>&1
check "--dry-run counts the searches in the jobs" grep -q '^campaign m: 4 jobs (2 searches x 2 mu x 1 constraint sets x 1 seeds)' dry.out
check "--dry-run names each job's search settings (search, then mu)" sh -c \
    "grep -Eq '^0 +0:pit +0 ' dry.out && grep -Eq '^1 +0:pit +0.0001 ' dry.out && \
     grep -Eq '^2 +1:supernet +0 ' dry.out && grep -Eq '^3 +1:supernet +0.0001 ' dry.out && test ! -d out/m"

"${launch[@]}" "$dnas" sweep m.yaml > m.out 2> m.err
rc=$?
check "the sweep exits 0 (got $rc; $np ranks)" test $rc -eq 0
check "every run finished once" sh -c "grep -q '^sweep m: 4 runs done now, 0 before, of 4 (4 ok' m.err && \
    test \$(grep -c ' done ' out/m/logs/events.log) = 4"
check "the progress lines name a run's method" grep -Eq '\| rank [01]: run [0-3] (pit|supernet) mu ' m.err
check "one warmup per search settings: warmup/seed1_s0.h5 and seed1_s1.h5" \
    test -f out/m/warmup/seed1_s0.h5 -a -f out/m/warmup/seed1_s1.h5 -a ! -e out/m/warmup/seed1.h5
check "each warmup trained once" test "$(cat out/m/logs/rank*.log | grep -c '^warmup 1/1 done')" = 2
check "the journal names each warmup once" sh -c \
    "test \$(grep -c ' warmup 1_s0 ' out/m/logs/events.log) = 1 && test \$(grep -c ' warmup 1_s1 ' out/m/logs/events.log) = 1"
check "each run loaded its own search's warmup" sh -c \
    "test \$(cat out/m/logs/rank*.log | grep -c '^warmup 1/1 loaded from .*/warmup/seed1_s0.h5') = 2 && \
     test \$(cat out/m/logs/rank*.log | grep -c '^warmup 1/1 loaded from .*/warmup/seed1_s1.h5') = 2"
check "the run logs name the search settings" sh -c \
    "cat out/m/logs/rank*.log | grep -q '^== run 2: search 1 (supernet), mu 0,'"
check "the search configs are kept as search0.yaml and search1.yaml" sh -c \
    "grep -q 'method: pit' out/m/search0.yaml && grep -q 'method: supernet' out/m/search1.yaml"
check "the report's table has the method column" sh -c \
    "grep -q '^| run | μ | constraints | method | seed |' m.out && grep -Eq '^\| [0-3] \| [0-9.e-]+ \| none \| (pit|supernet) \|' m.out"
check "pareto.csv has the method column" sh -c \
    "head -1 out/m/pareto.csv | grep -q '^campaign,front,run,mu,constraints,method,seed,' && grep -Eq '^m,params_vs_test_acc,[0-3],[^,]*,\"none\",(pit|supernet),' out/m/pareto.csv"

py=""   # Debian's python3-h5py: /usr/bin/python3 when another python3 comes first on PATH
for p in python3 /usr/bin/python3; do "$p" -c 'import h5py' 2> /dev/null && { py=$p; break; }; done
cat > check.py <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
def s(v): return v.decode() if isinstance(v, bytes) else str(v)
t = f["summary"][()]
assert [s(x) for x in t["id"]] == ["0", "1", "2", "3"], t["id"]
assert [s(x) for x in t["method"]] == ["pit", "pit", "supernet", "supernet"], t["method"]
assert list(t["mu"]) == [0, 1e-4, 0, 1e-4], t["mu"]
assert all(s(x) == "ok" for x in t["status"]), t["status"]
assert [int(f["runs"][k].attrs["search_index"]) for k in ("0", "1", "2", "3")] == [0, 0, 1, 1]
assert b"method: pit" in f["search_config_yaml_0"][()] and b"method: supernet" in f["search_config_yaml_1"][()]
print("ok")
PY
if [ -n "$py" ]; then
    check "campaign.h5: /summary's method column, each run's search_index (h5py)" "$py" check.py out/m/campaign.h5
else
    check "campaign.h5: run 2's method and search_index (h5dump)" sh -c \
        "h5dump -a /runs/2/method out/m/campaign.h5 | grep -q supernet && h5dump -a /runs/2/search_index out/m/campaign.h5 | grep -q '(0): 1'"
fi

# resume: a lost run file is trained again from its search's warmup, alone
rm out/m/runs/3.h5 out/m/campaign.h5
cat out/m/logs/rank*.log > before.log
"${launch[@]}" "$dnas" sweep m.yaml --resume --no-report > r.out 2> r.err
rc=$?
check "--resume exits 0 (got $rc)" test $rc -eq 0
check "--resume trains only the missing run" grep -q '^sweep m: 1 runs done now, 3 before, of 4 (1 ok' r.err
cat out/m/logs/rank*.log > after.log
check "and no warmup again; run 3 loads the SuperNet warmup" sh -c \
    "test \$(grep -c '^warmup 1/1 done' after.log) = 2 && \
     test \$(grep -c '^warmup 1/1 loaded from .*/warmup/seed1_s1.h5' after.log) = 4"
if [ -n "$py" ]; then
    check "campaign.h5 after the resume (h5py)" "$py" check.py out/m/campaign.h5
fi
finish
