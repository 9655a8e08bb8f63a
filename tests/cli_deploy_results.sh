#!/usr/bin/env bash
# dnas deploy on the published campaigns of results/ (campaign.h5 files
# written by dnas sweep), a run picked with --run:
# - the PIT-searched resnet8_fmnist of pit_resnet8_fmnist_macs (run 2,
#   7.15x fewer MACs than its seed) through the c backend, the DIANA host
#   model and the GAP8 host model, the last two at their target's L1 and at
#   --l1 6000, which tiles most layers: `make check` equal on every one,
#   the tiled memory within its size, tiles at 6000 B and the DMA bytes at
#   least their lower bound;
# - the ODiMO network of resnet8_fmnist_odimo_diana (run 3: channels split
#   between DIANA's digital and analog engines under a memory budget)
#   through the DIANA and the GAP8 host models at their L1 and at --l1 6000,
#   on 16 real Fashion-MNIST test images: `make check` equal; on DIANA the
#   per-layer report's cycles (engines of a layer at once), also the result
#   line's model_cycles, are the latency the campaign recorded;
# - the PIT-searched TCN of tcn_fmnist_pit_params (run 4) on the 10,000
#   real Fashion-MNIST test images through the c backend: the generated
#   code equals the integer evaluator on all of them, whose accuracy is the
#   integer test accuracy the campaign recorded for the run in /summary.
# Usage: cli_deploy_results.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$2"
. "$(dirname "$0")/lib_cli.sh"
command -v make > /dev/null && command -v cc > /dev/null || skip "make and cc are needed"
fm=/usr/share/datasets/fashion-mnist
[ -r "$fm/t10k-images-idx3-ubyte.gz" ] || skip "Fashion-MNIST is needed (Debian package dataset-fashion-mnist)"
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" "$1" | tail -n 1; }
# summary FILE RUN MEMBER: a number of the run's /summary row (the member's
# position among the compound's members; the row's strings have no commas)
summary() {
    local col
    col=$(h5dump -H -d /summary "$1" | grep -oE '"[a-z_]+";' | tr -d '";' | grep -n -x "$3" | cut -d: -f1)
    [ -n "$col" ] && h5dump -d /summary "$1" | tr -d ' \n' | grep -oE "\\{\"$2\",[^}]*\\}" | tr -d '{}' | cut -d, -f"$col"
}

r8="$src/results/pit_resnet8_fmnist_macs/campaign.h5"
for t in c diana "diana --l1 6000" gap8 "gap8 --l1 6000"; do
    name=$(echo "$t" | tr ' ' '_'); out="$tmp/r8_$name"
    check "deploy $t" "$dnas" deploy "$r8" --run 2 --target $t --out "$out" --vectors 16 \
        > "$tmp/$name.out" 2> "$tmp/$name.err"
    check "$t: make check equal" grep -q "16 samples: equal (0 values differ)" \
        <(make -s -C "$out" check 2>&1)
    check "$t: the run's MACs" grep -q "macs=1307960 " "$tmp/$name.out"
    [ "$t" = c ] && continue
    l1=$(field "$tmp/$name.out" l1); size=$(field "$tmp/$name.out" l1_size)
    dma=$(field "$tmp/$name.out" dma); bound=$(field "$tmp/$name.out" dma_bound)
    check "$t: L1 $l1 within $size" test "${l1:-0}" -gt 0 -a "${l1:-0}" -le "${size:-0}"
    check "$t: DMA $dma at least its bound $bound" test "${dma:-0}" -ge "${bound:-1}" -a "${bound:-0}" -gt 0
    case "$t" in *6000)
        check "$t: L1 size 6000" test "$size" = 6000
        check "$t: tiled layers" test "$(grep -c '^tile .* n=[0-9]*[02-9]' "$tmp/$name.out")" -ge 4
        check "$t: more DMA than the bound" test "$dma" -gt "$bound";;
    esac
done

od="$src/results/resnet8_fmnist_odimo_diana/campaign.h5"
for t in diana "diana --l1 6000" gap8 "gap8 --l1 6000"; do
    name=od_$(echo "$t" | tr ' ' '_'); out="$tmp/$name"
    check "odimo: deploy $t" "$dnas" deploy "$od" --run 3 --target $t --out "$out" --vectors 16 \
        --images "$fm/t10k-images-idx3-ubyte.gz" > "$tmp/$name.out" 2> "$tmp/$name.err"
    check "odimo $t: make check equal" grep -q "16 samples: equal (0 values differ)" \
        <(make -s -C "$out" check 2>&1)
    [ "${t%% *}" = diana ] || continue
    check "odimo $t: split layers" test "$(grep -c 'digital .* | analog ' "$tmp/$name.out")" -ge 5
    cyc=$(sed -n 's/.*engines of a layer at once: \([0-9]*\).*/\1/p' "$tmp/$name.out")
    check "odimo $t: model_cycles=$(field "$tmp/$name.out" model_cycles) is that sum" \
        test "$(field "$tmp/$name.out" model_cycles)" = "${cyc:-none}"
    lat=$(summary "$od" 3 latency)   # seconds; DIANA's cost model runs at 260 MHz
    check "odimo $t: ${cyc:-?} cycles are the recorded $lat s" \
        awk -v c="${cyc:-0}" -v s="${lat:-0}" 'BEGIN { t = c / 260e6; exit !(s > 0 && t > s * 0.995 && t < s * 1.005) }'
done

tcn="$src/results/tcn_fmnist_pit_params/campaign.h5"
check "deploy tcn run 4" "$dnas" deploy "$tcn" --run 4 --target c --out "$tmp/tcn" --vectors 10000 \
    --images "$fm/t10k-images-idx3-ubyte.gz" --labels "$fm/t10k-labels-idx1-ubyte.gz" \
    > "$tmp/tcn.out" 2> "$tmp/tcn.err"
check "tcn: make check equal on 10000 images" grep -q "10000 samples: equal (0 values differ)" \
    <(make -s -C "$tmp/tcn" check 2>&1)
acc=$(field "$tmp/tcn.out" accuracy)
want=$(summary "$tcn" 4 int_test_acc)
check "tcn: accuracy printed" test -n "$acc"
check "tcn: int_test_acc of run 4 in /summary" test -n "$want"
check "tcn: accuracy $acc is the campaign's int_test_acc $want" \
    awk -v a="$acc" -v b="$want" 'BEGIN { exit !(a != "" && b != "" && sprintf("%.4f", a) == sprintf("%.4f", b)) }'
finish
