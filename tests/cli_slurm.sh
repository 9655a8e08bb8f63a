#!/usr/bin/env bash
# slurm/campaign.sbatch and slurm/resume.sbatch on a single-node SLURM
# cluster started here: munged, slurmctld and slurmd (Debian's munge,
# slurmctld, slurmd, slurm-client) with a generated munge key and
# slurm.conf in the test's temporary folder, on free ports; sbatch runs a
# 2-rank campaign of the tiny PIT config (4 runs) through
# `srun --mpi=pmix`; campaign.h5 has every run once, computed by both
# ranks; resume.sbatch on the finished campaign trains nothing; a second
# campaign loses rank 1 to SIGKILL while it runs a job (the job fails, rank
# 0 names the rank and its run) and resume.sbatch finishes it, every run
# once; a missing config fails the job naming it. The
# daemons are stopped on every exit (a watchdog stops them if this script
# is killed). Needs root (slurmd runs jobs as their user, SlurmUser root);
# skipped, saying why, without root or the packages
# (scripts/install-deps.sh installs them).
# Usage: cli_slurm.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$(realpath "$1")"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
SRC="$src" . "$(dirname "$0")/lib_mpi.sh"; mpi_env_no_leaks # no leak checks: cli_sweep.sh checks the sweep's memory
[ "$(id -u)" = 0 ] || skip "the SLURM daemons run as root here (SlurmUser=root): run as root"
for p in munged:munge mungekey:munge slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client \
         scontrol:slurm-client squeue:slurm-client; do
    command -v "${p%%:*}" > /dev/null || skip "${p%%:*} is missing (Debian package ${p#*:}; scripts/install-deps.sh)"
done
cd "$tmp"
d="$tmp/slurm"
mkdir -p "$d/state" "$d/spool" "$d/munge" "$d/logs"
chmod 700 "$d/munge"

# ---- the daemons, stopped on every exit ----
pids=()
stop_slurm() {
    if [ -f "$d/slurm.conf" ]; then
        SLURM_CONF="$d/slurm.conf" scancel --quiet --full --user=root 2> /dev/null
        for _ in $(seq 50); do
            [ -z "$(SLURM_CONF="$d/slurm.conf" squeue -h -o %i 2> /dev/null)" ] && break; sleep 0.2
        done
    fi
    local p
    for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
    for _ in $(seq 50); do
        local left=0
        for p in "${pids[@]}"; do kill -0 "$p" 2> /dev/null && left=1; done
        [ $left = 0 ] && break; sleep 0.1
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
    pids=()
}
on_exit="$(trap -p EXIT | sed "s/^trap -- '\(.*\)' EXIT\$/\1/")"
trap "stop_slurm; $on_exit" EXIT
trap 'exit 143' TERM INT HUP
start() { # NAME COMMAND...: a daemon in the foreground, in the background
    local name="$1"; shift
    "$@" > "$d/logs/$name.out" 2>&1 &
    pids+=($!)
}

# free ports for slurmctld and slurmd (not the defaults: a real cluster may use them)
used=$(awk 'NR > 1 { split($2, a, ":"); print strtonum("0x" a[2]) }' /proc/net/tcp /proc/net/tcp6 2> /dev/null)
port=$((20000 + (RANDOM % 2000) * 10))
while echo "$used" | grep -qx -e "$port" -e "$((port + 1))"; do port=$((port + 10)); done
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)

mungekey -c -f -k "$d/munge/munge.key" > /dev/null 2>&1
chmod 400 "$d/munge/munge.key"
start munged munged -F --force --key-file="$d/munge/munge.key" --socket="$d/munge/munge.sock" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/munge/munged.log" --seed-file="$d/munge/seed"
cat > "$d/slurm.conf" <<CONF
# a one-node cluster for tests/cli_slurm.sh
ClusterName=dnastest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$d/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/logs/slurmctld.log
SlurmdLogFile=$d/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=dnastest Nodes=$host Default=YES MaxTime=30 State=UP
CONF
export SLURM_CONF="$d/slurm.conf"
for _ in $(seq 50); do [ -S "$d/munge/munge.sock" ] && break; sleep 0.1; done
start slurmctld slurmctld -D -i
start slurmd slurmd -D
# a watchdog: if this script is killed (no EXIT trap), the daemons go too
me=$$
( trap '' HUP; while kill -0 "$me" 2> /dev/null; do sleep 1; done
  kill "${pids[@]}" 2> /dev/null; sleep 2; kill -9 "${pids[@]}" 2> /dev/null ) > /dev/null 2>&1 &
