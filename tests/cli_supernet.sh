#!/usr/bin/env bash
# End-to-end `dnas search` with method supernet on a slice of Fashion-MNIST
# (configs/search_supernet_tcn_fmnist_tiny.yaml: the TCN supernet, four
# choice blocks, a few seconds a run): the run chooses a branch per block
# and says which, a large mu chooses the smallest branches, in hard mode the
# exported network evaluates exactly as the supernet did, a run is
# reproducible (Gumbel noise included), the run file records the choices
# and the exported network without its mix layers, and the exported model is
# one dnas summary, cost and train read.
# Usage: cli_supernet.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$(realpath "$1")"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1"; }
cfg="$src/configs/search_supernet_tcn_fmnist_tiny.yaml"

# mu = 0: trains, chooses, exports, fine-tunes
"$dnas" search "$cfg" --mu 0 --out "$tmp/mu0.h5" --model-out "$tmp/mu0.yaml" > "$tmp/mu0.out" 2> "$tmp/mu0.err"
check "search exits 0" test $? -eq 0
check "progress names the phases and one choice per block" sh -c \
    "grep -q '^search 1/1 done' '$tmp/mu0.err' && grep -q '^exported: params' '$tmp/mu0.err' && \
     grep -Eq '^chosen: mix1=[^ ]+ mix2=[^ ]+ mix3=[^ ]+ mix4=[^ ]+\$' '$tmp/mu0.err' && grep -q '^finetune 1/1 done' '$tmp/mu0.err'"
s0=$(field "$tmp/mu0.out" seed_cost)
check "the seed cost is the whole supernet's (137,738 params: $s0)" test "$s0" = 137738
acc=$(field "$tmp/mu0.out" test_acc)
check "the fine-tuned network learned: test accuracy $acc > 0.5" awk -v a="${acc:-0}" 'BEGIN { exit !(a > 0.5) }'

# a large mu chooses the smallest branch of every block (k3, skip, k3, skip)
"$dnas" search "$cfg" --mu 1e-4 --out "$tmp/mu4.h5" --model-out "$tmp/mu4.yaml" --quiet > "$tmp/mu4.out" 2>&1
check "large-mu search exits 0" test $? -eq 0
c4=$(field "$tmp/mu4.out" cost)
check "mu 1e-4 keeps the smallest choice: params $c4 = 9,482" test "$c4" = 9482

# hard mode: the supernet runs at one-hot θ, so the export evaluates as it did
sed 's/mode: softmax/mode: hard/' "$cfg" > "$tmp/hard.yaml"
sed -i "s|models/|$src/configs/models/|" "$tmp/hard.yaml"
"$dnas" search "$tmp/hard.yaml" --out "$tmp/hard.h5" > "$tmp/hard.out" 2> "$tmp/hard.err"
check "hard mode exits 0" test $? -eq 0
sv=$(sed -n 's/^search 1\/1 done.*| test loss \([0-9.]*\) acc \([0-9.]*\)%.*/\1 \2/p' "$tmp/hard.err")
ev=$(sed -n 's/^exported:.*| test loss \([0-9.]*\) acc \([0-9.]*\)%.*/\1 \2/p' "$tmp/hard.err")
check "in hard mode the exported network evaluates as the supernet did ($ev = $sv)" sh -c "test -n '$sv' && test '$sv' = '$ev'"

# reproducible, also with Gumbel noise
sed 's/mode: softmax/mode: gumbel/' "$cfg" > "$tmp/gumbel.yaml"
sed -i "s|models/|$src/configs/models/|" "$tmp/gumbel.yaml"
"$dnas" search "$tmp/gumbel.yaml" --mu 1e-6 --out "$tmp/g1.h5" --quiet > "$tmp/g1.out" 2>&1
"$dnas" search "$tmp/gumbel.yaml" --mu 1e-6 --out "$tmp/g2.h5" --quiet > "$tmp/g2.out" 2>&1
check "a gumbel run twice gives the same result line" \
    sh -c "test -s '$tmp/g1.out' && test \"\$(sed 's/ seconds=.*//' '$tmp/g1.out')\" = \"\$(sed 's/ seconds=.*//' '$tmp/g2.out')\""
check "and the same logits and weights" sh -c \
    "h5diff '$tmp/g1.h5' '$tmp/g2.h5' /runs/0/arch_params/alpha && h5diff '$tmp/g1.h5' '$tmp/g2.h5' /runs/0/weights/params"

# the run file
check "the run file has the choices and the logits" sh -c "h5dump -n '$tmp/mu4.h5' > '$tmp/n' && \
    for p in /runs/0/arch /runs/0/arch_params/alpha /runs/0/arch_params/table /runs/0/arch_params/choices \
             /runs/0/model_yaml /runs/0/weights/params /runs/0/qnet; do grep -q \" \$p\$\" '$tmp/n' || exit 1; done"
check "method supernet" sh -c "h5dump -a /runs/0/method '$tmp/mu4.h5' | grep -q '\"supernet\"'"
h5dump -d /runs/0/arch_params/choices "$tmp/mu4.h5" > "$tmp/choices" 2>&1
check "the choices table: 4 blocks, mix2 and mix4 keep their skips" sh -c \
    "grep -c '\"mix[1-4]\",\$' '$tmp/choices' | grep -qx 4 && grep -q '\"b1_k3_relu\"' '$tmp/choices' && \
     grep -q '\"mix1\"' '$tmp/choices' && grep -q '\"mix3\"' '$tmp/choices'"
check "the logits are stored by block (<mix>.theta)" sh -c \
    "h5dump -d /runs/0/arch_params/table '$tmp/mu4.h5' | grep -q '\"mix4.theta\"'"
check "the arch table has no mix layer and no unchosen branch" sh -c \
    "h5dump -d /runs/0/arch '$tmp/mu4.h5' > '$tmp/arch' && grep -q '\"b3_k3\"' '$tmp/arch' && \
     ! grep -q '\"mix' '$tmp/arch' && ! grep -q '\"b1_k9\"' '$tmp/arch'"

# the exported model is a plain model
"$dnas" summary "$tmp/mu4.yaml" > "$tmp/sum.out" 2>&1
check "dnas summary reads the exported model" test $? -eq 0
wb=$(sed -n 's/^parameters: [0-9]* (weights \([0-9]*\) + biases \([0-9]*\) .*/\1 \2/p' "$tmp/sum.out")
check "its weights + biases are the run's params ($wb: $c4)" sh -c "echo $wb | awk '{ exit !(\$1 + \$2 == $c4) }'"
check "and no mix layer" sh -c "! grep -q ' mix ' '$tmp/sum.out'"
"$dnas" cost "$tmp/mu4.yaml" --target diana > /dev/null 2>&1
check "dnas cost reads it" test $? -eq 0
cat > "$tmp/train.yaml" <<YAML
model: $tmp/mu0.yaml
data: {format: fashion-mnist, layout: rows, limit_train: 500, limit_test: 200}
train: {epochs: 1, batch: 50, threads: 1}
YAML
"$dnas" train "$tmp/train.yaml" --quiet > "$tmp/train.out" 2>&1
check "dnas train trains the exported model" test $? -eq 0
finish
