#!/usr/bin/env bash
# Integer networks on Cortex-M4 under QEMU: for each QUANT.h5, `dnas deploy
# --target cortex-m`, then one table: MACs, the instructions one inference
# executes (network_run() between test_main's markers, counted by the QEMU
# plugin bench/qemu/icount.c, minus the markers' own 2 instructions),
# instructions per MAC, the cross-check without the plugin (SysTick ticks
# around the same run under -icount shift=0, `make systick`, times 40
# instructions a tick on mps2-an386; it includes the markers' calls and is
# exact to a tick), the cost model's cycle estimate for cortex_m4 (hwcost,
# the sum of the layers' estimates, adds and pools have none), flash and
# RAM of the test program at gcc -O3 (arm-none-eabi-size: text, data, bss),
# the arena beside its lower bound and the kernels' scratch (bytes);
# with --layers, then a table per network of each layer's kind, shape,
# MACs, instructions, instructions per MAC, the target for its kind of
# layer and the cost model's cycle estimate (from a build whose layer
# functions are not inlined; its total differs from the first table's by
# the calls).
# Usage: bench/deploy_icount.sh [--layers] BUILD_DIR QUANT.h5 [QUANT.h5 ...]
#   (BUILD_DIR holds dnas and bench/qemu_icount.so; needs arm-none-eabi-gcc
#   and qemu-system-arm: scripts/install-deps.sh)
set -euo pipefail
layers=0
[ "${1:-}" = --layers ] && { layers=1; shift; }
build="$(realpath "$1")"; shift
plugin="$build/bench/qemu_icount.so"
[ -f "$plugin" ] || { echo "deploy_icount: $plugin missing (build the qemu_icount target)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '| %-24s | %10s | %12s | %9s | %12s | %12s | %9s | %6s | %7s | %7s | %7s | %7s |\n' network MACs instructions \
    "instr/MAC" "SysTick x40" "model cyc" text data bss arena bound scratch
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------------------------- ------------ -------------- ----------- \
    -------------- -------------- ----------- -------- --------- --------- --------- ---------
for q in "$@"; do
    d="$tmp/$(basename "$q" .h5)"
    "$build/dnas" deploy "$q" --target cortex-m --out "$d" --vectors 1 --quiet > "$d.out"
    macs=$(sed -n 's/.*macs=\([0-9]*\).*/\1/p' "$d.out")
    make -s -C "$d" check > "$d.check" 2>&1
    grep -q "1 samples: equal" "$d.check" || { echo "deploy_icount: $q: outputs differ under QEMU" >&2; exit 1; }
    b=$(arm-none-eabi-nm "$d/test_network.elf" | awk '/ test_mark_begin$/ {print $1}')
    e=$(arm-none-eabi-nm "$d/test_network.elf" | awk '/ test_mark_end$/ {print $1}')
    (cd "$d" && qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native,arg=t,arg=test_input.bin -kernel test_network.elf \
        -plugin "$plugin,begin=0x$b,end=0x$e" -d plugin -D icount.log > /dev/null)
    n=$(sed -n 's/^icount: \([0-9]*\) instructions in 1 marked runs/\1/p' "$d/icount.log")
    n=$((n - 2))
    # the cross-check: SysTick around the same run with -icount shift=0
    make -s -C "$d" systick > "$d.systick" 2>&1
    ticks=$(sed -n 's/^systick: \([0-9]*\) ticks in 1 marked runs/\1/p' "$d.systick")
    read -r text data bss _ < <(make -s -C "$d" size | tail -1)
    arena=$(sed -n 's/.*arena=\([0-9]*\).*/\1/p' "$d.out")
    bound=$(sed -n 's/.*lower_bound=\([0-9]*\).*/\1/p' "$d.out")
    scratch=$(sed -n 's/.* scratch=\([0-9]*\).*/\1/p' "$d.out")
    # the cost model's estimate for cortex_m4: the sum over the layers that have one
    cyc=$( { grep -o 'cost model [0-9]* cycles' "$d/network.c" || true; } | awk '{ s += $3 } END { print s + 0 }')
    printf '| %-24s | %10s | %12s | %9.2f | %12s | %12s | %9s | %6s | %7s | %7s | %7s | %7s |\n' \
        "$(basename "$q" .h5)" "$macs" "$n" "$(awk -v n="$n" -v m="$macs" 'BEGIN { print n / m }')" \
        "$((${ticks:-0} * 40))" "$cyc" "$text" "$data" "$bss" "$arena" "$bound" "${scratch:-0}"
done

[ "$layers" = 1 ] || exit 0
# Per layer: kind, shape (in -> out channels, kernel), MACs, instructions,
# instructions per MAC, the issue's target for that kind of layer (int8
# Cortex-M kernels, docs/deploy.md: 3x3 conv 1.7, a 3x3 conv on 3 input
# channels 4, 3x3 depthwise 6, 1x1 pointwise (stride 1) 1.9; "-" elsewhere) with "ok"
# or "MISSED", and the cost model's cycle estimate for the target
# (configs/targets/cortex_m4.yaml, hwcost) from the layer's comment.
for q in "$@"; do
    d="$tmp/$(basename "$q" .h5)"
    make -s -C "$d" icount ICOUNT="$plugin" > "$d.layers" 2>&1
    echo
    echo "$(basename "$q" .h5), per layer:"
    printf '| %-24s | %-14s | %-22s | %10s | %12s | %9s | %-10s | %12s |\n' layer kind shape MACs instructions "instr/MAC" target "model cyc"
    printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' -------------------------- ---------------- ------------------------ ------------ -------------- ----------- ------------ --------------
    awk -v counts="$d.layers" '
        BEGIN { while ((getline l < counts) > 0)
                    if (l ~ /^icount part layer_/) { sub(/^icount part /, "", l); split(l, a, ": "); n[a[1]] = a[2] } }
        /^\/\* layer [0-9]+: / { k = $3; sub(/:$/, "", k); kind = $0; sub(/^\/\* layer [0-9]+: /, "", kind); sub(/, source layer.*/, "", kind)
                                 kk = ""; if (match($0, /; [0-9]+x[0-9]+ /)) kk = substr($0, RSTART + 2, RLENGTH - 3)
                                 st = ""; if (match($0, /stride [0-9]+x[0-9]+/)) st = substr($0, RSTART + 7, RLENGTH - 7) }
        /^ \* in  \[/ { split($0, t, /[\[\]]/); ci[k] = t[6]; hw[k] = t[2] "x" t[4] }
        /^NETWORK_LAYER_ATTR static int layer_/ { f = $4; sub(/\(void\).*/, "", f); fn[k] = f; kd[k] = kind; kr[k] = kk; ks[k] = st; last = k + 0 }
        / MACs \*\/$/ { m = $0; sub(/ MACs \*\/$/, "", m); sub(/.*; /, "", m); macs[k] = m
                        split($0, t, /[\[\]]/); co[k] = t[6]
                        cyc[k] = "-"; if (match($0, /cost model [0-9]+ cycles/)) { cyc[k] = substr($0, RSTART + 11, RLENGTH - 18) } }
        END { for (i = 0; i <= last; i++) {
                  c = n[fn[i]]; r = (macs[i] > 0) ? c / macs[i] : -1
                  tg = "-"
                  if (kd[i] == "conv" && kr[i] == "3x3") tg = (ci[i] == 3) ? 4 : 1.7
                  else if (kd[i] == "depthwise conv" && kr[i] == "3x3") tg = 6
                  else if (kd[i] == "conv" && kr[i] == "1x1" && ks[i] == "1x1") tg = 1.9
                  ts = (tg == "-") ? "-" : sprintf("%s %s", tg, r <= tg ? "ok" : "MISSED")
                  sh = (kr[i] == "") ? sprintf("%s %s->%s", hw[i], ci[i], co[i]) : sprintf("%s %s->%s %s%s", hw[i], ci[i], co[i], kr[i], (ks[i] == "1x1" || ks[i] == "") ? "" : " s" ks[i])
                  printf "| %-24s | %-14s | %-22s | %10s | %12s | %9s | %-10s | %12s |\n", fn[i], kd[i], sh, macs[i], c, (r >= 0 ? sprintf("%.2f", r) : "-"), ts, cyc[i] } }
    ' "$d/network.c"
done
