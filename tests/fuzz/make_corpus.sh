#!/usr/bin/env bash
# Writes the seed corpora tests/fuzz/corpus/<target>/: small valid and
# near-valid inputs for every harness. The files are committed; run this
# again only to change them (it overwrites the files it writes and leaves
# others alone). Needs python3 (standard library), h5import (hdf5-tools)
# and a built dnas for the checkpoints.
# Usage: tests/fuzz/make_corpus.sh [DNAS_BINARY]   (default build/dnas)
set -euo pipefail
cd "$(dirname "$0")/../.."
dnas="$(realpath "${1:-build/dnas}")"
out=tests/fuzz/corpus
sep='|DNAS-SPLIT|' # FUZZ_SEP of fuzz_util.h: between the files of one input
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"/{model,config,search_config,target,idx,npy,csv,cifar,hdf5,ckpt}

# ---- YAML: the zoo, the targets, the bad-input table's models, variants
cp configs/models/*.yaml "$out/model/"
for f in tests/bad_inputs/files/*.yaml; do cp "$f" "$out/model/bad_$(basename "$f")"; done
cp tests/fuzz/ckpt_net.yaml "$out/model/"
cat > "$out/model/every_op.yaml" <<'EOF'
name: every_op
input: [2, 9, 9]
layers:
  - {name: c1, op: conv2d, out: 4, kernel: [3, 1], stride: [2, 1], padding: same, dilation: 1, groups: 2, bias: false}
  - {name: b1, op: batchnorm, eps: 0.001, momentum: 0.2}
  - {name: r1, op: relu6}
  - {name: d1, op: depthwise, kernel: 3, padding: 1}
  - {name: m1, op: maxpool, kernel: 2, stride: 1, padding: valid}
  - {name: a1, op: avgpool, kernel: [2, 2], stride: 1, padding: same, input: r1}
  - {name: s1, op: add, inputs: [r1, a1]}
  - {name: k1, op: concat, inputs: [s1, r1]}
  - {name: g1, op: global_avgpool}
  - {name: f1, op: flatten}
  - {name: o1, op: dropout, p: 0.25}
  - {name: l1, op: linear, out: 3, bias: true}
EOF
cat > "$out/model/conv1d.yaml" <<'EOF'
input: [3, 1, 16]
layers:
  - {name: c, op: conv1d, out: 4, kernel: 5, dilation: 2, padding: 4}
  - {name: p, op: maxpool, kernel: [1, 2]}
  - {name: r, op: relu}
  - {name: l, op: linear, out: 2}
EOF
cat > "$out/model/search_ops.yaml" <<'EOF'
name: search_ops
input: [2, 6, 6]
layers:
  - {name: a, op: conv2d, out: 4, kernel: 3, padding: same}
  - {name: b, op: conv2d, out: 4, kernel: 1, input: input}
  - {name: m, op: mix, inputs: [a, b]}
  - {name: n, op: batchnorm}
  - {name: q, op: pact, bits: [2, 4, 8], clip: 3}
  - {name: q1, op: pact, bits: 1, input: a}
  - {name: s, op: add, inputs: [q, q1]}
EOF

cp configs/targets/*.yaml "$out/target/"

cp configs/train_*.yaml "$out/config/"
cp configs/search_*.yaml "$out/search_config/"
cat > "$out/search_config/constraints.yaml" <<'EOF'
model: m.yaml
data: {format: fashion-mnist, layout: rows, val_split: 100, limit_train: 300}
method: pit
cost: latency
target: diana.yaml
mu: 1.0e-3
constraints:
  - {cost: memory, max: 65536}
  - {cost: levels}
  - {cost: macs, max: 1e6, strength: 0.5}
schedule: {warmup: 0, search: 1, finetune: 0, batch: 16, arch_split: train, threads: 1, log_every: 0}
int_bits: 4
bits: 8
seed: 7
output: out.h5
EOF
for fmt in idx npy; do
  cat > "$out/config/$fmt.yaml" <<EOF
model: models/m.yaml
data: {format: $fmt, train_x: a, train_y: b, test_x: c, test_y: d, layout: rows, normalize: false,
       val_split: 10, limit_train: 100, limit_test: 0}
train: {epochs: 1, batch: 4, seed: 7, threads: 1, loss: mse, log_every: 0,
        optimizer: {name: sgd, lr: 0.1, momentum: 0.9, nesterov: yes, weight_decay: 0.0001},
        schedule: {name: step, step_epochs: 2, gamma: 0.5, warmup_epochs: 0.5}}
checkpoint: out.h5
EOF
done
cat > "$out/config/csv.yaml" <<'EOF'
model: /abs/m.yaml
data: {format: csv, train: tr.csv, test: te.csv, label_col: 0}
train: {optimizer: {name: adamw, lr: 0.001, beta1: 0.8, beta2: 0.99, eps: 1.0e-7}, schedule: {name: cosine, min_lr: 0}}
EOF
cat > "$out/config/cifar10.yaml" <<'EOF'
description: a list of batch files
model: m.yaml
data:
  format: cifar10
  train: [b1.bin, b2.bin, b3.bin]
  test: t.bin
EOF
cat > "$out/config/hdf5.yaml" <<'EOF'
model: m.yaml
data: {format: hdf5, train: d.h5}
EOF

# ---- binary datasets (python3, standard library only)
python3 - "$out" "$sep" <<'EOF'
import gzip, struct, sys
out, sep = sys.argv[1], sys.argv[2].encode()

def w(path, data):
    open(f"{out}/{path}", "wb").write(data)

# gzip without a timestamp, so the files do not change between runs
def gz(b): return gzip.compress(b, mtime=0)

# IDX: images (count, rows, cols) ubyte and labels (count) ubyte
def idx(dims, data): return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)
img = idx([3, 4, 4], range(48))
lab = idx([3], [0, 1, 9])
w("idx/images_labels.idx", img + sep + lab)
w("idx/images_labels_gz.idx", gz(img) + sep + gz(lab))
w("idx/images_only.idx", idx([2, 2, 3], [255] * 12))
w("idx/labels_short.idx", img + sep + idx([2], [1, 2]))
w("idx/images_truncated.idx", img[:-5] + sep + lab)
w("idx/images_2d.idx", idx([3, 16], range(48)) + sep + lab)

# NPY v1/v2: header dict padded to a multiple of 64 bytes with '\n' last
def npy(descr, shape, payload, fortran=False, version=1):
    shp = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shp)
    pre = 10 if version == 1 else 12
    h += " " * ((64 - (pre + len(h) + 1) % 64) % 64) + "\n"
    ln = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + ln + h.encode() + payload
f4 = lambda v: struct.pack("<%df" % len(v), *v)
w("npy/f4_2d_i8.npy", npy("<f4", (3, 4), f4([0.5] * 12)) + sep + npy("<i8", (3,), struct.pack("<3q", 0, 2, 1)))
w("npy/u1_3d_f8.npy", npy("|u1", (2, 2, 3), bytes(range(12))) + sep + npy("<f8", (2, 1), struct.pack("<2d", 1, 0)))
w("npy/f8_4d_v2.npy", npy("<f8", (2, 1, 2, 2), struct.pack("<8d", *range(8)), version=2))
w("npy/i4_1d_i1.npy", npy("<i4", (4,), struct.pack("<4i", -1, 0, 1, 2)) + sep + npy("|i1", (4,), bytes([0, 1, 1, 0])))
w("npy/fortran.npy", npy("<f4", (2, 2), f4([1, 2, 3, 4]), fortran=True))
w("npy/labels_float.npy", npy("<f4", (2, 2), f4([1, 2, 3, 4])) + sep + npy("<f4", (2,), f4([0.5, 1])))
w("npy/truncated.npy", npy("<f4", (3, 4), f4([0.5] * 11)))

# CSV
w("csv/header.csv", b"a,b,c,label\n0.1,0.2,0.3,0\n1,2,3,1\n-1,-2,-3,2\n")
w("csv/no_header_crlf.csv", b"1,2,0\r\n3,4,1\r\n\r\n5,6,1\r\n")
w("csv/gz.csv", gz(b"0,1,2,3\n4,5,6,7\n"))
w("csv/spaces_exp.csv", b" 1e-3 ,\t2.5E2, 7\n-0 , +4, 3\n")
w("csv/ragged.csv", b"1,2,3\n4,5\n")
w("csv/nan_label.csv", b"1,2,nan\n3,4,1.5\n")

# CIFAR-10: records of 1 label byte + 3072 pixel bytes
def rec(label, fill): return bytes([label]) + bytes([fill % 256]) * 3072
w("cifar/one.bin", rec(3, 7))
w("cifar/two.bin", rec(0, 0) + rec(9, 255))
w("cifar/two_files.bin", rec(1, 1) + sep + rec(2, 2))
w("cifar/three_files.bin", rec(1, 1) + sep + rec(2, 2) + sep + rec(4, 4))
w("cifar/bad_label.bin", rec(10, 3))
w("cifar/short.bin", rec(5, 5)[:-1])
EOF

# ---- HDF5 datasets (h5import): <split>/x and <split>/y in various types
h5=$tmp/h5; mkdir -p "$h5"
printf '0.1 0.2 0.3 0.4 0.5 0.6\n1 2 3 4 5 6\n-1 -2 -3 -4 -5 -6\n0 0 0 0 0 1\n' > "$h5/x.txt"
printf '0 1 2 1\n' > "$h5/y.txt"
seq 0 23 > "$h5/u.txt" # unsigned x
# h5cfg PATH CLASS SIZE RANK DIMS... [-- extra config lines]
h5cfg() {
  local path=$1 cls=$2 size=$3 rank=$4; shift 4
  local dims=() extra=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do dims+=("$1"); shift; done
  [ $# -gt 0 ] && shift && extra=("$@")
  case $cls in
    FP) echo "INPUT-CLASS TEXTFP"; echo "OUTPUT-CLASS FP"; echo "OUTPUT-ARCHITECTURE IEEE" ;;
    IN) echo "INPUT-CLASS TEXTIN"; echo "OUTPUT-CLASS IN"; echo "OUTPUT-ARCHITECTURE STD" ;;
    UIN) echo "INPUT-CLASS TEXTUIN"; echo "OUTPUT-CLASS UIN"; echo "OUTPUT-ARCHITECTURE STD" ;;
  esac
  echo "PATH $path"; echo "INPUT-SIZE 32"; echo "RANK $rank"; echo "DIMENSION-SIZES ${dims[*]}"
  echo "OUTPUT-SIZE $size"; echo "OUTPUT-BYTE-ORDER LE"
  for l in "${extra[@]}"; do echo "$l"; done
}
# h5make OUT.h5 (CFGNAME ARGS... ;)...: one dataset per config, x.txt or y.txt as data
h5make() {
  local dst=$1; shift
  local args=() i=0
  while [ $# -gt 0 ]; do
    local a=() ; while [ "$1" != ";" ]; do a+=("$1"); shift; done; shift
    local src=$h5/x.txt; case ${a[0]} in */y) src=$h5/y.txt ;; esac
    [ "${a[0]##*/}${a[1]}" = xUIN ] && src=$h5/u.txt
    h5cfg "${a[@]}" > "$h5/c$i.cfg"; args+=("$src" -c "$h5/c$i.cfg"); i=$((i+1))
  done
  rm -f "$dst"; h5import "${args[@]}" -o "$dst" >/dev/null
}
h5make "$out/hdf5/f32_i64.h5" train/x FP 32 3 4 2 3 \; train/y IN 64 1 4 \; test/x FP 32 3 4 2 3 \; test/y IN 64 1 4 \;
h5make "$out/hdf5/u8_2d_f64_labels.h5" train/x UIN 8 2 4 6 \; train/y FP 64 2 4 1 \;
h5make "$out/hdf5/chunked_gzip.h5" train/x FP 64 2 4 6 -- "CHUNKED-DIMENSION-SIZES 2 3" "COMPRESSION-TYPE GZIP" "COMPRESSION-PARAM 6" \; train/y IN 32 1 4 \;
h5make "$out/hdf5/x_4d.h5" test/x FP 32 4 4 1 2 3 \; test/y UIN 16 1 4 \;
h5make "$out/hdf5/no_y.h5" train/x FP 32 1 24 \;
h5make "$out/hdf5/count_mismatch.h5" train/x FP 32 2 3 8 \; train/y IN 32 1 4 \;

