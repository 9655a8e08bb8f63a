/* 2-D convolution (also 1-D with H = 1, grouped and depthwise), NCHW float32.
 *
 * General path, per chunk of S samples and per group g:
 *   col (K, S·P)            = im2col of the chunk, K = Cin/G·kh·kw, P = Hout·Wout,
 *                             columns ordered [sample][oy][ox]
 *   out_g (Cout/G, S·P)     = W_g (Cout/G, K) · col                  (sgemm NN)
 *   dW_g  (Cout/G, K)      += dout_g (Cout/G, S·P) · colᵀ            (sgemm NT, beta 1)
 *   dcol  (K, S·P)          = W_gᵀ · dout_g, then col2im += into dinp (sgemm TN)
 * S is chosen so the column buffer stays near L2 size; with S > 1 the output
 * / dout of the chunk go through a (Cout, S·P) gather buffer.
 * 1x1 convolutions with stride 1, dilation any, no padding and the same
 * spatial size read the input directly as col (S = 1, no scratch).
 * Depthwise (groups == Cin == Cout) uses direct loops, no scratch.
 * Padding: only top/left are given; cells beyond Hin/Win on the bottom/right
 * (TF "same") read as zero, so every index is bounds-checked on both sides. */
#include <cblas.h>
#include <string.h>

#include "ops.h"
#include "status.h"

/* Target column-buffer size in floats (256 KiB) when choosing samples per chunk. */
#define CONV_COL_TARGET_FLOATS (64 * 1024)

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

/* Samples per chunk: fill about CONV_COL_TARGET_FLOATS of column buffer. */
static int conv_chunk(const train_conv_dims *d) {
    if (conv_is_pointwise(d)) return 1;
    size_t per = (size_t)(d->cin / d->groups) * d->kh * d->kw * d->hout * d->wout;
    size_t s = per >= CONV_COL_TARGET_FLOATS ? 1 : CONV_COL_TARGET_FLOATS / per;
    if (s > (size_t)d->n) s = (size_t)d->n;
    return s < 1 ? 1 : (int)s;
}

size_t train_conv2d_scratch_floats(const train_conv_dims *d) {
    if (conv_is_depthwise(d) || conv_is_pointwise(d)) return 0;
    size_t s = (size_t)conv_chunk(d);
    size_t p = (size_t)d->hout * d->wout;
    size_t col = (size_t)(d->cin / d->groups) * d->kh * d->kw * s * p;
    size_t gather = s > 1 ? (size_t)d->cout * s * p : 0;
    return col + gather;
}

