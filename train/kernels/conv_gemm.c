/* im2col / col2im + sgemm path of the convolution (see conv.c for the
 * algebra and when it runs), and the 1x1 pointwise case. */
#include <cblas.h>
#include <string.h>

#include "conv_internal.h"

conv_tiling train_conv_tiles(int k, int wo, int ho, int n) {
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

/* out = conv(inp) for samples [lo, hi) over tiles of s samples × rows
 * output rows, per group: col (K, s·np) = im2col, out tile = W_g · col (via
 * gat when s > 1). */
static void conv_gemm_forward_range(float *out, const float *inp, const float *weight,
                                    const train_conv_dims *d, float *col, float *gat, int lo,
                                    int hi) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups;
    const int k = cg * d->kh * d->kw, pw = conv_is_pointwise(d);
    const int p = d->hout * d->wout;
    const size_t pin = (size_t)d->hin * d->win;
    const conv_tiling tl = pw ? (conv_tiling){1, d->hout} : train_conv_tiles(k, d->wout, d->hout, d->n);
    for (int n0 = lo; n0 < hi; n0 += tl.s) {
        int s = hi - n0 < tl.s ? hi - n0 : tl.s;
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
                    conv_im2col(col + si * np, ld, inp + ((size_t)(n0 + si) * d->cin + g * cg) * pin,
                                cg, y0, y1, d);
                if (s == 1) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, og, np, k, 1.0f, w, k,
                                col, np, 0.0f, y + (size_t)y0 * d->wout, p);
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, og, ld, k, 1.0f, w, k,
                                col, ld, 0.0f, gat, ld);
                    conv_scatter(out, gat, n0, s, d->cout, g * og, og, p, 0);
                }
            }
        }
    }
}

/* dW_g (og, K) += dout_g · colᵀ over the tiles of samples [lo, hi); stride
 * > 1 also dinp via dcol = W_gᵀ · dout_g and col2im (the tiles are the same). */
static void conv_backward_cols_range(float *dinp, float *dweight, const float *dout,
                                     const float *inp, const float *weight,
                                     const train_conv_dims *d, float *col, float *gat, int lo,
                                     int hi) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups;
    const int k = cg * d->kh * d->kw, p = d->hout * d->wout;
    const size_t pin = (size_t)d->hin * d->win;
    const conv_tiling tl = train_conv_tiles(k, d->wout, d->hout, d->n);
    for (int n0 = lo; n0 < hi; n0 += tl.s) {
        int s = hi - n0 < tl.s ? hi - n0 : tl.s;
        for (int g = 0; g < d->groups; g++) {
            const float *w = weight + (size_t)g * og * k;  // w and dw (og, K)
            const float *dy = dout + ((size_t)n0 * d->cout + (size_t)g * og) * p;
            int ldy = p;  // dy (og, P) of sample n0, or gathered (og, s·P)
            if (s > 1) {
                conv_gather(gat, dout, n0, s, d->cout, g * og, og, p);
                dy = gat, ldy = s * p;
            }
            for (int y0 = 0; y0 < d->hout; y0 += tl.rows) {
                int y1 = y0 + tl.rows < d->hout ? y0 + tl.rows : d->hout;
                int np = (y1 - y0) * d->wout, ld = s * np;
                const float *dyt = dy + (size_t)y0 * d->wout;
                if (dweight) {
                    for (int si = 0; si < s; si++)
                        conv_im2col(col + si * np, ld,
                                    inp + ((size_t)(n0 + si) * d->cin + g * cg) * pin, cg, y0, y1, d);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, og, k, ld, 1.0f, dyt, ldy,
                                col, ld, 1.0f, dweight + (size_t)g * og * k, k);
                }
                if (dinp) {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, ld, og, 1.0f, w, k, dyt,
                                ldy, 0.0f, col, ld);
                    for (int si = 0; si < s; si++)
                        conv_col2im(dinp + ((size_t)(n0 + si) * d->cin + g * cg) * pin,
                                    col + si * np, ld, cg, y0, y1, d);
                }
            }
        }
    }
}

/* wflip (G·cg, og·kh·kw) <- Wf of the header comment: weight with Cin and
 * Cout swapped within each group, taps reversed. */
