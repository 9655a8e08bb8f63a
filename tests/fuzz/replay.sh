#!/usr/bin/env bash
# Runs every file under the given directories once through one harness
# (ctest: fuzz_replay_<name>). A directory that does not exist (no crash
# found yet for that target) is skipped. Fails when the harness crashes.
# Usage: replay.sh BINARY plain|libfuzzer DIR...
set -euo pipefail
bin="$1" mode="$2"; shift 2
dirs=()
for d in "$@"; do [ -d "$d" ] && dirs+=("$d"); done
[ ${#dirs[@]} -gt 0 ] || { echo "replay: none of $* exists" >&2; exit 1; }
if [ "$mode" = libfuzzer ]; then
  # -runs=0: execute the inputs of the directories, no fuzzing; crash
  # files libFuzzer writes on a failure go to a temporary directory.
  art=$(mktemp -d)
  trap 'rm -rf "$art"' EXIT
  "$bin" -runs=0 -max_len=16777216 -rss_limit_mb=2048 -timeout=30 -artifact_prefix="$art/" "${dirs[@]}"
else
  "$bin" "${dirs[@]}"
fi
