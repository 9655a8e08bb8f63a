/* Average pools as an int32 sum and one requantization (dnas_rt.h gives
 * how m and s are picked). avgpool counts padding as zeros, so every window
 * divides by kh·kw and one multiplier serves the whole tensor. The sums are
 * bounded by (window cells)·xmax <= 2^31 - 1, checked. */
#include "rt_internal.h"

static int sum_fits(int32_t a, int32_t b, int sgn) {
    size_t n;
    return dnas_rt_priv_count(a, b, dnas_rt_priv_xmax(sgn), &n) &&
           (uint64_t)n <= (uint64_t)INT32_MAX;
}

dnas_rt_status dnas_rt_avgpool(void *out, const void *in, const dnas_rt_tensor_requant *rq,
                               const dnas_rt_pool_dims *d) {
    dnas_rt_status st = dnas_rt_priv_pool_args(out, in, d);
    if (st != DNAS_RT_OK)
        return st;
    if (!rq || !dnas_rt_priv_out_ok(rq->lo, rq->hi, rq->s, d->out_signed))
        return DNAS_RT_ERR_ARG;
    if (!sum_fits(d->kh, d->kw, d->in_signed))
        return DNAS_RT_ERR_BOUND;
    size_t yi = 0; // out [Hout][Wout][C], written in order
    for (int32_t oy = 0; oy < d->hout; oy++)
        for (int32_t ox = 0; ox < d->wout; ox++)
            for (int32_t c = 0; c < d->c; c++, yi++) {
                int32_t sum = 0;
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
                        sum += dnas_rt_priv_load(in, xi, d->in_signed);
                    }
                }
                dnas_rt_priv_store(out, yi, d->out_signed,
                                   dnas_rt_requant(sum, rq->m, rq->s, rq->lo, rq->hi));
            }
    return DNAS_RT_OK;
}

dnas_rt_status dnas_rt_global_avgpool(void *out, const void *in, const dnas_rt_tensor_requant *rq,
                                      const dnas_rt_gavgpool_dims *d) {
    size_t n;
    if (!out || !in || !rq || !d || !dnas_rt_priv_dim_ok(d->h, 1) ||
        !dnas_rt_priv_dim_ok(d->w, 1) || !dnas_rt_priv_dim_ok(d->c, 1) ||
        !dnas_rt_priv_flag_ok(d->in_signed) ||
        !dnas_rt_priv_out_ok(rq->lo, rq->hi, rq->s, d->out_signed) ||
        !dnas_rt_priv_count(d->h, d->w, d->c, &n))
        return DNAS_RT_ERR_ARG;
    if (!sum_fits(d->h, d->w, d->in_signed))
        return DNAS_RT_ERR_BOUND;
    const size_t hw = (size_t)d->h * (size_t)d->w, c = (size_t)d->c;
    for (size_t ch = 0; ch < c; ch++) {
        int32_t sum = 0;
        for (size_t p = 0; p < hw; p++)
            sum += dnas_rt_priv_load(in, p * c + ch, d->in_signed);
        dnas_rt_priv_store(out, ch, d->out_signed,
                           dnas_rt_requant(sum, rq->m, rq->s, rq->lo, rq->hi));
    }
    return DNAS_RT_OK;
}
