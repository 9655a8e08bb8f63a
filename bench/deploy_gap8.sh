#!/usr/bin/env bash
# Integer networks on GAP8 (configs/targets/gap8.yaml) at several L1 sizes:
# for each QUANT.h5 and each L1, `dnas deploy --target gap8 --l1 L1`, the
# generated code run on the host model of its runtime (`make check`: its
# outputs must equal the evaluator's), and one table row: the cluster
# layers and how many need more than one tile, the most L1 a layer uses,
# the bytes DMA moves per inference (as the tile pass counts them and as
# the host model measured them, which must agree) against the lower bound
# (each layer's input values it reads, output and constants moved once),
# and the cost model's cycles (hwcost gap8_cluster) of the cluster layers
# whole and summed over their tiles, with the tiling's overhead. With
# --layers a table per deployment follows: each cluster layer's tiles, L1,
# DMA and cycles. The chip itself is not modelled beyond that: the cycles
# are the cost model's, DMA time is not in them.
# A layer the split pass cut by input clamp (an ODiMO network: channels on
# an engine that reads 7-bit inputs) runs as one cluster layer per part,
# each tiled over its channels ("parts": how many); the DMA bytes network.c
# states must equal the tile pass's as well.
# With --searched the two tiny searches of the tests run first and their
# run files join the list: the PIT-found TCN
# (search_pit_tcn_fmnist_tiny.yaml, mu 1e-4) at L1 64000 and 1400, the
# ODiMO-found ResNet-8 (tests/cli_deploy_diana.sh's) at 64000 and 6000. A
# QUANT.h5@L1,L1,... argument sets that file's L1 sizes.
# Usage: bench/deploy_gap8.sh [--layers] [--searched] BUILD_DIR [QUANT.h5[@L1,...] ...]
#   L1 sizes: $L1S (default "64000 16000 8000"), vectors: $VECTORS (default 4)
set -euo pipefail
layers=0 searched=0
while [ "${1:-}" = --layers ] || [ "${1:-}" = --searched ]; do
    [ "$1" = --layers ] && layers=1
    [ "$1" = --searched ] && searched=1
    shift
done
build="$(realpath "$1")"; shift
src="$(cd "$(dirname "$0")/.." && pwd)"
l1s="${L1S:-64000 16000 8000}"
vectors="${VECTORS:-4}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
files=("$@")
if [ "$searched" = 1 ]; then
    "$build/dnas" search "$src/configs/search_pit_tcn_fmnist_tiny.yaml" --mu 1e-4 \
        --out "$tmp/pit_tcn.h5" --quiet > "$tmp/pit.out" 2>&1 ||
        { echo "deploy_gap8: the PIT search failed:" >&2; cat "$tmp/pit.out" >&2; exit 1; }
    sed -e "s#^model: .*#model: $src/configs/models/resnet8_fmnist.yaml#" \
        -e "s#limit_train: .*#limit_train: 400#; s#val_split: .*#val_split: 200#; s#limit_test: .*#limit_test: 200#" \
        "$src/configs/search_odimo_resnet8_fmnist_diana_tiny.yaml" > "$tmp/odimo.yaml"
    "$build/dnas" search "$tmp/odimo.yaml" --out "$tmp/odimo_resnet8.h5" > "$tmp/odimo.out" 2>&1 ||
        { echo "deploy_gap8: the ODiMO search failed:" >&2; cat "$tmp/odimo.out" >&2; exit 1; }
    files+=("$tmp/pit_tcn.h5@64000,1400" "$tmp/odimo_resnet8.h5@64000,6000")
fi
printf '| %-22s | %6s | %-9s | %5s | %7s | %10s | %10s | %10s | %6s | %11s | %11s | %8s |\n' \
    network L1 "tiled" parts "L1 used" "DMA B" "measured" "bound B" "DMA/bd" "cycles" \
    "tiled cyc" overhead
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------------------ -------- ----------- \
    ------- --------- ------------ ------------ ------------ -------- ------------- \
    ------------- ----------
