#!/usr/bin/env bash
# Install what is missing, build, and pass every test: a Release build
# (portable, without -march=native, so that valgrind, which cannot decode
# AVX-512, runs tests/cli_valgrind.sh in it) and an ASan + UBSan build,
# each run through ctest, then a short fuzzing stage (every fuzz target for
# FUZZ_SECONDS, default 15; any crash fails).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --fuzz
. scripts/env.sh
jobs="$(nproc)"

echo "== Release build and tests"
scripts/build.sh build -DDNAS_NATIVE=OFF
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== ASan + UBSan build and tests"
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DDNAS_SANITIZE=ON >/dev/null
cmake --build build-san -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-san --output-on-failure -j"$jobs"

echo "== Fuzzing (libFuzzer, ${FUZZ_SECONDS:-15} s per target)"
FUZZ_JOBS="${FUZZ_JOBS:-$jobs}" scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
