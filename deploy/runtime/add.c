/* Requantized add of two tensors of one shape:
 *   y = clamp(floor((a·ma + b·mb + 2^(s-1)) / 2^s), lo, hi)
 * in int64 (|a·ma + b·mb| <= 2·255·2^31 < 2^40), rounded by
 * dnas_rt_round_shift like every requantization. */
#include "rt_internal.h"

dnas_rt_status dnas_rt_add(void *out, const void *a, const void *b, const dnas_rt_add_params *p,
                           const dnas_rt_add_dims *d) {
    size_t n;
    if (!out || !a || !b || !p || !d || !dnas_rt_priv_dim_ok(d->h, 1) ||
        !dnas_rt_priv_dim_ok(d->w, 1) || !dnas_rt_priv_dim_ok(d->c, 1) ||
        !dnas_rt_priv_flag_ok(d->a_signed) || !dnas_rt_priv_flag_ok(d->b_signed) ||
        !dnas_rt_priv_out_ok(p->lo, p->hi, p->s, d->out_signed) ||
        !dnas_rt_priv_count(d->h, d->w, d->c, &n))
        return DNAS_RT_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        int64_t v = (int64_t)dnas_rt_priv_load(a, i, d->a_signed) * p->ma +
                    (int64_t)dnas_rt_priv_load(b, i, d->b_signed) * p->mb;
        dnas_rt_priv_store(out, i, d->out_signed,
                           dnas_rt_clamp(dnas_rt_round_shift(v, p->s), p->lo, p->hi));
    }
    return DNAS_RT_OK;
}
