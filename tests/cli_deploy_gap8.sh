#!/usr/bin/env bash
# dnas deploy --target gap8 on searched networks, at GAP8's L1 (64,000 B)
# and at an L1 that forces tiling, on real Fashion-MNIST test images:
#   - the network the tiny PIT search finds (search_pit_tcn_fmnist_tiny.yaml
#     as tests/cli_deploy.sh runs it: 1-D convs with dilation 2, pruned to
#     8, 4, 2 and 23 channels): a tile line per cluster layer, every layer
#     one tile at 64,000 B and the first in several at 1,400 B, DMA at its
#     lower bound only when nothing is tiled, the cycles in tiles above the
#     whole layers', and the host model moving exactly the DMA bytes the
#     report states;
#   - the network the tiny ODiMO search finds (tests/cli_deploy_diana.sh's:
#     ResNet-8 with channels on DIANA's digital and 7-bit analog engines):
#     the split pass cuts each mixed layer by input clamp into two cluster
#     layers, one reading its input clamped to 7 bits in L1; the host model
#     moves the DMA bytes the report and network.c state (each part over
#     its channels), and with the clamp taken out of the generated code the
#     outputs differ;
# and in every case `make check` (the generated code on the host model of
# the PULP runtime) equals the integer evaluator byte for byte.
# Usage: cli_deploy_gap8.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$2"
. "$(dirname "$0")/lib_cli.sh"
command -v make > /dev/null && command -v cc > /dev/null || skip "make and cc are needed"
fm=/usr/share/datasets/fashion-mnist
[ -r $fm/t10k-images-idx3-ubyte.gz ] || skip "$fm is missing (Debian package dataset-fashion-mnist)"
cd "$tmp" || exit 1
has() { grep -q -- "$2" "$1"; }
real="--images $fm/t10k-images-idx3-ubyte.gz --labels $fm/t10k-labels-idx1-ubyte.gz --vectors 100"
# the report's field $2 of line $1 (tile lines: by layer index)
field() { sed -n "s/^$1 \(.* \)*$2=\([0-9]*\).*/\2/p" "$3" | head -1; }
# bytes the host model moved in and out of L1 in check log $1
moved() { sed -n 's/.* transfers, \([0-9]*\) bytes into L1, \([0-9]*\) bytes out of L1.*/\1 \2/p' "$1" |
          awk '{ print $1 + $2 }'; }

# ---- the PIT-found network ----
"$dnas" search "$src/configs/search_pit_tcn_fmnist_tiny.yaml" --mu 1e-4 --out pit.h5 --quiet > pit.out 2>&1
check "dnas search (PIT, tiny) exits 0" test $? -eq 0
for l1 in 64000 1400; do
    "$dnas" deploy pit.h5 --target gap8 --l1 $l1 --out p$l1 $real > p$l1.out 2>&1
    check "PIT network, L1 $l1: dnas deploy --target gap8 exits 0" test $? -eq 0
    check "... a tile line per conv / linear (5) and a result_tiles line" sh -c \
        "[ \$(grep -c '^tile [0-9]* [a-z0-9_]* tiles=[0-9]*x[0-9]*x[0-9]* n=[0-9]* ' p$l1.out) -eq 5 ] &&
         grep -q '^result_tiles l1=[0-9]* l1_size=$l1 dma=[0-9]* dma_bound=[0-9]* ' p$l1.out"
    make -s -C p$l1 check > p$l1.check 2>&1
    check "... make check: 100 real images equal the evaluator" has p$l1.check "100 samples: equal (0 values differ)"
    dma=$(field result_tiles dma p$l1.out)
    check "... the host model moved 100 x the report's DMA (${dma:-?} bytes)" \
        test "$(moved p$l1.check)" = "$((100 * ${dma:-0}))"
done
check "L1 64,000: every layer one tile, DMA at its lower bound" sh -c \
    "! grep '^tile ' p64000.out | grep -qv ' n=1 ' &&
     [ '$(field result_tiles dma p64000.out)' = '$(field result_tiles dma_bound p64000.out)' ]"
