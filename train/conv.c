/* 2-D convolution (also 1-D with H = 1, grouped and depthwise), NCHW float32.
 *
 * Which path runs (K = Cin/G·kh·kw, P = Hout·Wout):
 * 1. Depthwise (groups == Cin == Cout): direct loops, no scratch.
 * 2. Direct AVX2/FMA kernel (x86-64 CPU with AVX2 + FMA, one group,
 *    Cout % 4 == 0, kernel larger than 1x1; see "direct kernel" below):
 *    forward (from 16 taps up), weight gradient, and the input gradient
 *    (stride 1: as the adjoint correlation below, needs Cin % 4 == 0;
 *    stride > 1: one correlation per output phase, see "output phases").
 *    On the ResNet-8 layers it runs at 50-70 GFLOP/s against 25-45 for the
 *    im2col + sgemm path: with Cout 16-64 the column matrix is about as
 *    large as the work done on it, and sgemm packs it once more.
 * 3. Otherwise im2col + sgemm, per tile of s samples × R output rows:
 *      col (K, s·R·Wout)       = im2col
 *      out_g[:, tile]          = W_g (Cout/G, K) · col           (sgemm NN)
 *      dW_g (Cout/G, K)       += dout_g[:, tile] · colᵀ          (sgemm NT, beta 1)
 *    a tile spanning several samples goes through a gather buffer. Input
 *    gradient, stride 1: the adjoint of a stride-1 correlation is again a
 *    stride-1 correlation, of dout with the flipped, transposed weight
 *      Wf_g (Cin/G, Cout/G·kh·kw), Wf[ci][co][i][j] = W[co][ci][kh-1-i][kw-1-j]
 *    and padding (kh-1)·dh - pt, so dinp_g += Wf_g · im2col(dout_g) (sgemm
 *    NN, beta 1) with no scatter. Stride > 1: dcol = W_gᵀ · dout_g (sgemm
 *    TN), then col2im adds it into dinp.
 * 4. 1x1 convolutions with stride 1, no padding and the same spatial size
 *    read the input directly as col (no scratch).
 * Padding: only top/left are given; cells beyond Hin/Win on the bottom/right
 * (TF "same") read as zero, so every index is bounds-checked on both sides.
 * Build knob: -DCONV_NO_DIRECT turns the direct kernel off (A/B timing). */
#include <cblas.h>
#include <string.h>

#include "ops.h"
#include "status.h"

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

int train_conv_out_size(int in, int k, int s, int d, int p) {
    int span = d * (k - 1) + 1;
    if (in + 2 * p < span) return 0;
    return (in + 2 * p - span) / s + 1;
}

int train_conv_same(int in, int k, int s, int d, int *pad_before) {
    int out = (in + s - 1) / s;
    int total = (out - 1) * s + d * (k - 1) + 1 - in;
    if (total < 0) total = 0;
    if (pad_before) *pad_before = total / 2;
    return out;
}

static int conv_is_depthwise(const train_conv_dims *d) {
    return d->groups == d->cin && d->cout == d->cin;
}

/* 1x1, stride 1, no padding, same size: the input plane already is col. */
static int conv_is_pointwise(const train_conv_dims *d) {
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 && d->pl == 0 &&
           d->hout == d->hin && d->wout == d->win;
}

/* A tile of a K-row column matrix over Ho × Wo outputs: s samples of
 * `rows` output rows each; rows == Ho whenever s > 1. */
typedef struct {
    int s, rows;
} conv_tiling;

static conv_tiling conv_tiles(int k, int wo, int ho, int n) {
    conv_tiling t = {1, ho};
    size_t per = (size_t)k * wo * ho;
    if (2 * per <= CONV_CHUNK_FLOATS) {
        t.s = (int)(CONV_CHUNK_FLOATS / per);
        if (t.s > n) t.s = n;
        return t;
    }
    int r = CONV_TILE_FLOATS / (k * wo);
    t.rows = r < 1 ? 1 : r > ho ? ho : r;
    return t;
}

/* The input gradient of a stride-1 convolution as a forward correlation of
 * dout (see the header comment): Cin and Cout, in and out sizes swapped. */
static train_conv_dims conv_adjoint_dims(const train_conv_dims *d) {
    train_conv_dims t = *d;
    t.cin = d->cout, t.hin = d->hout, t.win = d->wout;
    t.cout = d->cin, t.hout = d->hin, t.wout = d->win;
    t.pt = (d->kh - 1) * d->dh - d->pt;
    t.pl = (d->kw - 1) * d->dw - d->pl;
    return t;
}

static int conv_is_stride1(const train_conv_dims *d) { return d->sh == 1 && d->sw == 1; }

/* Output columns [lo, hi) whose input column ox·s + off lies in [0, in). */
static void conv_valid_range(int off, int s, int in, int out, int *lo, int *hi) {
    int l = off >= 0 ? 0 : (-off + s - 1) / s;
    int h = in - off <= 0 ? 0 : (in - off + s - 1) / s;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* Output rows [y0, y1) of the im2col of one sample: x (cg, Hin, Win);
 * col row (c,ki,kj) at stride ld holds, at (oy-y0)·Wout + ox, the input
 * x[c, oy·sh+yoff, ox·sw+off] or 0 outside the input. With stride 1 and
 * Wout == Win the valid band of a row is one contiguous run of x: one memcpy,
 * then the wrapped-around edge columns are zeroed. */
static void conv_im2col(float *col, size_t ld, const float *x, int cg, int y0, int y1,
                        const train_conv_dims *d) {
    const int wo = d->wout;
    const size_t pin = (size_t)d->hin * d->win, np = (size_t)(y1 - y0) * wo;
    const int flat = d->sh == 1 && d->sw == 1 && wo == d->win;
    for (int ki = 0; ki < d->kh; ki++) {
        int yoff = ki * d->dh - d->pt, ylo, yhi;
        conv_valid_range(yoff, d->sh, d->hin, d->hout, &ylo, &yhi);
        if (ylo < y0) ylo = y0;
        if (yhi > y1) yhi = y1;
        for (int kj = 0; kj < d->kw; kj++) {
            int off = kj * d->dw - d->pl, lo, hi;
            conv_valid_range(off, d->sw, d->win, wo, &lo, &hi);
            for (int c = 0; c < cg; c++) {
                float *row = col + ((size_t)(c * d->kh + ki) * d->kw + kj) * ld;
                const float *xc = x + (size_t)c * pin;
                if (lo >= hi || ylo >= yhi) {
                    memset(row, 0, sizeof(float) * np);
                    continue;
                }
                memset(row, 0, sizeof(float) * (ylo - y0) * wo);
                memset(row + (size_t)(yhi - y0) * wo, 0, sizeof(float) * (y1 - yhi) * wo);
                if (flat) {
                    // row[i - y0·Wo] = xc[i + yoff·Win + off], i in [ylo·Wo+lo, (yhi-1)·Wo+hi)
                    size_t a = (size_t)ylo * wo + lo, b = (size_t)(yhi - 1) * wo + hi;
                    memcpy(row + a - (size_t)y0 * wo, xc + a + (ptrdiff_t)yoff * d->win + off,
                           sizeof(float) * (b - a));
                    for (int oy = ylo; oy < yhi; oy++) {
                        float *r = row + (size_t)(oy - y0) * wo;
                        for (int ox = 0; ox < lo; ox++) r[ox] = 0.0f;
                        for (int ox = hi; ox < wo; ox++) r[ox] = 0.0f;
                    }
                    continue;
                }
                for (int oy = ylo; oy < yhi; oy++) {
                    float *r = row + (size_t)(oy - y0) * wo;
                    const float *xr = xc + (size_t)(oy * d->sh + yoff) * d->win;
                    for (int ox = 0; ox < lo; ox++) r[ox] = 0.0f;
                    if (d->sw == 1) {
                        for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox + off];
                    } else {
                        for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox * d->sw + off];
                    }
                    for (int ox = hi; ox < wo; ox++) r[ox] = 0.0f;
                }
            }
        }
    }
}