watchdog=$!
pids+=("$watchdog")
idle=0
for _ in $(seq 150); do
    sinfo -h -o %T 2> /dev/null | grep -q '^idle' && { idle=1; break; }; sleep 0.2
done
if [ $idle = 0 ]; then
    echo "    the node did not come up; logs:"; tail -5 "$d"/logs/*.log "$d"/logs/*.out 2> /dev/null | sed 's/^/    /'
fi
check "a one-node SLURM cluster is up (slurmctld port $port, node $host, $cpus CPUs)" test $idle = 1
[ $idle = 1 ] || finish

wait_job() { # JOBID: until it leaves the queue (at most 5 min); prints its final state
    local st="" t0=$SECONDS
    for _ in $(seq 1500); do
        st=$(scontrol show job "$1" 2> /dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
        case "$st" in PENDING|RUNNING|CONFIGURING|COMPLETING|"") sleep 0.2 ;; *) break ;; esac
    done
    echo "    job $1: $st after $((SECONDS - t0)) s" >&2
    echo "$st"
}

cat > s.yaml <<YAML
campaign: s
output: out/s
search: $src/configs/search_pit_tcn_fmnist_tiny.yaml
mu: [0, 1.0e-5, 1.0e-4, 1.0e-3]
threads: 1
YAML
t0=$(date +%s)
job=$(DNAS="$dnas" DNAS_HOME="$src" sbatch --parsable --chdir="$tmp" --ntasks=2 --time=10 \
      "$src/slurm/campaign.sbatch" s.yaml --no-report)
check "sbatch accepts slurm/campaign.sbatch (job ${job:-none})" test -n "$job"
state=$(wait_job "$job")
out="$tmp/slurm-dnas-sweep-$job.out"
check "the job completes (state $state, $(($(date +%s) - t0)) s)" test "$state" = COMPLETED
[ "$state" = COMPLETED ] || { sed 's/^/    /' "$out" | tail -20; tail -5 "$d/logs/slurmd.log" | sed 's/^/    /'; }
check "its output says 2 ranks under SLURM and the campaign's end" sh -c \
    "grep -q '2 ranks x 1 threads' '$out' && grep -q '^sweep s: 4 runs done now, 0 before, of 4 (4 ok' '$out'"
check "both ranks ran jobs" sh -c "grep -q ' 0 start ' out/s/logs/events.log && grep -q ' 1 start ' out/s/logs/events.log"
py=""
for p in python3 /usr/bin/python3; do "$p" -c 'import h5py' 2> /dev/null && { py=$p; break; }; done
if [ -n "$py" ]; then
    cat > check.py <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
t = f["summary"][()]
ids = sorted(int(x) for x in t["id"])
assert ids == [0, 1, 2, 3], ids
assert int(f.attrs["ranks"]) == 2 and int(f.attrs["runs"]) == 4 and int(f.attrs["missing"]) == 0, dict(f.attrs)
assert sorted(int(k) for k in f["runs"].keys()) == ids
assert sorted(set(int(r) for r in t["rank"])) == [0, 1], t["rank"]
assert all(s == b"ok" for s in t["status"]), t["status"]
assert f["pareto/params_vs_test_acc"].attrs["hypervolume"] > 0
print("ok")
PY
    check "campaign.h5: 4 runs once each, from ranks 0 and 1, a front (h5py)" "$py" check.py out/s/campaign.h5
else
    check "campaign.h5: 4 runs (h5dump)" sh -c "test \$(h5dump -n out/s/campaign.h5 | grep -c ' /runs/[0-9]*\$') = 4"
fi

job=$(DNAS="$dnas" DNAS_HOME="$src" sbatch --parsable --chdir="$tmp" --ntasks=2 --time=10 \
      "$src/slurm/resume.sbatch" s.yaml --no-report)
state=$(wait_job "$job")
out="$tmp/slurm-dnas-sweep-resume-$job.out"
check "slurm/resume.sbatch on the finished campaign trains nothing (state $state)" sh -c \
    "test '$state' = COMPLETED && grep -q '^sweep s: 0 runs done now, 4 before, of 4' '$out'"
# a rank killed while it runs a job: srun stops the step, the survivor names
# the rank and its run; resume.sbatch finishes the campaign
sed 's/campaign: s/campaign: k/; s/out\/s/out\/k/; s/mu: .*/mu: {log_range: [1.0e-6, 1.0e-3], count: 6}/' s.yaml > k.yaml
job=$(DNAS="$dnas" DNAS_HOME="$src" sbatch --parsable --chdir="$tmp" --ntasks=2 --time=10 \
      "$src/slurm/campaign.sbatch" k.yaml --no-report)
