#!/usr/bin/env bash
# Weak scaling of dnas sweep: the same number of jobs per rank at each rank
# count, side by side in one run.
#
#   bench/sweep_scaling.sh [--jobs-per-rank N] [--ranks "1 2"] [--repeat K] [--search CONFIG]
#
# For each rank count R (one thread per rank): a campaign of N x R runs of
# the search config (default the tiny PIT config: about a second a run)
# under `mpirun -np R`, timed whole (warmup, runs, merge; no report), K
# times in alternation (1 2 1 2 ...) so that a machine shared with other
# work slows each count alike; the best of the K is kept. Prints per R the
# wall time, the mean run time (from the campaign's journal, so the time a
# run takes, apart from waiting), the warmup and merge times, and the weak
# scaling efficiency T(1 rank) / T(R ranks) (1.0: perfect), and the share
# of the ranks' time spent in runs (the rest is the sweep's own overhead;
# a run slower at R ranks than at 1 is the machine: shared cores, memory
# bandwidth, other jobs). Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
per=6; ranks="1 2"; repeat=2; search="configs/search_pit_tcn_fmnist_tiny.yaml"
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs-per-rank) per="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --search) search="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sweep_scaling.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
scripts/build.sh build > /dev/null
. scripts/env.sh
dnas="$PWD/build/dnas"; search="$(realpath "$search")"
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "search: $search; $per jobs per rank, 1 thread per rank, best of $repeat"

declare -A best mean warm merge busy
for k in $(seq "$repeat"); do
  for r in $ranks; do
    d="$out/r$r-$k"; mkdir -p "$d"
    n=$((per * r))
    cat > "$d/c.yaml" <<YAML
campaign: scale$r
output: $d/out
search: $search
mu: {log_range: [1.0e-6, 1.0e-3], count: $n}
threads: 1
YAML
    t0=$(date +%s.%N)
    if [ "$r" = 1 ]; then launch=(); else launch=(mpirun -np "$r"); fi
    "${launch[@]}" "$dnas" sweep "$d/c.yaml" --no-report --quiet > "$d/log" 2>&1 \
      || { cat "$d/log" >&2; exit 1; }
    t=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.2f", $1 - $2 }')
    # from the journal: mean run time, first run start (after the warmup), last run end
    read -r m first last < <(awk '$3 == "start" { s[$4] = $1; if (!f || $1 < f) f = $1 }
        $3 == "done" { sum += $1 - s[$4]; n++; if ($1 > l) l = $1 }
        END { printf "%.2f %.3f %.3f\n", sum / n, f, l }' "$d/out/logs/events.log")
    end=$(stat -c %.3Y "$d/out/campaign.h5")
    echo "  ranks $r, try $k: $t s"
    if [ -z "${best[$r]:-}" ] || awk -v a="$t" -v b="${best[$r]}" 'BEGIN { exit !(a < b) }'; then
      best[$r]=$t; mean[$r]=$m
      warm[$r]=$(echo "$first $t0" | awk '{ printf "%.2f", $1 - $2 }')
      merge[$r]=$(echo "$end $last" | awk '{ printf "%.2f", $1 - $2 }')
      busy[$r]=$(awk -v m="$m" -v n="$n" -v r="$r" -v t="$t" 'BEGIN { printf "%.2f", m * n / (r * t) }')
    fi
  done
done
set -- $ranks
base=${best[$1]}
printf '\n%6s %6s %9s %11s %14s %9s %6s %11s\n' ranks runs "wall s" "mean run s" "start+warmup s" "merge s" busy efficiency
for r in $ranks; do
  printf '%6s %6s %9s %11s %14s %9s %6s %11s\n' "$r" $((per * r)) "${best[$r]}" "${mean[$r]}" "${warm[$r]}" "${merge[$r]}" "${busy[$r]}" \
    "$(awk -v a="$base" -v b="${best[$r]}" 'BEGIN { printf "%.2f", a / b }')"
done
echo "(efficiency: wall time at $1 rank(s) over wall time at R ranks, the same $per jobs per rank;"
echo " busy: the share of the ranks' wall time spent in runs, so 1 - busy is the sweep's own"
echo " overhead: start-up, the warmup on one rank, waiting for the last run, the merge)"
