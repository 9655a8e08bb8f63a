/* Direct AVX2/FMA convolution kernel (see conv.c for when it runs).
 *
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
#include <string.h>

#include "conv_internal.h"

#if CONV_DIRECT
#include <immintrin.h>
#endif

/* Padded plane width Wq and height Hp for the direct kernel: every lane of
 * the rounded-up output rows reads inside. */
static int conv_direct_wp(const train_conv_dims *d) {
    return (d->wout + 7) / 8 * 8 + (d->kw - 1) * d->dw / d->sw;
}
static int conv_direct_hp(const train_conv_dims *d) {
    return (d->hout - 1) * d->sh + (d->kh - 1) * d->dh + 1;
}

int train_conv_direct_cpu(void) {
#if CONV_DIRECT
    static int cpu = -1;
    if (cpu < 0) cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cpu;
#else
    return 0;
#endif
}

int train_conv_direct_ok(const train_conv_dims *d) {
#if CONV_DIRECT
    return train_conv_direct_cpu() && d->groups == 1 && d->cout % 4 == 0 && d->kh * d->kw > 1 &&
           d->cin * d->kh * d->kw <= CONV_DIRECT_MAX_TAPS;
#else
    (void)d;
    return 0;
#endif
}

size_t train_conv_direct_floats(const train_conv_dims *d) {
    return (size_t)d->sw * d->cin * conv_direct_hp(d) * conv_direct_wp(d);
}

/* Samples per pass of the direct forward: 3 when one sample's vector count
 * is not a multiple of the block of 3 (7x7: 7 vectors), so that the blocks
 * run across samples without half-empty ones. */
int train_conv_direct_chunk(const train_conv_dims *d) {
    int nv = d->hout * ((d->wout + 7) / 8), s = nv % 3 ? 3 : 1;
    return s < d->n ? s : d->n;
}

#if CONV_DIRECT
/* y (ns, Cout, Hout, Wout) (+)= the plan over ns samples of xp. The vectors
 * of all ns samples form one list, cut in blocks of 3. */
