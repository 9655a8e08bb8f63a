#!/bin/bash
# A search epoch against a plain training epoch of the same seed network,
# side by side in one run of `dnas search`: the warmup phase is plain
# training (the seed, Adam), the search phase trains weights and
# architecture together; both print their training time per epoch
# (evaluation excluded). Two runs: arch_split train (one forward / backward
# per batch, weights and architecture updated together) and arch_split val
# (a second forward / backward on a validation batch for the architecture
# step).
#
#   bench/search_epoch.sh CONFIG [EPOCHS] [LIMIT_TRAIN] [THREADS]
#
# CONFIG: a search config (its model, data, method, cost); EPOCHS (2) of
# warmup and of search, no fine-tuning, no integer export; LIMIT_TRAIN
# (20000) training samples, validation split 6000; THREADS (2).
# Prints per split: the mean warmup epoch, the mean search epoch, the ratio.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dnas=${DNAS:-$here/build/dnas}
[ $# -ge 1 ] || { sed -n 2,17p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
cfg=$(readlink -f "$1")
epochs=${2:-2}; limit=${3:-20000}; threads=${4:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfgdir=$(dirname "$cfg")
printf '%-6s %12s %12s %7s\n' split plain_s search_s ratio
for split in train val; do
    # the config with its paths made absolute and the schedule replaced
    awk -v dir="$cfgdir" -v e="$epochs" -v sp="$split" -v lim="$limit" -v thr="$threads" '
        /^(schedule|output|int_bits):/ { skip = 1; next }
        /^data:/ { print; print "  limit_train: " lim; print "  val_split: 6000"; indata = 1; next }
        skip && /^  / { next }
        { skip = 0 }
        indata && /^  (limit_train|val_split):/ { next }
        !/^  / { indata = 0 }
        /^(model|target):/ { $2 = ($2 ~ /^\//) ? $2 : dir "/" $2 }
        { print }
        END {
            print "schedule:"
            print "  warmup: " e; print "  search: " e; print "  finetune: 0"
            print "  batch: 128"; print "  arch_split: " sp; print "  threads: " thr
            print "int_bits: 0"
            print "output: run.h5"
        }' "$cfg" > "$tmp/$split.yaml"
    (cd "$tmp" && "$dnas" search "$split.yaml" --out "$tmp/$split.h5" > "$tmp/$split.log" 2>&1) ||
        { cat "$tmp/$split.log" >&2; exit 1; }
    awk -v sp="$split" '
        $1 == "warmup" && $3 == "done" { w += $5; nw++ }
        $1 == "search" && $3 == "done" { s += $5; ns++ }
        END { printf "%-6s %12.2f %12.2f %6.2fx\n", sp, w / nw, s / ns, (s / ns) / (w / nw) }' \
        "$tmp/$split.log"
done
