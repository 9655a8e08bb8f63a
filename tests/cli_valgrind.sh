#!/usr/bin/env bash
# valgrind memcheck on dnas: summary and cost of zoo models, the error paths
# of a bad model and a bad target, a one-batch training run on two threads
# (per-thread scratch and gradient buffers), a resume from its checkpoint,
# its integer export (dnas quantize) and its deployment to C (dnas
# deploy). Any memory error or leaked block fails the run: every leak
# kind counts, since a block dnas forgets to free just before exiting is
# often still reachable (a pointer left in a register), not definitely
# lost. The blocks libgomp and HDF5 keep for themselves until exit are
# suppressed, each with its reason, in tests/valgrind.supp.
#
# Skips with exit 77 (ctest SKIP_RETURN_CODE) when valgrind is not installed
# or cannot decode the binary: valgrind has no AVX-512, which -march=native
# (-DDNAS_NATIVE=ON; off by default) emits on CPUs that have it. scripts/test.sh
# runs this test on a -DDNAS_NATIVE=OFF build. Not registered in the
# sanitizer build (valgrind cannot run ASan binaries).
# Usage: cli_valgrind.sh DNAS_BINARY SOURCE_DIR
set -u
dnas="$(realpath "$1")"; src="$(realpath "$2")"
. "$(dirname "$0")/lib_cli.sh"
m="$src/configs/models"

if ! command -v valgrind > /dev/null; then
    skip "valgrind is not installed (scripts/install-deps.sh installs it)"
fi

# vg NAME EXPECTED_EXIT ARGS...: dnas ARGS under memcheck exits with
# EXPECTED_EXIT (99 = a memcheck error) and reports 0 errors
vg() {
    local name="$1" want="$2"; shift 2
    # in a subshell whose stderr is dropped: no "Illegal instruction" notice
    # from bash when valgrind gives up on an instruction
    (valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all --show-leak-kinds=all \
        --suppressions="$src/tests/valgrind.supp" \
        --log-file="$tmp/$name.vg" "$dnas" "$@" > "$tmp/$name.out" 2>&1; exit $?) 2> /dev/null
    local rc=$?
    if grep -q "Unrecognised instruction" "$tmp/$name.vg"; then
        skip "valgrind cannot decode $dnas (AVX-512 from -march=native?); build with" \
             "-DDNAS_NATIVE=OFF to run this test"
    fi
    if [ $rc -ne "$want" ] || ! grep -q "ERROR SUMMARY: 0 errors" "$tmp/$name.vg"; then
        echo "    dnas $*: exit $rc, expected $want"
        sed 's/^/    /' "$tmp/$name.out" | head -5
        grep -v '^==[0-9]*== *$' "$tmp/$name.vg" | sed 's/^/    /' | head -60
        return 1
    fi
}

check "summary of resnet8" vg summary 0 summary "$m/resnet8.yaml"
check "summary of a bad model (error path)" \
    vg summary_bad 1 summary "$src/tests/bad_inputs/files/reads_later.yaml"
check "cost of dscnn on diana" vg cost 0 cost "$m/dscnn.yaml" --target diana
printf 'name: bad\nclock_hz: 1e8\nsource: x\nmemory:\n  - {name: L2, bytes: lots, source: x}\nengines: []\n' \
    > "$tmp/bad_target.yaml"
check "cost with a bad target (error path)" vg cost_bad 1 cost "$m/dscnn.yaml" --target "$tmp/bad_target.yaml"
cat > "$tmp/cfg.yaml" <<YAML
model: $m/tcn_fmnist.yaml
data: {format: fashion-mnist, layout: rows, limit_train: 32, limit_test: 32}
train: {epochs: 2, batch: 32, threads: 2, seed: 1}
YAML
check "train with a bad option" vg train_opt 2 train "$tmp/cfg.yaml" --epochs 1x
check "train one batch" vg train 0 train "$tmp/cfg.yaml" --stop-after 1 --checkpoint "$tmp/c.h5" --quiet
check "resume and train a second batch" \
    vg resume 0 train "$tmp/cfg.yaml" --resume "$tmp/c.h5" --checkpoint "$tmp/c.h5" --quiet
check "quantize its checkpoint (calibration, export, both accuracies, the file)" \
    vg quantize 0 quantize "$tmp/c.h5" --out "$tmp/q.h5" --calib-batches 1 --quiet
check "quantize a model the export refuses (error path)" \
    vg quantize_bad 1 quantize "$src/tests/bad_inputs/files/quant_concat.h5" --out "$tmp/q2.h5"
check "deploy its integer network to C (passes, planner, backend, test vectors)" \
    vg deploy 0 deploy "$tmp/q.h5" --target c --out "$tmp/deployed" --dump-after plan --quiet
check "deploy a file without an integer network (error path)" \
    vg deploy_bad 1 deploy "$tmp/c.h5" --target c --out "$tmp/deployed"
finish
