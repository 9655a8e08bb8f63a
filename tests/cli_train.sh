#!/usr/bin/env bash
# End-to-end `dnas train` on a slice of Fashion-MNIST: it learns, a resumed
# run equals an uninterrupted one, NaN stops with exit 3 keeping the last
# good checkpoint, and bad input gives clear errors.
# Usage: cli_train.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$1"; src="$2"
. "$(dirname "$0")/lib_cli.sh"
has() { grep -q -- "$2" "$1"; }

cat > "$tmp/cfg.yaml" <<YAML
model: $src/configs/models/tcn_fmnist.yaml
data: {format: fashion-mnist, layout: rows, limit_train: 3000, limit_test: 1000}
train:
  epochs: 2
  batch: 64
  seed: 5
  optimizer: {name: adam, lr: 0.002}
  schedule: {name: cosine}
YAML

# uninterrupted 2 epochs
"$dnas" train "$tmp/cfg.yaml" --checkpoint "$tmp/full.h5" > "$tmp/full.out" 2> "$tmp/full.err"
check "train exits 0" test $? -eq 0
check "progress shows samples/s and ETA" has "$tmp/full.err" "samples/s ETA"
acc=$(sed -n 's/.*test_acc=\([0-9.]*\).*/\1/p' "$tmp/full.out")
check "learns: test accuracy $acc > 0.6 after 2 epochs on 3000 samples" \
    awk -v a="${acc:-0}" 'BEGIN { exit !(a > 0.6) }'

# 1 epoch, then resume to 2: same result as the uninterrupted run
"$dnas" train "$tmp/cfg.yaml" --stop-after 1 --checkpoint "$tmp/part.h5" --quiet > /dev/null 2>&1
check "one-epoch run exits 0" test $? -eq 0
"$dnas" train "$tmp/cfg.yaml" --resume "$tmp/part.h5" --checkpoint "$tmp/part.h5" > "$tmp/resumed.out" 2> "$tmp/resumed.err"
check "resume exits 0" test $? -eq 0
check "resume says where it continues" has "$tmp/resumed.err" "resuming from .* after epoch 1"
acc2=$(sed -n 's/.*test_acc=\([0-9.]*\).*/\1/p' "$tmp/resumed.out")
check "resumed accuracy $acc2 equals uninterrupted $acc" test "$acc2" = "$acc"
check "checkpoint is HDF5 with params" sh -c "h5dump -H '$tmp/full.h5' | grep -q 'DATASET \"params\"'"

# A diverging run (resumed with an absurd learning rate): it stops with
# exit 3 and the checkpoint of the last good epoch stays on disk
printf 'input: [1, 1, 4]\nlayers:\n  - {name: fc1, op: linear, out: 8}\n  - {name: r, op: relu}\n  - {name: fc2, op: linear, out: 3}\n' > "$tmp/tiny.yaml"
awk 'BEGIN { srand(3); print "a,b,c,d,label"; for (i = 0; i < 300; i++) { c = i % 3; printf "%.3f,%.3f,%.3f,%.3f,%d\n", c + rand(), rand(), c - rand(), rand(), c } }' > "$tmp/good.csv"
printf 'model: tiny.yaml\ndata: {format: csv, train: good.csv, header: true, normalize: false}\ntrain: {epochs: 3, batch: 32}\n' > "$tmp/csv.yaml"
sed 's/batch: 32}/batch: 32, optimizer: {name: adam, lr: 1.0e+30}}/' "$tmp/csv.yaml" > "$tmp/csvnan.yaml"
"$dnas" train "$tmp/csv.yaml" --stop-after 1 --checkpoint "$tmp/good.h5" --quiet > /dev/null 2>&1
check "csv run exits 0" test $? -eq 0
"$dnas" train "$tmp/csvnan.yaml" --resume "$tmp/good.h5" --checkpoint "$tmp/good.h5" > /dev/null 2> "$tmp/nan.err"
rc=$?
check "NaN exits 3 (got $rc)" test $rc -eq 3
check "NaN message names epoch, batch and the kept checkpoint" \
    sh -c "grep -Eq 'epoch 2, batch [0-9]+: the loss is (NaN|infinite).*last good checkpoint is .*good.h5 \(epoch 1\)' '$tmp/nan.err'"
check "last good checkpoint kept (epoch 1)" sh -c "h5dump -a epoch '$tmp/good.h5' | grep -q '(0): 1'"

# A model YAML beyond HDF5's 64 KiB attribute limit (a generated supernet's
# size): its checkpoint is written, holds the text, and resumes
{ printf 'input: [1, 1, 4]\nlayers:\n'
  for i in $(seq 0 2999); do printf '  - {name: relu_%04d, op: relu}\n' "$i"; done
  printf '  - {name: fc, op: linear, out: 3}\n'; } > "$tmp/big.yaml"
sed 's/model: tiny.yaml/model: big.yaml/' "$tmp/csv.yaml" > "$tmp/csvbig.yaml"
"$dnas" train "$tmp/csvbig.yaml" --stop-after 1 --checkpoint "$tmp/big.h5" --quiet \
    > /dev/null 2> "$tmp/big.err"
check "model text of $(wc -c < "$tmp/big.yaml") bytes: checkpoint written" test $? -eq 0
check "its checkpoint holds the whole model text" \
    sh -c "h5dump -d model_yaml '$tmp/big.h5' | grep -q relu_2999"
"$dnas" train "$tmp/csvbig.yaml" --resume "$tmp/big.h5" --checkpoint "$tmp/big.h5" --quiet > /dev/null 2>&1
check "and resumes" test $? -eq 0

# A checkpoint of the previous format ('dnas-checkpoint-1', texts in
# attributes) still resumes, and the next one is written in the current format
files="$src/tests/bad_inputs/files"
"$dnas" train "$files/ckpt_config.yaml" --resume "$files/ckpt_adam.h5" --checkpoint "$tmp/v1.h5" \
    > /dev/null 2> "$tmp/v1.err"
check "format-1 checkpoint resumes" test $? -eq 0
check "format-1 resume continues after epoch 1" has "$tmp/v1.err" "resuming from .*ckpt_adam.h5 after epoch 1"
check "the next checkpoint is dnas-checkpoint-2" \
    sh -c "h5dump -a format '$tmp/v1.h5' | grep -q dnas-checkpoint-2"

# bad input
printf 'model: nowhere.yaml\ndata: {format: fashion-mnist}\n' > "$tmp/nomodel.yaml"
"$dnas" train "$tmp/nomodel.yaml" > /dev/null 2> "$tmp/e1"
check "missing model: exit 1" test $? -eq 1
check "missing model named" has "$tmp/e1" "nowhere.yaml: cannot open"
printf 'model: %s\ndata: {format: fashion-mnist}\n' "$src/configs/models/tcn_fmnist.yaml" > "$tmp/shape.yaml"
"$dnas" train "$tmp/shape.yaml" > /dev/null 2> "$tmp/e2"
check "wrong layout: shape error names both shapes" has "$tmp/e2" "data samples are (1, 28, 28) but model"
"$dnas" train --help > "$tmp/h" ; check "train --help exits 0" test $? -eq 0
check "train --help documents --resume" has "$tmp/h" "--resume"
"$dnas" train > /dev/null 2>&1; check "train without config: usage exit 2" test $? -eq 2

finish
