/* Depthwise convolution (groups == Cin == Cout), NCHW float32: direct loops
 * per (sample, channel) plane, no scratch. */
#include "conv_internal.h"

void train_conv_dw_forward(float *out, const float *inp, const float *weight, const float *bias,
                     const train_conv_dims *d) {
    size_t pin = (size_t)d->hin * d->win, pout = (size_t)d->hout * d->wout;
    // planes (n, c) are independent
#pragma omp parallel for collapse(2) schedule(static) if (conv_team(d->n * d->cin) > 1)
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
void train_conv_dw_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                      const float *inp, const float *weight, const train_conv_dims *d) {
    size_t pin = (size_t)d->hin * d->win, pout = (size_t)d->hout * d->wout;
    // one thread per channel, samples in order: dweight and dbias of channel c
    // sum as in the serial loop at any team size
#pragma omp parallel for schedule(static) if (conv_team(d->cin) > 1)
    for (int c = 0; c < d->cin; c++) {
        for (int n = 0; n < d->n; n++) {
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
