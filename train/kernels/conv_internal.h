/* Internal interface between the convolution files (see conv.c for which
 * path runs when):
 *   conv.c                public entry points, path selection, scratch sizing
 *   conv_gemm.c           im2col / col2im + sgemm path, 1x1 pointwise
 *   train_conv_direct.c         AVX2/FMA direct kernel: forward, weight gradient,
 *                         stride-1 input gradient (fused with the weight one
 *                         when Cout % 16 != 0)
 *   train_conv_direct_dwt.c     its weight gradient kernels (channels or pixels
 *                         in the lanes)
 *   conv_direct_phases.c  strided input gradient by output phases
 *   conv_dw.c             depthwise
 * Not part of the library's API; ops.h is. */
#ifndef DNAS_TRAIN_CONV_INTERNAL_H
#define DNAS_TRAIN_CONV_INTERNAL_H

#include <stddef.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ops.h"
#include "common.h"

/* Column-buffer sizes in floats: a sample whose whole column matrix is at
 * most half of CONV_CHUNK_FLOATS is batched with others into one wider sgemm
 * (small planes: fewer calls, weights packed once per chunk); a larger one is
 * cut into row tiles of about CONV_TILE_FLOATS (stays in L2 between the
 * im2col and the sgemm). */
#ifndef CONV_CHUNK_FLOATS
#define CONV_CHUNK_FLOATS (128 * 1024)
#endif
#ifndef CONV_TILE_FLOATS
#define CONV_TILE_FLOATS (16 * 1024)
#endif

/* Direct kernel compiled in (x86-64 GCC/Clang; -DCONV_NO_DIRECT turns it
 * off); whether it runs is decided at run time by train_conv_direct_cpu(). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CONV_NO_DIRECT)
#define CONV_DIRECT 1
#else
#define CONV_DIRECT 0
#endif

/* Taps Cin·kh·kw at most (an offset table on the stack). */
#define CONV_DIRECT_MAX_TAPS 4096
/* Fewer taps (the Cin = 1 stem) and the forward sgemm wins: per block of
 * outputs the direct kernel's stores then outweigh its FMAs. 1x1 kernels
 * never go direct (im2col is a plain subsample there). */
#define CONV_DIRECT_MIN_TAPS 16
/* Pixel vectors summed per block of the direct weight gradient. */
#ifndef CONV_DIRECT_DW_VECTORS
#define CONV_DIRECT_DW_VECTORS 64
#endif
#define CONV_PHASE_MAX 64 /* sh·sw at most for the phase input gradient */

static inline int conv_is_depthwise(const train_conv_dims *d) {
    return d->groups == d->cin && d->cout == d->cin;
}

/* 1x1, stride 1, no padding, same size: the input plane already is col. */
static inline int conv_is_pointwise(const train_conv_dims *d) {
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 && d->pl == 0 &&
           d->hout == d->hin && d->wout == d->win;
}

static inline int conv_is_stride1(const train_conv_dims *d) { return d->sh == 1 && d->sw == 1; }

/* The input gradient of a stride-1 convolution as a forward correlation of
 * dout (see conv.c): Cin and Cout, in and out sizes swapped. */
static inline train_conv_dims conv_adjoint_dims(const train_conv_dims *d) {
    train_conv_dims t = *d;
    t.cin = d->cout, t.hin = d->hout, t.win = d->wout;
    t.cout = d->cin, t.hout = d->hin, t.wout = d->win;
    t.pt = (d->kh - 1) * d->dh - d->pt;
    t.pl = (d->kw - 1) * d->dw - d->pl;
    return t;
}