# ---- checkpoints of ckpt_net.yaml (the network fuzz_ckpt loads), trained
# one epoch on a tiny CSV with Adam and with SGD (format 2; adam.h5 and
# sgd.h5, format 1, were made by an earlier dnas and are kept)
ck=$tmp/ckpt; mkdir -p "$ck"
cp tests/fuzz/ckpt_net.yaml "$ck/"
python3 - "$ck" <<'EOF'
import sys
d = sys.argv[1]
rows = [",".join(str((i * 7 + j * 3) % 5 - 2) for j in range(8)) + ",%d" % (i % 3) for i in range(8)]
open(d + "/train.csv", "w").write("\n".join(rows) + "\n")
open(d + "/test.csv", "w").write("\n".join(rows[:4]) + "\n")
EOF
for opt in adam sgd; do
  cat > "$ck/$opt.yaml" <<EOF
model: ckpt_net.yaml
data: {format: csv, train: train.csv, test: test.csv, normalize: false}
train: {epochs: 1, batch: 4, threads: 1, optimizer: {name: $opt}}
EOF
  (cd "$ck" && "$dnas" train "$opt.yaml" --quiet --checkpoint "$opt.h5" >/dev/null)
  cp "$ck/$opt.h5" "$out/ckpt/${opt}_v2.h5"
done
echo "seed corpora in $out: $(find "$out" -type f | wc -l) files, $(du -sk "$out" | cut -f1) KiB"
