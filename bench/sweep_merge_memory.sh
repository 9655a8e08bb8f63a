#!/usr/bin/env bash
# The merge's and the report's memory and time against the number of runs:
# rank 0 merges run files into campaign.h5 one at a time, and the report
# streams the runs (keeping the fronts, not the runs), so neither peak
# should grow with the runs.
#
#   bench/sweep_merge_memory.sh [--runs "100 1000 4000"] [--dnas BINARY]
#
# One real run of the tiny PIT config is trained once; for each count N a
# campaign folder gets N copies of its run file (runs/<id>.h5, the group
# renamed /runs/<id>, its costs and accuracies scaled by random factors,
# seeded, so that the fronts are of a few points as in a real campaign).
# Then, timed each: `dnas report` of the folder without campaign.h5 (the
# report reads the run files), `dnas sweep --resume --no-report` on a
# campaign of N jobs (every run done: it only merges), and `dnas report` of
# the merged campaign.h5, both reports with --no-plot. Prints per N each
# process's peak resident memory (GNU time's maximum RSS) and wall time,
# the merge's time per run and the size of campaign.h5. Needs python3-h5py
# (to edit the copies) and /usr/bin/time. Not a test.
# --dnas BINARY: time that dnas (e.g. an older build) instead of building
#   build/dnas. KEEP=DIR: work in DIR and keep the campaign folders (e.g.
#   for valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
counts="100 1000 4000"
dnas_bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) counts="$2"; shift 2 ;;
    --dnas) dnas_bin="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sweep_merge_memory.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "sweep_merge_memory.sh: needs GNU time (Debian package time)" >&2; exit 1; }
py=""
for p in python3 /usr/bin/python3; do "$p" -c 'import h5py' 2> /dev/null && { py=$p; break; }; done
[ -n "$py" ] || { echo "sweep_merge_memory.sh: needs python3-h5py" >&2; exit 1; }
if [ -n "$dnas_bin" ]; then dnas=$(realpath "$dnas_bin"); else scripts/build.sh build > /dev/null; dnas="$PWD/build/dnas"; fi
. scripts/env.sh
search="$PWD/configs/search_pit_tcn_fmnist_tiny.yaml"
out=${KEEP:-$(mktemp -d)}; [ -n "${KEEP:-}" ] || trap 'rm -rf "$out"' EXIT
cd "$out"
printf 'campaign: one\noutput: one\nsearch: %s\nmu: [1.0e-4]\nthreads: 1\n' "$search" > one.yaml
"$dnas" sweep one.yaml --no-report --quiet > one.log 2>&1 || { cat one.log >&2; exit 1; }
echo "one run file: $(stat -c %s one/runs/0.h5) bytes; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf '\n%7s | %-24s | %-34s | %-24s\n' "" "report of the run files" "merge" "report of campaign.h5"
printf '%7s | %12s %11s | %12s %9s %11s | %12s %11s %14s\n' runs "peak RSS MB" "s" "peak RSS MB" "s" "ms per run" \
  "peak RSS MB" "s" "campaign.h5 MB"
for n in $counts; do
  mkdir -p "m$n/runs"
  "$py" - "$n" "m$n/runs" one/runs/0.h5 <<'PY'
import sys, shutil, random, h5py
n, d, src = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(n)
for i in range(n):
    p = f"{d}/{i}.h5"
    shutil.copyfile(src, p)
    with h5py.File(p, "r+") as f:
        f.move("runs/0", f"runs/{i}")
        r = f[f"runs/{i}"]
        for k in r["cost"].attrs:
            r["cost"].attrs[k] = float(r["cost"].attrs[k]) * rng.uniform(0.2, 1.0)
        for k in ("finetune_test_acc", "int_test_acc"):
            r["metrics"].attrs[k] = float(r["metrics"].attrs[k]) * rng.uniform(0.8, 1.0)
PY
  # jobs = mu values x seeds (at most 256 mu values): N <= 256, or a multiple of 250
  if [ "$n" -le 256 ]; then mus=$n; seeds=1; else mus=250; seeds=$((n / 250)); fi
  [ $((mus * seeds)) = "$n" ] || { echo "sweep_merge_memory.sh: $n runs: give at most 256 or a multiple of 250" >&2; exit 2; }
  printf 'campaign: m%s\noutput: m%s\nsearch: %s\nmu: {log_range: [1.0e-6, 1.0e-3], count: %s}\nseeds: [%s]\nthreads: 1\n' \
    "$n" "$n" "$search" "$mus" "$(seq -s, 1 "$seeds")" > "m$n.yaml"
  /usr/bin/time -f '%M %e' -o "m$n.rtime" "$dnas" report "m$n" --no-plot > "m$n.rlog" 2>&1 || { cat "m$n.rlog" >&2; exit 1; }
  grep -q "reading the run files" "m$n.rlog" && grep -q "Runs: [^ ]* $n\." "m$n/pareto.md" || { cat "m$n.rlog" >&2; exit 1; }
  /usr/bin/time -f '%M %e' -o "m$n.time" "$dnas" sweep "m$n.yaml" --resume --no-report --quiet > "m$n.log" 2>&1 \
    || { cat "m$n.log" >&2; exit 1; }
  grep -q "0 runs done now, $n before, of $n" "m$n.log" || { cat "m$n.log" >&2; exit 1; }
  /usr/bin/time -f '%M %e' -o "m$n.htime" "$dnas" report "m$n" --no-plot > "m$n.hlog" 2>&1 || { cat "m$n.hlog" >&2; exit 1; }
  ! grep -q "reading the run files" "m$n.hlog" && grep -q "Runs: [^ ]* $n\." "m$n/pareto.md" || { cat "m$n.hlog" >&2; exit 1; }
  read -r rkb rsecs < "m$n.rtime"; read -r kb secs < "m$n.time"; read -r hkb hsecs < "m$n.htime"
  printf '%7s | %12s %11s | %12s %9s %11.2f | %12s %11s %14.1f\n' "$n" "$(mb "$rkb")" "$rsecs" "$(mb "$kb")" "$secs" \
    "$(echo "$secs $n" | awk '{ print 1000 * $1 / $2 }')" "$(mb "$hkb")" "$hsecs" \
    "$(stat -c %s "m$n/campaign.h5" | awk '{ print $1 / 1048576 }')"
  [ -n "${KEEP:-}" ] || rm -rf "m$n/runs"
done
echo "(each the whole process: the merge's with MPI singleton start-up and the config; reports without plots)"
