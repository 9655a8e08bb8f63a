/* Max pool over HWC bytes: the largest real pixel of each window, padding
 * never wins (windows always hold a real pixel: dnas_rt_priv_pool_args). */
#include "rt_internal.h"

dnas_rt_status dnas_rt_maxpool(void *out, const void *in, const dnas_rt_pool_dims *d) {
    dnas_rt_status st = dnas_rt_priv_pool_args(out, in, d);
    if (st != DNAS_RT_OK)
        return st;
    if (d->out_signed != d->in_signed)
        return DNAS_RT_ERR_ARG;
    const int sgn = d->in_signed;
    size_t yi = 0; // out [Hout][Wout][C], written in order
    for (int32_t oy = 0; oy < d->hout; oy++)
        for (int32_t ox = 0; ox < d->wout; ox++)
            for (int32_t c = 0; c < d->c; c++, yi++) {
                int32_t best = sgn ? -129 : -1; // below every value: the first real pixel wins
                for (int32_t ky = 0; ky < d->kh; ky++) {
                    int32_t iy = oy * d->sh - d->pt + ky;
                    if (iy < 0 || iy >= d->hin)
                        continue;
                    for (int32_t kx = 0; kx < d->kw; kx++) {
                        int32_t ix = ox * d->sw - d->pl + kx;
                        if (ix < 0 || ix >= d->win)
                            continue;
                        size_t xi = ((size_t)iy * (size_t)d->win + (size_t)ix) * (size_t)d->c +
                                    (size_t)c;
                        int32_t v = dnas_rt_priv_load(in, xi, sgn);
                        if (v > best)
                            best = v;
                    }
                }
                dnas_rt_priv_store(out, yi, sgn, best);
            }
    return DNAS_RT_OK;
}
