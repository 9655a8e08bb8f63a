#!/usr/bin/env bash
# A killed campaign resumes: a 2-rank sweep of the tiny PIT config loses
# one rank to SIGKILL while it runs a job, after the first run file
# appears (mpirun ends the job; the surviving rank names the rank that
# died and its run), is resumed (naming the run that was interrupted) and killed whole
# with SIGKILL (its process group) after one more run file; restarting
# without --resume is an error that says to pass it; with --resume only the
# missing runs are trained: every run is in
# campaign.h5 once, the runs finished before the kill are not retrained
# (their wall_seconds and run files unchanged, one "done" each in the
# journal) and the warmup is not trained again. A singleton (no mpirun)
# when mpirun is missing.
# Usage: cli_sweep_resume.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$(realpath "$1")"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
SRC="$src" . "$(dirname "$0")/lib_mpi.sh"; mpi_env_no_leaks
command -v setsid > /dev/null || skip "setsid (util-linux) is not installed"
cd "$tmp"
if command -v mpirun > /dev/null; then launch=(mpirun -np 2); else launch=(); fi
h5get() { h5dump -a "$2" "$1" 2>/dev/null | sed -n 's/.*(0): *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' | head -1; }

cat > r.yaml <<YAML
campaign: r
output: out/r
search: $src/configs/search_pit_tcn_fmnist_tiny.yaml
mu: {log_range: [1.0e-6, 1.0e-4], count: 10}
threads: 1
YAML
nruns() { ls out/r/runs/*.h5 2> /dev/null | wc -l; }
wait_runs() { # N: until N run files exist (at most 5 min: the sanitizer build is slow)
    for _ in $(seq 3000); do [ "$(nruns)" -ge "$1" ] && return 0; sleep 0.1; done; return 1
}
if [ ${#launch[@]} -gt 0 ]; then
    # one rank killed: mpirun ends the job; the resume names the run it ran
    setsid "${launch[@]}" "$dnas" sweep r.yaml --no-report > kill1.out 2> kill1.err &
    job=$!
    wait_runs 1
    ranks=$(pgrep -P "$job" | tr '\n' ' ')
    victim=${ranks##* }; [ -n "$victim" ] || victim=$(echo $ranks | awk '{ print $NF }')
    vrank=$(tr '\0' '\n' < /proc/"$victim"/environ 2> /dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
    # the run the victim runs (its last start without a done in the journal)
    running() { awk -v r="$vrank" '$2 == r && $3 == "start" { id = $4 } $2 == r && $3 == "done" { id = "" } END { print id }' out/r/logs/events.log; }
    for _ in $(seq 100); do [ -n "$(running)" ] && break; sleep 0.1; done
    kill -9 "$victim" 2> /dev/null
    wait "$job" 2> /dev/null
    rc=$?
    alive() { # a rank still running (a zombie, not yet reaped, has ended)
        for p in $ranks; do ps -o stat= -p "$p" 2> /dev/null | grep -qv Z && return 0; done; return 1
    }
    for _ in $(seq 100); do alive || break; sleep 0.1; done
    check "killing one rank ends the job (exit $rc)" test $rc -ne 0
    left=$(for p in $ranks; do ps -o pid=,stat=,comm= -p "$p"; done | grep -v ' Z' | tr '\n' ' ')
    check "and the other rank with it (left: ${left:-none})" test -z "$left"
    vrun=$(running)
    if [ -n "$vrun" ]; then want="rank $vrank ended while running run $vrun (log: logs/rank$vrank.log)"
    else want="rank $vrank ended between runs"; fi
    check "the surviving rank names the rank that died and its run ($want)" \
        grep -qF "dnas sweep: campaign r: $want; the job is stopped (signal 15)" kill1.err
    check "and the journal has the survivor's stop line" grep -Eq "^[0-9.]+ $((1 - vrank)) stop [-0-9]+ signal15\$" out/r/logs/events.log
    setsid "${launch[@]}" "$dnas" sweep r.yaml --no-report --resume > kill2.out 2> kill2.err &
    job=$!
    wait_runs $(( $(nruns) + 1 ))
    check "the resume names the run that was interrupted and its rank" \
        grep -Eq '^sweep r: run [0-9]+ \(rank [01], started .*\) was interrupted; it runs again' kill2.err
else
    setsid "$dnas" sweep r.yaml --no-report > kill2.out 2> kill2.err &
    job=$!
    wait_runs 1
fi
"$dnas" sweep r.yaml --resume --no-report > twice.out 2> twice.err
check "a second job on a running campaign is refused" grep -q 'out/r: another dnas sweep is running this campaign' twice.err
# the whole job killed; the count is taken once no process of it is left
# (a rank still running could finish one more run after the count)
procs=$(pgrep -s "$(ps -o sid= -p "$job" | tr -d ' ')" | tr '\n' ' ')
kill -9 -- -"$job" 2> /dev/null
wait "$job" 2> /dev/null
gone() { for p in $procs; do ps -o stat= -p "$p" 2> /dev/null | grep -qv Z && return 1; done; return 0; }
for _ in $(seq 300); do gone && break; sleep 0.1; done
check "no process of the killed job is left" gone
ls out/r/runs/ > before.ls
done_before=$(grep -c '\.h5$' before.ls)
check "the job was killed midway ($done_before of 10 runs finished)" sh -c "test $done_before -ge 1 -a $done_before -lt 10"
check "no campaign.h5 after the kill" test ! -f out/r/campaign.h5
for f in out/r/runs/*.h5; do
    id=$(basename "$f" .h5)
    echo "$id $(h5get "$f" /runs/$id/wall_seconds) $(cksum < "$f")" >> before.txt
done

"$dnas" sweep r.yaml --no-report > again.out 2> again.err
check "restarting without --resume is an error that says to pass it" grep -q 'pass --resume' again.err

"${launch[@]}" "$dnas" sweep r.yaml --resume > res.out 2> res.err
rc=$?
check "--resume finishes the campaign (exit $rc)" test $rc -eq 0
check "it trains only the missing runs" grep -q "$((10 - done_before)) runs done now, $done_before before, of 10" res.err
ids=$(h5dump -d /summary -y out/r/campaign.h5 | sed -n '/DATA {/,$p' | awk 'p { gsub(/[ ",]/, ""); print; p = 0 } /^ *{$/ { p = 1 }' | sort -n | tr '\n' ' ')
check "every run is in /summary once ($ids)" test "$ids" = "0 1 2 3 4 5 6 7 8 9 "
check "and in /runs" test "$(h5dump -n out/r/campaign.h5 | grep -c ' /runs/[0-9]*$')" = 10
while read -r id secs sum; do
    check "run $id, finished before the kill, was not retrained" sh -c \
        "test '$(h5get out/r/campaign.h5 /runs/$id/wall_seconds)' = '$secs' && test '$(cksum < out/r/runs/$id.h5)' = '$sum' && \
         test \$(grep -c ' done $id ' out/r/logs/events.log) = 1"
done < before.txt
check "the warmup was trained once, before the kill" test "$(cat out/r/logs/rank*.log | grep -c '^warmup 1/1 done')" = 1
check "the report works on the resumed campaign" sh -c "'$dnas' report out/r/campaign.h5 --no-plot | grep -q '^## params vs test_acc'"
finish
