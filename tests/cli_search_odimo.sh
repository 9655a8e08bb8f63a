#!/usr/bin/env bash
# End-to-end `dnas search` with method odimo on DIANA, on a slice of
# Fashion-MNIST: configs/search_odimo_resnet8_fmnist_diana_tiny.yaml with a
# small 2-D seed (two 3x3 convs, 16 and 64 channels, and the classifier, so
# that the sanitizer build runs it in a few minutes): channels move to the analog engine under the
# latency cost, the run file records every channel's engine and the
# unsplit (all-digital) cost beside the split one, the exported model keeps
# every channel with its engine and quantizer, dnas summary / cost / train
# read it and dnas cost prices the split as the run did, and the integer
# network, which records each channel's engine, tracks the float one.
# Usage: cli_search_odimo.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$2"
. "$(dirname "$0")/lib_cli.sh"
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1"; }
attr() { h5dump -a "$2" "$1" | sed -n 's/.*(0): \([0-9.e+-]*\).*/\1/p'; }
cat > "$tmp/small.yaml" <<YAML
name: small2d
input: [1, 28, 28]
layers:
  - {name: conv1, op: conv2d, out: 16, kernel: 3, stride: 2, padding: 1, bias: false}
  - {name: bn1, op: batchnorm}
  - {name: relu1, op: relu}
  - {name: conv2, op: conv2d, out: 64, kernel: 3, stride: 2, padding: 1, bias: false}
  - {name: bn2, op: batchnorm}
  - {name: relu2, op: relu}
  - {name: pool, op: global_avgpool}
  - {name: fc, op: linear, out: 10}
YAML
sed "s#^model: .*#model: $tmp/small.yaml#" "$src/configs/search_odimo_resnet8_fmnist_diana_tiny.yaml" > "$tmp/cfg.yaml"
cfg="$tmp/cfg.yaml"

"$dnas" search "$cfg" --out "$tmp/o.h5" --model-out "$tmp/o.yaml" > "$tmp/o.out" 2> "$tmp/o.err"
check "odimo search exits 0" test $? -eq 0
check "status ok, method odimo" sh -c "grep -q 'status=ok' '$tmp/o.out' && h5dump -a /runs/0/method '$tmp/o.h5' | grep -q '\"odimo\"'"
check "the export line shows the split latency beside the unsplit one" \
    grep -Eq '^exported: latency [0-9.e-]+ \(seed [0-9.e-]+, unsplit [0-9.e-]+\)' "$tmp/o.err"
lat=$(attr "$tmp/o.h5" /runs/0/cost/seconds); dig=$(attr "$tmp/o.h5" /runs/0/cost_unsplit/seconds)
seed=$(attr "$tmp/o.h5" /runs/0/cost_seed/seconds)
check "latency $lat below the all-digital mapping $dig of the same network" \
    awk -v a="${lat:-1}" -v d="${dig:-0}" 'BEGIN { exit !(a < d) }'
check "the all-digital mapping is the seed's ($dig = $seed)" test "$dig" = "$seed"
h5dump -d /runs/0/channel_engines "$tmp/o.h5" > "$tmp/ce" 2>&1
na=$(grep -c '"analog"' "$tmp/ce"); nd=$(grep -c '"digital"' "$tmp/ce")
check "channel_engines lists every searched channel ($na analog + $nd digital = 90)" test $((na + nd)) -eq 90
check "analog channels at 2 bits, digital at 8" sh -c \
    "h5dump -d /runs/0/channel_engines '$tmp/o.h5' | tr -d '\n ' | grep -o '\"[a-z]*\",[0-9]*}' | sort -u | tr '\n' ' ' | grep -q '^\"analog\",2} \"digital\",8} \$'"
check "the exported model records engines and wbits per channel" sh -c \
    "grep -q 'engines: \[' '$tmp/o.yaml' && grep -q 'wbits: \[' '$tmp/o.yaml' && grep -q 'name: conv2, op: conv2d, out: 64' '$tmp/o.yaml'"

"$dnas" summary "$tmp/o.yaml" > "$tmp/sum.out" 2>&1
check "dnas summary reads it: every channel kept (10,000 weights)" grep -q '^parameters: .*weights 10000' "$tmp/sum.out"
"$dnas" cost "$tmp/o.yaml" --target diana > "$tmp/cost.out" 2>&1
check "dnas cost reads it" test $? -eq 0
us=$(awk '/^total / { print $(NF-1) }' "$tmp/cost.out")
check "dnas cost prices the split as the run did ($us us vs $lat s)" \
    awk -v u="${us:-0}" -v s="${lat:-1}" 'BEGIN { d = u - s * 1e6; exit !(d < 0.01 && d > -0.01) }'
check "with split or analog layers" grep -Eq ' (split|analog) +[0-9]' "$tmp/cost.out"
cat > "$tmp/train.yaml" <<YAML
model: $tmp/o.yaml
data: {format: fashion-mnist, limit_train: 200, limit_test: 100}
train: {epochs: 1, batch: 50, threads: 1}
YAML
"$dnas" train "$tmp/train.yaml" --quiet > "$tmp/train.out" 2>&1
check "dnas train trains it (quantization-aware)" test $? -eq 0

iacc=$(attr "$tmp/o.h5" /runs/0/metrics/int_test_acc); facc=$(attr "$tmp/o.h5" /runs/0/metrics/finetune_test_acc)
check "integer accuracy $iacc within 3 points of the float $facc" \
    awk -v i="${iacc:-0}" -v f="${facc:-1}" 'BEGIN { d = i - f; exit !(i > 0 && d < 0.03 && d > -0.03) }'
acc=$(field "$tmp/o.out" test_acc)
check "the fine-tuned network learned: test accuracy $acc > 0.3" awk -v a="${acc:-0}" 'BEGIN { exit !(a > 0.3) }'
check "the run file's qnet records each channel's engine" sh -c \
    "h5dump -a /runs/0/qnet/engines '$tmp/o.h5' | grep -q 'digital,analog\\|analog,digital' && \
     h5dump -d /runs/0/qnet/channel_engines '$tmp/o.h5' > /dev/null"
finish
