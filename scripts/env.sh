# Environment for running dnas and its MPI tests on a small machine as root
# (sourced by the other scripts). Open MPI refuses root and oversubscription
# unless told; shared memory + self transports; one BLAS thread per rank.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
