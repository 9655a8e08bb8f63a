/* linear (fully connected) on a flattened HWC input: out[co] =
 * requant(bias[co] + Σ_ci x[ci]·w[co][ci]). One contiguous dot product per
 * output channel is already the naive loop, so there is no separate _ref. */
#include "rt_internal.h"

static dnas_rt_status linear_args(const void *out, const void *in, const dnas_rt_weights *w,
                                  const int32_t *bias, const dnas_rt_requant_params *rq,
                                  const dnas_rt_linear_dims *d, int weights_too) {
    if (!out || !in || !rq || !rq->m || !d)
        return DNAS_RT_ERR_ARG;
    dnas_rt_status st = dnas_rt_priv_weights_ok(w);
    if (st != DNAS_RT_OK)
        return st;
    size_t nw;
    if (!dnas_rt_priv_dim_ok(d->cin, 1) || !dnas_rt_priv_dim_ok(d->cout, 1) ||
        !dnas_rt_priv_flag_ok(d->in_signed) ||
        !dnas_rt_priv_out_ok(rq->lo, rq->hi, rq->s, d->out_signed) ||
        !dnas_rt_priv_count(d->cout, d->cin, 1, &nw))
        return DNAS_RT_ERR_ARG;
    if (weights_too && (st = dnas_rt_weights_check(w, nw)) != DNAS_RT_OK)
        return st;
    return dnas_rt_priv_acc_check(d->cin, d->in_signed, w->bits, bias, d->cout);
}

dnas_rt_status dnas_rt_linear_args(const void *out, const void *in, const dnas_rt_weights *w,
                                   const int32_t *bias, const dnas_rt_requant_params *rq,
                                   const dnas_rt_linear_dims *d) {
    return linear_args(out, in, w, bias, rq, d, 0);
}

dnas_rt_status dnas_rt_linear_check(const dnas_rt_weights *w, const int32_t *bias,
                                    const dnas_rt_requant_params *rq,
                                    const dnas_rt_linear_dims *d) {
    static const uint8_t dummy[1] = {0};
    return linear_args(dummy, dummy, w, bias, rq, d, 1);
}

dnas_rt_status dnas_rt_linear(void *out, const void *in, const dnas_rt_weights *w,
                              const int32_t *bias, const dnas_rt_requant_params *rq,
                              const dnas_rt_linear_dims *d) {
    dnas_rt_status st = linear_args(out, in, w, bias, rq, d, 0);
    if (st != DNAS_RT_OK)
        return st;
    const int8_t *wq = (const int8_t *)w->data; // [Cout][Cin]
    const size_t cin = (size_t)d->cin;
    for (int32_t co = 0; co < d->cout; co++) {
        int32_t acc = bias ? bias[co] : 0;
        if (w->packing != DNAS_RT_PACK_INT8) {
            for (size_t i = 0; i < cin; i++)
                acc += dnas_rt_priv_load(in, i, d->in_signed) *
                       dnas_rt_weight_at(w, (size_t)co * cin + i);
            dnas_rt_priv_store(out, (size_t)co, d->out_signed,
                               dnas_rt_requant(acc, rq->m[co], rq->s, rq->lo, rq->hi));
            continue;
        }
        const int8_t *wr = wq + (size_t)co * cin;
        if (d->in_signed) {
            const int8_t *x = (const int8_t *)in;
            for (size_t i = 0; i < cin; i++)
                acc += (int32_t)x[i] * wr[i];
        } else {
            const uint8_t *x = (const uint8_t *)in;
            for (size_t i = 0; i < cin; i++)
                acc += (int32_t)x[i] * wr[i];
        }
        dnas_rt_priv_store(out, (size_t)co, d->out_signed,
                           dnas_rt_requant(acc, rq->m[co], rq->s, rq->lo, rq->hi));
    }
    return DNAS_RT_OK;
}
