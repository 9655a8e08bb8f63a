#!/usr/bin/env bash
# The merge's memory and time against the number of runs: rank 0 merges
# run files into campaign.h5 one at a time, so its peak memory should not
# grow with the runs.
#
#   bench/sweep_merge_memory.sh [--runs "100 1000 4000"]
#
# One real run of the tiny PIT config is trained once; for each count N a
# campaign folder gets N copies of its run file (runs/<id>.h5, the group
# renamed /runs/<id>), and `dnas sweep --resume --no-report` on a campaign
# of N jobs finds every run done and only merges. Prints per N the merge
# process's peak resident memory (GNU time's maximum RSS), its wall time,
# the time per run and the size of campaign.h5. Needs python3-h5py (to
# rename the copies' groups) and /usr/bin/time. Not a test.
# KEEP=DIR: work in DIR and keep the campaign folders (e.g. for valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
counts="100 1000 4000"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) counts="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sweep_merge_memory.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "sweep_merge_memory.sh: needs GNU time (Debian package time)" >&2; exit 1; }
py=""
for p in python3 /usr/bin/python3; do "$p" -c 'import h5py' 2> /dev/null && { py=$p; break; }; done
[ -n "$py" ] || { echo "sweep_merge_memory.sh: needs python3-h5py" >&2; exit 1; }
scripts/build.sh build > /dev/null
. scripts/env.sh
dnas="$PWD/build/dnas"; search="$PWD/configs/search_pit_tcn_fmnist_tiny.yaml"
out=${KEEP:-$(mktemp -d)}; [ -n "${KEEP:-}" ] || trap 'rm -rf "$out"' EXIT
cd "$out"
printf 'campaign: one\noutput: one\nsearch: %s\nmu: [1.0e-4]\nthreads: 1\n' "$search" > one.yaml
"$dnas" sweep one.yaml --no-report --quiet > one.log 2>&1 || { cat one.log >&2; exit 1; }
echo "one run file: $(stat -c %s one/runs/0.h5) bytes; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%7s %12s %9s %13s %16s\n' runs "peak RSS MB" "merge s" "ms per run" "campaign.h5 MB"
for n in $counts; do
  mkdir -p "m$n/runs"
  "$py" - "$n" "m$n/runs" one/runs/0.h5 <<'PY'
import sys, shutil, h5py
n, d, src = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(n):
    p = f"{d}/{i}.h5"
    shutil.copyfile(src, p)
    with h5py.File(p, "r+") as f:
        f.move("runs/0", f"runs/{i}")
PY
  # jobs = mu values x seeds (at most 256 mu values): N <= 256, or a multiple of 250
  if [ "$n" -le 256 ]; then mus=$n; seeds=1; else mus=250; seeds=$((n / 250)); fi
  [ $((mus * seeds)) = "$n" ] || { echo "sweep_merge_memory.sh: $n runs: give at most 256 or a multiple of 250" >&2; exit 2; }
  printf 'campaign: m%s\noutput: m%s\nsearch: %s\nmu: {log_range: [1.0e-6, 1.0e-3], count: %s}\nseeds: [%s]\nthreads: 1\n' \
    "$n" "$n" "$search" "$mus" "$(seq -s, 1 "$seeds")" > "m$n.yaml"
  /usr/bin/time -f '%M %e' -o "m$n.time" "$dnas" sweep "m$n.yaml" --resume --no-report --quiet > "m$n.log" 2>&1 \
    || { cat "m$n.log" >&2; exit 1; }
  grep -q "0 runs done now, $n before, of $n" "m$n.log" || { cat "m$n.log" >&2; exit 1; }
  read -r kb secs < "m$n.time"
  printf '%7s %12.1f %9.2f %13.2f %16.1f\n' "$n" "$(echo "$kb" | awk '{ print $1 / 1024 }')" "$secs" \
    "$(echo "$secs $n" | awk '{ print 1000 * $1 / $2 }')" "$(stat -c %s "m$n/campaign.h5" | awk '{ print $1 / 1048576 }')"
  [ -n "${KEEP:-}" ] || rm -rf "m$n/runs"
done
echo "(the whole dnas sweep process: MPI singleton start-up, the config, the merge; no report)"
