#!/usr/bin/env bash
# Integer networks on Cortex-M4 under QEMU: for each QUANT.h5, `dnas deploy
# --target cortex-m`, then flash and RAM (arm-none-eabi-size), the
# instructions one inference executes (network_run() between test_main's
# markers, counted by the QEMU plugin bench/qemu/icount.c, minus the
# markers' own 2 instructions) and instructions per MAC, as one table.
# Usage: bench/deploy_icount.sh BUILD_DIR QUANT.h5 [QUANT.h5 ...]
#   (BUILD_DIR holds dnas and bench/qemu_icount.so; needs arm-none-eabi-gcc
#   and qemu-system-arm: scripts/install-deps.sh)
set -euo pipefail
build="$(realpath "$1")"; shift
plugin="$build/bench/qemu_icount.so"
[ -f "$plugin" ] || { echo "deploy_icount: $plugin missing (build the qemu_icount target)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '| %-24s | %10s | %12s | %9s | %9s | %6s | %7s |\n' network MACs instructions "instr/MAC" text data bss
printf '|%s|%s|%s|%s|%s|%s|%s|\n' -------------------------- ------------ -------------- ----------- ----------- -------- ---------
for q in "$@"; do
    d="$tmp/$(basename "$q" .h5)"
    "$build/dnas" deploy "$q" --target cortex-m --out "$d" --vectors 1 --quiet > "$d.out"
    macs=$(sed -n 's/.*macs=\([0-9]*\).*/\1/p' "$d.out")
    make -s -C "$d" icount ICOUNT="$plugin" > "$d.icount" 2>&1
    grep -q "1 samples: equal" "$d.icount" || { echo "deploy_icount: $q: outputs differ under QEMU" >&2; exit 1; }
    n=$(sed -n 's/^icount: \([0-9]*\) instructions in 1 marked runs/\1/p' "$d.icount")
    n=$((n - 2))
    read -r text data bss _ < <(make -s -C "$d" size | tail -1)
    name=$(sed -n 's/^network \([^ ]*\) .*/\1/p' "$d.out"); name=${name:-$(basename "$q" .h5)}
    printf '| %-24s | %10s | %12s | %9.2f | %9s | %6s | %7s |\n' "$(basename "$q" .h5)" "$macs" "$n" \
        "$(awk -v n="$n" -v m="$macs" 'BEGIN { print n / m }')" "$text" "$data" "$bss"
done
