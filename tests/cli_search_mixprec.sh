#!/usr/bin/env bash
# End-to-end `dnas search` with method: mixprec on a slice of
# Fashion-MNIST (configs/search_mixprec_resnet8_fmnist_tiny.yaml with a
# small residual network in place of ResNet-8, so that a sanitizer build
# runs it in minutes): per-layer precisions lower the bit-ops below
# the all-8-bit seed, the exported model carries its weight and activation
# precisions and is one dnas summary, dnas cost and dnas train read, the
# run file records the method, its architecture parameters and the
# precisions per layer, the integer network's accuracy is the fake-quantized
# one's within 3 points (a few hundred test images of a barely trained
# network: tests/test_mixprec.c checks the integer levels themselves), and
# per-channel precisions with 0 bits prune channels.
# Usage: cli_search_mixprec.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1"; }
# ResNet-8's shape at an eighth of its width: stem, a residual block, a strided block with a
# 1x1 shortcut, pool, linear; 7 ReLUs
cat > "$tmp/small.yaml" <<YAML
name: small_res
input: [1, 28, 28]
layers:
  - {name: conv1, op: conv2d, out: 4, kernel: 3, stride: 2, padding: 1, bias: false}
  - {name: bn1, op: batchnorm}
  - {name: relu1, op: relu}
  - {name: s1_conv1, op: conv2d, out: 4, kernel: 3, padding: 1, bias: false}
  - {name: s1_bn1, op: batchnorm}
  - {name: s1_relu1, op: relu}
  - {name: s1_conv2, op: conv2d, out: 4, kernel: 3, padding: 1, bias: false}
  - {name: s1_bn2, op: batchnorm}
  - {name: s1_add, op: add, inputs: [s1_bn2, relu1]}
  - {name: s1_relu, op: relu}
  - {name: s2_conv1, op: conv2d, out: 8, kernel: 3, stride: 2, padding: 1, bias: false}
  - {name: s2_bn1, op: batchnorm}
  - {name: s2_relu1, op: relu}
  - {name: s2_conv2, op: conv2d, out: 8, kernel: 3, padding: 1, bias: false}
  - {name: s2_bn2, op: batchnorm}
  - {name: s2_short, op: conv2d, input: s1_relu, out: 8, kernel: 1, stride: 2, bias: false}
  - {name: s2_short_bn, op: batchnorm}
  - {name: s2_add, op: add, inputs: [s2_bn2, s2_short_bn]}
  - {name: s2_relu, op: relu}
  - {name: s3_conv1, op: conv2d, out: 8, kernel: 3, padding: 1, bias: false}
  - {name: s3_bn1, op: batchnorm}
  - {name: s3_relu1, op: relu}
  - {name: pool, op: global_avgpool}
  - {name: fc, op: linear, out: 10}
YAML
sed -e "s|^model: .*|model: $tmp/small.yaml|" -e 's/mu: 1.0e-9/mu: 3.0e-8/' -e 's/  batch: 32/  batch: 32\n  lr: 0.005/' \
    "$src/configs/search_mixprec_resnet8_fmnist_tiny.yaml" > "$tmp/tiny.yaml"
cfg="$tmp/tiny.yaml"

"$dnas" search "$cfg" --out "$tmp/l.h5" --model-out "$tmp/l.yaml" > "$tmp/l.out" 2> "$tmp/l.err"
check "search exits 0" test $? -eq 0
check "progress prints bit-ops while searching" grep -q '^search 1/1 \[.*bitops [0-9,]* ' "$tmp/l.err"
c=$(field "$tmp/l.out" cost); s=$(field "$tmp/l.out" seed_cost)
check "bit-ops $c below the all-8-bit seed's $s" awk -v c="${c:-1e99}" -v s="${s:-0}" 'BEGIN { exit !(c < s) }'
check "every conv and linear has wbits, every ReLU became a pact of one width" sh -c \
    "test \$(grep -cE 'op: (conv2d|linear)' '$tmp/l.yaml') = \$(grep -cE 'op: (conv2d|linear).*wbits: [248]\\}' '$tmp/l.yaml') && \
     test \$(grep -c 'op: pact, bits: \\[[248]\\]' '$tmp/l.yaml') = 6 && ! grep -q 'op: relu' '$tmp/l.yaml'"
