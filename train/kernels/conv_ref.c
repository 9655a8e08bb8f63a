/* Naive reference convolutions (one loop nest per output / gradient term),
 * kept next to the fast paths in conv.c; tests compare the two. Same
 * contract as train_conv2d_forward / _backward (ops.h), no scratch. */
#include <stddef.h>

#include "ops.h"

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