n0=$(field 'tile 0' n p1400.out); l1=$(field result_tiles l1 p1400.out)
check "L1 1,400: the dilated conv1 in ${n0:-?} tiles within 1,400 bytes (${l1:-?}), the rest whole" sh -c \
    "[ ${n0:-0} -gt 1 ] && [ ${l1:-9999} -le 1400 ] && [ \$(grep '^tile ' p1400.out | grep -vc ' n=1 ') -eq 1 ]"
check "L1 1,400: DMA above its lower bound, cycles in tiles above the whole layers'" sh -c \
    "[ $(field result_tiles dma p1400.out) -gt $(field result_tiles dma_bound p1400.out) ] &&
     [ $(field result_tiles tiled_cycles p1400.out) -gt $(field result_tiles cycles p1400.out) ]"
"$dnas" deploy pit.h5 --target gap8 --l1 1000 --out p1000 > p1000.out 2>&1
check "L1 1,000: refused, naming the smallest L1 for conv1 (1360 bytes)" sh -c \
    "[ $? -ne 0 ] && grep -q \"layer 0 'conv1'.*a memory of 1360 bytes would do\" p1000.out"

# ---- the ODiMO-found network ----
sed -e "s#^model: .*#model: $src/configs/models/resnet8_fmnist.yaml#" \
    -e "s#limit_train: .*#limit_train: 400#; s#val_split: .*#val_split: 200#; s#limit_test: .*#limit_test: 200#" \
    "$src/configs/search_odimo_resnet8_fmnist_diana_tiny.yaml" > cfg.yaml
"$dnas" search cfg.yaml --out o.h5 > o.out 2> o.err
check "dnas search (ODiMO, tiny) exits 0" test $? -eq 0
"$dnas" deploy o.h5 --target c --out oc > oc.out 2>&1
check "the c backend refuses it: one kernel cannot read the input clamped and not" sh -c \
    "[ $? -ne 0 ] && grep -q 'clamps its 8-bit input to 7 bits' oc.out"
for l1 in 64000 6000; do
    "$dnas" deploy o.h5 --target gap8 --l1 $l1 --out o$l1 $real > o$l1.out 2>&1
    check "ODiMO network, L1 $l1: dnas deploy --target gap8 exits 0" test $? -eq 0
    check "... a layer in two parts (two tile lines of one name) and a result_tiles line" sh -c \
        "grep '^tile ' o$l1.out | awk '{ print \$3 }' | sort | uniq -d | grep -q . &&
         grep -q '^result_tiles l1=[0-9]* l1_size=$l1 ' o$l1.out"
    check "... network.c: parts on channel lists, one reading its input clamped to 7 bits in L1" sh -c \
        "grep -q 'channels [0-9]* of [0-9]*, reading the input as it is' o$l1/network.c &&
         grep -q 'the input clamped to 7 bits in L1' o$l1/network.c"
    make -s -C o$l1 check > o$l1.check 2>&1
    check "... make check: 100 real images equal the evaluator" has o$l1.check "100 samples: equal (0 values differ)"
    dma=$(sed -n 's/.*DMA moves \([0-9]*\)$/\1/p' o$l1/network.c | head -1)
    check "... the host model moved 100 x network.c's DMA (${dma:-?} bytes per inference)" \
        test "$(moved o$l1.check)" = "$((100 * ${dma:-0}))"
    check "... the report's DMA is network.c's" test "$(field result_tiles dma o$l1.out)" = "${dma:-0}"
done
check "L1 6,000: most cluster layers in several tiles within 6,000 bytes" sh -c \
    "[ \$(grep '^tile ' o6000.out | grep -vc ' n=1 ') -gt \$(grep '^tile ' o6000.out | grep -c ' n=1 ') ] &&
     [ $(field result_tiles l1 o6000.out) -le 6000 ]"
sed -i 's|, 7}; /\* cores|, 0}; /* cores|' o6000/network.c
make -s -C o6000 check > o6000.noclamp 2>&1
check "without the clamp in the generated code the outputs differ" sh -c \
    "[ $? -ne 0 ] && grep -qE '^100 samples: DIFFERENT \\([1-9][0-9]* values differ\\)' o6000.noclamp"
"$dnas" deploy o.h5 --target gap8 --out od --dump-after split > od.out 2>&1
check "--dump-after split shows the parts' channel sets" grep -qE 'channels [0-9]+ of [0-9]+' od.out
finish
