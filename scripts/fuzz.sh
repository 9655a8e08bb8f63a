#!/usr/bin/env bash
# Builds the fuzz configuration (clang, libFuzzer, ASan + UBSan) into
# build-fuzz/ and runs every fuzz target (tests/fuzz/fuzz_<name>.c) for
# SECONDS each. Per target: working corpus build-fuzz/corpus/<name> (new
# inputs; the seeds of tests/fuzz/corpus/<name> and the reproducers of
# tests/fuzz/crashes/<name> are read as well), crashes, timeouts and OOMs
# in build-fuzz/artifacts/<name>/, the log in build-fuzz/logs/<name>.log.
# Prints runs, coverage and corpus size per target; exits 1 when any
# target found something. docs/fuzzing.md.
#
# Usage: scripts/fuzz.sh [SECONDS]          (default 60)
#   FUZZ_TARGETS="model target"  only these targets (default: all)
#   FUZZ_JOBS=N                  run N targets at a time (default 1)
#   FUZZ_ARGS="..."              extra libFuzzer flags, e.g. -seed=1
#   FUZZ_BUILD_DIR=DIR           build directory (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
jobs="${FUZZ_JOBS:-1}"
dir="${FUZZ_BUILD_DIR:-build-fuzz}"
cc=clang-14

scripts/install-deps.sh --fuzz
if [ ! -f "$dir/CMakeCache.txt" ]; then
  mkdir -p "$dir"
  if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" \
      -DDNAS_FUZZ=ON > "$dir/build.log" 2>&1; then
    cat "$dir/build.log" >&2; echo "fuzz: configure failed" >&2; exit 2
  fi
fi
if ! cmake --build "$dir" -j"$(nproc)" >> "$dir/build.log" 2>&1; then
  tail -50 "$dir/build.log" >&2; echo "fuzz: build failed (log: $dir/build.log)" >&2; exit 2
fi

all=()
for f in tests/fuzz/fuzz_*.c; do n="${f##*/fuzz_}"; all+=("${n%.c}"); done
targets=(${FUZZ_TARGETS:-${all[*]}})
for t in "${targets[@]}"; do
  [ -x "$dir/fuzz/fuzz_$t" ] || { echo "fuzz: no target '$t' (have: ${all[*]})" >&2; exit 2; }
done

symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"
# allocator_may_return_null: an allocation ASan cannot serve returns NULL as
# malloc would (our dnas_xmalloc then aborts, which is reported).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# Removes what harness processes that are gone left behind: their
# temporary directories (fuzz_util.h names them dnas-fuzz-<pid>-*) and LLVM
# OpenMP's registration files (__KMP_REGISTERED_LIB_<pid>_*), which a
# process that crashes does not remove.
sweep_tmp() {
  local d pid
  for d in /dev/shm/dnas-fuzz-* "${TMPDIR:-/tmp}"/dnas-fuzz-* /dev/shm/__KMP_REGISTERED_LIB_*; do
    [ -e "$d" ] || continue
    pid="${d##*/dnas-fuzz-}"; pid="${pid##*/__KMP_REGISTERED_LIB_}"; pid="${pid%%[-_]*}"
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    kill -0 "$pid" 2>/dev/null || rm -rf "$d"
  done
}

run_target() {
  local t="$1" corpus="$dir/corpus/$1" art="$dir/artifacts/$1" log="$dir/logs/$1.log"
  mkdir -p "$corpus" "$art" "$dir/logs"
  local seeds=()
  for s in tests/fuzz/corpus/"$t" tests/fuzz/crashes/"$t"; do [ -d "$s" ] && seeds+=("$s"); done
  local opts=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
  [ -f "tests/fuzz/dict/$t.dict" ] && opts+=(-dict="tests/fuzz/dict/$t.dict")
  # libhdf5 mallocs sizes it reads from a corrupt file before checking them
  # (H5C_protect) and copes when malloc fails; only the RSS limit applies
  # to its targets, not libFuzzer's per-allocation limit.
  case "$t" in hdf5|ckpt) opts+=(-malloc_limit_mb=1048576) ;; esac
  # shellcheck disable=SC2086
  "$dir/fuzz/fuzz_$t" "${opts[@]}" -artifact_prefix="$art/" ${FUZZ_ARGS:-} "$corpus" "${seeds[@]}" \
    > "$log" 2>&1 || true
}

