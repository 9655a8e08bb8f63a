#!/bin/bash
# A μ front of one search config, and its seed trained the same total
# epochs, run one after the other on this machine; prints a table.
#
#   bench/search_front.sh CONFIG "MU1 MU2 ..." [OUTDIR]
#
# Each μ: `dnas search CONFIG --mu MU --out OUTDIR/mu_MU.h5` (log in
# OUTDIR/mu_MU.log). The seed: `dnas train` on the config's model and data
# for warmup + search + finetune epochs at the search's weight optimizer
# (Adam, constant lr, weight decay), evaluated on the test split
# (OUTDIR/seed.log). The table: μ, the regularized cost of the exported
# network against the seed's, the reduction, test accuracy after
# fine-tuning (float and integer) and the difference to the seed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dnas=${DNAS:-$here/build/dnas}
[ $# -ge 2 ] || { sed -n 2,13p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
cfg=$(readlink -f "$1")
mus=$2
out=${3:-search_front}
mkdir -p "$out"
out=$(readlink -f "$out")
cfgdir=$(dirname "$cfg")

# the seed: a training config from the search config's model, data and schedule
val() { awk -v k="$1" '$1 == k":" {print $2; exit}' "$cfg"; }
model=$(val model); lr=$(val lr); wd=$(val weight_decay); batch=$(val batch)
epochs=$(( $(val warmup) + $(val search) + $(val finetune) ))
data=$(awk '/^data:/{on=1; print; next} on && /^  /{print; next} {on=0}' "$cfg")
seedcfg=$out/seed_train.yaml
cat > "$seedcfg" <<EOT
model: $cfgdir/$model
$data
train:
  epochs: $epochs
  batch: $batch
  seed: $(val seed)
  loss: cross_entropy
  optimizer: {name: adam, lr: $lr, weight_decay: $wd}
checkpoint: $out/seed.h5
EOT
if [ ! -s "$out/seed.log" ] || ! grep -q '^result' "$out/seed.log"; then
    echo "seed: $epochs epochs ($out/seed.log)" >&2
    "$dnas" train "$seedcfg" > "$out/seed.log" 2>&1
fi
seed_acc=$(sed -n 's/^result.*test_acc=\([0-9.]*\).*/\1/p' "$out/seed.log")
for mu in $mus; do
    if [ ! -s "$out/mu_$mu.log" ] || ! grep -q '^result' "$out/mu_$mu.log"; then
        echo "mu $mu ($out/mu_$mu.log)" >&2
        "$dnas" search "$cfg" --mu "$mu" --out "$out/mu_$mu.h5" > "$out/mu_$mu.log" 2>&1 || true
    fi
done
printf '%-8s %12s %12s %7s %8s %8s %7s %8s\n' mu cost seed_cost reduct test_acc int_acc d_seed seconds
printf '%-8s %12s %12s %7s %8.2f %8s %7s %8s\n' seed - - - "$(echo "$seed_acc*100" | bc -l)" - - -
for mu in $mus; do
    line=$(grep '^result' "$out/mu_$mu.log" || echo "result status=missing")
    get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    st=$(get status)
    if [ "$st" != ok ]; then printf '%-8s %s\n' "$mu" "status=$st"; continue; fi
    awk -v mu="$mu" -v c="$(get cost)" -v s="$(get seed_cost)" -v a="$(get test_acc)" \
        -v i="$(get int_test_acc)" -v sa="$seed_acc" -v t="$(get seconds)" 'BEGIN {
        printf "%-8s %12d %12d %6.2fx %8.2f %8.2f %+7.2f %8.0f\n", mu, c, s, s / c, 100 * a,
               (i < 0 ? -1 : 100 * i), 100 * (a - sa), t }'
done
