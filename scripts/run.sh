#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, and run
# the shipped default (train ResNet-8 on Fashion-MNIST, print test accuracy).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
. scripts/env.sh
mkdir -p out
build/dnas train configs/train_resnet8_fmnist.yaml --checkpoint out/resnet8_fmnist.h5 "$@"
