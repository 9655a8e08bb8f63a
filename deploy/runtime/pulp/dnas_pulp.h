/* dnas_pulp: the small PULP-style runtime API that code generated for the
 * GAP8 cluster (the `gap8` backend) is written against. It is the part of
 * a PULP SDK the generated code needs, under names of its own:
 *
 *   L1 allocation   dnas_pulp_l1_malloc / dnas_pulp_l1_free  (cluster TCDM)
 *   cluster DMA     dnas_pulp_dma_1d / dnas_pulp_dma_2d, asynchronous, grouped
 *                   in a dnas_pulp_dma job and completed by dnas_pulp_dma_wait
 *   fork / barrier  dnas_pulp_fork runs a function on every core and returns
 *                   when all have finished (the join is the barrier)
 *   core id         dnas_pulp_core_id, dnas_pulp_ncores
 *   memory regions  dnas_pulp_region names the L2 and L3 buffers the DMA may
 *                   touch (a no-op on the chip, checked by the host model)
 *
 * On GAP8 each maps onto one PMSIS call (pi_cl_l1_malloc, pi_cl_dma_cmd /
 * pi_cl_dma_cmd_2d with a merged command, pi_cl_dma_wait, pi_cl_team_fork,
 * pi_core_id); that port is not part of dnas. dnas_pulp_host.c implements
 * the API on the host so that the generated code runs in the tests:
 * transfers are copies made when they are waited for, cores run one after
 * another, and every transfer and the L1 allocation are checked against the
 * memories (dnas_pulp_host.c's header lists the checks). Plain C99. */
#ifndef DNAS_PULP_H
#define DNAS_PULP_H

#include <stddef.h>
#include <stdint.h>

/* Cores of the cluster a fork runs on. */
#define DNAS_PULP_CORES 8

/* Bytes of L1 the host model gives (the target's L1; a build may set
 * another with -DDNAS_PULP_L1_BYTES=N). */
#ifndef DNAS_PULP_L1_BYTES
#define DNAS_PULP_L1_BYTES 64000
/* Host model only: bytes its transfers moved into and out of L1 so far. */
void dnas_pulp_host_bytes(unsigned long long *into_l1, unsigned long long *out_of_l1);

#endif

/* A memory outside L1 the DMA reads or writes. */
typedef enum {
    DNAS_PULP_L2 = 2, /* read and written (activations) */
    DNAS_PULP_L3 = 3, /* read only (weights, biases, multipliers) */
} dnas_pulp_level;

/* A group of transfers completed together: dnas_pulp_dma_init, any number
 * of dnas_pulp_dma_1d / _2d on it, then dnas_pulp_dma_wait. */
typedef struct {
    unsigned id;
} dnas_pulp_dma;

/* base..base+bytes is a buffer in level (call before any transfer touches it). */
void dnas_pulp_region(const void *base, size_t bytes, dnas_pulp_level level);

/* bytes of L1 (4-byte aligned), or NULL when L1 cannot hold them besides
 * what is allocated already. Frees go in reverse order of allocation. */
void *dnas_pulp_l1_malloc(size_t bytes);
void dnas_pulp_l1_free(void *p);

/* A fresh, empty job. */
void dnas_pulp_dma_init(dnas_pulp_dma *job);
/* Adds a copy of bytes bytes from src to dst to job: one side in L1, the
 * other in an L2 or L3 region. The copy has happened once job is waited for. */
void dnas_pulp_dma_1d(dnas_pulp_dma *job, void *dst, const void *src, size_t bytes);
/* Adds rows copies of row_bytes bytes each: row r from src + r·src_stride to
 * dst + r·dst_stride. */
void dnas_pulp_dma_2d(dnas_pulp_dma *job, void *dst, const void *src, size_t rows, size_t row_bytes,
                      size_t dst_stride, size_t src_stride);
/* Returns when every transfer of job has happened; job is empty again. */
void dnas_pulp_dma_wait(dnas_pulp_dma *job);

/* Runs fn(arg) on cores 0..ncores-1 (1..DNAS_PULP_CORES) and returns when
 * every one has returned. */
void dnas_pulp_fork(int ncores, void (*fn)(void *arg), void *arg);
/* The calling core (0..ncores-1 inside a fork, 0 outside). */
int dnas_pulp_core_id(void);
/* Cores of the fork the caller runs in (1 outside a fork). */
int dnas_pulp_ncores(void);

/* Host model only: bytes its transfers moved into and out of L1 so far. */
void dnas_pulp_host_bytes(unsigned long long *into_l1, unsigned long long *out_of_l1);

#endif
