/* The host model of DIANA's two L1 memories and its DMA (dnas_diana.h,
 * "L1 and DMA"): the code the `diana` backend writes runs on the host with
 * it, in the tests and in `make check` of a generated directory.
 *
 *   L1        L1_act (DNAS_DIANA_L1_ACT_BYTES) and L1_wdig
 *             (DNAS_DIANA_L1_WDIG_BYTES), each one buffer followed by a guard
 *             of DNAS_DIANA_HOST_GUARD bytes; a block is allocated from its
 *             start (one per memory). What is not allocated, and the guard,
 *             is filled with a pattern that must still be there after every
 *             engine job on L1 (dnas_diana_l1_check): an engine that wrote
 *             past the block is reported.
 *   DMA       every row of a transfer is checked (one end inside an L1
 *             block, the other outside both memories and their guards) and
 *             copied at once; the bytes moved into and out of L1 are counted.
 * A broken rule prints "dnas_diana host model: ..." on stderr and exits
 * with status 3; an allocation L1 cannot hold prints why and returns NULL.
 * At exit the model prints one line on stdout: transfers, bytes moved into
 * and out of L1 and the bytes allocated in each memory. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnas_diana.h"

#ifndef DNAS_DIANA_HOST_GUARD
#define DNAS_DIANA_HOST_GUARD 4096
#endif
#define PATTERN 0xA5

static const char *const names[2] = {"L1_act", "L1_wdig"};
static const size_t sizes[2] = {DNAS_DIANA_L1_ACT_BYTES, DNAS_DIANA_L1_WDIG_BYTES};
static unsigned char *mem[2];
static size_t used[2], most[2];
static unsigned long long n_transfers, bytes_in, bytes_out;

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dnas_diana host model: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(3);
}

static void report(void) {
    printf("dnas_diana host model: %llu transfers, %llu bytes into L1, %llu bytes out of L1, "
           "L1_act %lu of %lu bytes allocated, L1_wdig %lu of %lu\n",
           n_transfers, bytes_in, bytes_out, (unsigned long)most[0], (unsigned long)sizes[0],
           (unsigned long)most[1], (unsigned long)sizes[1]);
}

static void setup(void) {
    if (mem[0]) return;
    for (int m = 0; m < 2; m++) {
        mem[m] = malloc(sizes[m] + DNAS_DIANA_HOST_GUARD);
        if (!mem[m])
            fail("cannot allocate the %lu bytes of the modelled %s", (unsigned long)sizes[m],
                 names[m]);
        memset(mem[m], PATTERN, sizes[m] + DNAS_DIANA_HOST_GUARD);
    }
    atexit(report);
}

void *dnas_diana_l1_alloc(int m, size_t bytes) {
    if (m != DNAS_DIANA_L1_ACT && m != DNAS_DIANA_L1_WDIG) fail("no L1 memory %d", m);
    setup();
    size_t size = (bytes + 3) / 4 * 4;
    if (used[m] || size > sizes[m]) {
        fprintf(stderr,
                "dnas_diana host model: %s allocation of %lu bytes refused: the modelled %s "
                "holds %lu bytes, %lu allocated already\n",
                names[m], (unsigned long)bytes, names[m], (unsigned long)sizes[m],
                (unsigned long)used[m]);
        return NULL;
    }
    used[m] = size;
    if (size > most[m]) most[m] = size;
    return mem[m];
}

void dnas_diana_l1_free(int m) {
    if (m != DNAS_DIANA_L1_ACT && m != DNAS_DIANA_L1_WDIG) fail("no L1 memory %d", m);
    if (!mem[m]) return;
    used[m] = 0;
    memset(mem[m], PATTERN, sizes[m] + DNAS_DIANA_HOST_GUARD);
}

/* The memory whose block holds p..p+n, or -1. */
static int block_of(const unsigned char *p, size_t n) {
    for (int m = 0; m < 2; m++)
        if (mem[m] && p >= mem[m] && n <= used[m] && (size_t)(p - mem[m]) <= used[m] - n)
            return m;
    return -1;
}

/* 1 when p..p+n shares a byte with either memory (or its guard). */
static int touches_l1(const unsigned char *p, size_t n) {
    for (int m = 0; m < 2; m++)
        if (mem[m] && p < mem[m] + sizes[m] + DNAS_DIANA_HOST_GUARD && p + n > mem[m]) return 1;
    return 0;
}

void dnas_diana_dma_2d(void *dst, const void *src, size_t rows, size_t row_bytes,
                       size_t dst_stride, size_t src_stride) {
    for (size_t r = 0; r < rows; r++) {
        unsigned char *d = (unsigned char *)dst + r * dst_stride;
        const unsigned char *s = (const unsigned char *)src + r * src_stride;
        int dm = block_of(d, row_bytes), sm = block_of(s, row_bytes);
        if (dm >= 0 && sm >= 0)
            fail("transfer row %lu of %lu bytes goes from L1 to L1", (unsigned long)r,
                 (unsigned long)row_bytes);
        if (dm < 0 && sm < 0)
            fail("transfer row %lu of %lu bytes has neither end inside an L1 block (%s: %lu "
                 "bytes allocated, %s: %lu): a tile buffer past the end of L1?",
                 (unsigned long)r, (unsigned long)row_bytes, names[0], (unsigned long)used[0],
                 names[1], (unsigned long)used[1]);
        if (touches_l1(dm >= 0 ? s : d, row_bytes))
            fail("transfer row %lu of %lu bytes %s L1 %s bytes of L1 outside its block",
                 (unsigned long)r, (unsigned long)row_bytes, dm >= 0 ? "into" : "out of",
                 dm >= 0 ? "reads" : "writes");
        memmove(d, s, row_bytes);
        if (dm >= 0)
            bytes_in += row_bytes;
        else
            bytes_out += row_bytes;
    }
    n_transfers++;
}

void dnas_diana_l1_check(void) {
    for (int m = 0; m < 2; m++) {
        if (!mem[m]) continue;
        for (size_t i = used[m]; i < sizes[m] + DNAS_DIANA_HOST_GUARD; i++)
            if (mem[m][i] != PATTERN)
                fail("byte %lu of %s changed by an engine job, but only %lu bytes are allocated "
                     "(%s holds %lu): a write past the L1 block",
                     (unsigned long)i, names[m], (unsigned long)used[m], names[m],
                     (unsigned long)sizes[m]);
    }
}

void dnas_diana_host_bytes(unsigned long long *into_l1, unsigned long long *out_of_l1) {
    *into_l1 = bytes_in;
    *out_of_l1 = bytes_out;
}