__attribute__((target("avx2,fma"))) void train_conv_direct_run(float *y, const float *xp, const float *w,
                                                         int ns, const conv_direct_plan *pl,
                                                         int accumulate) {
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
/* The plan of a convolution read through conv_direct_pad; toff filled. */
static conv_direct_plan conv_direct_plan_of(const train_conv_dims *d, int *toff) {
    conv_direct_taps(toff, d);
    return (conv_direct_plan){d->cout, d->cin * d->kh * d->kw, toff, d->hout, d->wout,
                              d->sh * conv_direct_wp(d), train_conv_direct_floats(d)};
}

static void conv_direct_samples(float *y, const float *xp, const float *w, int ns,
                                const train_conv_dims *d, int accumulate) {
    int toff[CONV_DIRECT_MAX_TAPS];
    conv_direct_plan pl = conv_direct_plan_of(d, toff);
    train_conv_direct_run(y, xp, w, ns, &pl, accumulate);
}

/* dw += weight gradient over ns padded samples xp of dout dy (ns, Cout,
 * Hout, Wout) by train_conv_direct_dwt; dyt work (ns·Cout·Hout·Wout floats). */
static void conv_direct_dwt_samples(float *dw, const float *xp, const float *dy, float *dyt,
                                    int ns, const train_conv_dims *d) {
    int toff[CONV_DIRECT_MAX_TAPS];
    conv_direct_plan pl = conv_direct_plan_of(d, toff);
    train_conv_direct_dwt_transpose(dyt, dy, ns, d);
    train_conv_direct_dwt(dw, xp, dyt, ns, &pl);
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
size_t train_conv_direct_dyp_floats(const train_conv_dims *d) {
    return (size_t)d->cout * d->hout * ((d->wout + 7) / 8 * 8);
}


/* Samples per pass of the direct weight gradient: enough that a block sums
 * over CONV_DIRECT_DW_VECTORS pixel vectors before its lane reduction. */
int train_conv_direct_dw_chunk(const train_conv_dims *d) {
    int v = d->hout * ((d->wout + 7) / 8), s = (CONV_DIRECT_DW_VECTORS + v - 1) / v;
    return s < d->n ? s : d->n;
}

#if CONV_DIRECT
/* dweight += weight gradient of a stride-1 conv (train_conv_direct_ok) over
 * samples [lo, hi), per chunk of samples from their padded inputs and
 * lane-padded douts; work: the chunk's xp, then its dyp. */
static void conv_direct_dweight_range(float *dweight, const float *dout, const float *inp,
                                      const train_conv_dims *d, float *work, int lo, int hi) {
    const size_t pin = (size_t)d->hin * d->win, p = (size_t)d->hout * d->wout;
    const size_t xs = train_conv_direct_floats(d), ys = train_conv_direct_dyp_floats(d);
    const int wv = (d->wout + 7) / 8 * 8, chunk = train_conv_direct_dw_chunk(d);
    float *xp = work, *dyp = work + chunk * xs;
    const conv_dy_layout gl = {ys, (size_t)d->hout * wv, wv};
    int toff[CONV_DIRECT_MAX_TAPS];
    const conv_direct_plan pl = conv_direct_plan_of(d, toff);
    if (train_conv_direct_dwt_ok(d)) {
        for (int n0 = lo; n0 < hi; n0 += chunk) {
            int ns = hi - n0 < chunk ? hi - n0 : chunk;
            for (int s = 0; s < ns; s++)
                conv_direct_pad(xp + s * xs, inp + (size_t)(n0 + s) * d->cin * pin, d);
            conv_direct_dwt_samples(dweight, xp, dout + (size_t)n0 * d->cout * p, dyp, ns, d);
        }
        return;
    }
    memset(dyp, 0, sizeof(float) * chunk * ys);
    for (int n0 = lo; n0 < hi; n0 += chunk) {
        int ns = hi - n0 < chunk ? hi - n0 : chunk;
        for (int s = 0; s < ns; s++) {
            conv_direct_pad(xp + s * xs, inp + (size_t)(n0 + s) * d->cin * pin, d);
            // dy (Cout, Hout, Wout) -> dyp (Cout, Hout, wv); the spare lanes stay 0
            const float *dy = dout + (size_t)(n0 + s) * d->cout * p;
            for (int r = 0; r < d->cout * d->hout; r++)
                memcpy(dyp + s * ys + (size_t)r * wv, dy + (size_t)r * d->wout,
                       sizeof(float) * d->wout);
        }
        train_conv_direct_dwv(dweight, xp, dyp, ns, &gl, &pl);
    }
}

/* out (+)= stride-1 conv of inp by weight over samples [lo, hi); xp work. */
static void conv_direct_range(float *out, const float *inp, const float *weight,
                              const train_conv_dims *d, float *xp, int accumulate, int lo,
                              int hi) {
    const size_t pin = (size_t)d->hin * d->win, p = (size_t)d->hout * d->wout;
    const size_t xs = train_conv_direct_floats(d);
    const int chunk = train_conv_direct_chunk(d);
    for (int n0 = lo; n0 < hi; n0 += chunk) {
        int ns = hi - n0 < chunk ? hi - n0 : chunk;
        for (int s = 0; s < ns; s++)
            conv_direct_pad(xp + s * xs, inp + (size_t)(n0 + s) * d->cin * pin, d);
        conv_direct_samples(out + (size_t)n0 * d->cout * p, xp, weight, ns, d, accumulate);
    }
}

/* dweight and dinp += gradients of a stride-1 conv (train_conv_fused_ok) over
 * samples [lo, hi); wflip the flipped weight (see train_conv_backward_adjoint). */
static void conv_direct_fused_range(float *dinp, float *dweight, const float *dout,
                                    const float *inp, const float *wflip,
                                    const train_conv_dims *d, float *work, int lo, int hi) {
    const train_conv_dims t = conv_adjoint_dims(d);
    const size_t pin = (size_t)d->hin * d->win, p = (size_t)d->hout * d->wout;
    const size_t xs = train_conv_direct_floats(d), ts = train_conv_direct_floats(&t);
    const int chunk = train_conv_direct_dw_chunk(d), wq = conv_direct_wp(&t);
    float *xp = work, *dp = work + chunk * xs;
    // dout (oy, ox) of channel co is dp[co][oy + t.pt][ox + t.pl]
    const conv_dy_layout gl = {ts, (size_t)conv_direct_hp(&t) * wq, wq};
    int toff[CONV_DIRECT_MAX_TAPS];
    const conv_direct_plan pl = conv_direct_plan_of(d, toff);
    for (int n0 = lo; n0 < hi; n0 += chunk) {
        int ns = hi - n0 < chunk ? hi - n0 : chunk;
        for (int s = 0; s < ns; s++) {
            conv_direct_pad(xp + s * xs, inp + (n0 + s) * d->cin * pin, d);
            conv_direct_pad(dp + s * ts, dout + (n0 + s) * d->cout * p, &t);
        }
        train_conv_direct_dwv(dweight, xp, dp + (size_t)t.pt * wq + t.pl, ns, &gl, &pl);
        conv_direct_samples(dinp + n0 * d->cin * pin, dp, wflip, ns, &t, 1);
    }
}
#endif

/* Stride 1 with both gradients direct: per chunk of samples, one padded copy
 * of dout (the adjoint's input) serves the weight gradient too, and x and
 * dout are read once. Needs dout to sit inside that copy with zero lanes
 * to its right (train_conv_fused_ok). Only for the pixel-vector weight gradient:
 * with Cout % 16 the channels-in-lanes one (train_conv_direct_dwt.c) plus the
 * separate adjoint pass measured 10-20 % faster than this. */
int train_conv_fused_ok(const train_conv_dims *d) {
    if (!conv_is_stride1(d) || !train_conv_direct_ok(d) || train_conv_direct_dwt_ok(d)) return 0;
    train_conv_dims t = conv_adjoint_dims(d);
    return train_conv_direct_ok(&t) && t.pt >= 0 && t.pl >= 0 &&
           d->hout + t.pt <= conv_direct_hp(&t) &&
           (d->wout + 7) / 8 * 8 + t.pl <= conv_direct_wp(&t);
}

/* Work floats of train_conv_direct_backward_fused: the chunk's xp and padded dout. */
size_t train_conv_fused_floats(const train_conv_dims *d) {
    train_conv_dims t = conv_adjoint_dims(d);
    return train_conv_direct_dw_chunk(d) * (train_conv_direct_floats(d) + train_conv_direct_floats(&t));
}

/* ---- the team: each thread a contiguous range of samples (conv_internal.h) */

void train_conv_direct_dweight(float *dweight, const float *dout, const float *inp,
                         const train_conv_dims *d, const conv_scratch *sc) {
#if CONV_DIRECT
    const int nt = conv_team_sc(sc, d->n);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int th = conv_thread_num(), nth = conv_num_threads();
        int lo, hi;
        conv_thread_range(d->n, th, nth, &lo, &hi);
        conv_direct_dweight_range(train_conv_dw_target(dweight, sc, th), dout, inp, d,
                                  conv_col_of(sc, th), lo, hi);
        train_conv_dw_reduce(dweight, sc, nth);
    }
#else
    (void)dweight, (void)dout, (void)inp, (void)d, (void)sc;
    DNAS_ASSERT(0);
#endif
}

void train_conv_direct(float *out, const float *inp, const float *weight, const train_conv_dims *d,
                 const conv_scratch *sc, int accumulate) {
#if CONV_DIRECT
    const int nt = conv_team_sc(sc, d->n);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int th = conv_thread_num();
        int lo, hi;
        conv_thread_range(d->n, th, conv_num_threads(), &lo, &hi);
        conv_direct_range(out, inp, weight, d, conv_col_of(sc, th), accumulate, lo, hi);
    }
#else
    (void)out, (void)inp, (void)weight, (void)d, (void)sc, (void)accumulate;
    DNAS_ASSERT(0);
#endif
}

void train_conv_direct_backward_fused(float *dinp, float *dweight, const float *dout, const float *inp,
                                const float *wflip, const train_conv_dims *d,
                                const conv_scratch *sc) {
#if CONV_DIRECT
    const int nt = conv_team_sc(sc, d->n);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int th = conv_thread_num(), nth = conv_num_threads();
        int lo, hi;
        conv_thread_range(d->n, th, nth, &lo, &hi);
        conv_direct_fused_range(dinp, train_conv_dw_target(dweight, sc, th), dout, inp, wflip, d,
                                conv_col_of(sc, th), lo, hi);
        train_conv_dw_reduce(dweight, sc, nth);
    }
#else
    (void)dinp, (void)dweight, (void)dout, (void)inp, (void)wflip, (void)d, (void)sc;
    DNAS_ASSERT(0);
#endif
}
