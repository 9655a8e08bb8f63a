/* The host model of dnas_pulp.h: the GAP8 code the `gap8` backend writes
 * runs on the host with it, in the tests and in `make check` of a
 * generated directory.
 *
 *   L1        one buffer of DNAS_PULP_L1_BYTES bytes followed by a guard of
 *             DNAS_PULP_HOST_GUARD bytes; allocations are a stack from its
 *             start. What is not allocated, and the guard, is filled with a
 *             pattern that must still be there after every fork and every
 *             wait: a core or a transfer that wrote past what was allocated
 *             is reported.
 *   DMA       a transfer is checked when issued (one side inside the L1
 *             allocation, the other inside one L2 region, or one L3 region
 *             for a read; every row of a 2-D transfer) and recorded; the copy
 *             happens when its job is waited for, so reading a buffer before
 *             its transfer was waited for reads stale bytes.
 *   cores     a fork calls fn once per core, core 0 first; a fork inside a
 *             fork is refused.
 * A broken rule prints "dnas_pulp host model: ..." on stderr and exits with
 * status 3. At exit the model prints one line on stdout: transfers, bytes
 * moved into and out of L1, forks and the most L1 allocated. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnas_pulp.h"

#ifndef DNAS_PULP_HOST_GUARD
#define DNAS_PULP_HOST_GUARD 4096
#endif
#define PATTERN 0xA5
#define MAX_ALLOCS 16

typedef struct {
    const unsigned char *base;
    size_t bytes;
    dnas_pulp_level level;
} region;

typedef struct {
    unsigned job;
    unsigned char *dst;
    const unsigned char *src;
    size_t rows, row_bytes, dst_stride, src_stride;
} transfer;

static unsigned char *l1;                  /* DNAS_PULP_L1_BYTES + guard */
static size_t l1_used, l1_most;            /* allocated bytes now, most ever */
static size_t allocs[MAX_ALLOCS], nallocs; /* the stack of allocation sizes */
static region *regions;
static size_t nregions, cap_regions;
static transfer *pending;
static size_t npending, cap_pending;
static unsigned next_job = 1;
static int core = 0, cores = 1, in_fork = 0;
static unsigned long long n_transfers, bytes_in, bytes_out, n_forks;

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dnas_pulp host model: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(3);
}

static void report(void) {
    printf("dnas_pulp host model: %llu transfers, %llu bytes into L1, %llu bytes out of L1, "
           "%llu forks, L1 %lu of %lu bytes allocated at most\n",
           n_transfers, bytes_in, bytes_out, n_forks, (unsigned long)l1_most,
           (unsigned long)DNAS_PULP_L1_BYTES);
}

static void l1_setup(void) {
    if (l1) return;
    l1 = malloc(DNAS_PULP_L1_BYTES + DNAS_PULP_HOST_GUARD);
    if (!l1)
        fail("cannot allocate the %lu bytes of the modelled L1", (unsigned long)DNAS_PULP_L1_BYTES);
    memset(l1, PATTERN, DNAS_PULP_L1_BYTES + DNAS_PULP_HOST_GUARD);
    atexit(report);
}

/* The bytes past the allocation still hold the pattern. */
static void guard_check(const char *when) {
    size_t end = DNAS_PULP_L1_BYTES + DNAS_PULP_HOST_GUARD;
    for (size_t i = l1_used; i < end; i++)
        if (l1[i] != PATTERN) {
            fprintf(stderr,
                    "dnas_pulp host model: byte %lu of L1 changed %s, but only %lu bytes are "
                    "allocated (L1 holds %lu): a write past the L1 allocation\n",
                    (unsigned long)i, when, (unsigned long)l1_used,
                    (unsigned long)DNAS_PULP_L1_BYTES);
            exit(3);
        }
}

void dnas_pulp_region(const void *base, size_t bytes, dnas_pulp_level level) {
    if (level != DNAS_PULP_L2 && level != DNAS_PULP_L3)
        fail("region level %d is not L2 or L3", (int)level);
    if (nregions && regions[nregions - 1].base == base && regions[nregions - 1].bytes == bytes &&
        regions[nregions - 1].level == level)
        return; /* named again */
    for (size_t i = 0; i < nregions; i++)
        if (regions[i].base == base && regions[i].bytes == bytes && regions[i].level == level) {
            memmove(regions + i, regions + i + 1, (nregions - i - 1) * sizeof *regions);
            regions[nregions - 1] = (region){base, bytes, level}; /* now the latest */
            return;
        }
    if (nregions == cap_regions) {
        cap_regions = cap_regions ? 2 * cap_regions : 64;
        regions = realloc(regions, cap_regions * sizeof *regions);
        if (!regions) fail("out of memory for %lu regions", (unsigned long)cap_regions);
    }
    regions[nregions++] = (region){base, bytes, level};
}

