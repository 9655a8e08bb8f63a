#!/usr/bin/env bash
# dnas deploy --target diana on a network found by ODiMO: the tiny ODiMO
# search (configs/search_odimo_resnet8_fmnist_diana_tiny.yaml: ResNet-8 on
# Fashion-MNIST, channels split between DIANA's digital and analog
# engines), then its run file deployed: the report lists every layer
# with its engines, channels and cost-model cycles (a split layer on both
# engines), the layers' cycles agree with the latency the search recorded,
# the qnet records the analog engine's 7-bit input, the generated code
# holds jobs of both engines and host-core adds, and `make check` (the
# generated C against the DIANA host model) equals the integer evaluator
# byte for byte; `--dump-after split` shows the channel sets. Then L1
# tiles on real Fashion-MNIST test images: the ODiMO run at the target's
# L1_act and at --l1 6000 (most engine jobs in several tiles, each
# engine's share of a split layer tiled on its own, analog ones too), and
# the network of the tiny PIT search (tests/cli_deploy.sh's) at the
# target's L1_act and at the smallest one the compiler names: the tile
# lines and result_tiles, `make check` equal and the host model's DMA
# bytes the tile pass's; an L1 below the code's caught by the host model.
# Usage: cli_deploy_diana.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$2"
. "$(dirname "$0")/lib_cli.sh"
command -v make > /dev/null && command -v cc > /dev/null || skip "make and cc are needed"
attr() { h5dump -a "$2" "$1" | sed -n 's/.*(0): \([0-9.e+-]*\).*/\1/p'; }
# (on 400 training and 200 validation and test images, so that the
# sanitizer build runs it in a few minutes)
sed -e "s#^model: .*#model: $src/configs/models/resnet8_fmnist.yaml#" \
    -e "s#limit_train: .*#limit_train: 400#; s#val_split: .*#val_split: 200#; s#limit_test: .*#limit_test: 200#" \
    "$src/configs/search_odimo_resnet8_fmnist_diana_tiny.yaml" > "$tmp/cfg.yaml"
"$dnas" search "$tmp/cfg.yaml" --out "$tmp/o.h5" > "$tmp/o.out" 2> "$tmp/o.err"
check "odimo search exits 0" test $? -eq 0
check "the run's qnet records the analog engine's 7-bit input" sh -c \
    "h5dump -a /runs/0/qnet/engines '$tmp/o.h5' | grep -q '\"digital,analog\"' && \
     h5dump -a /runs/0/qnet/engine_input_bits '$tmp/o.h5' | grep -q '\"0,7\"'"

"$dnas" deploy "$tmp/o.h5" --target diana --out "$tmp/d" > "$tmp/d.out" 2>&1
check "dnas deploy --target diana exits 0" test $? -eq 0
check "the report has a line per layer with engines and channels" sh -c \
    "grep -q '^layers (engine: channels, cost model cycles):' '$tmp/d.out' && \
     [ \$(grep -cE '^  [0-9]+ +[a-z0-9_]+ +(conv|linear|add|global_avgpool) ' '$tmp/d.out') -eq 14 ]"
check "some layer is split: digital N ch C cycles | analog M ch D cycles" \
    grep -qE ' digital [0-9]+ ch [0-9]+ cycles \| analog [0-9]+ ch [0-9]+ cycles$' "$tmp/d.out"
check "adds and the pool on the host core" sh -c \
    "[ \$(grep -cE ' (add|global_avgpool) +cpu$' '$tmp/d.out') -eq 4 ]"
cyc=$(sed -n 's/.*engines of a layer at once: \([0-9]*\).*/\1/p' "$tmp/d.out")
lat=$(attr "$tmp/o.h5" /runs/0/cost/seconds)
check "the layers' cycles ($cyc at 260 MHz) are the latency the search recorded ($lat s) within 0.5%" \
    awk -v c="${cyc:-0}" -v s="${lat:-1}" 'BEGIN { r = c / 260e6 / s; exit !(r > 0.995 && r < 1.005) }'
check "jobs of both engines and dnas_rt adds in network.c" sh -c \
    "grep -q 'DNAS_DIANA_ANALOG,' '$tmp/d/network.c' && grep -q 'DNAS_DIANA_DIGITAL,' '$tmp/d/network.c' && \
     grep -q 'return (int)dnas_rt_add(' '$tmp/d/network.c' && test -f '$tmp/d/diana/dnas_diana.c'"
check "no malloc or stdio in the network code" sh -c \
    "! grep -qE 'malloc|printf|stdio' '$tmp/d/network.c' '$tmp/d/weights.c'"
make -s -C "$tmp/d" check > "$tmp/check.log" 2>&1
check "make check: the generated code on the DIANA host model equals the evaluator" \
    grep -q '^8 samples: equal (0 values differ)' "$tmp/check.log"

"$dnas" deploy "$tmp/o.h5" --target diana --out "$tmp/e" --dump-after split > "$tmp/dump.out" 2>&1
check "--dump-after split shows the channel sets of a split layer" \
    grep -qE 'engine analog  channels [0-9]+ of [0-9]+' "$tmp/dump.out"