for arg in "${files[@]}"; do
    q="${arg%@*}"
    sizes="$l1s"
    [ "$q" != "$arg" ] && sizes="${arg##*@}" && sizes="${sizes//,/ }"
    for l1 in $sizes; do
        n=$(basename "$q" .h5)
        d="$tmp/$n-$l1"
        if ! "$build/dnas" deploy "$q" --target gap8 --l1 "$l1" --out "$d" --vectors "$vectors" > "$d.out" 2>&1; then
            printf '| %-22s | %6s | %s\n' "$n" "$l1" "$(sed -n 's/^dnas deploy: //p' "$d.out" | sed 's/.*: a memory/a memory/')"
            continue
        fi
        make -s -C "$d" check > "$d.check" 2>&1 || true
        grep -q "$vectors samples: equal" "$d.check" ||
            { echo "deploy_gap8: $q, L1 $l1: outputs differ on the host model:" >&2; cat "$d.check" >&2; exit 1; }
        read -r used pdma pbound cyc tcyc < <(sed -n \
            's/^result_tiles l1=\([0-9]*\) l1_size=[0-9]* dma=\([0-9]*\) dma_bound=\([0-9]*\) cycles=\([0-9]*\) tiled_cycles=\([0-9]*\)$/\1 \2 \3 \4 \5/p' "$d.out")
        dma=$(sed -n 's/.*DMA moves \([0-9]*\)$/\1/p' "$d/network.c" | head -1)
        bound=$(sed -n 's/.*moved once: \([0-9]*\)).*/\1/p' "$d/network.c" | head -1)
        parts=$(grep -c '^/\* channels [0-9]* of [0-9]*, reading the input' "$d/network.c" || true)
        measured=$(sed -n 's/.*transfers, \([0-9]*\) bytes into L1, \([0-9]*\) bytes out of L1.*/\1 \2/p' "$d.check" |
            awk -v v="$vectors" '{ print ($1 + $2) / v }')
        [ "$measured" = "$dma" ] ||
            { echo "deploy_gap8: $q, L1 $l1: the host model moved $measured bytes per inference, network.c says $dma" >&2; exit 1; }
        [ "$pdma" = "$dma" ] && [ "$pbound" = "$bound" ] ||
            { echo "deploy_gap8: $q, L1 $l1: network.c says $dma DMA bytes (bound $bound), the tile pass $pdma ($pbound)" >&2; exit 1; }
        net=$(sed -n 's/^network \([^ ]*\) from .*/\1/p' "$d.out")
        [ -n "$net" ] && [[ "$q" != "$tmp"/* ]] && n="$net"
        tiled=$(grep -c '^tile ' "$d.out" || true)
        split=$(grep '^tile ' "$d.out" | grep -vc ' n=1 ' || true)
        over="$(awk -v a="$tcyc" -v b="$cyc" 'BEGIN { printf "%.1f%%", (b > 0 ? 100 * (a - b) / b : 0) }')"
        printf '| %-22s | %6s | %4s of %2s | %5s | %7s | %10s | %10s | %10s | %6.3f | %11s | %11s | %8s |\n' \
            "$n" "$l1" "$split" "$tiled" "$parts" "$used" "$dma" "$measured" "$bound" \
            "$(awk -v a="$dma" -v b="$bound" 'BEGIN { print a / b }')" "$cyc" "$tcyc" "$over"
    done
done

[ "$layers" = 1 ] || exit 0
for arg in "${files[@]}"; do
    q="${arg%@*}"
    sizes="$l1s"
    [ "$q" != "$arg" ] && sizes="${arg##*@}" && sizes="${sizes//,/ }"
    for l1 in $sizes; do
        n=$(basename "$q" .h5)
        grep -q '^result_tiles' "$tmp/$n-$l1.out" || continue
        echo
        echo "$n at L1 $l1, per cluster layer:"
        printf '| %-3s | %-16s | %-11s | %6s | %7s | %9s | %10s | %10s |\n' k layer tiles n "L1" "DMA B" cycles "tiled cyc"
        printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ----- ------------------ ------------- -------- --------- ----------- ------------ ------------
        sed -n 's/^tile \([0-9]*\) \([^ ]*\) tiles=\([0-9x]*\) n=\([0-9]*\) l1=\([0-9]*\) dma=\([0-9]*\) cycles=\([0-9]*\) tiled_cycles=\([0-9]*\)$/\1 \2 \3 \4 \5 \6 \7 \8/p' "$tmp/$n-$l1.out" |
            while read -r k name tiles cnt l1b dma cyc tcyc; do
                printf '| %-3s | %-16s | %-11s | %6s | %7s | %9s | %10s | %10s |\n' "$k" "$name" "$tiles" "$cnt" "$l1b" "$dma" "$cyc" "$tcyc"
            done
    done
done