void *dnas_pulp_l1_malloc(size_t bytes) {
    l1_setup();
    size_t size = (bytes + 3) / 4 * 4;
    if (nallocs == MAX_ALLOCS || size > DNAS_PULP_L1_BYTES - l1_used) {
        fprintf(stderr,
                "dnas_pulp host model: L1 allocation of %lu bytes refused: %lu of the %lu bytes "
                "of L1 are allocated already\n",
                (unsigned long)bytes, (unsigned long)l1_used, (unsigned long)DNAS_PULP_L1_BYTES);
        return NULL;
    }
    void *p = l1 + l1_used;
    allocs[nallocs++] = size;
    l1_used += size;
    if (l1_used > l1_most) l1_most = l1_used;
    return p;
}

void dnas_pulp_l1_free(void *p) {
    if (!nallocs || (unsigned char *)p != l1 + l1_used - allocs[nallocs - 1])
        fail("L1 free of %p: not the last allocation", p);
    l1_used -= allocs[--nallocs];
    memset(l1 + l1_used, PATTERN, DNAS_PULP_L1_BYTES - l1_used);
}

void dnas_pulp_dma_init(dnas_pulp_dma *job) {
    job->id = next_job++;
}

/* 1 when p..p+n lies inside the L1 allocation. */
static int in_l1(const unsigned char *p, size_t n) {
    return l1 && p >= l1 && n <= l1_used && (size_t)(p - l1) <= l1_used - n;
}

/* The level of the region holding p..p+n, or 0 (the latest one named:
 * naming bytes again, e.g. reused memory, replaces what they were). */
static int level_of(const unsigned char *p, size_t n) {
    for (size_t i = nregions; i-- > 0;) {
        const region *r = &regions[i];
        if (p >= r->base && n <= r->bytes && (size_t)(p - r->base) <= r->bytes - n)
            return (int)r->level;
    }
    return 0;
}

static void check_row(const unsigned char *dst, const unsigned char *src, size_t n, size_t row) {
    int d1 = in_l1(dst, n), s1 = in_l1(src, n);
    if (d1 && s1)
        fail("transfer row %lu of %lu bytes goes from L1 to L1", (unsigned long)row,
             (unsigned long)n);
    if (!d1 && !s1)
        fail("transfer row %lu of %lu bytes has neither end inside the L1 allocation (a tile "
             "buffer past the end of L1?)",
             (unsigned long)row, (unsigned long)n);
    if (d1) {
        int lv = level_of(src, n);
        if (!lv)
            fail("transfer row %lu of %lu bytes into L1 reads outside every L2/L3 region",
                 (unsigned long)row, (unsigned long)n);
    } else if (level_of(dst, n) != DNAS_PULP_L2) {
        fail("transfer row %lu of %lu bytes out of L1 writes outside every L2 region",
             (unsigned long)row, (unsigned long)n);
    }
}

void dnas_pulp_dma_2d(dnas_pulp_dma *job, void *dst, const void *src, size_t rows, size_t row_bytes,
                      size_t dst_stride, size_t src_stride) {
    if (!job->id) fail("transfer on a job never initialised");
    for (size_t r = 0; r < rows; r++)
        check_row((unsigned char *)dst + r * dst_stride,
                  (const unsigned char *)src + r * src_stride, row_bytes, r);
    if (npending == cap_pending) {
        cap_pending = cap_pending ? 2 * cap_pending : 256;
        pending = realloc(pending, cap_pending * sizeof *pending);
        if (!pending) fail("out of memory for %lu pending transfers", (unsigned long)cap_pending);
    }
    pending[npending++] = (transfer){job->id, dst, src, rows, row_bytes, dst_stride, src_stride};
    n_transfers++;
    if (in_l1(dst, row_bytes))
        bytes_in += (unsigned long long)rows * row_bytes;
    else
        bytes_out += (unsigned long long)rows * row_bytes;
}

void dnas_pulp_dma_1d(dnas_pulp_dma *job, void *dst, const void *src, size_t bytes) {
    dnas_pulp_dma_2d(job, dst, src, 1, bytes, bytes, bytes);
}

void dnas_pulp_dma_wait(dnas_pulp_dma *job) {
    size_t keep = 0;
    for (size_t i = 0; i < npending; i++) {
        transfer *t = &pending[i];
        if (t->job != job->id) {
            pending[keep++] = *t;
            continue;
        }
        for (size_t r = 0; r < t->rows; r++)
            memmove(t->dst + r * t->dst_stride, t->src + r * t->src_stride, t->row_bytes);
    }
    npending = keep;
    if (l1) guard_check("by a transfer");
}

void dnas_pulp_fork(int ncores, void (*fn)(void *arg), void *arg) {
    if (in_fork) fail("fork inside a fork");
    if (ncores < 1 || ncores > DNAS_PULP_CORES)
        fail("fork on %d cores (the cluster has %d)", ncores, DNAS_PULP_CORES);
    in_fork = 1, cores = ncores;
    for (core = 0; core < ncores; core++)
        fn(arg);
    core = 0, cores = 1, in_fork = 0;
    n_forks++;
    if (l1) guard_check("during a fork");
}

int dnas_pulp_core_id(void) {
    return core;
}

int dnas_pulp_ncores(void) {
    return cores;
}

void dnas_pulp_host_bytes(unsigned long long *into_l1, unsigned long long *out_of_l1) {
    *into_l1 = bytes_in;
    *out_of_l1 = bytes_out;
}