/* Output columns [lo, hi) whose input column ox·s + off lies in [0, in). */
static inline void conv_valid_range(int off, int s, int in, int out, int *lo, int *hi) {
    int l = off >= 0 ? 0 : (-off + s - 1) / s;
    int h = in - off <= 0 ? 0 : (in - off + s - 1) / s;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* ---- threads ----
 * The per-sample loops run on an OpenMP team, each thread over its own
 * contiguous range of samples with its own slice of the scratch. The weight
 * gradient: thread 0 accumulates into dweight itself, thread t > 0 into a
 * private zeroed buffer; after the loop the buffers are added into dweight in
 * thread order. So results depend on the team size only (and at one thread
 * are those of the serial loop). sgemm is called from inside the team, so
 * the sgemm paths go parallel only when OpenBLAS runs single-threaded
 * (openblas_set_num_threads(1) / OPENBLAS_NUM_THREADS=1); otherwise they keep
 * one thread and OpenBLAS threads inside each call. */

static inline int conv_max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
static inline int conv_thread_num(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
static inline int conv_num_threads(void) {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Team size for a loop over n samples: at most one thread per sample. */
static inline int conv_team(int n) {
    int t = conv_max_threads();
    return t < n ? t : n > 0 ? n : 1;
}

/* Samples [lo, hi) of thread t of nt: contiguous, sizes differ by at most 1. */
static inline void conv_thread_range(int n, int t, int nt, int *lo, int *hi) {
    *lo = (int)((long long)n * t / nt);
    *hi = (int)((long long)n * (t + 1) / nt);
}

/* Scratch carved by conv.c: wflip (flipped or phase-packed weights, shared);
 * per thread t a slice at t·stride holding col (the largest work buffer of
 * any path) and gat (gathered multi-sample tiles); then the private weight
 * gradients of threads 1 .. T-1, nw floats each. */
typedef struct {
    float *wflip, *col, *gat; /* col and gat of thread 0 */
    size_t stride;            /* floats from one thread's slice to the next */
    float *dwp;               /* private weight gradient of thread 1 */
    size_t nw;                /* weight floats */
    int nt;                   /* threads the scratch has slices for: a team is never larger */
} conv_scratch;

/* Team for a loop over n samples that uses the scratch: conv_team(n), at
 * most sc->nt threads. */
static inline int conv_team_sc(const conv_scratch *sc, int n) {
    int t = conv_team(n);
    return t < sc->nt ? t : sc->nt;
}

static inline float *conv_col_of(const conv_scratch *sc, int t) {
    return sc->col ? sc->col + t * sc->stride : NULL;
}
static inline float *conv_gat_of(const conv_scratch *sc, int t) {
    return sc->gat ? sc->gat + t * sc->stride : NULL;
}

/* conv.c: where thread t accumulates the weight gradient (NULL if dweight
 * is); after the team's loop (a barrier), train_conv_dw_reduce adds the private
 * buffers of threads 1 .. nt-1 into dweight. Both are called by every thread
 * of the team. */
float *train_conv_dw_target(float *dweight, const conv_scratch *sc, int t);
void train_conv_dw_reduce(float *dweight, const conv_scratch *sc, int nt);
/* conv_team_sc(sc, n), or 1 when OpenBLAS itself runs several threads. */
int train_conv_team_blas(const conv_scratch *sc, int n);

/* ---- conv_gemm.c ---- */

/* A tile of a K-row column matrix over Ho × Wo outputs: s samples of
 * `rows` output rows each; rows == Ho whenever s > 1. */
typedef struct {
    int s, rows;
} conv_tiling;

conv_tiling train_conv_tiles(int k, int wo, int ho, int n);
/* out = conv(inp), no bias; im2col + sgemm (or the input itself, pointwise). */
void train_conv_gemm_forward(float *out, const float *inp, const float *weight,
                       const train_conv_dims *d, const conv_scratch *sc);
void train_conv_backward_cols(float *dinp, float *dweight, const float *dout, const float *inp,
                        const float *weight, const train_conv_dims *d, const conv_scratch *sc);
void train_conv_flip_weights(float *wflip, const float *weight, const train_conv_dims *d);
void train_conv_backward_adjoint(float *dinp, const float *dout, const train_conv_dims *d,
                           const conv_scratch *sc);
void train_conv_backward_pointwise(float *dinp, float *dweight, const float *dout, const float *inp,
                             const float *weight, const train_conv_dims *d,
                             const conv_scratch *sc);

/* ---- train_conv_direct.c ---- */

int train_conv_direct_cpu(void);
int train_conv_direct_ok(const train_conv_dims *d);
size_t train_conv_direct_floats(const train_conv_dims *d);
size_t train_conv_direct_dyp_floats(const train_conv_dims *d);
int train_conv_direct_chunk(const train_conv_dims *d);
int train_conv_direct_dw_chunk(const train_conv_dims *d);
int train_conv_fused_ok(const train_conv_dims *d);
size_t train_conv_fused_floats(const train_conv_dims *d);
void train_conv_direct(float *out, const float *inp, const float *weight, const train_conv_dims *d,
                 const conv_scratch *sc, int accumulate);
void train_conv_direct_dweight(float *dweight, const float *dout, const float *inp,
                         const train_conv_dims *d, const conv_scratch *sc);
void train_conv_direct_backward_fused(float *dinp, float *dweight, const float *dout, const float *inp,
                                const float *wflip, const train_conv_dims *d,
                                const conv_scratch *sc);

#if CONV_DIRECT
/* One direct pass as a tap table: y[s][co][oy][ox] (+)= Σ_u w[co][u] ·
 * xp[s·xs + toff[u] + oy·xrow + ox]. */
typedef struct {
    int cout, ntap;   /* output channels (a multiple of 4); taps = weight row length */
    const int *toff;  /* xp offset of each tap */
    int hout, wout;   /* output plane, stored densely */
    int xrow;         /* xp offset from one output row to the next */
    size_t xs;        /* xp floats per sample */
} conv_direct_plan;

/* y (ns, Cout, Hout, Wout) (+)= the plan over ns samples of xp. */
void train_conv_direct_run(float *y, const float *xp, const float *w, int ns,
                     const conv_direct_plan *pl, int accumulate);

/* Where dout lies in the buffer the pixel-vector weight gradient reads:
 * (oy, ox) of channel co, sample s at s·sample + co·channel + oy·row + ox;
 * lanes past Wout up to the next multiple of 8 must read 0. */
typedef struct {
    size_t sample, channel;
    int row;
} conv_dy_layout;
#endif

/* ---- train_conv_direct_dwt.c ---- */

int train_conv_direct_dwt_ok(const train_conv_dims *d);
void train_conv_direct_dwt_transpose(float *dyt, const float *dy, int ns, const train_conv_dims *d);
#if CONV_DIRECT
/* dw (Cout, ntap) += weight gradient of the plan over ns samples of xp,
 * dout given transposed (train_conv_direct_dwt_transpose). */
void train_conv_direct_dwt(float *dw, const float *xp, const float *dyt, int ns,
                     const conv_direct_plan *pl);
/* The same from dout laid out as gl says, pixel vectors in the lanes (any
 * Cout % 4 == 0). */
void train_conv_direct_dwv(float *dw, const float *xp, const float *dyp, int ns,
                     const conv_dy_layout *gl, const conv_direct_plan *pl);
#endif

/* ---- conv_direct_phases.c ---- */

int train_conv_direct_phases_ok(const train_conv_dims *d);
size_t train_conv_phase_floats(const train_conv_dims *d);
void train_conv_direct_dinp_phases(float *dinp, const float *dout, const float *weight,
                             const train_conv_dims *d, const conv_scratch *sc);

/* ---- conv_dw.c ---- */

void train_conv_dw_forward(float *out, const float *inp, const float *weight, const float *bias,
                     const train_conv_dims *d);
void train_conv_dw_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                      const float *inp, const float *weight, const train_conv_dims *d);

#endif