# The first frame of the first error report in a log that is neither the
# sanitizers', libFuzzer's nor libc's: where the crash is (for an OOM: the
# largest live allocation that is not libFuzzer's own).
crash_frame() {
  awk '/ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^fuzz: /{on=1}
       on && /^ *#[0-9]+ 0x/ && !/__interceptor_|__asan|__lsan|__ubsan|__sanitizer|fuzzer::| in (malloc|calloc|realloc|free|abort|raise) | in (mem[a-z]+|str[a-z]+) [(]|libc\.so|sysdeps|__libc_start|__pthread_kill|_start | in dnas_x(malloc|calloc|realloc) | in operator new| in main [(]/{
         sub(/^ *#[0-9]+ 0x[0-9a-f]+ /, ""); print; exit }' "$1"
}

summary() {
  local t="$1" log="$dir/logs/$1.log" art="$dir/artifacts/$1" stats found
  # the last status line: "#41234  DONE   cov: 812 ft: 2403 corp: 311/52Kb ..." (or, with
  # -fork, "#41234: cov: 812 ft: 2403 corp: 311 ...")
  stats=$(grep -E '^#[0-9]+:?[[:space:]].*cov: ' "$log" | tail -1 || true)
  local runs cov ft corp
  runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<< "$stats")
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<< "$stats")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<< "$stats")
  corp=$(sed -nE 's/.* corp: ([0-9]+(\/[0-9]+[a-zA-Z]*)?).*/\1/p' <<< "$stats")
  local line
  line=$(printf '%-7s runs %-9s cov %-6s ft %-6s corpus %-11s' "$t" "${runs:-?}" "${cov:-?}" \
    "${ft:-?}" "${corp:-?}")
  found=$(find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \
          -o -name 'leak-*' \) -newer "$dir/logs/.start" 2>/dev/null | sort)
  if [ -n "$found" ]; then
    local frame
    frame=$(crash_frame "$log")
    # Crashes inside libhdf5 itself (it is not instrumented and has known
    # bugs on corrupt files) are shown but fail only with FUZZ_STRICT=1; a
    # run with several findings (-fork) is not classified.
    if [ "$(wc -l <<< "$found")" -eq 1 ] && [[ "$frame" == *libhdf5* ]] && [ -z "${FUZZ_STRICT:-}" ]; then
      echo "$line found a crash inside libhdf5 (not counted; docs/fuzzing.md):"
      sed 's/^/    /' <<< "$found"
      echo "    at $frame"
      return 0
    fi
    echo "$line FOUND:"
    sed 's/^/    /' <<< "$found"
    grep -m1 -E '^(==[0-9]+== ?ERROR|.*runtime error|fuzz: |.*internal error|.*out of memory)' "$log" \
      | sed 's/^/    /' || true
    [ -n "$frame" ] && echo "    at $frame"
    return 1
  fi
  if [ -z "$stats" ] || ! grep -qE '^Done [0-9]+ runs|^INFO: exiting: 0' "$log"; then
    echo "$line did not finish (log: $log):"
    tail -3 "$log" | sed 's/^/    /'
    return 1
  fi
  echo "$line ok"
}

# The regression files first: every reproducer of tests/fuzz/crashes must
# pass through the libFuzzer binaries too (ctest: fuzz_replay_*).
if ! ctest --test-dir "$dir" -j"$jobs" > "$dir/replay.log" 2>&1; then
  grep -E 'Failed|\*\*\*' "$dir/replay.log" >&2 || true
  echo "fuzz: replaying tests/fuzz/corpus and tests/fuzz/crashes failed (log: $dir/replay.log)" >&2
  exit 1
fi

mkdir -p "$dir/logs"
touch "$dir/logs/.start"
echo "fuzz: ${#targets[@]} targets x ${secs} s, $jobs at a time (logs: $dir/logs/)"
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  run_target "$t" 2>/dev/null & # (no "Aborted" notes from bash: the logs have it)
  running=$((running + 1))
done
wait
sweep_tmp

status=0
for t in "${targets[@]}"; do summary "$t" || status=1; done
[ $status -eq 0 ] || echo "fuzz: findings above; reproduce with $dir/fuzz/fuzz_<target> FILE (docs/fuzzing.md)"
exit $status
