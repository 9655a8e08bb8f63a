#!/usr/bin/env bash
# End-to-end `dnas quantize` on tcn_fmnist trained 2 epochs on a slice of
# Fashion-MNIST: the integer network's test accuracy stays within 1.2
# points of the float one at 8 bits, the float accuracy it reports is the
# one dnas train reported, the file holds the integer network, fewer bits
# cost accuracy but still classify, and the output options behave.
# (Bad inputs: tests/bad_inputs/quant.tsv.)
# Usage: cli_quantize.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$(realpath "$1")"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
has() { grep -q -- "$2" "$1"; }
val() { sed -n "s/.*$1=\([-0-9.]*\).*/\1/p" "$2"; }

cat > "$tmp/cfg.yaml" <<YAML
model: $src/configs/models/tcn_fmnist.yaml
data: {format: fashion-mnist, layout: rows, limit_train: 3000, limit_test: 1000}
train:
  epochs: 2
  batch: 64
  seed: 5
  optimizer: {name: adam, lr: 0.002}
  schedule: {name: cosine}
YAML
cd "$tmp"
"$dnas" train cfg.yaml --checkpoint tcn.h5 --quiet > train.out 2>&1
check "train exits 0" test $? -eq 0
tacc=$(val test_acc train.out)

# the stored config (absolute model path, fashion-mnist) needs no --config
"$dnas" quantize tcn.h5 --out q8.h5 > q8.out 2> q8.err
check "quantize exits 0" test $? -eq 0
fa=$(val float_acc q8.out); ia=$(val int_acc q8.out)
check "float accuracy $fa is dnas train's $tacc" test "$fa" = "$tacc"
check "float accuracy $fa > 0.6: the network learned" awk -v a="${fa:-0}" 'BEGIN { exit !(a > 0.6) }'
check "8-bit integer accuracy $ia within 0.012 of float $fa" \
    awk -v f="${fa:-0}" -v i="${ia:--1}" 'BEGIN { d = f - i; if (d < 0) d = -d; exit !(d <= 0.012) }'
check "prints both accuracies" has q8.out "test accuracy (1000 samples): float .*%, integer .*%"
check "lists the ops: conv1 .. fc, BN and ReLU folded away" \
    sh -c "grep -c -E '^[0-9]+ +(conv[1-4] +conv|pool +global_avgpool|fc +linear) ' q8.out | grep -qx 6"
check "ReLU outputs are unsigned, the logits signed" \
    sh -c "grep -qE '^0 +conv1 +conv +\[1\]\[28\]\[32\] +u +8' q8.out && grep -qE '^5 +fc +linear +\[1\]\[1\]\[10\] +s +8' q8.out"
check "QUANT.h5 holds /qnet with the tables and arrays" \
    sh -c "h5dump -H q8.h5 | grep -q 'DATASET \"ops\"' && h5dump -H q8.h5 | grep -q 'DATASET \"weights\"'"
check "weights: 73,216 int8 values" sh -c "h5dump -H -d /qnet/weights q8.h5 | grep -q '( 73216 )'"
check "format attribute dnas-quant-1" sh -c "h5dump -a format q8.h5 | grep -q dnas-quant-1"
check "the input preprocessing: layout rows, the training split's 28 channel means and stds" \
    sh -c "h5dump -a /qnet/input_layout q8.h5 | grep -q '\"rows\"' && h5dump -a /qnet/input_mean q8.h5 | grep -q '( 28 )' && h5dump -a /qnet/input_std q8.h5 | grep -q '( 28 )'"
ha=$(h5dump -a int_acc q8.h5 | sed -n 's/.*(0): *\([-0-9.e]*\).*/\1/p')
check "int_acc attribute $ha is the printed $ia" \
    awk -v a="${ha:-9}" -v b="${ia:-0}" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-4) }'
check "no temporary file left" test ! -e q8.h5.tmp

# the same run again: the same integer network, byte for byte in its tables
"$dnas" quantize tcn.h5 --out again.h5 --quiet > again.out 2>&1
check "deterministic: the same weights and multipliers" \
    sh -c "[ \"\$(h5dump -d /qnet/weights -d /qnet/multipliers q8.h5 | tail -n +2)\" = \"\$(h5dump -d /qnet/weights -d /qnet/multipliers again.h5 | tail -n +2)\" ]"
check "--quiet prints only the result line" sh -c "[ \$(wc -l < again.out) -eq 1 ] && grep -q '^result ' again.out"

# 4 bits: coarser, still far above chance (10 classes); the percentile matters more
"$dnas" quantize tcn.h5 --out q4.h5 --bits 4 --quiet > q4.out 2>&1
check "4-bit quantize exits 0" test $? -eq 0
i4=$(val int_acc q4.out)
check "4-bit accuracy $i4 below the 8-bit $ia and above 0.4" \
    awk -v a="${i4:-0}" -v b="${ia:-0}" 'BEGIN { exit !(a < b && a > 0.4) }'
check "4-bit tensors and weights" sh -c "h5dump -d /qnet/tensors q4.h5 | grep -c '^ *4,$' | grep -qx 7"

# --config: the data from another config (here 2,000 test samples)
sed 's/limit_test: 1000/limit_test: 2000/' cfg.yaml > cfg2.yaml
"$dnas" quantize tcn.h5 --config cfg2.yaml --out q2.h5 > q2.out 2>&1
check "--config takes the data from that config" has q2.out "test accuracy (2000 samples)"

"$dnas" quantize --help > h.out; check "quantize --help exits 0" test $? -eq 0
check "--help documents --calib-batches and --percentile" sh -c "grep -q -- --calib-batches h.out && grep -q -- --percentile h.out"
"$dnas" quantize > /dev/null 2>&1; check "quantize without arguments: usage exit 2" test $? -eq 2
"$dnas" --help | grep -q "quantize"; check "dnas --help lists quantize" test $? -eq 0

finish
