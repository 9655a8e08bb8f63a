#!/usr/bin/env bash
# Training speed and accuracy, dnas against PyTorch, side by side in one run.
#
#   bench/compare.sh [--epochs N] [--models "resnet8_fmnist tcn_fmnist"] [--threads "1 2"]
#
# For each model and thread count: N epochs of Fashion-MNIST with each tool
# (same network, batch 128, Adam lr 1e-3 constant, He-uniform init, no
# weight decay), then one table row: seconds per epoch of each, the ratio
# torch/dnas (> 1 means dnas is faster), and test accuracy of each after N
# epochs. Then the GFLOP/s dnas reaches in its conv layers (from
# `dnas train --profile`) next to OpenBLAS sgemm on this machine.
# Needs python3-torch (scripts/install-deps.sh --bench). Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=1; models="resnet8_fmnist tcn_fmnist"; threads="1 2"
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --models) models="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh --bench
scripts/build.sh build >/dev/null
. scripts/env.sh
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

rows=()
for m in $models; do
  layout=image; [ "$m" = tcn_fmnist ] && layout=rows
  cat > "$out/$m.yaml" <<YAML
model: $PWD/configs/models/$m.yaml
data: {format: fashion-mnist, layout: $layout}
train:
  epochs: $epochs
  batch: 128
  seed: 1
  optimizer: {name: adam, lr: 0.001}
YAML
  build/dnas summary "configs/models/$m.yaml" --csv > "$out/$m.csv"
  for t in $threads; do
    echo "== $m, $t thread(s), $epochs epoch(s)" >&2
    OPENBLAS_NUM_THREADS=$t build/dnas train "$out/$m.yaml" --threads "$t" --profile \
      > "$out/d.out" 2> "$out/d.err"
    d_s=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$out/d.out")
    d_acc=$(sed -n 's/.*test_acc=\([0-9.]*\).*/\1/p' "$out/d.out")
    /usr/bin/python3 bench/torch_train.py --model "$m" --epochs "$epochs" --threads "$t" > "$out/t.out"
    t_s=$(awk -F'[= ]' '/^epoch=/ { for (i = 1; i < NF; i++) if ($i == "train_seconds") s += $(i+1) } END { print s }' "$out/t.out")
    t_acc=$(awk -F'[= ]' '/^epoch=/ { for (i = 1; i < NF; i++) if ($i == "test_acc") a = $(i+1) } END { print a }' "$out/t.out")
    # conv GFLOP/s: forward 2·MACs per sample; backward 4·MACs (data + weights), 2·MACs for the stem
    conv=$(awk -F, -v samples=$((60000 * epochs)) '
      FNR == NR { if ($2 == "conv2d" || $2 == "depthwise") { macs[$1] = $7; if (!first) first = $1 } next }
      ($1 in macs) { f += $3; b += $4; ff += 2 * macs[$1] * samples; bf += ($1 == first ? 2 : 4) * macs[$1] * samples }
      END { printf "%.1f %.1f %.1f", ff / f / 1e9, bf / b / 1e9, (ff + bf) / (f + b) / 1e9 }' \
      "$out/$m.csv" <(awk '{ print $1 "," $2 "," $3 "," $4 }' "$out/d.err"))
    peak=$(OPENBLAS_NUM_THREADS=$t build/bench/sgemm_peak "$t" | sed -n 's/peak_gflops=//p')
    rows+=("$(awk -v m="$m" -v t="$t" -v e="$epochs" -v ds="$d_s" -v ts="$t_s" -v da="$d_acc" -v ta="$t_acc" \
      -v conv="$conv" -v peak="$peak" 'BEGIN { split(conv, c, " ");
        printf "%-15s %2d %3d %10.1f %10.1f %7.2fx %8.2f%% %8.2f%% %+6.2f %6.1f %6.1f %6.1f (%3.0f%%) %6.1f",
          m, t, e, ds / e, ts / e, ts / ds, 100 * da, 100 * ta, 100 * (da - ta), c[1], c[2], c[3], 100 * c[3] / peak, peak }')")
  done
done
printf '\n%-15s %2s %3s %10s %10s %8s %9s %9s %6s %6s %6s %13s %6s\n' model thr ep "dnas s/ep" "torch s/ep" \
  "torch/dnas" "dnas acc" "torch acc" "Δacc" "convF" "convB" "conv GFLOP/s" "sgemm"
for r in "${rows[@]}"; do echo "$r"; done
echo "(ratio > 1: dnas faster; conv GFLOP/s from dnas --profile: forward, backward, all (share of sgemm peak))"
