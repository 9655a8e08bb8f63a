#!/usr/bin/env bash
# Installs the Debian 12 packages dnas needs to build, test and benchmark.
# Idempotent: prints nothing and touches nothing when all are present.
# Usage: scripts/install-deps.sh [--bench] [--fuzz]
#   --bench adds PyTorch for bench/
#   --fuzz  adds clang 14, its libFuzzer/sanitizer runtimes, LLVM's OpenMP
#           and llvm-symbolizer for the fuzz build (scripts/fuzz.sh)
set -euo pipefail

pkgs=(build-essential cmake git pkg-config
      libopenmpi-dev openmpi-bin libopenblas-dev
      libhdf5-dev hdf5-tools libyaml-dev libcmocka-dev zlib1g-dev
      dataset-fashion-mnist valgrind gnuplot-nox python3-h5py
      slurmd slurmctld slurm-client munge
      gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)
for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=(python3 python3-torch) ;;
    --fuzz) pkgs+=(clang-14 libclang-rt-14-dev libomp-14-dev llvm-14) ;;
    *) echo "install-deps: unknown option '$arg' (expected --bench or --fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo $0 $*)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
