/* The dims check shared by the pooling kernels (maxpool.c, avgpool.c). */
#include "rt_internal.h"

dnas_rt_status dnas_rt_priv_pool_args(const void *out, const void *in, const dnas_rt_pool_dims *d) {
    size_t n;
    if (!out || !in || !d)
        return DNAS_RT_ERR_ARG;
    const int32_t pos[] = {d->hin, d->win, d->c, d->hout, d->wout, d->kh, d->kw, d->sh, d->sw};
    const int32_t nonneg[] = {d->pt, d->pb, d->pl, d->pr};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (!dnas_rt_priv_dim_ok(pos[i], 1))
            return DNAS_RT_ERR_ARG;
    for (size_t i = 0; i < sizeof nonneg / sizeof nonneg[0]; i++)
        if (!dnas_rt_priv_dim_ok(nonneg[i], 0))
            return DNAS_RT_ERR_ARG;
    // Padding narrower than the window: every window holds a real pixel.
    if (d->pt >= d->kh || d->pb >= d->kh || d->pl >= d->kw || d->pr >= d->kw ||
        !dnas_rt_priv_flag_ok(d->in_signed) || !dnas_rt_priv_flag_ok(d->out_signed) ||
        d->hout != dnas_rt_conv_out_size(d->hin, d->kh, d->sh, 1, d->pt, d->pb) ||
        d->wout != dnas_rt_conv_out_size(d->win, d->kw, d->sw, 1, d->pl, d->pr) ||
        !dnas_rt_priv_count(d->hin, d->win, d->c, &n) ||
        !dnas_rt_priv_count(d->hout, d->wout, d->c, &n))
        return DNAS_RT_ERR_ARG;
    return DNAS_RT_OK;
}