/* Adjoint of conv_im2col over output rows [y0, y1): dx (cg, Hin, Win) +=
 * scatter of dcol. */
static void conv_col2im(float *dx, const float *dcol, size_t ld, int cg, int y0, int y1,
                        const train_conv_dims *d) {
    const int wo = d->wout;
    const size_t pin = (size_t)d->hin * d->win;
    for (int c = 0; c < cg; c++) {
        float *dxc = dx + (size_t)c * pin;
        for (int ki = 0; ki < d->kh; ki++) {
            int yoff = ki * d->dh - d->pt, ylo, yhi;
            conv_valid_range(yoff, d->sh, d->hin, d->hout, &ylo, &yhi);
            if (ylo < y0) ylo = y0;
            if (yhi > y1) yhi = y1;
            for (int kj = 0; kj < d->kw; kj++) {
                const float *row = dcol + ((size_t)(c * d->kh + ki) * d->kw + kj) * ld;
                int off = kj * d->dw - d->pl, lo, hi;
                conv_valid_range(off, d->sw, d->win, wo, &lo, &hi);
                for (int oy = ylo; oy < yhi; oy++) {
                    const float *r = row + (size_t)(oy - y0) * wo;
                    float *dxr = dxc + (size_t)(oy * d->sh + yoff) * d->win;
                    if (d->sw == 1) {
                        for (int ox = lo; ox < hi; ox++) dxr[ox + off] += r[ox];
                    } else {
                        for (int ox = lo; ox < hi; ox++) dxr[ox * d->sw + off] += r[ox];
                    }
                }
            }
        }
    }
}

/* ---- depthwise: direct loops ------------------------------------------- */

static void conv_dw_forward(float *out, const float *inp, const float *weight,
                            const float *bias, const train_conv_dims *d) {
    size_t pin = (size_t)d->hin * d->win, pout = (size_t)d->hout * d->wout;
    for (int n = 0; n < d->n; n++) {
        for (int c = 0; c < d->cin; c++) {
            // x (Hin,Win), y (Hout,Wout), w (kh,kw) of channel c
            const float *x = inp + ((size_t)n * d->cin + c) * pin;
            float *y = out + ((size_t)n * d->cout + c) * pout;
            const float *w = weight + (size_t)c * d->kh * d->kw;
            float b = bias ? bias[c] : 0.0f;
            for (size_t i = 0; i < pout; i++) y[i] = b;
            for (int ki = 0; ki < d->kh; ki++) {
                for (int oy = 0; oy < d->hout; oy++) {
                    int iy = oy * d->sh - d->pt + ki * d->dh;
                    if (iy < 0 || iy >= d->hin) continue;
                    float *yr = y + (size_t)oy * d->wout;
                    for (int kj = 0; kj < d->kw; kj++) {
                        int off = kj * d->dw - d->pl, lo, hi;
                        conv_valid_range(off, d->sw, d->win, d->wout, &lo, &hi);
                        const float *xr = x + (size_t)iy * d->win;
                        float wv = w[ki * d->kw + kj];
                        if (d->sw == 1) {  // contiguous: lets the compiler vectorize
                            for (int ox = lo; ox < hi; ox++) yr[ox] += wv * xr[ox + off];
                        } else {
                            for (int ox = lo; ox < hi; ox++) yr[ox] += wv * xr[ox * d->sw + off];
                        }
                    }
                }
            }
        }
    }
}

/* Forward: y[oy,ox] = b + Σ_{ki,kj} w[ki,kj] · x[oy·sh-pt+ki·dh, ox·sw-pl+kj·dw].
 * So dx[iy,ix] += w·dy, dw[ki,kj] += x·dy, db += dy over the same index pairs. */
static void conv_dw_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const train_conv_dims *d) {
    size_t pin = (size_t)d->hin * d->win, pout = (size_t)d->hout * d->wout;
    for (int n = 0; n < d->n; n++) {
        for (int c = 0; c < d->cin; c++) {
            const float *x = inp + ((size_t)n * d->cin + c) * pin;
            const float *dy = dout + ((size_t)n * d->cout + c) * pout;
            float *dx = dinp ? dinp + ((size_t)n * d->cin + c) * pin : NULL;
            const float *w = weight + (size_t)c * d->kh * d->kw;
            float *dw = dweight ? dweight + (size_t)c * d->kh * d->kw : NULL;
            if (dbias) {
                float s = 0.0f;
                for (size_t i = 0; i < pout; i++) s += dy[i];
                dbias[c] += s;
            }
            for (int ki = 0; ki < d->kh; ki++) {
                for (int kj = 0; kj < d->kw; kj++) {
                    int off = kj * d->dw - d->pl, lo, hi;
                    conv_valid_range(off, d->sw, d->win, d->wout, &lo, &hi);
                    float wv = w[ki * d->kw + kj], acc = 0.0f;
                    for (int oy = 0; oy < d->hout; oy++) {
                        int iy = oy * d->sh - d->pt + ki * d->dh;
                        if (iy < 0 || iy >= d->hin) continue;
                        const float *dyr = dy + (size_t)oy * d->wout;
                        const float *xr = x + (size_t)iy * d->win;
                        float *dxr = dx ? dx + (size_t)iy * d->win : NULL;
                        if (d->sw == 1) {
                            if (dw)
                                for (int ox = lo; ox < hi; ox++) acc += dyr[ox] * xr[ox + off];
                            if (dxr)
                                for (int ox = lo; ox < hi; ox++) dxr[ox + off] += wv * dyr[ox];
                        } else {
                            if (dw)
                                for (int ox = lo; ox < hi; ox++)
                                    acc += dyr[ox] * xr[ox * d->sw + off];
                            if (dxr)
                                for (int ox = lo; ox < hi; ox++)
                                    dxr[ox * d->sw + off] += wv * dyr[ox];
                        }
                    }
                    if (dw) dw[ki * d->kw + kj] += acc;
                }
            }
        }
    }
}