void train_conv_flip_weights(float *wflip, const float *weight, const train_conv_dims *d) {
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
 * for samples [lo, hi) (wflip holds Wf). */
static void conv_backward_adjoint_range(float *dinp, const float *dout, const float *wflip,
                                        const train_conv_dims *d, float *col, float *gat, int lo,
                                        int hi) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, kk = d->kh * d->kw;
    const int kt = og * kk, p = d->hout * d->wout, pin = d->hin * d->win;
    const train_conv_dims t = conv_adjoint_dims(d);
    const conv_tiling tl = train_conv_tiles(kt, t.wout, t.hout, d->n);
    for (int n0 = lo; n0 < hi; n0 += tl.s) {
        int s = hi - n0 < tl.s ? hi - n0 : tl.s;
        for (int g = 0; g < d->groups; g++) {
            const float *wf = wflip + (size_t)g * cg * kt;
            for (int y0 = 0; y0 < t.hout; y0 += tl.rows) {
                int y1 = y0 + tl.rows < t.hout ? y0 + tl.rows : t.hout;
                int np = (y1 - y0) * t.wout, ld = s * np;
                for (int si = 0; si < s; si++)
                    conv_im2col(col + si * np, ld, dout + ((size_t)(n0 + si) * d->cout + g * og) * p,
                                og, y0, y1, &t);
                if (s == 1) {
                    float *dx = dinp + ((size_t)n0 * d->cin + (size_t)g * cg) * pin;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cg, np, kt, 1.0f, wf, kt,
                                col, np, 1.0f, dx + (size_t)y0 * t.wout, pin);
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cg, ld, kt, 1.0f, wf, kt,
                                col, ld, 0.0f, gat, ld);
                    conv_scatter(dinp, gat, n0, s, d->cin, g * cg, cg, pin, 1);
                }
            }
        }
    }
}

/* 1x1 pointwise: the input plane is the column matrix, one sgemm per sample
 * of [lo, hi). */
static void conv_backward_pointwise_range(float *dinp, float *dweight, const float *dout,
                                          const float *inp, const float *weight,
                                          const train_conv_dims *d, int lo, int hi) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups, p = d->hout * d->wout;
    for (int n = lo; n < hi; n++)
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

/* ---- the team: each thread a contiguous range of samples (conv_internal.h) */

void train_conv_gemm_forward(float *out, const float *inp, const float *weight, const train_conv_dims *d,
                       const conv_scratch *sc) {
    const int nt = train_conv_team_blas(sc, d->n);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int th = conv_thread_num();
        int lo, hi;
        conv_thread_range(d->n, th, conv_num_threads(), &lo, &hi);
        conv_gemm_forward_range(out, inp, weight, d, conv_col_of(sc, th), conv_gat_of(sc, th), lo,
                                hi);
    }
}

void train_conv_backward_cols(float *dinp, float *dweight, const float *dout, const float *inp,
                        const float *weight, const train_conv_dims *d, const conv_scratch *sc) {
    const int nt = train_conv_team_blas(sc, d->n);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int th = conv_thread_num(), nth = conv_num_threads();
        int lo, hi;
        conv_thread_range(d->n, th, nth, &lo, &hi);
        conv_backward_cols_range(dinp, train_conv_dw_target(dweight, sc, th), dout, inp, weight, d,
                                 conv_col_of(sc, th), conv_gat_of(sc, th), lo, hi);
        train_conv_dw_reduce(dweight, sc, nth);
    }
}

void train_conv_backward_adjoint(float *dinp, const float *dout, const train_conv_dims *d,
                           const conv_scratch *sc) {
    const train_conv_dims t = conv_adjoint_dims(d);
    if (train_conv_direct_ok(&t)) {
        train_conv_direct(dinp, dout, sc->wflip, &t, sc, 1);
        return;
    }
    const int nt = train_conv_team_blas(sc, d->n);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int th = conv_thread_num();
        int lo, hi;
        conv_thread_range(d->n, th, conv_num_threads(), &lo, &hi);
        conv_backward_adjoint_range(dinp, dout, sc->wflip, d, conv_col_of(sc, th),
                                    conv_gat_of(sc, th), lo, hi);
    }
}

void train_conv_backward_pointwise(float *dinp, float *dweight, const float *dout, const float *inp,
                             const float *weight, const train_conv_dims *d,
                             const conv_scratch *sc) {
    const int nt = train_conv_team_blas(sc, d->n);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int th = conv_thread_num(), nth = conv_num_threads();
        int lo, hi;
        conv_thread_range(d->n, th, nth, &lo, &hi);
        conv_backward_pointwise_range(dinp, train_conv_dw_target(dweight, sc, th), dout, inp, weight, d,
                                      lo, hi);
        train_conv_dw_reduce(dweight, sc, nth);
    }
}
