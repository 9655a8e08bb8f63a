#!/usr/bin/env bash
# `dnas cost`: per-layer costs equal the hand-worked values, totals match
# the published counts, memory levels say whether the network fits (with
# thousands separators), --csv has a header and a final total row, errors
# are clear. Usage: cli_cost.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$2"
. "$(dirname "$0")/lib_cli.sh"
m="$src/configs/models"

"$dnas" cost "$m/resnet8_fmnist.yaml" --target "$src/configs/targets/diana.yaml" --csv > "$tmp/r.csv"
check "csv exit 0" test $? -eq 0
check "csv header" test "$(head -1 "$tmp/r.csv")" = \
  "layer,kind,cin,cout,params,params_nb,macs,macs_nb,bit_params,bit_ops,w_bytes,act_bytes,cyc_digital,cyc_analog,engine,cycles,seconds,joules"
check "csv total row last" sh -c "tail -1 '$tmp/r.csv' | grep -q '^total,'"
# weights 77,072 and MACs 9,345,920 without bias; with the fc bias 77,082 and 9,345,930
check "totals params/macs" test "$(awk -F, '$1=="total" {print $5" "$6" "$7" "$8}' "$tmp/r.csv")" = "77082 77072 9345930 9345920"
# s1_conv1 (3x3, 16->16, 28x28): digital 1*16*2*28*9 + 784*32/8 = 11200; analog u=4: 1152 + 196*18.2 = 4719.2
check "s1_conv1 DIANA digital/analog" test "$(awk -F, '$1=="s1_conv1" {print $13" "$14" "$15}' "$tmp/r.csv")" = "11200 4719.2 digital"
# fc 64->10: digital 64 + 74/8 = 73.25
check "fc DIANA digital" test "$(awk -F, '$1=="fc" {print $13}' "$tmp/r.csv")" = "73.25"

"$dnas" cost "$m/resnet8_fmnist.yaml" --target diana > "$tmp/r.txt"
check "target by name" test $? -eq 0
# weights 77,072 + 4*10 bias bytes; peak: relu1 + s1_conv1 + s1_conv2 outputs = 3*12,544
check "memory line" grep -q "memory: 114,744 B = weights 77,112 B + peak activations 37,632 B" "$tmp/r.txt"
check "L2 fits" grep -q "L2: 114,744 B of 512,000 B — fits, 397,256 B free" "$tmp/r.txt"

# the same network against a 100,000 B L2 does not fit by 14,744 B
sed 's/bytes: 512000/bytes: 100000/' "$src/configs/targets/diana.yaml" > "$tmp/small.yaml"
"$dnas" cost "$m/resnet8_fmnist.yaml" --target "$tmp/small.yaml" > "$tmp/s.txt"
check "does not fit" grep -q "L2: 114,744 B of 100,000 B — does not fit by 14,744 B" "$tmp/s.txt"

# GAP8 dscnn: each DW 4*16*125*9 = 72,000 cycles
"$dnas" cost "$m/dscnn.yaml" --target gap8 --csv > "$tmp/g.csv"
check "gap8 dw1 cycles" test "$(awk -F, '$1=="dw1" {print $13}' "$tmp/g.csv")" = "72000"
# 2-bit weights on DIANA: depthwise has no engine (digital is 8-bit, analog has groups = 1 only)
"$dnas" cost "$m/dscnn.yaml" --target diana --wbits 2 > "$tmp/w2.txt"
check "no engine noted" grep -q "have no engine on diana at w2 a8" "$tmp/w2.txt"
check "pw on analog" grep -q "^pw1 .* analog " "$tmp/w2.txt"
# MPIC: w4 a8 on dscnn pw1: 512,000 / 2.3
"$dnas" cost "$m/dscnn.yaml" --target mpic --wbits 4 --csv > "$tmp/m.csv"
check "mpic pw1 w4" test "$(awk -F, '$1=="pw1" {printf "%.2f", $15}' "$tmp/m.csv")" = "$(awk 'BEGIN {printf "%.2f", 512000/2.3}')"
for t in cortex_m4 cortex_m7 ne16; do
    "$dnas" cost "$m/tcn_fmnist.yaml" --target $t > /dev/null; check "$t runs" test $? -eq 0
done

"$dnas" cost --help > "$tmp/h.txt"
check "help exit 0" test $? -eq 0
check "help says which MACs count bias" grep -q "macs_nb .*bias adds NOT counted" "$tmp/h.txt"
check "help explains memory" grep -q "peak activation" "$tmp/h.txt"
"$dnas" cost "$m/dscnn.yaml" > /dev/null 2> "$tmp/e1"
check "missing --target exit 2" test $? -eq 2
"$dnas" cost "$m/dscnn.yaml" --target tpu9000 > /dev/null 2> "$tmp/e2"
check "unknown target exit 1" test $? -eq 1
check "unknown target message" grep -q "target 'tpu9000' not found" "$tmp/e2"
printf 'name: bad\nclock_hz: 1e8\nsource: x\nmemory:\n  - {name: L2, bytes: lots, source: x}\nengines: []\n' > "$tmp/bad.yaml"
"$dnas" cost "$m/dscnn.yaml" --target "$tmp/bad.yaml" > /dev/null 2> "$tmp/e3"
check "bad target exit 1" test $? -eq 1
check "bad target names file:line" grep -q "bad.yaml:5: memory 'L2': bytes: expected an integer in 1..1099511627776, found 'lots'" "$tmp/e3"
"$dnas" cost "$m/dscnn.yaml" --target diana --wbits x > /dev/null 2>&1
check "bad --wbits exit 2" test $? -eq 2
finish