/* ---- direct kernel (AVX2 + FMA) ------------------------------------------ *
 * For one group and Cout divisible by 4: per sample, copy x into zero-padded
 * planes split by column phase, xp (sw, Cin, Hp, Wq) with
 *   xp[f][c][r][q] = x[c][r - pt][q·sw + f - pl]   (0 outside x),
 * so that input column ox·sw + j·dw - pl is xp[f][c][.][ox + (j·dw)/sw] with
 * f = (j·dw) mod sw: consecutive outputs read consecutive floats for any
 * stride, and y[co][oy][ox] = Σ_{c,i,j} w[co][c][i][j] · xp[f][c][oy·sh +
 * i·dh][ox + (j·dw)/sw] needs no bounds checks. The outputs are cut into 8-wide
 * vectors (each row rounded up to a multiple of 8, the spare lanes computed
 * and not stored); a block of 4 output channels × 3 vectors keeps 12
 * accumulators in registers, each tap costs 4 broadcasts + 3 loads for 12
 * FMAs. Measured about twice the sgemm rate on the 16-channel ResNet layers,
 * where the column matrix is as large as the work done on it. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CONV_NO_DIRECT)
#include <immintrin.h>
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

/* Padded plane width Wq and height Hp for the direct kernel: every lane of
 * the rounded-up output rows reads inside. */
static int conv_direct_wp(const train_conv_dims *d) {
    return (d->wout + 7) / 8 * 8 + (d->kw - 1) * d->dw / d->sw;
}
static int conv_direct_hp(const train_conv_dims *d) {
    return (d->hout - 1) * d->sh + (d->kh - 1) * d->dh + 1;
}

static int conv_direct_cpu(void) {
#if CONV_DIRECT
    static int cpu = -1;
    if (cpu < 0) cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cpu;
#else
    return 0;
#endif
}

static int conv_direct_ok(const train_conv_dims *d) {
#if CONV_DIRECT
    return conv_direct_cpu() && d->groups == 1 && d->cout % 4 == 0 && d->kh * d->kw > 1 &&
           d->cin * d->kh * d->kw <= CONV_DIRECT_MAX_TAPS;
#else
    (void)d;
    return 0;
#endif
}

static size_t conv_direct_floats(const train_conv_dims *d) {
    return (size_t)d->sw * d->cin * conv_direct_hp(d) * conv_direct_wp(d);
}

/* Samples per pass of the direct forward: 3 when one sample's vector count
 * is not a multiple of the block of 3 (7x7: 7 vectors), so that the blocks
 * run across samples without half-empty ones. */
static int conv_direct_chunk(const train_conv_dims *d) {
    int nv = d->hout * ((d->wout + 7) / 8), s = nv % 3 ? 3 : 1;
    return s < d->n ? s : d->n;
}

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

/* y (ns, Cout, Hout, Wout) (+)= the plan over ns samples of xp. The vectors
 * of all ns samples form one list, cut in blocks of 3. */
__attribute__((target("avx2,fma"))) static void conv_direct_run(
    float *y, const float *xp, const float *w, int ns, const conv_direct_plan *pl, int accumulate) {
    const int vpr = (pl->wout + 7) / 8, nv1 = pl->hout * vpr, nvec = ns * nv1;
    const int p = pl->hout * pl->wout, ntap = pl->ntap;
    const int *toff = pl->toff;
    static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int co = 0; co < pl->cout; co += 4) {
        const float *w0 = w + (size_t)co * ntap, *w1 = w0 + ntap, *w2 = w1 + ntap, *w3 = w2 + ntap;
        for (int v0 = 0; v0 < nvec; v0 += 3) {
            // vectors v0..v0+2: x offset into xp, y offset, valid lanes (0: past the end)
            int xo[3], yo[3], cnt[3];
            for (int v = 0; v < 3; v++) {
                int vi = v0 + v < nvec ? v0 + v : v0, s = vi / nv1, oy = vi % nv1 / vpr;
                int ox = vi % vpr * 8;
                xo[v] = (int)(s * pl->xs) + oy * pl->xrow + ox;
                yo[v] = s * pl->cout * p + oy * pl->wout + ox;
                cnt[v] = v0 + v < nvec ? (pl->wout - ox < 8 ? pl->wout - ox : 8) : 0;
            }
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00,
                   a12 = a00, a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
            for (int u = 0; u < ntap; u++) {
                const float *xr = xp + toff[u];
                __m256 x0 = _mm256_loadu_ps(xr + xo[0]), x1 = _mm256_loadu_ps(xr + xo[1]),
                       x2 = _mm256_loadu_ps(xr + xo[2]);
                __m256 b = _mm256_broadcast_ss(w0 + u);
                a00 = _mm256_fmadd_ps(b, x0, a00);
                a01 = _mm256_fmadd_ps(b, x1, a01);
                a02 = _mm256_fmadd_ps(b, x2, a02);
                b = _mm256_broadcast_ss(w1 + u);
                a10 = _mm256_fmadd_ps(b, x0, a10);
                a11 = _mm256_fmadd_ps(b, x1, a11);
                a12 = _mm256_fmadd_ps(b, x2, a12);
                b = _mm256_broadcast_ss(w2 + u);
                a20 = _mm256_fmadd_ps(b, x0, a20);
                a21 = _mm256_fmadd_ps(b, x1, a21);
                a22 = _mm256_fmadd_ps(b, x2, a22);
                b = _mm256_broadcast_ss(w3 + u);
                a30 = _mm256_fmadd_ps(b, x0, a30);
                a31 = _mm256_fmadd_ps(b, x1, a31);
                a32 = _mm256_fmadd_ps(b, x2, a32);
            }
            __m256 acc[4][3] = {{a00, a01, a02}, {a10, a11, a12}, {a20, a21, a22}, {a30, a31, a32}};
            for (int v = 0; v < 3; v++) {
                if (cnt[v] == 0) continue;
                __m256i m = _mm256_loadu_si256((const __m256i *)(mask_src + 8 - cnt[v]));
                for (int q = 0; q < 4; q++) {
                    float *yr = y + (size_t)(co + q) * p + yo[v];
                    __m256 r = acc[q][v];
                    if (accumulate) r = _mm256_add_ps(r, _mm256_maskload_ps(yr, m));
                    _mm256_maskstore_ps(yr, m, r);
                }
            }
        }
    }
}
/* toff[u] for tap u = (c, i, j) of a convolution read through conv_direct_pad. */
static void conv_direct_taps(int *toff, const train_conv_dims *d) {
    const int wp = conv_direct_wp(d), plane = wp * conv_direct_hp(d);
    for (int c = 0; c < d->cin; c++)
        for (int i = 0; i < d->kh; i++)
            for (int j = 0; j < d->kw; j++)
                toff[(c * d->kh + i) * d->kw + j] = (j * d->dw % d->sw * d->cin + c) * plane +
                                                    i * d->dh * wp + j * d->dw / d->sw;
}

/* y (ns, Cout, Hout, Wout) (+)= conv of ns padded samples xp (ns, sw, Cin,
 * Hp, Wq) with w (Cout, Cin, kh, kw). */
static void conv_direct_samples(float *y, const float *xp, const float *w, int ns,
                                const train_conv_dims *d, int accumulate) {
    int toff[CONV_DIRECT_MAX_TAPS];
    conv_direct_taps(toff, d);
    conv_direct_plan pl = {d->cout, d->cin * d->kh * d->kw, toff, d->hout, d->wout,
                           d->sh * conv_direct_wp(d), conv_direct_floats(d)};
    conv_direct_run(y, xp, w, ns, &pl, accumulate);
}
#endif