# L1 tiles, on real images
fm=/usr/share/datasets/fashion-mnist
imgs="--images $fm/t10k-images-idx3-ubyte.gz --vectors 8"
has() { grep -q -- "$2" "$1"; }
# deploy_tiled NAME RUNFILE [--l1 N]: deploys into $tmp/NAME, make check, the DMA bytes
deploy_tiled() {
  local name="$1" h5="$2"; shift 2
  "$dnas" deploy "$h5" --target diana --out "$tmp/$name" $imgs "$@" > "$tmp/$name.out" 2>&1
  check "$name: deploy exits 0" test $? -eq 0
  check "$name: a tile line per engine job and result_tiles" sh -c \
      "grep -qE '^tile [0-9]+ [a-z0-9_]+ tiles=[0-9]+x[0-9]+x[0-9]+ n=[0-9]+ l1=[0-9]+ dma=[0-9]+ cycles=[0-9]+ tiled_cycles=[0-9]+$' '$tmp/$name.out' && \
       grep -qE '^result_tiles l1=[0-9]+ l1_size=[0-9]+ dma=[0-9]+ dma_bound=[0-9]+ cycles=[0-9]+ tiled_cycles=[0-9]+$' '$tmp/$name.out'"
  make -s -C "$tmp/$name" check > "$tmp/$name.check" 2>&1
  check "$name: make check on the host model equals the evaluator" has "$tmp/$name.check" "^8 samples: equal (0 values differ)"
  local dma moved
  dma=$(sed -n 's/^result_tiles .* dma=\([0-9]*\) .*/\1/p' "$tmp/$name.out")
  moved=$(sed -n 's/.*transfers, \([0-9]*\) bytes into L1, \([0-9]*\) bytes out of L1.*/\1 \2/p' "$tmp/$name.check")
  check "$name: the host model moved 8 x ${dma:-?} bytes" test "$(echo "$moved" | awk '{print $1 + $2}')" = "$((8 * ${dma:-0}))"
}
# tiles=THxTWxTC n=N lines with N > 1, and all tile lines
several() { grep -cE '^tile .* n=([2-9]|[1-9][0-9]+) ' "$1"; }
alltiles() { grep -c '^tile ' "$1"; }

deploy_tiled odimo_l1 "$tmp/o.h5"
check "odimo_l1: at the target's 128000 B every job is one tile" sh -c \
    "[ $(several "$tmp/odimo_l1.out") -eq 0 ] && grep -q 'l1_size=128000 ' '$tmp/odimo_l1.out'"
deploy_tiled odimo_small "$tmp/o.h5" --l1 6000
n=$(several "$tmp/odimo_small.out"); all=$(alltiles "$tmp/odimo_small.out")
check "odimo_small: $n of $all engine jobs in several tiles (more than half)" test $((2 * n)) -gt "$all"
check "odimo_small: a split layer's two jobs tiled on their own" sh -c \
    "grep -E '^tile ' '$tmp/odimo_small.out' | awk '{print \$3}' | sort | uniq -d | grep -q ."
check "odimo_small: analog jobs in several tiles in network.c" sh -c \
    "grep -B6 'DNAS_DIANA_ANALOG,' '$tmp/odimo_small/network.c' | grep -qE '^/\* tiles: ([2-9]|[1-9][0-9]+) of'"
l1=$(sed -n 's/^result_tiles l1=\([0-9]*\) .*/\1/p' "$tmp/odimo_small.out")
make -s -B -C "$tmp/odimo_small" check L1=$((l1 - 4)) > "$tmp/odimo_small.low" 2>&1
check "odimo_small: L1_act of $((l1 - 4)) B, below the code's $l1, caught by the host model" sh -c \
    "[ $? -ne 0 ] && grep -q 'dnas_diana host model: L1_act allocation of $l1 bytes refused' '$tmp/odimo_small.low'"

"$dnas" search "$src/configs/search_pit_tcn_fmnist_tiny.yaml" --mu 1e-4 --out "$tmp/pit.h5" --quiet > "$tmp/pit.out" 2>&1
check "dnas search (PIT, tiny) exits 0" test $? -eq 0
deploy_tiled pit_l1 "$tmp/pit.h5"
"$dnas" deploy "$tmp/pit.h5" --target diana --out "$tmp/pe" --l1 10 > "$tmp/pe.out" 2>&1
check "pit: an L1 no tiling fits names the L1_act that would" \
    grep -qE 'does not fit a tiled memory of 10 bytes in any tiling: .* a memory of [0-9]+ bytes would do' "$tmp/pe.out"
need=$(sed -n 's/.* a memory of \([0-9]*\) bytes would do.*/\1/p' "$tmp/pe.out")
deploy_tiled pit_smallest "$tmp/pit.h5" --l1 "${need:-0}"
check "pit_smallest: L1 used is the $need B named" has "$tmp/pit_smallest.out" "^result_tiles l1=$need l1_size=$need "
finish
