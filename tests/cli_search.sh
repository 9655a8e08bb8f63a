#!/usr/bin/env bash
# End-to-end `dnas search` (PIT) on a slice of Fashion-MNIST with the tiny
# config (configs/search_pit_tcn_fmnist_tiny.yaml, about a second a run):
# nothing is pruned at mu = 0 and something is at a large mu, a run is
# reproducible, the run file holds the run group and the integer network
# with its accuracy, the exported model is one dnas summary and dnas train
# read, a network the integer export refuses is a warning, a diverging run
# is recorded as such, and bad input gives clear errors.
# Usage: cli_search.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$2"
. "$(dirname "$0")/lib_cli.sh"
has() { grep -q -- "$2" "$1"; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1"; }
cfg="$src/configs/search_pit_tcn_fmnist_tiny.yaml"

# mu = 0: the masks move at most ~0.64 in 32 architecture steps; nothing pruned
"$dnas" search "$cfg" --mu 0 --out "$tmp/mu0.h5" --model-out "$tmp/mu0.yaml" > "$tmp/mu0.out" 2> "$tmp/mu0.err"
check "search exits 0" test $? -eq 0
check "progress names the phases with loss, task loss, cost and ETA" sh -c \
    "grep -q '^warmup 1/1 done' '$tmp/mu0.err' && grep -q '^search 1/1 \[.*loss .* task .* params .* ETA' '$tmp/mu0.err' \
     && grep -q '^exported: params' '$tmp/mu0.err' && grep -q '^finetune 1/1 done' '$tmp/mu0.err'"
sv=$(sed -n 's/^search 1\/1 done.*| test loss \([0-9.]*\) acc \([0-9.]*\)%.*/\1 \2/p' "$tmp/mu0.err")
ev=$(sed -n 's/^exported:.*| test loss \([0-9.]*\) acc \([0-9.]*\)%.*/\1 \2/p' "$tmp/mu0.err")
check "the exported network evaluates as the masked supernet did ($ev = $sv)" sh -c "test -n '$sv' && test '$sv' = '$ev'"
c0=$(field "$tmp/mu0.out" cost); s0=$(field "$tmp/mu0.out" seed_cost)
check "mu 0 prunes nothing: params $c0 = seed $s0" test "$c0" = "$s0"
acc=$(field "$tmp/mu0.out" test_acc)
check "the fine-tuned network learned: test accuracy $acc > 0.6" awk -v a="${acc:-0}" 'BEGIN { exit !(a > 0.6) }'
check "progress prints float vs integer accuracy" sh -c \
    "grep -Eq '^integer: 8-bit, [0-9]+ ops.* \| test acc float [0-9.]+% integer [0-9.]+%' '$tmp/mu0.err'"
iacc=$(h5dump -a /runs/0/metrics/int_test_acc "$tmp/mu0.h5" | sed -n 's/.*(0): \([0-9.e-]*\).*/\1/p')
facc=$(h5dump -a /runs/0/metrics/finetune_test_acc "$tmp/mu0.h5" | sed -n 's/.*(0): \([0-9.e-]*\).*/\1/p')
check "the run file's integer accuracy $iacc is within 3 points of the float $facc" \
    awk -v i="${iacc:-0}" -v f="${facc:-1}" 'BEGIN { d = i - f; exit !(i > 0 && d < 0.03 && d > -0.03) }'
check "and the result line's ($(field "$tmp/mu0.out" int_test_acc))" sh -c \
    "test -n '$iacc' && awk -v a='$(field "$tmp/mu0.out" int_test_acc)' -v b='$iacc' 'BEGIN { d = a - b; exit !(d < 1e-4 && d > -1e-4) }'"

# a large mu prunes
"$dnas" search "$cfg" --mu 1e-4 --out "$tmp/mu4.h5" --model-out "$tmp/mu4.yaml" --quiet > "$tmp/mu4.out" 2> "$tmp/mu4.err"
check "large-mu search exits 0" test $? -eq 0
check "--quiet prints no progress" test ! -s "$tmp/mu4.err"
c4=$(field "$tmp/mu4.out" cost)
check "mu 1e-4 prunes: params $c4 < seed $s0 / 2" awk -v c="${c4:-1e9}" -v s="$s0" 'BEGIN { exit !(c < s / 2) }'
check "the exported model has fewer channels" sh -c "! cmp -s '$tmp/mu0.yaml' '$tmp/mu4.yaml' && grep -q 'out: 10' '$tmp/mu4.yaml'"

# reproducible: the same config and seed give the same result and architecture
"$dnas" search "$cfg" --mu 1e-4 --out "$tmp/mu4b.h5" --quiet > "$tmp/mu4b.out" 2>&1
check "a second run gives the same result line" \
    test "$(sed 's/ seconds=.*//' "$tmp/mu4.out")" = "$(sed 's/ seconds=.*//' "$tmp/mu4b.out")"
check "and the same architecture and weights" sh -c \
    "h5dump -d /runs/0/arch '$tmp/mu4.h5' > '$tmp/a1' && h5dump -d /runs/0/arch '$tmp/mu4b.h5' > '$tmp/a2' && \
     sed -i 1d '$tmp/a1' '$tmp/a2' && cmp -s '$tmp/a1' '$tmp/a2' && \
     h5diff '$tmp/mu4.h5' '$tmp/mu4b.h5' /runs/0/weights/params"

# the run file
check "the run file has the run group" sh -c "h5dump -n '$tmp/mu4.h5' > '$tmp/n' && \
    for p in /config_yaml /runs/0/arch /runs/0/metrics /runs/0/cost /runs/0/cost_seed /runs/0/model_yaml \
             /runs/0/weights/params /runs/0/weights/param_table /runs/0/weights/state \
             /runs/0/arch_params/alpha /runs/0/arch_params/table /runs/0/qnet /runs/0/qnet/ops \
             /runs/0/qnet/tensors /runs/0/qnet/weights; do grep -q \" \$p\$\" '$tmp/n' || exit 1; done"
check "status ok, method pit, mu 1e-4, seed 1" sh -c \
    "test \"\$(h5dump -a /runs/0/status '$tmp/mu4.h5' | grep -c '\"ok\"')\" = 1 && \
     h5dump -a /runs/0/method '$tmp/mu4.h5' | grep -q '\"pit\"' && \
     h5dump -a /runs/0/mu '$tmp/mu4.h5' | grep -q '0.0001' && h5dump -a /runs/0/seed '$tmp/mu4.h5' | grep -q '(0): 1'"
check "metrics after search and after fine-tuning" sh -c \
    "h5dump -A -g /runs/0/metrics '$tmp/mu4.h5' | grep -q search_test_acc && \
     h5dump -A -g /runs/0/metrics '$tmp/mu4.h5' | grep -q finetune_val_acc"
check "cost/params of the run file equals the result line" sh -c \
    "h5dump -a /runs/0/cost/params '$tmp/mu4.h5' | grep -q '(0): $c4\$'"

# the exported model is a plain model: summary, cost and train read it
"$dnas" summary "$tmp/mu4.yaml" > "$tmp/sum.out" 2>&1
check "dnas summary reads the exported model" test $? -eq 0
total=$(sed -n 's/^parameters: \([0-9]*\) .*/\1/p' "$tmp/sum.out")
check "its summary counts what the run file's params say, plus BN ($total >= $c4)" test "${total:-0}" -ge "${c4:-1}"
cat > "$tmp/train.yaml" <<YAML
model: $tmp/mu4.yaml
data: {format: fashion-mnist, layout: rows, limit_train: 500, limit_test: 200}
train: {epochs: 1, batch: 50, threads: 1}
YAML
"$dnas" train "$tmp/train.yaml" --quiet > "$tmp/train.out" 2>&1
check "dnas train trains the exported model" test $? -eq 0

# a diverging run: recorded with status diverged, exit 3
printf 'input: [1, 1, 4]\nlayers:\n  - {name: fc1, op: linear, out: 8}\n  - {name: r, op: relu}\n  - {name: fc2, op: linear, out: 3}\n' > "$tmp/tiny.yaml"
awk 'BEGIN { srand(3); print "a,b,c,d,label"; for (i = 0; i < 300; i++) { c = i % 3; printf "%.3f,%.3f,%.3f,%.3f,%d\n", c + rand(), rand(), c - rand(), rand(), c } }' > "$tmp/good.csv"
cat > "$tmp/nan.yaml" <<YAML
model: tiny.yaml
data: {format: csv, train: good.csv, header: true, normalize: false, val_split: 60}
method: pit
schedule: {warmup: 1, search: 1, finetune: 1, batch: 32, lr: 1.0e+30}
output: nan.h5
YAML
(cd "$tmp" && "$dnas" search nan.yaml > nan.out 2> nan.err)
rc=$?
check "a NaN run exits 3 (got $rc)" test $rc -eq 3
check "and says it diverged, where and why" sh -c "grep -Eq 'run diverged in warmup: warmup epoch 1, batch [0-9]+: the loss is (NaN|infinite)' '$tmp/nan.err'"
check "its run file says status diverged" sh -c "h5dump -a /runs/0/status '$tmp/nan.h5' | grep -q '\"diverged\"'"

# a network with an op the integer export refuses (concat): a warning, no qnet, no int_test_acc
printf 'input: [1, 1, 4]\nlayers:\n  - {name: fa, op: linear, out: 4, input: input}\n  - {name: fb, op: linear, out: 4, input: input}\n  - {name: cat, op: concat, inputs: [fa, fb]}\n  - {name: r, op: relu}\n  - {name: fc2, op: linear, out: 3}\n' > "$tmp/cat.yaml"
cat > "$tmp/cat_search.yaml" <<YAML
model: cat.yaml
data: {format: csv, train: good.csv, header: true, normalize: false, val_split: 60, test: good.csv}
method: pit
schedule: {warmup: 1, search: 1, finetune: 1, batch: 32}
output: cat.h5
YAML
(cd "$tmp" && "$dnas" search cat_search.yaml > cat.out 2> cat.err)
rc=$?
check "an exported network with a concat still exits 0 (got $rc)" test $rc -eq 0
check "with a warning naming the integer export" sh -c "grep -q '^warning: no integer network: .*cat' '$tmp/cat.err'"
check "status ok, int_test_acc=-1 on the result line" sh -c \
    "grep -q 'status=ok .*int_test_acc=-1' '$tmp/cat.out'"
check "and no qnet nor int_test_acc in the run file" sh -c \
    "h5dump -n '$tmp/cat.h5' > '$tmp/cn' && grep -q ' /runs/0/model_yaml\$' '$tmp/cn' && ! grep -q qnet '$tmp/cn' && \
     ! h5dump -A -g /runs/0/metrics '$tmp/cat.h5' | grep -q int_test_acc"

# bad input
printf 'model: tiny.yaml\ndata: {format: csv, train: good.csv, header: true}\nmethod: pit\ncost: latency\n' > "$tmp/bad.yaml"
"$dnas" search "$tmp/bad.yaml" > /dev/null 2> "$tmp/bad.err"
rc=$?
check "latency without a target: exit 1 (got $rc), the line named" sh -c \
    "test $rc -eq 1 && grep -q 'bad.yaml:4: cost: latency needs a target' '$tmp/bad.err'"
printf 'model: tiny.yaml\ndata: {format: csv, train: good.csv, header: true}\nmethod: darts\n' > "$tmp/bad2.yaml"
"$dnas" search "$tmp/bad2.yaml" > /dev/null 2> "$tmp/bad2.err"
check "an unknown method is an error naming the line and the methods" has "$tmp/bad2.err" "bad2.yaml:3: method: expected pit, supernet, mixprec or odimo, found 'darts'"
"$dnas" search "$cfg" --mu -1 > /dev/null 2> "$tmp/mu.err"
rc=$?
check "--mu -1 is a usage error (got $rc)" sh -c "test $rc -eq 2 && grep -q -- '--mu: expected a number' '$tmp/mu.err'"
"$dnas" search "$cfg" --out "$tmp/no/such/dir/run.h5" > /dev/null 2> "$tmp/dir.err"
rc=$?
check "an output that cannot be created fails before the run (exit $rc)" sh -c \
    "test $rc -eq 1 && grep -q 'run.h5: cannot create it: .*(checked before the run)' '$tmp/dir.err' && \
     ! grep -q warmup '$tmp/dir.err'"
"$dnas" search > /dev/null 2>&1
check "no config is a usage error" test $? -eq 2
"$dnas" search --help > "$tmp/help.out"
check "--help exits 0 and names the options" sh -c "grep -q -- '--mu X' '$tmp/help.out' && grep -q -- '--out RUN.h5' '$tmp/help.out'"
finish
