# Sourced by the tests that run `dnas sweep` (MPI): the environment of
# scripts/env.sh (mpirun as root on a small machine) and, for the ASan
# build, Open MPI's own allocations that it keeps until exit marked as not
# ours (tests/lsan_mpi.supp): its plugins stay loaded so that their frames
# have names, and full stacks reach libmpi. SRC is the source root.
. "$SRC/scripts/env.sh"
export LSAN_OPTIONS="suppressions=$SRC/tests/lsan_mpi.supp:fast_unwind_on_malloc=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
export OMPI_MCA_mca_base_component_disable_dlclose=1
