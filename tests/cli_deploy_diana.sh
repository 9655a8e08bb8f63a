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
# byte for byte; `--dump-after split` shows the channel sets.
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
finish