/* xp (sw, Cin, Hp, Wq) <- x (Cin, Hin, Win) of one sample as in the header
 * comment, zero elsewhere. */
static void conv_direct_pad(float *xp, const float *x, const train_conv_dims *d) {
    const int wp = conv_direct_wp(d), hp = conv_direct_hp(d);
    int ylo, yhi;  // rows [ylo, yhi) of xp hold x
    conv_valid_range(-d->pt, 1, d->hin, hp, &ylo, &yhi);
    for (int f = 0; f < d->sw; f++) {
        int lo, hi;  // columns [lo, hi) of phase f hold x
        conv_valid_range(f - d->pl, d->sw, d->win, wp, &lo, &hi);
        const int r0 = lo < hi ? ylo : 0, r1 = lo < hi ? yhi : 0;
        for (int c = 0; c < d->cin; c++) {
            float *xc = xp + ((size_t)f * d->cin + c) * hp * wp;
            memset(xc, 0, sizeof(float) * r0 * wp);
            memset(xc + (size_t)r1 * wp, 0, sizeof(float) * (hp - r1) * wp);
            for (int r = r0; r < r1; r++) {
                // q: row r of xp; column i reads xr[i·sw + f - pl] of row r - pt of channel c
                float *q = xc + (size_t)r * wp;
                const float *xr = x + ((size_t)c * d->hin + r - d->pt) * d->win + f;
                for (int i = 0; i < lo; i++) q[i] = 0.0f;
                if (d->sw == 1) {
                    for (int i = lo; i < hi; i++) q[i] = xr[i - d->pl];
                } else {
                    for (int i = lo; i < hi; i++) q[i] = xr[i * d->sw - d->pl];
                }
                for (int i = hi; i < wp; i++) q[i] = 0.0f;
            }
        }
    }
}

/* Floats of the lane-padded dout copy: (Cout, Hout, Wout rounded up to 8). */
static size_t conv_direct_dyp_floats(const train_conv_dims *d) {
    return (size_t)d->cout * d->hout * ((d->wout + 7) / 8 * 8);
}

#if CONV_DIRECT
/* Where dout lies in the buffer the weight gradient reads: (oy, ox) of
 * channel co, sample s at s·sample + co·channel + oy·row + ox; lanes past
 * Wout up to the next multiple of 8 must read 0. */
typedef struct {
    size_t sample, channel;
    int row;
} conv_dy_layout;

/* dw (Cout, Cin·kh·kw) += Σ_pixels dyp[co][pix] · xp[c][pix + (i, j)]: the
 * weight gradient of conv_direct_sample for ns samples stored one after
 * the other. dyp (Cout, Hout, V·8) is dout with each row padded to whole
 * vectors by zeros, so the spare lanes add nothing. Blocks of 4 channels × 3
 * taps, 12 accumulators summed over all pixel vectors of the ns samples,
 * then reduced across lanes. */
__attribute__((target("avx2,fma"))) static void conv_direct_dw_samples(
    float *dw, const float *xp, const float *dyp, int ns, const conv_dy_layout *gl,
    const train_conv_dims *d) {
    const size_t xs = conv_direct_floats(d), ys = gl->sample;
    const int wp = conv_direct_wp(d), kk = d->kh * d->kw;
    const int vpr = (d->wout + 7) / 8, ntap = d->cin * kk;
    const size_t pv = gl->channel;
    int toff[CONV_DIRECT_MAX_TAPS];
    conv_direct_taps(toff, d);
    for (int co = 0; co < d->cout; co += 4) {
        const float *g0 = dyp + (size_t)co * pv, *g1 = g0 + pv, *g2 = g1 + pv, *g3 = g2 + pv;
        for (int u0 = 0; u0 < ntap; u0 += 3) {
            int nu = ntap - u0 < 3 ? ntap - u0 : 3;
            const float *x0 = xp + toff[u0], *x1 = xp + toff[nu > 1 ? u0 + 1 : u0];
            const float *x2 = xp + toff[nu > 2 ? u0 + 2 : u0];
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00,
                   a12 = a00, a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
            for (int s = 0; s < ns; s++) {
                for (int oy = 0; oy < d->hout; oy++) {
                    // row oy of sample s: offset in xp (from each tap) and in dyp
                    const size_t xr = s * xs + (size_t)oy * d->sh * wp;
                    const size_t gr = s * ys + (size_t)oy * gl->row;
                    for (int vx = 0; vx < vpr; vx++) {
                        const size_t xo = xr + vx * 8, go = gr + vx * 8;
                        __m256 xa = _mm256_loadu_ps(x0 + xo), xb = _mm256_loadu_ps(x1 + xo),
                               xc = _mm256_loadu_ps(x2 + xo);
                        __m256 g = _mm256_loadu_ps(g0 + go);
                        a00 = _mm256_fmadd_ps(g, xa, a00);
                        a01 = _mm256_fmadd_ps(g, xb, a01);
                        a02 = _mm256_fmadd_ps(g, xc, a02);
                        g = _mm256_loadu_ps(g1 + go);
                        a10 = _mm256_fmadd_ps(g, xa, a10);
                        a11 = _mm256_fmadd_ps(g, xb, a11);
                        a12 = _mm256_fmadd_ps(g, xc, a12);
                        g = _mm256_loadu_ps(g2 + go);
                        a20 = _mm256_fmadd_ps(g, xa, a20);
                        a21 = _mm256_fmadd_ps(g, xb, a21);
                        a22 = _mm256_fmadd_ps(g, xc, a22);
                        g = _mm256_loadu_ps(g3 + go);
                        a30 = _mm256_fmadd_ps(g, xa, a30);
                        a31 = _mm256_fmadd_ps(g, xb, a31);
                        a32 = _mm256_fmadd_ps(g, xc, a32);
                    }
                }
            }
            __m256 acc[4][3] = {{a00, a01, a02}, {a10, a11, a12}, {a20, a21, a22}, {a30, a31, a32}};
            for (int q = 0; q < 4; q++)
                for (int t = 0; t < nu; t++) {
                    __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[q][t]),
                                          _mm256_extractf128_ps(acc[q][t], 1));
                    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
                    h = _mm_add_ss(h, _mm_movehdup_ps(h));
                    dw[(size_t)(co + q) * ntap + u0 + t] += _mm_cvtss_f32(h);
                }
        }
    }
}
#endif

/* Samples per pass of the direct weight gradient: enough that a block sums
 * over CONV_DIRECT_DW_VECTORS pixel vectors before its lane reduction. */
static int conv_direct_dw_chunk(const train_conv_dims *d) {
    int v = d->hout * ((d->wout + 7) / 8), s = (CONV_DIRECT_DW_VECTORS + v - 1) / v;
    return s < d->n ? s : d->n;
}

/* dweight += weight gradient of a stride-1 conv (conv_direct_ok), per chunk
 * of samples from their padded inputs and lane-padded douts; scratch: the
 * chunk's xp, then its dyp. */
