/* conv2d over HWC bytes (conv1d is H = 1), with stride, dilation,
 * asymmetric zero padding and groups (depthwise: groups == cin).
 *
 * Two paths with one contract (dnas_rt.h) and identical results:
 * - dnas_rt_conv2d_ref reads the definition literally: for every output
 *   value, every tap and input channel, the padding test innermost.
 * - dnas_rt_conv2d finds, once per output pixel, the rows and columns of
 *   taps that land inside the input; for each output channel it then sums
 *   contiguous dot products over the group's Cin/groups channels (the input
 *   pixel and the weights [co][ky][kx][:] are both channel-fastest), with
 *   separate loops for int8 and uint8 input.
 * Both sum the same integer products in int32. The accumulator bound
 * (checked before anything is written) holds every partial sum in any order
 * inside int32, so the two orders give the same acc and the same output. */
#include "rt_internal.h"

int32_t dnas_rt_conv_out_size(int32_t in, int32_t k, int32_t s, int32_t d, int32_t p_before,
                              int32_t p_after) {
    if (!dnas_rt_priv_dim_ok(in, 1) || !dnas_rt_priv_dim_ok(k, 1) || !dnas_rt_priv_dim_ok(s, 1) ||
        !dnas_rt_priv_dim_ok(d, 1) || !dnas_rt_priv_dim_ok(p_before, 0) ||
        !dnas_rt_priv_dim_ok(p_after, 0))
        return 0;
    int64_t span = (int64_t)d * (k - 1) + 1;
    int64_t padded = (int64_t)in + p_before + p_after;
    if (span > padded) return 0;
    return (int32_t)((padded - span) / s + 1);
}

/* Everything the kernels check; with weights_too, every weight's range. */
static dnas_rt_status conv_args(const void *out, const void *in, const dnas_rt_weights *w,
                                const int32_t *bias, const dnas_rt_requant_params *rq,
                                const dnas_rt_conv_dims *d, int weights_too) {
    if (!out || !in || !rq || !rq->m || !d) return DNAS_RT_ERR_ARG;
    dnas_rt_status st = dnas_rt_priv_weights_ok(w);
    if (st != DNAS_RT_OK) return st;
    const int32_t pos[] = {d->hin, d->win, d->cin, d->hout, d->wout, d->cout,  d->kh,
                           d->kw,  d->sh,  d->sw,  d->dh,   d->dw,   d->groups};
    const int32_t nonneg[] = {d->pt, d->pb, d->pl, d->pr};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (!dnas_rt_priv_dim_ok(pos[i], 1)) return DNAS_RT_ERR_ARG;
    for (size_t i = 0; i < sizeof nonneg / sizeof nonneg[0]; i++)
        if (!dnas_rt_priv_dim_ok(nonneg[i], 0)) return DNAS_RT_ERR_ARG;
    if (d->cin % d->groups != 0 || d->cout % d->groups != 0 ||
        !dnas_rt_priv_flag_ok(d->in_signed) ||
        !dnas_rt_priv_out_ok(rq->lo, rq->hi, rq->s, d->out_signed))
        return DNAS_RT_ERR_ARG;
    if (d->hout != dnas_rt_conv_out_size(d->hin, d->kh, d->sh, d->dh, d->pt, d->pb) ||
        d->wout != dnas_rt_conv_out_size(d->win, d->kw, d->sw, d->dw, d->pl, d->pr))
        return DNAS_RT_ERR_ARG;
    size_t nin, nout, nw;
    if (!dnas_rt_priv_count(d->hin, d->win, d->cin, &nin) ||
        !dnas_rt_priv_count(d->hout, d->wout, d->cout, &nout) ||
        !dnas_rt_priv_count(d->kh, d->kw, d->cin / d->groups, &nw) ||
        !dnas_rt_priv_mul(nw, (size_t)d->cout, &nw))
        return DNAS_RT_ERR_ARG;
    if (weights_too && (st = dnas_rt_weights_check(w, nw)) != DNAS_RT_OK) return st;
    // K = kh·kw·Cin/groups < 2^72 in general; beyond 2^31 the bound fails anyway.
    int64_t k = (int64_t)d->kh * d->kw;
    if (k > INT32_MAX || k * (d->cin / d->groups) > INT32_MAX) return DNAS_RT_ERR_BOUND;
    return dnas_rt_priv_acc_check(k * (d->cin / d->groups), d->in_signed, w->bits, bias, d->cout);
}

dnas_rt_status dnas_rt_conv2d_args(const void *out, const void *in, const dnas_rt_weights *w,
                                   const int32_t *bias, const dnas_rt_requant_params *rq,
                                   const dnas_rt_conv_dims *d) {
    return conv_args(out, in, w, bias, rq, d, 0);
}

dnas_rt_status dnas_rt_conv2d_check(const dnas_rt_weights *w, const int32_t *bias,
                                    const dnas_rt_requant_params *rq, const dnas_rt_conv_dims *d) {
    static const uint8_t dummy[1] = {0};
    return conv_args(dummy, dummy, w, bias, rq, d, 1);
}