iacc=$(field "$tmp/l.out" int_test_acc); facc=$(field "$tmp/l.out" test_acc)
check "integer accuracy $iacc within 3 points of the fake-quantized $facc" \
    awk -v i="${iacc:-0}" -v f="${facc:-1}" 'BEGIN { d = i - f; exit !(i > 0.3 && d < 0.03 && d > -0.03) }'
check "the run file says method mixprec and holds the .w and .a slices of alpha" sh -c \
    "h5dump -a /runs/0/method '$tmp/l.h5' | grep -q '\"mixprec\"' && \
     h5dump -d /runs/0/arch_params/table '$tmp/l.h5' | grep -q '\"s1_conv1.w\"' && \
     h5dump -d /runs/0/arch_params/table '$tmp/l.h5' | grep -q '\"s1_relu1.a\"'"
check "its arch table has the precisions per layer" sh -c \
    "h5dump -d /runs/0/arch '$tmp/l.h5' | grep -q '\"wbits\"' && h5dump -d /runs/0/arch '$tmp/l.h5' | grep -q '\"abits\"'"
check "the integer network has tensors below 8 bits" sh -c \
    "h5dump -d /runs/0/qnet/tensors '$tmp/l.h5' | grep -A12 '\"s[123]_relu1\"' | grep -qE '^ *[24],\$'"

"$dnas" summary "$tmp/l.yaml" > "$tmp/sum.out" 2>&1
check "dnas summary reads the exported model" test $? -eq 0
"$dnas" cost "$tmp/l.yaml" --target mpic > "$tmp/cost.out" 2>&1
check "dnas cost reads it" test $? -eq 0
tot=$(awk '$1 == "total" { print $9 }' "$tmp/cost.out")
check "and prices its bit-ops at its own precisions ($tot = ${c%.*}...)" \
    awk -v t="${tot:-0}" -v c="${c:-1}" 'BEGIN { d = t - c; exit !(t > 0 && d < 0.5e-5 * c && d > -0.5e-5 * c) }'
cat > "$tmp/train.yaml" <<YAML
model: $tmp/l.yaml
data: {format: fashion-mnist, limit_train: 256, limit_test: 128, normalize: true}
train: {epochs: 1, batch: 64, threads: 1}
YAML
"$dnas" train "$tmp/train.yaml" --quiet > "$tmp/train.out" 2>&1
check "dnas train trains it (quantization-aware)" test $? -eq 0

# per channel with 0 bits: channels are pruned and the rest keep their own precisions
sed -e 's/weight_bits: \[2, 4, 8\]/weight_bits: [0, 2, 4, 8]/' -e 's/granularity: layer/granularity: channel/' \
    "$cfg" > "$tmp/ch.yaml"
"$dnas" search "$tmp/ch.yaml" --out "$tmp/ch.h5" --model-out "$tmp/ch_found.yaml" --quiet > "$tmp/ch.out" 2> "$tmp/ch.err"
check "per-channel search exits 0" test $? -eq 0
check "and exports per-channel precision lists" grep -qE 'wbits: \[[248](, [248])+\]' "$tmp/ch_found.yaml"
pruned=$(grep -cE 'name: (s1_conv1, op: conv2d, out: 4|s2_conv1, op: conv2d, out: 8|s3_conv1, op: conv2d, out: 8),' "$tmp/ch_found.yaml")
check "fewer channels than the seed in at least one prunable layer ($pruned of 3 unchanged)" test "$pruned" -lt 3
iacc=$(field "$tmp/ch.out" int_test_acc); facc=$(field "$tmp/ch.out" test_acc)
check "its integer accuracy $iacc is within 3 points of the fake-quantized $facc" \
    awk -v i="${iacc:-0}" -v f="${facc:-1}" 'BEGIN { d = i - f; exit !(i > 0 && d < 0.03 && d > -0.03) }'
"$dnas" summary "$tmp/ch_found.yaml" > /dev/null 2>&1
check "dnas summary reads the pruned model" test $? -eq 0
finish