for _ in $(seq 1500); do ls out/k/runs/*.h5 > /dev/null 2>&1 && break; sleep 0.2; done
victim=""
for p in $(pgrep -f -- "$dnas sweep k.yaml"); do
    tr '\0' '\n' < /proc/"$p"/environ 2> /dev/null | grep -qx SLURM_PROCID=1 && victim=$p
done
running() { awk '$2 == 1 && $3 == "start" { id = $4 } $2 == 1 && $3 == "done" { id = "" } END { print id }' out/k/logs/events.log; }
for _ in $(seq 100); do [ -n "$(running)" ] && break; sleep 0.1; done
[ -n "$victim" ] && kill -9 "$victim"
state=$(wait_job "$job")
out="$tmp/slurm-dnas-sweep-$job.out"
vrun=$(running)
if [ -n "$vrun" ]; then want="rank 1 ended while running run $vrun (log: logs/rank1.log)"; else want="rank 1 ended between runs"; fi
check "rank 1 killed (pid ${victim:-none}): the job fails (state $state) and rank 0 names it and its run ($want)" sh -c \
    "test -n '$victim' && test '$state' = FAILED && grep -qF 'dnas sweep: campaign k: $want; the job is stopped (signal 15)' '$out'"
[ "$state" = FAILED ] || sed 's/^/    /' "$out" | tail -8
job=$(DNAS="$dnas" DNAS_HOME="$src" sbatch --parsable --chdir="$tmp" --ntasks=2 --time=10 \
      "$src/slurm/resume.sbatch" k.yaml --no-report)
state=$(wait_job "$job")
out="$tmp/slurm-dnas-sweep-resume-$job.out"
check "slurm/resume.sbatch finishes it (state $state), naming the interrupted run" sh -c \
    "test '$state' = COMPLETED && grep -q '^sweep k: .* runs done now, .* before, of 6' '$out' && \
     { test -z '$vrun' || grep -q '^sweep k: run $vrun (rank 1, started .*) was interrupted; it runs again' '$out'; }"
ids=$(h5dump -d /summary -y out/k/campaign.h5 2> /dev/null | sed -n '/DATA {/,$p' | awk 'p { gsub(/[ ",]/, ""); print; p = 0 } /^ *{$/ { p = 1 }' | sort -n | tr '\n' ' ')
check "every run is in campaign.h5 once ($ids)" test "$ids" = "0 1 2 3 4 5 "

job=$(DNAS="$dnas" DNAS_HOME="$src" sbatch --parsable --chdir="$tmp" --ntasks=1 --time=10 \
      "$src/slurm/campaign.sbatch" nosuch.yaml)
state=$(wait_job "$job")
check "a missing config fails the job, naming it (state $state)" sh -c \
    "test '$state' = FAILED && grep -q 'nosuch.yaml: no such campaign config' '$tmp/slurm-dnas-sweep-$job.out'"

daemons=("${pids[@]}")
stop_slurm
left=""
for p in "${daemons[@]}"; do
    ps -o stat= -p "$p" 2> /dev/null | grep -qv Z && left="$left $(ps -o comm= -p "$p")"
done
check "no daemon is left after the test stops them (left:${left:- none})" test -z "$left"
finish
