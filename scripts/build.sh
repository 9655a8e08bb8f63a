#!/usr/bin/env bash
# Configures and builds dnas (Release) into build/ (or BUILD_DIR); the
# compiler's output is kept in BUILD_DIR/build.log and shown on failure.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
shift || true
mkdir -p "$dir"
if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" && cmake --build "$dir" -j"$(nproc)"; } \
    > "$dir/build.log" 2>&1; then
  cat "$dir/build.log" >&2
  echo "build failed (log: $dir/build.log)" >&2
  exit 1
fi
echo "built $dir/dnas"
