#!/usr/bin/env bash
# The zoo through the real path, train -> checkpoint -> quantize -> deploy:
# resnet8_fmnist, dscnn_fmnist, mobilenetv1_025_fmnist (the Fashion-MNIST
# variants of resnet8, dscnn and mobilenetv1_025, whose own data is not
# here) and fc_autoencoder (on the first 640 pixels of each Fashion-MNIST
# image, an NPY file made here) are trained for one short epoch by `dnas
# train` (a slice of the training set), post-training quantized by `dnas
# quantize` from that checkpoint, and compiled by `dnas deploy` with real
# test images as test vectors (--images: preprocessed as the qnet records,
# i.e. as its integer evaluator saw them). The generated code must equal
# the evaluator byte for byte on them on the host (`c`, built with
# -Werror) and under QEMU (`cortex-m`, when arm-none-eabi-gcc and
# qemu-system-arm are installed); a weight byte changed by hand in
# dscnn_fmnist's weights.c must be caught by the comparison.
# Usage: cli_deploy_zoo.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$(realpath "$1")"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
has() { grep -q -- "$2" "$1"; }
command -v make > /dev/null && command -v cc > /dev/null || skip "make or cc is not installed"
fm=/usr/share/datasets/fashion-mnist
[ -r $fm/t10k-images-idx3-ubyte.gz ] || skip "$fm is missing (Debian package dataset-fashion-mnist)"
qemu=0
command -v arm-none-eabi-gcc > /dev/null && command -v qemu-system-arm > /dev/null && qemu=1
cd "$tmp"

# npy NAME COUNT < BYTES: an NPY header of COUNT uint8 samples of 640 values
npy_head() {
    local hdr="{'descr': '|u1', 'fortran_order': False, 'shape': ($1, 640), }"
    while [ $(( (10 + ${#hdr} + 1) % 16 )) -ne 0 ]; do hdr="$hdr "; done
    printf '\223NUMPY\001\000'; printf "\\$(printf %03o $(( (${#hdr} + 1) % 256 )))\\000"
    printf '%s\n' "$hdr"
}
# the first 640 pixels of images FROM .. FROM + COUNT - 1 of an IDX file
pixels640() {
    gzip -dc "$1" | tail -c +17 > pix.raw
    for ((i = $2; i < $2 + $3; i++)); do
        dd if=pix.raw bs=784 skip=$i count=1 status=none | head -c 640
    done
}

train_quantize() { # MODEL DATA_YAML LOSS
    cat > "$1.yaml" <<YAML
model: $src/configs/models/$1.yaml
data: $2
train:
  epochs: 1
  batch: 32
  seed: 3
  threads: 2
  loss: $3
  optimizer: {name: adam, lr: 0.002}
YAML
    "$dnas" train "$1.yaml" --checkpoint "$1.h5" --quiet > "$1.train" 2>&1
    check "$1: dnas train writes a checkpoint" test -s "$1.h5"
    "$dnas" quantize "$1.h5" --out "$1_q.h5" --calib-batches 2 --quiet > "$1.quant" 2>&1
    check "$1: dnas quantize from the checkpoint" has "$1.quant" "^result float_acc="
}

deploy_check() { # MODEL IMAGES
    local m="$1" images="$2"
    "$dnas" deploy "${m}_q.h5" --target c --out "$m.c" --images "$images" --from 1000 \
        --vectors 32 > "$m.dep" 2>&1
    check "$m: dnas deploy --target c with 32 real test vectors" has "$m.dep" "^test samples: .* samples 1000..1031"
    make -s -C "$m.c" check > "$m.check" 2>&1
    check "$m: the C equals the evaluator on them" has "$m.check" "32 samples: equal (0 values differ)"
    check "$m: network_quantize_input() of their floats gives the evaluator's inputs" has "$m.check" "network_quantize_input: equal (0 input bytes differ)"
    check "$m: the outputs vary with the input" \
        sh -c "[ \$(od -An -v -tx1 -w$(( $(stat -c %s "$m.c/test_expected.bin") / 32 )) '$m.c/test_expected.bin' | sort -u | wc -l) -gt 1 ]"
    if [ $qemu = 1 ]; then
        "$dnas" deploy "${m}_q.h5" --target cortex-m --out "$m.m4" --images "$images" \
            --from 1000 --vectors 16 --quiet > /dev/null 2>&1
        make -s -C "$m.m4" check > "$m.m4check" 2>&1
        check "$m: Cortex-M4 under QEMU equals the evaluator on 16 real images" has "$m.m4check" "16 samples: equal (0 values differ)"
        check "$m: ... and network_quantize_input() there" has "$m.m4check" "network_quantize_input: equal (0 input bytes differ)"
    fi
}

imgs=$fm/t10k-images-idx3-ubyte.gz
for m in resnet8_fmnist dscnn_fmnist mobilenetv1_025_fmnist; do
    train_quantize $m "{format: fashion-mnist, limit_train: 256, limit_test: 64}" cross_entropy
    deploy_check $m $imgs
done

# fc_autoencoder: 640 values a sample (the first 640 pixels of an image)
{ npy_head 256; pixels640 $fm/train-images-idx3-ubyte.gz 0 256; } > ae_train.npy
{ npy_head 1064; pixels640 $imgs 0 1064; } > ae_test.npy
train_quantize fc_autoencoder "{format: npy, train_x: $tmp/ae_train.npy, test_x: $tmp/ae_test.npy}" mse
deploy_check fc_autoencoder ae_test.npy

# a weight byte changed by hand in weights.c is caught: one of the first
# weights of dscnn_fmnist's last layer (the classifier) set far from its value
k=$(grep -o '^static const int8_t w[0-9]*' dscnn_fmnist.c/weights.c | tail -1 | sed 's/.*w//')
caught=0
for j in 0 1 2 3 4 5 6 7; do
    cp -r dscnn_fmnist.c edit
    awk -v k="$k" -v j="$j" '
        $0 ~ "^static const int8_t w" k "\\[" { inw = 1; n = 0; print; next }
        inw && /^};/ { inw = 0 }
        inw { out = ""; m = split($0, a, ","); for (i = 1; i < m; i++) {
                  v = a[i] + 0; if (n == j) v = (v >= 0) ? -100 : 100; n++
                  out = out (i > 1 ? " " : "    ") v "," }
              print out; next }
        { print }' dscnn_fmnist.c/weights.c > edit/weights.c
    if ! cmp -s edit/weights.c dscnn_fmnist.c/weights.c && ! make -s -C edit check > edit.out 2>&1 &&
        grep -q DIFFERENT edit.out; then
        caught=1; rm -rf edit; break
    fi
    rm -rf edit
done
check "a weight byte of layer $k changed in weights.c: make check fails naming the difference" test $caught = 1

finish
