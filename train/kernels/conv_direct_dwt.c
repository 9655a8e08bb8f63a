/* Weight gradient of the direct kernel with output channels in the lanes.
 *
 * dW (Cout, taps) is a reduction over output pixels, dW[co][u] = Σ_pix
 * dy[co][pix] · x_u[pix]. With dout transposed to dyt (pixels, Cout), a
 * block of 16 channels (2 vectors) × 6 taps stays in 12 registers over all
 * pixels of a chunk of samples: per pixel 2 vector loads of dyt and 6
 * broadcasts of x for 12 FMAs, no lanes wasted on rows that are not a
 * multiple of 8 and no lane reductions (the block is added into dW once per
 * chunk). Per lane the pixels are summed in order, so the result does not
 * depend on the blocking. Needs Cout % 16 == 0 and 16 taps or more
 * (train_conv_direct_dwt_ok); other shapes keep the pixel-vector kernel
 * (train_conv_direct_dwv, below). */
#include "conv_internal.h"

#if CONV_DIRECT
#include <immintrin.h>
#endif

/* Under 16 taps (the Cin = 1 stem: 9) the tap blocks run part empty and the
 * transpose outweighs the work: the pixel-vector kernel measured faster. */
int train_conv_direct_dwt_ok(const train_conv_dims *d) {
    return d->cout % 16 == 0 && d->cin * d->kh * d->kw >= CONV_DIRECT_MIN_TAPS;
}

/* dyt (ns, Hout·Wout, Cout) <- dy (ns, Cout, Hout·Wout) */
void train_conv_direct_dwt_transpose(float *dyt, const float *dy, int ns, const train_conv_dims *d) {
    const size_t p = (size_t)d->hout * d->wout, c = (size_t)d->cout;
    for (int s = 0; s < ns; s++) {
        const float *y = dy + s * c * p;
        float *t = dyt + s * c * p;
        for (size_t co = 0; co < c; co++)
            for (size_t i = 0; i < p; i++) t[i * c + co] = y[co * p + i];
    }
}

#if CONV_DIRECT
/* dw (Cout, ntap) += Σ over the ns samples' pixels (oy, ox) of dyt[s][oy][ox]
 * ⊗ xp[s·xs + toff[u] + oy·xrow + ox]. */