static void conv_direct_dweight(float *dweight, const float *dout, const float *inp,
                                const train_conv_dims *d, float *scratch) {
#if CONV_DIRECT
    const size_t pin = (size_t)d->hin * d->win, p = (size_t)d->hout * d->wout;
    const size_t xs = conv_direct_floats(d), ys = conv_direct_dyp_floats(d);
    const int wv = (d->wout + 7) / 8 * 8, chunk = conv_direct_dw_chunk(d);
    float *xp = scratch, *dyp = scratch + chunk * xs;
    const conv_dy_layout gl = {ys, (size_t)d->hout * wv, wv};
    memset(dyp, 0, sizeof(float) * chunk * ys);
    for (int n0 = 0; n0 < d->n; n0 += chunk) {
        int ns = d->n - n0 < chunk ? d->n - n0 : chunk;
        for (int s = 0; s < ns; s++) {
            conv_direct_pad(xp + s * xs, inp + (size_t)(n0 + s) * d->cin * pin, d);
            // dy (Cout, Hout, Wout) -> dyp (Cout, Hout, wv); the spare lanes stay 0
            const float *dy = dout + (size_t)(n0 + s) * d->cout * p;
            for (int r = 0; r < d->cout * d->hout; r++)
                memcpy(dyp + s * ys + (size_t)r * wv, dy + (size_t)r * d->wout,
                       sizeof(float) * d->wout);
        }
        conv_direct_dw_samples(dweight, xp, dyp, ns, &gl, d);
    }
#else
    (void)dweight, (void)dout, (void)inp, (void)d, (void)scratch;
    TRAIN_ASSERT(0);
#endif
}

/* out (N, Cout, Hout, Wout) (+)= stride-1 conv of inp by weight; xp scratch. */
static void conv_direct(float *out, const float *inp, const float *weight,
                        const train_conv_dims *d, float *xp, int accumulate) {
#if CONV_DIRECT
    const size_t pin = (size_t)d->hin * d->win, p = (size_t)d->hout * d->wout;
    const size_t xs = conv_direct_floats(d);
    const int chunk = conv_direct_chunk(d);
    for (int n0 = 0; n0 < d->n; n0 += chunk) {
        int ns = d->n - n0 < chunk ? d->n - n0 : chunk;
        for (int s = 0; s < ns; s++)
            conv_direct_pad(xp + s * xs, inp + (size_t)(n0 + s) * d->cin * pin, d);
        conv_direct_samples(out + (size_t)n0 * d->cout * p, xp, weight, ns, d, accumulate);
    }
#else
    (void)out, (void)inp, (void)weight, (void)d, (void)xp, (void)accumulate;
    TRAIN_ASSERT(0);
#endif
}

/* Stride 1 with both gradients direct: per chunk of samples, one padded copy
 * of dout (the adjoint's input) serves the weight gradient too, and x and
 * dout are read once. Needs dout to sit inside that copy with zero lanes
 * to its right (conv_fused_ok). */
static int conv_fused_ok(const train_conv_dims *d) {
    if (!conv_is_stride1(d) || !conv_direct_ok(d)) return 0;
    train_conv_dims t = conv_adjoint_dims(d);
    return conv_direct_ok(&t) && t.pt >= 0 && t.pl >= 0 &&
           d->hout + t.pt <= conv_direct_hp(&t) &&
           (d->wout + 7) / 8 * 8 + t.pl <= conv_direct_wp(&t);
}

/* Work floats of conv_direct_backward_fused: the chunk's xp and padded dout. */
static size_t conv_fused_floats(const train_conv_dims *d) {
    train_conv_dims t = conv_adjoint_dims(d);
    return conv_direct_dw_chunk(d) * (conv_direct_floats(d) + conv_direct_floats(&t));
}

/* dweight and dinp += gradients of a stride-1 conv (conv_fused_ok); wflip
 * the flipped weight (see conv_backward_adjoint). */
static void conv_direct_backward_fused(float *dinp, float *dweight, const float *dout,
                                       const float *inp, const float *wflip,
                                       const train_conv_dims *d, float *work) {
#if CONV_DIRECT
    const train_conv_dims t = conv_adjoint_dims(d);
    const size_t pin = (size_t)d->hin * d->win, p = (size_t)d->hout * d->wout;
    const size_t xs = conv_direct_floats(d), ts = conv_direct_floats(&t);
    const int chunk = conv_direct_dw_chunk(d), wq = conv_direct_wp(&t);
    float *xp = work, *dp = work + chunk * xs;
    // dout (oy, ox) of channel co is dp[co][oy + t.pt][ox + t.pl]
    const conv_dy_layout gl = {ts, (size_t)conv_direct_hp(&t) * wq, wq};
    for (int n0 = 0; n0 < d->n; n0 += chunk) {
        int ns = d->n - n0 < chunk ? d->n - n0 : chunk;
        for (int s = 0; s < ns; s++) {
            conv_direct_pad(xp + s * xs, inp + (n0 + s) * d->cin * pin, d);
            conv_direct_pad(dp + s * ts, dout + (n0 + s) * d->cout * p, &t);
        }
        conv_direct_dw_samples(dweight, xp, dp + (size_t)t.pt * wq + t.pl, ns, &gl, d);
        conv_direct_samples(dinp + n0 * d->cin * pin, dp, wflip, ns, &t, 1);
    }
#else
    (void)dinp, (void)dweight, (void)dout, (void)inp, (void)wflip, (void)d, (void)work;
    TRAIN_ASSERT(0);
#endif
}

/* ---- strided input gradient by output phases ---------------------------- *
 * With stride s > 1, input row a + sh·Y (phase a in [0, sh)) gets dout row
 * oy = Y + e from exactly the taps i with (a + pt - i·dh) divisible by sh,
 * e = (a + pt - i·dh) / sh; columns alike. So each phase (a, b) of dinp is a
 * stride-1 correlation of dout (padded by the most negative e, zeros beyond)
 * over its own subset of taps: one conv_direct_run per phase into a dense
 * phase plane, then added into dinp with stride (sh, sw). The phases
 * partition the taps, so the packed weights (Cin, taps of each phase) take
 * Cout·Cin·kh·kw floats, the wflip slot of the scratch. */

#define CONV_PHASE_MAX 64  /* sh·sw at most */

typedef struct {
    int pt, pl;  /* dout offset inside its padded copy dp (Cout, hq, wq) */
    int hq, wq;
    int hm, wm;  /* largest phase plane: ceil(Hin / sh) × ceil(Win / sw) */
    int chunk;   /* samples per pass */
} conv_phase_geom;

static int conv_direct_phases_ok(const train_conv_dims *d) {
    return conv_direct_cpu() && d->groups == 1 && d->cin % 4 == 0 && d->kh * d->kw > 1 &&
           d->sh * d->sw <= CONV_PHASE_MAX && d->cout * d->kh * d->kw <= CONV_DIRECT_MAX_TAPS;
}

/* Smallest and largest offset e over all phases and taps of one axis. */
static void conv_phase_range(int s, int p, int k, int dil, int *emin, int *emax) {
    *emin = 0, *emax = 0;
    for (int a = 0; a < s; a++)
        for (int i = 0; i < k; i++)
            if ((a + p - i * dil) % s == 0) {
                int e = (a + p - i * dil) / s;
                if (e < *emin) *emin = e;
                if (e > *emax) *emax = e;
            }
}

