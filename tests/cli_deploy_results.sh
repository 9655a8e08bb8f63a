#!/usr/bin/env bash
# dnas deploy on the published campaigns of results/ (campaign.h5 files
# written by dnas sweep), a run picked with --run:
# - the PIT-searched resnet8_fmnist of pit_resnet8_fmnist_macs (run 2,
#   7.15x fewer MACs than its seed) through the c backend, the DIANA host
#   model and the GAP8 host model, the last two at their target's L1 and at
#   --l1 6000, which tiles most layers: `make check` equal on every one,
#   the tiled memory within its size, tiles at 6000 B and the DMA bytes at
#   least their lower bound;
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

tcn="$src/results/tcn_fmnist_pit_params/campaign.h5"
check "deploy tcn run 4" "$dnas" deploy "$tcn" --run 4 --target c --out "$tmp/tcn" --vectors 10000 \
    --images "$fm/t10k-images-idx3-ubyte.gz" --labels "$fm/t10k-labels-idx1-ubyte.gz" \
    > "$tmp/tcn.out" 2> "$tmp/tcn.err"
check "tcn: make check equal on 10000 images" grep -q "10000 samples: equal (0 values differ)" \
    <(make -s -C "$tmp/tcn" check 2>&1)
acc=$(field "$tmp/tcn.out" accuracy)
# the run's int_test_acc in /summary: the member's position among the
# compound's members, then that field of row "4" (no commas in its strings)
col=$(h5dump -H -d /summary "$tcn" | grep -oE '"[a-z_]+";' | tr -d '";' | grep -n -x int_test_acc | cut -d: -f1)
want=$(h5dump -d /summary "$tcn" | tr -d ' \n' | grep -oE '\{"4","pit",[^}]*\}' | tr -d '{}' | cut -d, -f"${col:-0}")
check "tcn: accuracy printed" test -n "$acc"
check "tcn: int_test_acc of run 4 in /summary" test -n "$want"
check "tcn: accuracy $acc is the campaign's int_test_acc $want" \
    awk -v a="$acc" -v b="$want" 'BEGIN { exit !(a != "" && b != "" && sprintf("%.4f", a) == sprintf("%.4f", b)) }'
finish
