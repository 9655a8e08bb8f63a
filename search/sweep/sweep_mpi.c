/* The few collectives a campaign needs, over MPI when the build has it,
 * else for one rank. Only the main thread of each rank calls MPI (rank 0's
 * progress thread reads files), hence MPI_THREAD_FUNNELED. */
#include <string.h>
#include <unistd.h>

#include "sweep_internal.h"

#ifdef DNAS_HAVE_MPI
#include <mpi.h>

static int inited;

void search_sweep_mpi_init(int *argc, char ***argv) {
    int provided, already;
    MPI_Initialized(&already);
    if (!already) MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    inited = 1;
}

void search_sweep_mpi_finalize(void) {
    int done;
    MPI_Finalized(&done);
    if (inited && !done) MPI_Finalize();
}

int search_sweep_rank(void) {
    int r = 0;
    if (inited) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int search_sweep_ranks(void) {
    int n = 1;
    if (inited) MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

int search_sweep_local_ranks(void) {
    if (!inited) return 1;
    MPI_Comm node;
    int n = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_size(node, &n);
        MPI_Comm_free(&node);
    }
    return n;
}

void search_sweep_barrier(void) {
    if (inited) MPI_Barrier(MPI_COMM_WORLD);
}

void search_sweep_bcast_ints(int *v, int n, int root) {
    if (inited && n > 0) MPI_Bcast(v, n, MPI_INT, root, MPI_COMM_WORLD);
}

void search_sweep_bcast_doubles(double *v, int n, int root) {
    if (inited && n > 0) MPI_Bcast(v, n, MPI_DOUBLE, root, MPI_COMM_WORLD);
}

int search_sweep_sum(int v) {
    int s = v;
    if (inited) MPI_Allreduce(&v, &s, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return s;
}

void search_sweep_abort(int code) {
    fflush(stdout);
    fflush(stderr);
    if (inited) MPI_Abort(MPI_COMM_WORLD, code);
    _exit(code);
}

#else /* one rank */

void search_sweep_mpi_init(int *argc, char ***argv) {}
void search_sweep_mpi_finalize(void) {}
int search_sweep_rank(void) { return 0; }
int search_sweep_ranks(void) { return 1; }
int search_sweep_local_ranks(void) { return 1; }
void search_sweep_barrier(void) {}
void search_sweep_bcast_ints(int *v, int n, int root) {}
void search_sweep_bcast_doubles(double *v, int n, int root) {}
int search_sweep_sum(int v) { return v; }
void search_sweep_abort(int code) {
    fflush(stdout);
    fflush(stderr);
    _exit(code);
}

#endif

/* The first failing rank (in rank order) keeps its message and every rank
 * returns its status; so a failure every rank meets (a missing dataset) is
 * printed once. */
dnas_status search_sweep_agree(dnas_status st, dnas_error *err) {
    int ranks = search_sweep_ranks(), me = search_sweep_rank();
    int first = st ? me : ranks;
#ifdef DNAS_HAVE_MPI
    if (inited) {
        int mine = first;
        MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    }
#endif
    if (first == ranks) return DNAS_OK;
    int code = (int)st;
    search_sweep_bcast_ints(&code, 1, first);
    if (me != first) err->msg[0] = 0;
    return (dnas_status)code;
}