/* Output columns [lo, hi) whose input column ox·s + off lies in [0, in). */
static void conv_valid_range(int off, int s, int in, int out, int *lo, int *hi) {
    int l = off >= 0 ? 0 : (-off + s - 1) / s;
    int h = in - off <= 0 ? 0 : (in - off + s - 1) / s;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* col rows (c,ki,kj) of length P at row stride ld; x (cg, Hin, Win) of one sample. */
static void conv_im2col(float *col, size_t ld, const float *x, int cg, const train_conv_dims *d) {
    for (int c = 0; c < cg; c++) {
        const float *xc = x + (size_t)c * d->hin * d->win;
        for (int ki = 0; ki < d->kh; ki++) {
            for (int kj = 0; kj < d->kw; kj++) {
                float *row = col + ((size_t)(c * d->kh + ki) * d->kw + kj) * ld;
                int off = kj * d->dw - d->pl, lo, hi;
                conv_valid_range(off, d->sw, d->win, d->wout, &lo, &hi);
                for (int oy = 0; oy < d->hout; oy++) {
                    float *r = row + (size_t)oy * d->wout;
                    int iy = oy * d->sh - d->pt + ki * d->dh;
                    if (iy < 0 || iy >= d->hin) {
                        memset(r, 0, sizeof(float) * d->wout);
                        continue;
                    }
                    const float *xr = xc + (size_t)iy * d->win;
                    for (int ox = 0; ox < lo; ox++) r[ox] = 0.0f;
                    if (d->sw == 1) {
                        memcpy(r + lo, xr + lo + off, sizeof(float) * (hi - lo));
                    } else {
                        for (int ox = lo; ox < hi; ox++) r[ox] = xr[ox * d->sw + off];
                    }
                    for (int ox = hi; ox < d->wout; ox++) r[ox] = 0.0f;
                }
            }
        }
    }
}

/* Adjoint of conv_im2col: dx (cg, Hin, Win) += scatter of dcol. */
static void conv_col2im(float *dx, const float *dcol, size_t ld, int cg,
                        const train_conv_dims *d) {
    for (int c = 0; c < cg; c++) {
        float *dxc = dx + (size_t)c * d->hin * d->win;
        for (int ki = 0; ki < d->kh; ki++) {
            for (int kj = 0; kj < d->kw; kj++) {
                const float *row = dcol + ((size_t)(c * d->kh + ki) * d->kw + kj) * ld;
                int off = kj * d->dw - d->pl, lo, hi;
                conv_valid_range(off, d->sw, d->win, d->wout, &lo, &hi);
                for (int oy = 0; oy < d->hout; oy++) {
                    int iy = oy * d->sh - d->pt + ki * d->dh;
                    if (iy < 0 || iy >= d->hin) continue;
                    const float *r = row + (size_t)oy * d->wout;
                    float *dxr = dxc + (size_t)iy * d->win;
                    for (int ox = lo; ox < hi; ox++) dxr[ox * d->sw + off] += r[ox];
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

/* ---- general path: im2col + sgemm ---------------------------------------- */

void train_conv2d_forward(float *out, const float *inp, const float *weight,
                          const float *bias, const train_conv_dims *d, float *scratch) {
    TRAIN_ASSERT(d->groups >= 1 && d->cin % d->groups == 0 && d->cout % d->groups == 0);
    if (conv_is_depthwise(d)) {
        conv_dw_forward(out, inp, weight, bias, d);
        return;
    }
    const int cg = d->cin / d->groups, og = d->cout / d->groups;
    const int k = cg * d->kh * d->kw, pw = conv_is_pointwise(d);
    const size_t p = (size_t)d->hout * d->wout, pin = (size_t)d->hin * d->win;
    const int chunk = conv_chunk(d);
    float *col = scratch;                          // col (K, S·P)
    float *gat = scratch + (size_t)k * chunk * p;  // gat (Cout, S·P) when S > 1
    for (int n0 = 0; n0 < d->n; n0 += chunk) {
        int s = d->n - n0 < chunk ? d->n - n0 : chunk;
        int cols = (int)(s * p);
        for (int g = 0; g < d->groups; g++) {
            const float *b = col;
            if (pw) {
                b = inp + ((size_t)n0 * d->cin + (size_t)g * cg) * pin;
            } else {
                for (int si = 0; si < s; si++)
                    conv_im2col(col + si * p, cols,
                                inp + ((size_t)(n0 + si) * d->cin + (size_t)g * cg) * pin, cg, d);
            }
            float *c = s == 1 ? out + ((size_t)n0 * d->cout + (size_t)g * og) * p
                              : gat + (size_t)g * og * cols;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, og, cols, k, 1.0f,
                        weight + (size_t)g * og * k, k, b, cols, 0.0f, c, cols);
        }
        if (s > 1) {
            // gat (Cout, s, P) -> out (s, Cout, P)
            for (int si = 0; si < s; si++)
                for (int co = 0; co < d->cout; co++)
                    memcpy(out + ((size_t)(n0 + si) * d->cout + co) * p,
                           gat + (size_t)co * cols + si * p, sizeof(float) * p);
        }
    }
    if (bias) {
        for (int n = 0; n < d->n; n++)
            for (int co = 0; co < d->cout; co++) {
                float *o = out + ((size_t)n * d->cout + co) * p;
                for (size_t i = 0; i < p; i++) o[i] += bias[co];
            }
    }
}

/* Forward per group: out_g = W_g · col. Hence dW_g += dout_g · colᵀ,
 * dcol = W_gᵀ · dout_g (scattered back by col2im), dbias += Σ_{n,p} dout. */
void train_conv2d_backward(float *dinp, float *dweight, float *dbias,
                           const float *dout, const float *inp, const float *weight,
                           const train_conv_dims *d, float *scratch) {
    TRAIN_ASSERT(d->groups >= 1 && d->cin % d->groups == 0 && d->cout % d->groups == 0);
    if (conv_is_depthwise(d)) {
        conv_dw_backward(dinp, dweight, dbias, dout, inp, weight, d);
        return;
    }
    const int cg = d->cin / d->groups, og = d->cout / d->groups;
    const int k = cg * d->kh * d->kw, pw = conv_is_pointwise(d);
    const size_t p = (size_t)d->hout * d->wout, pin = (size_t)d->hin * d->win;
    const int chunk = conv_chunk(d);
    float *col = scratch;                          // col / dcol (K, S·P)
    float *gat = scratch + (size_t)k * chunk * p;  // gathered dout (Cout, S·P)
    if (dbias) {
        for (int n = 0; n < d->n; n++)
            for (int co = 0; co < d->cout; co++) {
                const float *o = dout + ((size_t)n * d->cout + co) * p;
                float acc = 0.0f;
                for (size_t i = 0; i < p; i++) acc += o[i];
                dbias[co] += acc;
            }
    }
    if (!dinp && !dweight) return;
    for (int n0 = 0; n0 < d->n; n0 += chunk) {
        int s = d->n - n0 < chunk ? d->n - n0 : chunk;
        int cols = (int)(s * p);
        if (s > 1) {
            // dout (s, Cout, P) -> gat (Cout, s, P)
            for (int si = 0; si < s; si++)
                for (int co = 0; co < d->cout; co++)
                    memcpy(gat + (size_t)co * cols + si * p,
                           dout + ((size_t)(n0 + si) * d->cout + co) * p, sizeof(float) * p);
        }
        for (int g = 0; g < d->groups; g++) {
            const float *dy = s == 1 ? dout + ((size_t)n0 * d->cout + (size_t)g * og) * p
                                     : gat + (size_t)g * og * cols;
            const float *w = weight + (size_t)g * og * k;
            const float *x = inp + ((size_t)n0 * d->cin + (size_t)g * cg) * pin;
            if (dweight) {
                const float *b = x;
                if (!pw) {
                    for (int si = 0; si < s; si++)
                        conv_im2col(col + si * p, cols,
                                    inp + ((size_t)(n0 + si) * d->cin + (size_t)g * cg) * pin,
                                    cg, d);
                    b = col;
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, og, k, cols, 1.0f, dy, cols,
                            b, cols, 1.0f, dweight + (size_t)g * og * k, k);
            }
            if (dinp) {
                float *dx = dinp + ((size_t)n0 * d->cin + (size_t)g * cg) * pin;
                if (pw) {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, cols, og, 1.0f, w, k,
                                dy, cols, 1.0f, dx, cols);
                } else {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, cols, og, 1.0f, w, k,
                                dy, cols, 0.0f, col, cols);
                    for (int si = 0; si < s; si++)
                        conv_col2im(dinp + ((size_t)(n0 + si) * d->cin + (size_t)g * cg) * pin,
                                    col + si * p, cols, cg, d);
                }
            }
        }
    }
}

/* ---- naive references ---------------------------------------------------- */

void train_conv2d_forward_ref(float *out, const float *inp, const float *weight,
                              const float *bias, const train_conv_dims *d) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups;
    for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->cout; co++) {
            int g = co / og;
            for (int oy = 0; oy < d->hout; oy++)
                for (int ox = 0; ox < d->wout; ox++) {
                    float acc = bias ? bias[co] : 0.0f;
                    for (int c = 0; c < cg; c++)
                        for (int ki = 0; ki < d->kh; ki++)
                            for (int kj = 0; kj < d->kw; kj++) {
                                int iy = oy * d->sh - d->pt + ki * d->dh;
                                int ix = ox * d->sw - d->pl + kj * d->dw;
                                if (iy < 0 || iy >= d->hin || ix < 0 || ix >= d->win) continue;
                                // inp (N,Cin,Hin,Win), weight (Cout,Cin/G,kh,kw)
                                acc += inp[(((size_t)n * d->cin + g * cg + c) * d->hin + iy) *
                                               d->win + ix] *
                                       weight[(((size_t)co * cg + c) * d->kh + ki) * d->kw + kj];
                            }
                    out[(((size_t)n * d->cout + co) * d->hout + oy) * d->wout + ox] = acc;
                }
        }
}

/* Forward: out[n,co,oy,ox] = b[co] + Σ w[co,c,ki,kj] · inp[n,g·cg+c,iy,ix].
 * Each term adds dout·w to dinp, dout·inp to dweight. */
void train_conv2d_backward_ref(float *dinp, float *dweight, float *dbias,
                               const float *dout, const float *inp, const float *weight,
                               const train_conv_dims *d) {
    const int cg = d->cin / d->groups, og = d->cout / d->groups;
    for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->cout; co++) {
            int g = co / og;
            for (int oy = 0; oy < d->hout; oy++)
                for (int ox = 0; ox < d->wout; ox++) {
                    float dy = dout[(((size_t)n * d->cout + co) * d->hout + oy) * d->wout + ox];
                    if (dbias) dbias[co] += dy;
                    for (int c = 0; c < cg; c++)
                        for (int ki = 0; ki < d->kh; ki++)
                            for (int kj = 0; kj < d->kw; kj++) {
                                int iy = oy * d->sh - d->pt + ki * d->dh;
                                int ix = ox * d->sw - d->pl + kj * d->dw;
                                if (iy < 0 || iy >= d->hin || ix < 0 || ix >= d->win) continue;
                                size_t ii =
                                    (((size_t)n * d->cin + g * cg + c) * d->hin + iy) * d->win + ix;
                                size_t wi = (((size_t)co * cg + c) * d->kh + ki) * d->kw + kj;
                                if (dinp) dinp[ii] += dy * weight[wi];
                                if (dweight) dweight[wi] += dy * inp[ii];
                            }
                }
        }
}