static conv_phase_geom conv_phase_geometry(const train_conv_dims *d) {
    conv_phase_geom g;
    int eymin, eymax, exmin, exmax;
    conv_phase_range(d->sh, d->pt, d->kh, d->dh, &eymin, &eymax);
    conv_phase_range(d->sw, d->pl, d->kw, d->dw, &exmin, &exmax);
    g.pt = -eymin, g.pl = -exmin;
    g.hm = (d->hin + d->sh - 1) / d->sh, g.wm = (d->win + d->sw - 1) / d->sw;
    int rows = g.pt + g.hm + eymax, cols = g.pl + (g.wm + 7) / 8 * 8 + exmax;
    g.hq = rows > g.pt + d->hout ? rows : g.pt + d->hout;
    g.wq = cols > g.pl + d->wout ? cols : g.pl + d->wout;
    int nv = g.hm * ((g.wm + 7) / 8);
    g.chunk = nv % 3 ? 3 : 1;
    if (g.chunk > d->n) g.chunk = d->n;
    return g;
}

/* Work floats after the packed weights: the chunk's dp and phase planes. */
static size_t conv_phase_floats(const train_conv_dims *d) {
    conv_phase_geom g = conv_phase_geometry(d);
    return (size_t)g.chunk * ((size_t)d->cout * g.hq * g.wq + (size_t)d->cin * g.hm * g.wm);
}

/* dinp += input gradient of a strided conv (conv_direct_phases_ok); wph
 * holds Cout·Cin·kh·kw floats, work conv_phase_floats. */
static void conv_direct_dinp_phases(float *dinp, const float *dout, const float *weight,
                                    const train_conv_dims *d, float *wph, float *work) {
#if CONV_DIRECT
    const conv_phase_geom g = conv_phase_geometry(d);
    const int kk = d->kh * d->kw, np = d->sh * d->sw;
    const size_t p = (size_t)d->hout * d->wout, pin = (size_t)d->hin * d->win;
    const size_t dps = (size_t)d->cout * g.hq * g.wq;
    // per phase: taps [start, start + ntap) of toff; weights wph + Cin·start as (Cin, ntap)
    int toff[CONV_DIRECT_MAX_TAPS], start[CONV_PHASE_MAX], ntap[CONV_PHASE_MAX], u = 0;
    for (int ph = 0; ph < np; ph++) {
        int a = ph / d->sw, b = ph % d->sw;
        start[ph] = u;
        for (int co = 0; co < d->cout; co++)
            for (int i = 0; i < d->kh; i++) {
                if ((a + d->pt - i * d->dh) % d->sh) continue;
                int ey = (a + d->pt - i * d->dh) / d->sh;
                for (int j = 0; j < d->kw; j++) {
                    if ((b + d->pl - j * d->dw) % d->sw) continue;
                    int ex = (b + d->pl - j * d->dw) / d->sw;
                    toff[u++] = (co * g.hq + g.pt + ey) * g.wq + g.pl + ex;
                }
            }
        ntap[ph] = u - start[ph];
        // wph block (Cin, ntap): the same (co, i, j) order as toff
        float *wb = wph + (size_t)d->cin * start[ph];
        int t = 0;
        for (int co = 0; co < d->cout; co++)
            for (int i = 0; i < d->kh; i++) {
                if ((a + d->pt - i * d->dh) % d->sh) continue;
                for (int j = 0; j < d->kw; j++) {
                    if ((b + d->pl - j * d->dw) % d->sw) continue;
                    for (int c = 0; c < d->cin; c++)
                        wb[(size_t)c * ntap[ph] + t] =
                            weight[((size_t)co * d->cin + c) * kk + i * d->kw + j];
                    t++;
                }
            }
    }
    float *dp = work, *yph = work + g.chunk * dps;
    memset(dp, 0, sizeof(float) * g.chunk * dps);  // the borders stay zero
    for (int n0 = 0; n0 < d->n; n0 += g.chunk) {
        int ns = d->n - n0 < g.chunk ? d->n - n0 : g.chunk;
        for (int s = 0; s < ns; s++)
            for (int co = 0; co < d->cout; co++)
                for (int oy = 0; oy < d->hout; oy++)
                    memcpy(dp + s * dps + ((size_t)co * g.hq + g.pt + oy) * g.wq + g.pl,
                           dout + ((size_t)(n0 + s) * d->cout + co) * p + (size_t)oy * d->wout,
                           sizeof(float) * d->wout);
        for (int ph = 0; ph < np; ph++) {
            int a = ph / d->sw, b = ph % d->sw;
            int ha = (d->hin - a + d->sh - 1) / d->sh, wb = (d->win - b + d->sw - 1) / d->sw;
            if (ntap[ph] == 0 || ha <= 0 || wb <= 0) continue;
            conv_direct_plan pl = {d->cin, ntap[ph], toff + start[ph], ha, wb, g.wq, dps};
            conv_direct_run(yph, dp, wph + (size_t)d->cin * start[ph], ns, &pl, 0);
            // yph (ns, Cin, ha, wb) -> dinp[n0 + s][c][a + sh·Y][b + sw·X]
            for (int s = 0; s < ns; s++)
                for (int c = 0; c < d->cin; c++)
                    for (int y = 0; y < ha; y++) {
                        const float *src = yph + (((size_t)s * d->cin + c) * ha + y) * wb;
                        float *dst = dinp + ((size_t)(n0 + s) * d->cin + c) * pin +
                                     (size_t)(a + d->sh * y) * d->win + b;
                        for (int x = 0; x < wb; x++) dst[(size_t)x * d->sw] += src[x];
                    }
        }
    }
#else
    (void)dinp, (void)dout, (void)weight, (void)d, (void)wph, (void)work;
    TRAIN_ASSERT(0);
#endif
}

/* ---- scratch ------------------------------------------------------------ */

/* Scratch layout (floats): wflip (Cout·K, stride 1 only), then col, the
 * largest work buffer of any path (im2col tiles, the direct kernels' padded
 * planes), then gat (gathered tiles when a tile spans several samples). */
static void conv_scratch_sizes(const train_conv_dims *d, size_t *wflip, size_t *col, size_t *gat) {
    const int k = d->cin / d->groups * d->kh * d->kw;
    const size_t p = (size_t)d->hout * d->wout, pin = (size_t)d->hin * d->win;
    conv_tiling tl = conv_tiles(k, d->wout, d->hout, d->n);
    *col = (size_t)k * tl.s * tl.rows * d->wout;
    *gat = tl.s > 1 ? (size_t)d->cout / d->groups * tl.s * p : 0;
    *wflip = 0;
    if (conv_is_stride1(d)) {
        int kt = d->cout / d->groups * d->kh * d->kw;
        conv_tiling tt = conv_tiles(kt, d->win, d->hin, d->n);
        size_t colt = (size_t)kt * tt.s * tt.rows * d->win;
        size_t gatt = tt.s > 1 ? (size_t)d->cin / d->groups * tt.s * pin : 0;
        if (colt > *col) *col = colt;
        if (gatt > *gat) *gat = gatt;
        *wflip = (size_t)d->cout * k;
        train_conv_dims t = conv_adjoint_dims(d);
        size_t dirt = conv_direct_chunk(&t) * conv_direct_floats(&t);
        if (conv_direct_ok(&t) && dirt > *col) *col = dirt;
    }
    if (conv_fused_ok(d) && conv_fused_floats(d) > *col) *col = conv_fused_floats(d);
    if (!conv_is_stride1(d) && conv_direct_phases_ok(d)) {
        *wflip = (size_t)d->cout * k;
        if (conv_phase_floats(d) > *col) *col = conv_phase_floats(d);
    }
    if (conv_direct_ok(d) && conv_direct_chunk(d) * conv_direct_floats(d) > *col)
        *col = conv_direct_chunk(d) * conv_direct_floats(d);
    if (conv_direct_ok(d)) {
        size_t dir = conv_direct_dw_chunk(d) * (conv_direct_floats(d) + conv_direct_dyp_floats(d));
        if (dir > *col) *col = dir;
    }
}

