#!/usr/bin/env bash
# The zoo deployed on Cortex-M4 under QEMU, each network through the real
# path dnas train -> checkpoint -> dnas quantize (8 bits) -> dnas deploy,
# then bench/deploy_icount.sh's tables (instructions, SysTick cross-check,
# cost model cycles, flash and RAM at gcc -O3, arena, lower bound, scratch).
# Training is one short epoch (the weights only need to be a trained
# network's, not a good one): the Fashion-MNIST variants on 512 real
# images, resnet8, dscnn, mobilenetv1_025 and tcn on 256 random samples of
# their input shapes (NPY files made here: their own data is not here),
# fc_autoencoder on the first 640 pixels of 512 Fashion-MNIST images; and
# the PIT search of configs/search_pit_tcn_fmnist_tiny.yaml (mu 1e-4).
# Usage: bench/deploy_zoo.sh [--layers] BUILD_DIR OUT_DIR
#   (OUT_DIR keeps the checkpoints and the QUANT.h5 files)
set -euo pipefail
layers=
[ "${1:-}" = --layers ] && { layers=--layers; shift; }
build="$(realpath "$1")"; mkdir -p "$2"; out="$(realpath "$2")"
src="$(cd "$(dirname "$0")/.." && pwd)"
dnas="$build/dnas"
fm=/usr/share/datasets/fashion-mnist
cd "$out"

# NPY of COUNT samples of SHAPE (a tuple's text), uint8 values from a
# seeded generator below MOD (256: any byte; 10: class labels)
npy() { # FILE SHAPE COUNT PER MOD
    python3 - "$@" <<'PY'
import random, struct, sys
path, shape, count, per, mod = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
hdr = "{'descr': '|u1', 'fortran_order': False, 'shape': %s, }" % shape
hdr += " " * ((16 - (10 + len(hdr) + 1) % 16) % 16) + "\n"
r = random.Random(7)
with open(path, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    f.write(bytes(r.randrange(mod) for _ in range(count * per)))
PY
}

train_quantize() { # MODEL DATA_YAML LOSS
    cat > "$1.yaml" <<YAML
model: $src/configs/models/$1.yaml
data: $2
train: {epochs: 1, batch: 32, seed: 3, threads: 2, loss: $3, optimizer: {name: adam, lr: 0.002}}
YAML
    "$dnas" train "$1.yaml" --checkpoint "$1.h5" --quiet > "$1.train"
    "$dnas" quantize "$1.h5" --out "$1_q.h5" --quiet > "$1.quant"
}

for m in resnet8_fmnist dscnn_fmnist mobilenetv1_025_fmnist tcn_fmnist; do
    lay=; [ $m = tcn_fmnist ] && lay=", layout: rows"
    train_quantize $m "{format: fashion-mnist$lay, limit_train: 512, limit_test: 256}" cross_entropy
done
# random data of the original models' input shapes (C, H, W), NPY (count, C, H, W)
for spec in "resnet8 3 32 32 10" "dscnn 1 49 10 12" "mobilenetv1_025 3 96 96 2" "tcn 1 1 128 10"; do
    read -r m c h w k <<< "$spec"
    npy ${m}_x.npy "(256, $c, $h, $w)" 256 $((c * h * w)) 256
    npy ${m}_y.npy "(256,)" 256 1 "$k"
    train_quantize $m "{format: npy, train_x: $out/${m}_x.npy, train_y: $out/${m}_y.npy}" cross_entropy
done
python3 - "$fm/train-images-idx3-ubyte.gz" <<'PY'
import gzip, struct, sys
raw = gzip.open(sys.argv[1]).read()[16:]
hdr = "{'descr': '|u1', 'fortran_order': False, 'shape': (512, 640), }"
hdr += " " * ((16 - (10 + len(hdr) + 1) % 16) % 16) + "\n"
with open("ae_x.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    for i in range(512):
        f.write(raw[i * 784:i * 784 + 640])
PY
train_quantize fc_autoencoder "{format: npy, train_x: $out/ae_x.npy}" mse
"$dnas" search "$src/configs/search_pit_tcn_fmnist_tiny.yaml" --mu 1e-4 --out pit_tcn_fmnist.h5 --quiet > pit.out

bash "$src/bench/deploy_icount.sh" $layers "$build" resnet8_q.h5 resnet8_fmnist_q.h5 dscnn_q.h5 \
    dscnn_fmnist_q.h5 mobilenetv1_025_q.h5 mobilenetv1_025_fmnist_q.h5 fc_autoencoder_q.h5 tcn_q.h5 \
    tcn_fmnist_q.h5 pit_tcn_fmnist.h5