dnas_rt_status dnas_rt_conv2d_ref(void *out, const void *in, const dnas_rt_weights *w,
                                  const int32_t *bias, const dnas_rt_requant_params *rq,
                                  const dnas_rt_conv_dims *d) {
    dnas_rt_status st = conv_args(out, in, w, bias, rq, d, 0);
    if (st != DNAS_RT_OK) return st;
    const int32_t cig = d->cin / d->groups,
                  cpg = d->cout / d->groups; // w [Cout][kh][kw][Cin/groups]
    for (int32_t oy = 0; oy < d->hout; oy++)
        for (int32_t ox = 0; ox < d->wout; ox++)
            for (int32_t co = 0; co < d->cout; co++) {
                int32_t acc = bias ? bias[co] : 0;
                int32_t g = co / cpg;
                for (int32_t ky = 0; ky < d->kh; ky++)
                    for (int32_t kx = 0; kx < d->kw; kx++)
                        for (int32_t ci = 0; ci < cig; ci++) {
                            int32_t iy = oy * d->sh - d->pt + ky * d->dh;
                            int32_t ix = ox * d->sw - d->pl + kx * d->dw;
                            if (iy < 0 || iy >= d->hin || ix < 0 || ix >= d->win) continue;
                            size_t xi =
                                ((size_t)iy * (size_t)d->win + (size_t)ix) * (size_t)d->cin +
                                (size_t)(g * cig + ci);
                            size_t wi = (((size_t)co * (size_t)d->kh + (size_t)ky) * (size_t)d->kw +
                                         (size_t)kx) *
                                            (size_t)cig +
                                        (size_t)ci;
                            acc +=
                                dnas_rt_priv_load(in, xi, d->in_signed) * dnas_rt_weight_at(w, wi);
                        }
                size_t yi =
                    ((size_t)oy * (size_t)d->wout + (size_t)ox) * (size_t)d->cout + (size_t)co;
                dnas_rt_priv_store(out, yi, d->out_signed,
                                   dnas_rt_requant(acc, rq->m[co], rq->s, rq->lo, rq->hi));
            }
    return DNAS_RT_OK;
}

static int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n) {
    int32_t acc = 0;
    for (int32_t i = 0; i < n; i++)
        acc += (int32_t)x[i] * w[i];
    return acc;
}

static int32_t dot_u8(const uint8_t *x, const int8_t *w, int32_t n) {
    int32_t acc = 0;
    for (int32_t i = 0; i < n; i++)
        acc += (int32_t)x[i] * w[i];
    return acc;
}

/* The same on packed weights, from weight index wi on. */
static int32_t dot_packed(const void *x, size_t xi, int sgn, const dnas_rt_weights *w, size_t wi,
                          int32_t n) {
    int32_t acc = 0;
    for (int32_t i = 0; i < n; i++)
        acc += dnas_rt_priv_load(x, xi + (size_t)i, sgn) * dnas_rt_weight_at(w, wi + (size_t)i);
    return acc;
}

/* Taps t in [*lo, *hi) with 0 <= start + t·dil < in (start may be negative). */
static void tap_range(int32_t start, int32_t dil, int32_t taps, int32_t in, int32_t *lo,
                      int32_t *hi) {
    *lo = start >= 0 ? 0 : (-start + dil - 1) / dil;
    *hi = start > in - 1 ? 0 : (in - 1 - start) / dil + 1;
    if (*hi > taps) *hi = taps;
    if (*lo > *hi) *lo = *hi;
}

dnas_rt_status dnas_rt_conv2d(void *out, const void *in, const dnas_rt_weights *w,
                              const int32_t *bias, const dnas_rt_requant_params *rq,
                              const dnas_rt_conv_dims *d) {
    dnas_rt_status st = conv_args(out, in, w, bias, rq, d, 0);
    if (st != DNAS_RT_OK) return st;
    const int8_t *wq = (const int8_t *)w->data; // [Cout][kh][kw][Cin/groups]
    const int32_t cig = d->cin / d->groups, cpg = d->cout / d->groups;
    const size_t cin = (size_t)d->cin, wstride_tap = (size_t)cig;
    size_t yi = 0; // out [Hout][Wout][Cout], written in order
    for (int32_t oy = 0; oy < d->hout; oy++) {
        int32_t iy0 = oy * d->sh - d->pt, ky0, ky1;
        tap_range(iy0, d->dh, d->kh, d->hin, &ky0, &ky1);
        for (int32_t ox = 0; ox < d->wout; ox++) {
            int32_t ix0 = ox * d->sw - d->pl, kx0, kx1;
            tap_range(ix0, d->dw, d->kw, d->win, &kx0, &kx1);
            for (int32_t co = 0; co < d->cout; co++, yi++) {
                int32_t acc = bias ? bias[co] : 0;
                size_t cofs = (size_t)((co / cpg) * cig); // first input channel of the group
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    size_t xrow = (size_t)(iy0 + ky * d->dh) * (size_t)d->win;
                    size_t wrow = ((size_t)co * (size_t)d->kh + (size_t)ky) * (size_t)d->kw;
                    for (int32_t kx = kx0; kx < kx1; kx++) {
                        size_t xi = (xrow + (size_t)(ix0 + kx * d->dw)) * cin + cofs;
                        size_t wi = (wrow + (size_t)kx) * wstride_tap;
                        if (w->packing != DNAS_RT_PACK_INT8)
                            acc += dot_packed(in, xi, d->in_signed, w, wi, cig);
                        else if (d->in_signed)
                            acc += dot_s8((const int8_t *)in + xi, wq + wi, cig);
                        else
                            acc += dot_u8((const uint8_t *)in + xi, wq + wi, cig);
                    }
                }
                dnas_rt_priv_store(out, yi, d->out_signed,
                                   dnas_rt_requant(acc, rq->m[co], rq->s, rq->lo, rq->hi));
            }
        }
    }
    return DNAS_RT_OK;
}

dnas_rt_window dnas_rt_window_of(int32_t o0, int32_t n, int32_t s, int32_t k, int32_t dil,
                                 int32_t p, int32_t in) {
    int32_t lo = o0 * s - p, hi = (o0 + n - 1) * s - p + (k - 1) * dil + 1;
    int32_t a = lo < 0 ? 0 : lo, b = hi > in ? in : hi;
    dnas_rt_window w;
    if (b < a) b = a;
    w.a = a, w.n = b - a, w.pb = a - lo, w.pa = hi - b;
    return w;
}