__attribute__((target("avx2,fma"))) void train_conv_direct_dwt(float *dw, const float *xp,
                                                         const float *dyt, int ns,
                                                         const conv_direct_plan *pl) {
    const int cout = pl->cout, ntap = pl->ntap, ho = pl->hout, wo = pl->wout;
    const size_t p = (size_t)ho * wo;
    for (int co = 0; co < cout; co += 16) {
        for (int u0 = 0; u0 < ntap; u0 += 6) {
            const int nu = ntap - u0 < 6 ? ntap - u0 : 6;
            // taps past the end repeat tap u0 and are not stored
            const float *x0 = xp + pl->toff[u0], *x1 = xp + pl->toff[u0 + (nu > 1)],
                        *x2 = xp + pl->toff[u0 + (nu > 2) * 2],
                        *x3 = xp + pl->toff[u0 + (nu > 3) * 3],
                        *x4 = xp + pl->toff[u0 + (nu > 4) * 4],
                        *x5 = xp + pl->toff[u0 + (nu > 5) * 5];
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00,
                   a21 = a00, a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
            for (int s = 0; s < ns; s++)
                for (int oy = 0; oy < ho; oy++) {
                    const size_t xo = s * pl->xs + (size_t)oy * pl->xrow;
                    const float *g = dyt + (s * p + (size_t)oy * wo) * cout + co;
                    for (int ox = 0; ox < wo; ox++, g += cout) {
                        const size_t xi = xo + ox;
                        __m256 g0 = _mm256_loadu_ps(g), g1 = _mm256_loadu_ps(g + 8);
                        __m256 b = _mm256_broadcast_ss(x0 + xi);
                        a00 = _mm256_fmadd_ps(b, g0, a00);
                        a01 = _mm256_fmadd_ps(b, g1, a01);
                        b = _mm256_broadcast_ss(x1 + xi);
                        a10 = _mm256_fmadd_ps(b, g0, a10);
                        a11 = _mm256_fmadd_ps(b, g1, a11);
                        b = _mm256_broadcast_ss(x2 + xi);
                        a20 = _mm256_fmadd_ps(b, g0, a20);
                        a21 = _mm256_fmadd_ps(b, g1, a21);
                        b = _mm256_broadcast_ss(x3 + xi);
                        a30 = _mm256_fmadd_ps(b, g0, a30);
                        a31 = _mm256_fmadd_ps(b, g1, a31);
                        b = _mm256_broadcast_ss(x4 + xi);
                        a40 = _mm256_fmadd_ps(b, g0, a40);
                        a41 = _mm256_fmadd_ps(b, g1, a41);
                        b = _mm256_broadcast_ss(x5 + xi);
                        a50 = _mm256_fmadd_ps(b, g0, a50);
                        a51 = _mm256_fmadd_ps(b, g1, a51);
                    }
                }
            float acc[6][16];
            _mm256_storeu_ps(acc[0], a00), _mm256_storeu_ps(acc[0] + 8, a01);
            _mm256_storeu_ps(acc[1], a10), _mm256_storeu_ps(acc[1] + 8, a11);
            _mm256_storeu_ps(acc[2], a20), _mm256_storeu_ps(acc[2] + 8, a21);
            _mm256_storeu_ps(acc[3], a30), _mm256_storeu_ps(acc[3] + 8, a31);
            _mm256_storeu_ps(acc[4], a40), _mm256_storeu_ps(acc[4] + 8, a41);
            _mm256_storeu_ps(acc[5], a50), _mm256_storeu_ps(acc[5] + 8, a51);
            for (int q = 0; q < 16; q++)
                for (int t = 0; t < nu; t++) dw[(size_t)(co + q) * ntap + u0 + t] += acc[t][q];
        }
    }
}

/* dw (Cout, Cin·kh·kw) += Σ_pixels dyp[co][pix] · xp[c][pix + (i, j)]: the
 * weight gradient of the plan (train_conv_direct_run) for ns samples stored one after
 * the other. dyp (Cout, Hout, V·8) is dout with each row padded to whole
 * vectors by zeros, so the spare lanes add nothing. Blocks of 4 channels × 3
 * taps, 12 accumulators summed over all pixel vectors of the ns samples,
 * then reduced across lanes. */
__attribute__((target("avx2,fma"))) void train_conv_direct_dwv(float *dw, const float *xp,
                                                         const float *dyp, int ns,
                                                         const conv_dy_layout *gl,
                                                         const conv_direct_plan *pl) {
    const size_t xs = pl->xs, ys = gl->sample, pv = gl->channel;
    const int vpr = (pl->wout + 7) / 8, ntap = pl->ntap;
    const int *toff = pl->toff;
    for (int co = 0; co < pl->cout; co += 4) {
        const float *g0 = dyp + (size_t)co * pv, *g1 = g0 + pv, *g2 = g1 + pv, *g3 = g2 + pv;
        for (int u0 = 0; u0 < ntap; u0 += 3) {
            int nu = ntap - u0 < 3 ? ntap - u0 : 3;
            const float *x0 = xp + toff[u0], *x1 = xp + toff[nu > 1 ? u0 + 1 : u0];
            const float *x2 = xp + toff[nu > 2 ? u0 + 2 : u0];
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00,
                   a12 = a00, a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
            for (int s = 0; s < ns; s++) {
                for (int oy = 0; oy < pl->hout; oy++) {
                    // row oy of sample s: offset in xp (from each tap) and in dyp
                    const size_t xr = s * xs + (size_t)oy * pl->xrow;
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
