# Sourced by the tests that run `dnas sweep` (MPI): the environment of
# scripts/env.sh (mpirun as root on a small machine) and, in MPI_ENV, what
# the ASan build needs to run MPI: Open MPI's own allocations, kept until
# exit, marked as not ours (tests/lsan_mpi.supp), its plugins kept loaded
# so that their frames have names, and full malloc stacks so that they
# reach libmpi (slow: only for the commands that start MPI). `mpi_env`
# exports MPI_ENV for a whole script. SRC is the source root.
. "$SRC/scripts/env.sh"
MPI_ENV=("LSAN_OPTIONS=suppressions=$SRC/tests/lsan_mpi.supp:fast_unwind_on_malloc=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
         "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
         "OMPI_MCA_mca_base_component_disable_dlclose=1")
mpi_env() { export "${MPI_ENV[@]}"; }
# The same without leak checks and their slow full stacks: for tests whose
# point is not memory (a killed and resumed campaign), so that the
# sanitizer build runs them in minutes.
mpi_env_no_leaks() {
    export "${MPI_ENV[2]}" "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
}