size_t train_conv2d_scratch_floats(const train_conv_dims *d) {
    if (conv_is_depthwise(d) || conv_is_pointwise(d)) return 0;
    size_t wflip, col, gat;
    conv_scratch_sizes(d, &wflip, &col, &gat);
    return wflip + col + gat;
}

/* ---- general path: im2col + sgemm ---------------------------------------- */

/* gat (c, s·P) <- x[n0 .. n0+s) (s, C, P), channels [c0, c0+c) */
static void conv_gather(float *gat, const float *x, int n0, int s, int ch, int c0, int c, size_t p) {
    for (int si = 0; si < s; si++)
        for (int ci = 0; ci < c; ci++)
            memcpy(gat + (size_t)ci * s * p + si * p, x + ((size_t)(n0 + si) * ch + c0 + ci) * p,
                   sizeof(float) * p);
}

/* x[n0 .. n0+s) (s, C, P), channels [c0, c0+c) (+)= gat (c, s·P) */
static void conv_scatter(float *x, const float *gat, int n0, int s, int ch, int c0, int c,
                         size_t p, int add) {
    for (int si = 0; si < s; si++)
        for (int ci = 0; ci < c; ci++) {
            float *xr = x + ((size_t)(n0 + si) * ch + c0 + ci) * p;
            const float *gr = gat + (size_t)ci * s * p + si * p;
            if (add) {
                for (size_t i = 0; i < p; i++) xr[i] += gr[i];
            } else {
                memcpy(xr, gr, sizeof(float) * p);
            }
        }
}

typedef struct {
    float *wflip, *col, *gat;
} conv_scratch;

static conv_scratch conv_scratch_carve(float *scratch, const train_conv_dims *d) {
    size_t wflip, col, gat;
    conv_scratch_sizes(d, &wflip, &col, &gat);
    conv_scratch s = {scratch, scratch + wflip, scratch + wflip + col};
    return s;
}

/* out (N, Cout, P) += bias (Cout), if any */
static void conv_add_bias(float *out, const float *bias, const train_conv_dims *d) {
    if (!bias) return;
    const size_t p = (size_t)d->hout * d->wout;
    for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->cout; co++) {
            float *o = out + ((size_t)n * d->cout + co) * p;
            for (size_t i = 0; i < p; i++) o[i] += bias[co];
        }
}

/* out = conv(inp) over tiles of s samples × rows output rows, per group:
 * col (K, s·np) = im2col, out tile = W_g · col (via gat when s > 1). */
void train_conv2d_forward(float *out, const float *inp, const float *weight,
                          const float *bias, const train_conv_dims *d, float *scratch) {
    TRAIN_ASSERT(d->groups >= 1 && d->cin % d->groups == 0 && d->cout % d->groups == 0);
    if (conv_is_depthwise(d)) {
        conv_dw_forward(out, inp, weight, bias, d);
        return;
    }
    if (conv_direct_ok(d) && d->cin * d->kh * d->kw >= CONV_DIRECT_MIN_TAPS) {
        conv_direct(out, inp, weight, d, conv_scratch_carve(scratch, d).col, 0);
        conv_add_bias(out, bias, d);
        return;
    }
    const int cg = d->cin / d->groups, og = d->cout / d->groups;
    const int k = cg * d->kh * d->kw, pw = conv_is_pointwise(d);
    const int p = d->hout * d->wout;
    const size_t pin = (size_t)d->hin * d->win;
    const conv_tiling tl = pw ? (conv_tiling){1, d->hout} : conv_tiles(k, d->wout, d->hout, d->n);
    const conv_scratch sc = pw ? (conv_scratch){0} : conv_scratch_carve(scratch, d);
    for (int n0 = 0; n0 < d->n; n0 += tl.s) {
        int s = d->n - n0 < tl.s ? d->n - n0 : tl.s;
        for (int g = 0; g < d->groups; g++) {
            const float *w = weight + (size_t)g * og * k;  // w (og, K)
            float *y = out + ((size_t)n0 * d->cout + (size_t)g * og) * p;
            if (pw) {
                // x (cg, P) of sample n0 is already the column matrix
                const float *x = inp + ((size_t)n0 * d->cin + (size_t)g * cg) * pin;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, og, p, k, 1.0f, w, k, x, p,
                            0.0f, y, p);
                continue;
            }
            for (int y0 = 0; y0 < d->hout; y0 += tl.rows) {
                int y1 = y0 + tl.rows < d->hout ? y0 + tl.rows : d->hout;
                int np = (y1 - y0) * d->wout, ld = s * np;
                for (int si = 0; si < s; si++)
                    conv_im2col(sc.col + si * np, ld, inp + ((size_t)(n0 + si) * d->cin + g * cg) * pin,
                                cg, y0, y1, d);
                if (s == 1) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, og, np, k, 1.0f, w, k,
                                sc.col, np, 0.0f, y + (size_t)y0 * d->wout, p);
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, og, ld, k, 1.0f, w, k,
                                sc.col, ld, 0.0f, sc.gat, ld);
                    conv_scatter(out, sc.gat, n0, s, d->cout, g * og, og, p, 0);
                }
            }
        }
    }
    conv_add_bias(out, bias, d);
}

/* dW_g (og, K) += dout_g · colᵀ over the tiles; stride > 1 also dinp via
 * dcol = W_gᵀ · dout_g and col2im (the tiles are the same). */
static void conv_backward_cols(float *dinp, float *dweight, const float *dout, const float *inp,
                               const float *weight, const train_conv_dims *d, conv_scratch sc) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups;
    const int k = cg * d->kh * d->kw, p = d->hout * d->wout;
    const size_t pin = (size_t)d->hin * d->win;
    const conv_tiling tl = conv_tiles(k, d->wout, d->hout, d->n);
    for (int n0 = 0; n0 < d->n; n0 += tl.s) {
        int s = d->n - n0 < tl.s ? d->n - n0 : tl.s;
        for (int g = 0; g < d->groups; g++) {
            const float *w = weight + (size_t)g * og * k;  // w and dw (og, K)
            const float *dy = dout + ((size_t)n0 * d->cout + (size_t)g * og) * p;
            int ldy = p;  // dy (og, P) of sample n0, or gathered (og, s·P)
            if (s > 1) {
                conv_gather(sc.gat, dout, n0, s, d->cout, g * og, og, p);
                dy = sc.gat, ldy = s * p;
            }
            for (int y0 = 0; y0 < d->hout; y0 += tl.rows) {
                int y1 = y0 + tl.rows < d->hout ? y0 + tl.rows : d->hout;
                int np = (y1 - y0) * d->wout, ld = s * np;
                const float *dyt = dy + (size_t)y0 * d->wout;
                if (dweight) {
                    for (int si = 0; si < s; si++)
                        conv_im2col(sc.col + si * np, ld,
                                    inp + ((size_t)(n0 + si) * d->cin + g * cg) * pin, cg, y0, y1, d);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, og, k, ld, 1.0f, dyt, ldy,
                                sc.col, ld, 1.0f, dweight + (size_t)g * og * k, k);
                }
                if (dinp) {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, ld, og, 1.0f, w, k, dyt,
                                ldy, 0.0f, sc.col, ld);
                    for (int si = 0; si < s; si++)
                        conv_col2im(dinp + ((size_t)(n0 + si) * d->cin + g * cg) * pin,
                                    sc.col + si * np, ld, cg, y0, y1, d);
                }
            }
        }
    }
}

