#!/usr/bin/env bash
# `dnas summary` prints per-layer counts whose totals match the published
# MLPerf Tiny figures; --csv has a header and a total row; errors are clear.
# Usage: cli_summary.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$2"
. "$(dirname "$0")/lib_cli.sh"

total() { "$dnas" summary "$src/configs/models/$1.yaml" --csv | awk -F, '$1=="total" {print $4" "$7}'; }
check "dscnn weights/MACs 22016 2656768" test "$(total dscnn)" = "22016 2656768"
check "resnet8 weights/MACs 77360 12501632" test "$(total resnet8)" = "77360 12501632"
check "resnet8_fmnist 77072 9345920" test "$(total resnet8_fmnist)" = "77072 9345920"
check "tcn_fmnist 73216 1258624" test "$(total tcn_fmnist)" = "73216 1258624"
"$dnas" summary "$src/configs/models/dscnn.yaml" --csv > "$tmp/s.csv"
check "csv header" test "$(head -1 "$tmp/s.csv")" = "layer,op,shape,weights,biases,bn,macs"
check "csv total row last" sh -c "tail -1 '$tmp/s.csv' | grep -q '^total,'"
"$dnas" summary "$src/configs/models/resnet8.yaml" > "$tmp/s.txt"
check "table names layers" grep -q "depthwise\|conv2d" "$tmp/s.txt"
printf 'input: [1, 8, 8]\nlayers:\n  - {name: a, op: conv2d, out: 4}\n' > "$tmp/bad.yaml"
"$dnas" summary "$tmp/bad.yaml" > /dev/null 2> "$tmp/err"
check "bad model exit 1" test $? -eq 1
check "error names file and line" grep -q "bad.yaml:3: layer 'a': missing 'kernel'" "$tmp/err"
"$dnas" summary --help | grep -q "macs" ; check "summary --help explains macs" test $? -eq 0
"$dnas" --help > /dev/null; check "dnas --help exits 0" test $? -eq 0
"$dnas" frobnicate > /dev/null 2>&1; check "unknown command exit 2" test $? -eq 2
# output that cannot be written (a full disk) is a failure, never a silent exit 0
if [ -w /dev/full ]; then
    "$dnas" summary "$src/configs/models/dscnn.yaml" > /dev/full 2> "$tmp/full"
    check "summary to a full disk: exit 1" test $? -eq 1
    check "summary to a full disk: says so" \
        grep -q "writing the output failed: No space left on device" "$tmp/full"
    "$dnas" cost "$src/configs/models/dscnn.yaml" --target diana --csv > /dev/full 2> /dev/null
    check "cost to a full disk: exit 1" test $? -eq 1
fi
finish
