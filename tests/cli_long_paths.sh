#!/usr/bin/env bash
# Long paths that exist: messages keep the whole path and the reason after
# it, outputs print the whole path, and a path longer than an internal
# buffer of the old code (512 characters for a model, 1,024 for a target)
# is neither truncated nor silently dropped.
# Usage: cli_long_paths.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$2"
. "$(dirname "$0")/lib_cli.sh"
has() { grep -qF -- "$2" "$1"; }
dirs() { printf '/%0200d' $(seq "$1") | tr 0-9 d; } # N components of 200 characters

long="$tmp$(dirs 10)"    # ~2,000 characters
mid="$tmp$(dirs 3)"      # ~600: over 512, within a config's 1,024
mkdir -p "$long" "$mid"

printf 'input: [1, 8, 8]\nlayers:\n  - {name: a, op: conv2d, out: 4}\n' > "$long/bad.yaml"
"$dnas" summary "$long/bad.yaml" > /dev/null 2> "$tmp/e1"
check "summary: exit 1 on a bad model in a long directory" test $? -eq 1
check "summary: whole path, line and reason" has "$tmp/e1" "$long/bad.yaml:3: layer 'a': missing 'kernel'"

cp "$src/configs/targets/diana.yaml" "$long/t.yaml"
"$dnas" cost "$src/configs/models/dscnn.yaml" --target "$long/t.yaml" > "$tmp/o2" 2> "$tmp/e2"
check "cost: a target in a long directory loads (exit 0)" test $? -eq 0
check "cost: the output names the whole target path" has "$tmp/o2" "memory levels of diana ($long/t.yaml)"

# A model path over 512 characters: the checkpoint keeps the model's text
printf 'input: [1, 1, 4]\nlayers:\n  - {name: fc1, op: linear, out: 3}\n' > "$mid/tiny.yaml"
awk 'BEGIN { print "a,b,c,d,label"; for (i = 0; i < 32; i++) printf "%d,1,2,3,%d\n", i, i % 3 }' \
    > "$mid/d.csv"
printf 'model: tiny.yaml\ndata: {format: csv, header: true, train: d.csv, normalize: false}\n' > "$mid/c.yaml"
printf 'train: {epochs: 1, batch: 32, threads: 1}\n' >> "$mid/c.yaml"
"$dnas" train "$mid/c.yaml" --checkpoint "$mid/c.h5" --quiet > /dev/null 2> "$tmp/e3"
check "train: a model path of ${#mid} characters trains (exit 0)" test $? -eq 0
check "train: the checkpoint holds the model's text" sh -c "h5dump -d model_yaml '$mid/c.h5' | grep -q fc1"
finish
