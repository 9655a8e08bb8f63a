#!/usr/bin/env bash
# A campaign under dnas sweep against the same searches run one after
# another with dnas search, side by side in one run.
#
#   bench/sweep_vs_search.sh CAMPAIGN.yaml [--search SEARCH.yaml] [--np R] [--threads T] [--keep DIR]
#
# 1. The campaign under `mpirun -np R dnas sweep CAMPAIGN.yaml --threads 1
#    --no-report` (default R = 2: one thread per rank; each seed's warmup
#    trained once, the runs start from it; the merge into campaign.h5
#    included, the report not).
# 2. The same jobs one after another, `dnas search SEARCH.yaml --mu X
#    --threads T --quiet` for each job's mu (default T = R: the same cores
#    as the sweep, all on one run; each repeats its warmup).
# Prints both wall times, each search's, and the ratio searches / sweep
# (above 1: the sweep is faster).
#
# The jobs come from `dnas sweep CAMPAIGN.yaml --dry-run` (their mu as it
# prints them, 6 significant digits); the search config from the
# campaign's `search:` key (a path, relative to the campaign file), or
# --search when the campaign has its search keys inline. dnas search
# overrides only mu, so the campaign must have one constraint set (no
# `constraints:` key: the search's own) and one seed, the search config's
# `seed:`; otherwise the script stops, naming what differs.
# Everything runs in a temporary folder (the campaign's `output:` is
# relative to it, so results/ is not touched), removed at the end unless
# --keep DIR. Run it on an idle machine: with other work on the cores a
# run of T > 1 threads waits for each of its threads to get a core (on
# this 2-core machine at load 14, one tiny search took 49-76 s at 2
# threads against 12 s at 1), which distorts the ratio. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "sweep_vs_search.sh: $*" >&2; exit 2; }
config=""; search=""; np=2; threads=""; keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --search) search="$2"; shift 2 ;;
    --np) np="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,/Not a test/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1'" ;;
    *) [ -z "$config" ] || die "one campaign config, not '$1' too"; config="$1"; shift ;;
  esac
done
[ -n "$config" ] || die "usage: bench/sweep_vs_search.sh CAMPAIGN.yaml [--search SEARCH.yaml] [--np R] [--threads T] [--keep DIR]"
threads=${threads:-$np}
[ -f "$config" ] || die "$config: no such file"
command -v mpirun > /dev/null || die "needs mpirun (Debian package openmpi-bin)"
config=$(realpath "$config")
# the search config: --search, else the campaign's search: path
if [ -z "$search" ]; then
  s=$(sed -n 's/^search:[[:space:]]*\([^#]*\).*/\1/p' "$config" | sed 's/[[:space:]]*$//; s/^["'\'']//; s/["'\'']$//')
  [ -n "$s" ] || die "$config: the search keys are inline; pass --search SEARCH.yaml with the same settings"
  case "$s" in /*) search=$s ;; *) search="$(dirname "$config")/$s" ;; esac
fi
[ -f "$search" ] || die "search config $search: no such file"
search=$(realpath "$search")
grep -q '^constraints:' "$config" && die "$config: has constraints:, which dnas search cannot override (only --mu)"

scripts/build.sh build > /dev/null
. scripts/env.sh
dnas="$PWD/build/dnas"
if [ -n "$keep" ]; then mkdir -p "$keep"; work=$(realpath "$keep"); else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
cd "$work"

"$dnas" sweep "$config" --dry-run > dry.txt 2>&1 || { cat dry.txt >&2; exit 1; }
head -1 dry.txt | grep -q ' x 1 constraint sets x 1 seeds)' || die "$config: $(head -1 dry.txt); dnas search runs one constraint set and one seed"
out=$(head -1 dry.txt | sed -n 's/.* -> \(.*\)$/\1/p')
mus=$(awk '$1 ~ /^[0-9]+$/ { print $2 }' dry.txt)
seed=$(awk '$1 ~ /^[0-9]+$/ { print $NF; exit }' dry.txt)
sseed=$(sed -n 's/^seed:[[:space:]]*\([0-9]*\).*/\1/p' "$search")
[ -z "$sseed" ] || [ "$sseed" = "$seed" ] || die "the campaign's seed $seed is not the search config's ($sseed): dnas search cannot override it"
n=$(echo "$mus" | wc -w)
[ "$n" -gt 0 ] || { cat dry.txt >&2; die "no jobs in the dry run's listing"; }
[ ! -e "$out" ] || die "$work/$out exists: give an empty --keep folder"

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "campaign: $config ($n jobs, mu $(echo $mus | tr ' ' ','))"
echo "search: $search"

t0=$(date +%s.%N)
mpirun -np "$np" "$dnas" sweep "$config" --threads 1 --no-report --quiet > sweep.log 2>&1 || { cat sweep.log >&2; exit 1; }
tsweep=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.2f", $1 - $2 }')
grep -q "$n runs done now, 0 before, of $n ($n ok" sweep.log || { cat sweep.log >&2; die "the sweep did not finish every run ok"; }

mkdir -p seq; i=0; each=""
t0=$(date +%s.%N)
for mu in $mus; do
  t1=$(date +%s.%N)
  "$dnas" search "$search" --mu "$mu" --threads "$threads" --out "seq/$i.h5" --quiet > "seq/$i.log" 2>&1 \
    || { cat "seq/$i.log" >&2; die "dnas search --mu $mu failed"; }
  each="$each $(echo "$(date +%s.%N) $t1" | awk '{ printf "%.1f", $1 - $2 }')"
  i=$((i + 1))
done
tseq=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.2f", $1 - $2 }')

printf '\n%-64s %9s\n' "" "wall s"
printf '%-64s %9s\n' "sweep: mpirun -np $np, 1 thread per rank, warmup once (+ merge)" "$tsweep"
printf '%-64s %9s\n' "searches one after another: --threads $threads, each its own warmup" "$tseq"
echo "  each search, s:$each"
echo "ratio searches / sweep: $(awk -v a="$tseq" -v b="$tsweep" 'BEGIN { printf "%.2f", a / b }')"