/* wflip (G·cg, og·kh·kw) <- Wf of the header comment: weight with Cin and
 * Cout swapped within each group, taps reversed. */
static void conv_flip_weights(float *wflip, const float *weight, const train_conv_dims *d) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, kk = d->kh * d->kw;
    const int kt = og * kk;
    for (int co = 0; co < d->cout; co++)
        for (int ci = 0; ci < cg; ci++)
            for (int i = 0; i < kk; i++) {
                // weight (Cout, cg, kh·kw) -> wflip (G·cg, og, kh·kw), taps reversed
                int g = co / og;
                wflip[(size_t)(g * cg + ci) * kt + (size_t)(co - g * og) * kk + kk - 1 - i] =
                    weight[((size_t)co * cg + ci) * kk + i];
            }
}

/* Stride 1: dinp_g += Wf_g (cg, kt) · im2col of dout under the adjoint dims
 * (sc.wflip already holds Wf). */
static void conv_backward_adjoint(float *dinp, const float *dout, const train_conv_dims *d,
                                  conv_scratch sc) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, kk = d->kh * d->kw;
    const int kt = og * kk, p = d->hout * d->wout, pin = d->hin * d->win;
    const train_conv_dims t = conv_adjoint_dims(d);
    if (conv_direct_ok(&t)) {
        conv_direct(dinp, dout, sc.wflip, &t, sc.col, 1);
        return;
    }
    const conv_tiling tl = conv_tiles(kt, t.wout, t.hout, d->n);
    for (int n0 = 0; n0 < d->n; n0 += tl.s) {
        int s = d->n - n0 < tl.s ? d->n - n0 : tl.s;
        for (int g = 0; g < d->groups; g++) {
            const float *wf = sc.wflip + (size_t)g * cg * kt;
            for (int y0 = 0; y0 < t.hout; y0 += tl.rows) {
                int y1 = y0 + tl.rows < t.hout ? y0 + tl.rows : t.hout;
                int np = (y1 - y0) * t.wout, ld = s * np;
                for (int si = 0; si < s; si++)
                    conv_im2col(sc.col + si * np, ld, dout + ((size_t)(n0 + si) * d->cout + g * og) * p,
                                og, y0, y1, &t);
                if (s == 1) {
                    float *dx = dinp + ((size_t)n0 * d->cin + (size_t)g * cg) * pin;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cg, np, kt, 1.0f, wf, kt,
                                sc.col, np, 1.0f, dx + (size_t)y0 * t.wout, pin);
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cg, ld, kt, 1.0f, wf, kt,
                                sc.col, ld, 0.0f, sc.gat, ld);
                    conv_scatter(dinp, sc.gat, n0, s, d->cin, g * cg, cg, pin, 1);
                }
            }
        }
    }
}

/* 1x1 pointwise: the input plane is the column matrix, one sgemm per sample. */
static void conv_backward_pointwise(float *dinp, float *dweight, const float *dout,
                                    const float *inp, const float *weight,
                                    const train_conv_dims *d) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, p = d->hout * d->wout;
    for (int n = 0; n < d->n; n++)
        for (int g = 0; g < d->groups; g++) {
            // x and dx (cg, P), dy (og, P), w and dw (og, cg)
            const float *x = inp + ((size_t)n * d->cin + (size_t)g * cg) * p;
            const float *dy = dout + ((size_t)n * d->cout + (size_t)g * og) * p;
            if (dweight)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, og, cg, p, 1.0f, dy, p, x, p,
                            1.0f, dweight + (size_t)g * og * cg, cg);
            if (dinp)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cg, p, og, 1.0f,
                            weight + (size_t)g * og * cg, cg, dy, p, 1.0f,
                            dinp + ((size_t)n * d->cin + (size_t)g * cg) * p, p);
        }
}

/* Forward per group: out_g = W_g · col. Hence dW_g += dout_g · colᵀ,
 * dcol = W_gᵀ · dout_g (scattered back by col2im, or for stride 1 computed
 * as the flipped-weight correlation), dbias += Σ_{n,p} dout. */
void train_conv2d_backward(float *dinp, float *dweight, float *dbias,
                           const float *dout, const float *inp, const float *weight,
                           const train_conv_dims *d, float *scratch) {
    TRAIN_ASSERT(d->groups >= 1 && d->cin % d->groups == 0 && d->cout % d->groups == 0);
    if (conv_is_depthwise(d)) {
        conv_dw_backward(dinp, dweight, dbias, dout, inp, weight, d);
        return;
    }
    const int p = d->hout * d->wout;
    if (dbias) {
        for (int n = 0; n < d->n; n++)
            for (int co = 0; co < d->cout; co++) {
                const float *o = dout + ((size_t)n * d->cout + co) * p;
                float acc = 0.0f;
                for (int i = 0; i < p; i++) acc += o[i];
                dbias[co] += acc;
            }
    }
    if (conv_is_pointwise(d)) {
        conv_backward_pointwise(dinp, dweight, dout, inp, weight, d);
        return;
    }
    const conv_scratch sc = conv_scratch_carve(scratch, d);
    if (conv_is_stride1(d) && dinp) conv_flip_weights(sc.wflip, weight, d);
    if (conv_is_stride1(d) && dinp && dweight && conv_fused_ok(d)) {
        conv_direct_backward_fused(dinp, dweight, dout, inp, sc.wflip, d, sc.col);
    } else if (conv_is_stride1(d)) {
        if (dweight && conv_direct_ok(d))
            conv_direct_dweight(dweight, dout, inp, d, sc.col);
        else if (dweight)
            conv_backward_cols(NULL, dweight, dout, inp, weight, d, sc);
        if (dinp) conv_backward_adjoint(dinp, dout, d, sc);
    } else {
        int dw_direct = dweight && conv_direct_ok(d), dx_direct = dinp && conv_direct_phases_ok(d);
        if (dw_direct) conv_direct_dweight(dweight, dout, inp, d, sc.col);
        if (dx_direct) conv_direct_dinp_phases(dinp, dout, weight, d, sc.wflip, sc.col);
        if ((dinp && !dx_direct) || (dweight && !dw_direct))
            conv_backward_cols(dx_direct ? NULL : dinp, dw_direct ? NULL : dweight, dout, inp,
                               weight, d, sc);
    }
}
