#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, and run
# the quickstart campaign (configs/quickstart.yaml: PIT on the TCN on a
# Fashion-MNIST subset at 6 strengths mu, about 3 minutes) as a 2-rank MPI
# job, which leaves results/quickstart/ (campaign.h5, pareto.md, pareto.csv,
# plots) and prints its Pareto table. Run again, it finishes what is missing
# (--resume) and prints the table again. Extra arguments go to dnas sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
. scripts/env.sh
mpirun -np 2 build/dnas sweep configs/quickstart.yaml --resume "$@"
