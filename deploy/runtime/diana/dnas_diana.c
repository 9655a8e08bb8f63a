/* The DIANA host model (dnas_diana.h): the digital engine's blocked int8
 * conv and the analog engine's bit-plane ternary conv with saturated
 * inputs, each followed by dnas_rt's requantization.
 *
 * Steps of dnas_diana_run:
 *   1. the checks: dnas_rt_conv2d_args on the job's dims (weights at 8 bits
 *      digital, 2 analog), then the slice, the engine, the analog groups
 *      and saturation range;
 *   2. for each output pixel and each of the job's channels, the int32
 *      accumulator from the engine's layout: digital, the channel's lane of
 *      its 16-channel block; analog, the channel's column bits of the two
 *      planes against the clamped inputs (dnas_rt_clamp, the rule of
 *      dnas_rt_saturate); padding taps read 0;
 *   3. dnas_rt_requant with the channel's multiplier, stored at channel
 *      out_cmap[c] (or c) of the pixel (out_cstride channels per pixel).
 * The accumulator bound (checked in 1.) keeps every partial sum in int32
 * whatever the order, so the values are dnas_rt_conv2d's for the same
 * weights and inputs (for the analog engine: the clamped inputs). */
#include "dnas_diana.h"

static size_t taps(const dnas_rt_conv_dims *d) {
    return (size_t)d->kh * (size_t)d->kw * (size_t)(d->cin / (d->groups > 0 ? d->groups : 1));
}

size_t dnas_diana_digital_bytes(const dnas_rt_conv_dims *d) {
    size_t blocks = ((size_t)d->cout + DNAS_DIANA_BLOCK - 1) / DNAS_DIANA_BLOCK;
    return blocks * DNAS_DIANA_BLOCK * taps(d);
}

size_t dnas_diana_analog_bytes(const dnas_rt_conv_dims *d) {
    return 2 * taps(d) * (((size_t)d->cout + 7) / 8);
}

void dnas_diana_pack_digital(int8_t *dst, const int8_t *w, int32_t cout, int32_t k) {
    int32_t blocks = (cout + DNAS_DIANA_BLOCK - 1) / DNAS_DIANA_BLOCK;
    for (int32_t b = 0; b < blocks; b++)
        for (int32_t t = 0; t < k; t++)
            for (int32_t l = 0; l < DNAS_DIANA_BLOCK; l++) {
                int32_t co = b * DNAS_DIANA_BLOCK + l;
                size_t at = ((size_t)b * (size_t)k + (size_t)t) * DNAS_DIANA_BLOCK + (size_t)l;
                dst[at] = co < cout ? w[(size_t)co * (size_t)k + (size_t)t] : 0;
            }
}

dnas_rt_status dnas_diana_pack_analog(uint8_t *dst, const int8_t *w, int32_t cout, int32_t k) {
    size_t row = ((size_t)cout + 7) / 8, plane = row * (size_t)k;
    for (size_t i = 0; i < 2 * plane; i++)
        dst[i] = 0;
    for (int32_t co = 0; co < cout; co++)
        for (int32_t t = 0; t < k; t++) {
            int8_t v = w[(size_t)co * (size_t)k + (size_t)t];
            if (v < -1 || v > 1) return DNAS_RT_ERR_ARG;
            if (v == 0) continue;
            size_t at = (v > 0 ? 0 : plane) + (size_t)t * row + (size_t)co / 8;
            dst[at] = (uint8_t)(dst[at] | (1u << ((unsigned)co % 8u)));
        }
    return DNAS_RT_OK;
}

static int32_t load(const void *p, size_t i, int sgn) {
    return sgn ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}

static void store(void *p, size_t i, int sgn, int32_t v) {
    if (sgn)
        ((int8_t *)p)[i] = (int8_t)v;
    else
        ((uint8_t *)p)[i] = (uint8_t)v;
}

/* Input value of tap (ky, kx, ci) for output pixel (oy, ox); 0 in padding. */
static int32_t tap(const void *in, const dnas_rt_conv_dims *d, int32_t oy, int32_t ox, int32_t ky,
                   int32_t kx, int32_t ci) {
    int32_t iy = oy * d->sh - d->pt + ky * d->dh, ix = ox * d->sw - d->pl + kx * d->dw;
    if (iy < 0 || iy >= d->hin || ix < 0 || ix >= d->win) return 0;
    return load(in, ((size_t)iy * (size_t)d->win + (size_t)ix) * (size_t)d->cin + (size_t)ci,
                d->in_signed);
}

static dnas_rt_status check(const void *out, const void *in, const dnas_diana_job *j) {
    if (j->engine != DNAS_DIANA_DIGITAL && j->engine != DNAS_DIANA_ANALOG) return DNAS_RT_ERR_ARG;
    const dnas_rt_conv_dims *d = &j->d;
    int analog = j->engine == DNAS_DIANA_ANALOG;
    dnas_rt_weights w = {j->w, analog ? 2 : 8, DNAS_RT_PACK_INT8};
    dnas_rt_status st = dnas_rt_conv2d_args(out, in, &w, j->bias, &j->rq, d);
    if (st) return st;
    if (!j->out_cmap && j->out_cstride != d->cout) return DNAS_RT_ERR_ARG;
    if (j->out_cmap) {
        if (d->groups != 1 || j->out_cstride > DNAS_RT_DIM_MAX) return DNAS_RT_ERR_ARG;
        for (int32_t c = 0; c < d->cout; c++)
            if (j->out_cmap[c] < (c ? j->out_cmap[c - 1] + 1 : 0) ||
                j->out_cmap[c] >= j->out_cstride)
                return DNAS_RT_ERR_ARG;
    }
    if (analog) {
        int32_t lo = d->in_signed ? -128 : 0, hi = d->in_signed ? 127 : 255;
        if (d->groups != 1 || j->in_lo > 0 || j->in_hi < 0 || j->in_lo < lo || j->in_hi > hi)
            return DNAS_RT_ERR_ARG;
    }
    return DNAS_RT_OK;
}

dnas_rt_status dnas_diana_run(void *out, const void *in, const dnas_diana_job *j) {
    if (!j) return DNAS_RT_ERR_ARG;
    dnas_rt_status st = check(out, in, j); /* 1. */
    if (st) return st;
    const dnas_rt_conv_dims *d = &j->d;
    const int32_t cing = d->cin / d->groups, coutg = d->cout / d->groups;
    const size_t k = taps(d), row = ((size_t)d->cout + 7) / 8, plane = row * k;
    const int8_t *wd = (const int8_t *)j->w;
    const uint8_t *wa = (const uint8_t *)j->w;
    for (int32_t oy = 0; oy < d->hout; oy++)
        for (int32_t ox = 0; ox < d->wout; ox++)
            for (int32_t co = 0; co < d->cout; co++) {
                int32_t acc = j->bias ? j->bias[co] : 0; /* 2. */
                size_t t = 0;
                for (int32_t ky = 0; ky < d->kh; ky++)
                    for (int32_t kx = 0; kx < d->kw; kx++)
                        for (int32_t ci = 0; ci < cing; ci++, t++) {
                            if (j->engine == DNAS_DIANA_DIGITAL) {
                                int32_t x = tap(in, d, oy, ox, ky, kx, (co / coutg) * cing + ci);
                                size_t b = (size_t)co / DNAS_DIANA_BLOCK,
                                       l = (size_t)co % DNAS_DIANA_BLOCK;
                                acc += x * (int32_t)wd[(b * k + t) * DNAS_DIANA_BLOCK + l];
                            } else {
                                size_t at = t * row + (size_t)co / 8;
                                unsigned bit = 1u << ((unsigned)co % 8u);
                                int32_t wv =
                                    ((wa[at] & bit) ? 1 : 0) - ((wa[plane + at] & bit) ? 1 : 0);
                                if (wv == 0) continue;
                                int32_t x = dnas_rt_clamp(tap(in, d, oy, ox, ky, kx, ci), j->in_lo,
                                                          j->in_hi);
                                acc += x * wv;
                            }
                        }
                int32_t y = dnas_rt_requant(acc, j->rq.m[co], j->rq.s, j->rq.lo, j->rq.hi); /* 3. */
                int32_t oc = j->out_cmap ? j->out_cmap[co] : co;
                size_t at = ((size_t)oy * (size_t)d->wout + (size_t)ox) * (size_t)j->out_cstride +
                            (size_t)oc;
                store(out, at, d->out_signed, y);
            }
    return DNAS_RT_OK;
}

/* ---- tiles (dnas_diana_run_tiles) ---- */

static int32_t ceil_div(int32_t a, int32_t b) {
    return (a + b - 1) / b;
}

static int32_t min32(int32_t a, int32_t b) {
    return a < b ? a : b;
}

/* Tensor channel of job channel c. */
static int32_t out_channel(const dnas_diana_job *j, int32_t c) {
    return j->out_cmap ? j->out_cmap[c] : c;
}

/* The output tile [oh][ow][cn] in obuf to its place in out: one 2-D
 * transfer per output row and run of consecutive tensor channels. */
static void store_tile(const dnas_diana_job *j, uint8_t *out, const uint8_t *obuf, int32_t oy,
                       int32_t oh, int32_t ox, int32_t ow, int32_t c0, int32_t cn) {
    size_t cs = (size_t)j->out_cstride, wout = (size_t)j->d.wout;
    int32_t c = 0;
    while (c < cn) {
        int32_t ch = out_channel(j, c0 + c), run = 1;
        while (c + run < cn && out_channel(j, c0 + c + run) == ch + run)
            run++;
        uint8_t *dst = out + ((size_t)oy * wout + (size_t)ox) * cs + (size_t)ch;
        const uint8_t *src = obuf + (size_t)c;
        if ((size_t)run == cs) /* whole pixels: one row of bytes per output row */
            dnas_diana_dma_2d(dst, src, (size_t)oh, (size_t)ow * cs, wout * cs, (size_t)ow * cs);
        else
            for (int32_t y = 0; y < oh; y++)
                dnas_diana_dma_2d(dst + (size_t)y * wout * cs,
                                  src + (size_t)y * (size_t)ow * (size_t)cn, (size_t)ow,
                                  (size_t)run, cs, (size_t)cn);
        c += run;
    }
}

/* The input window (rows wy, columns wx, channels ci0..ci0+cin-1) into ibuf. */
static void load_window(const dnas_rt_conv_dims *d, const uint8_t *in, uint8_t *ibuf,
                        dnas_rt_window wy, dnas_rt_window wx, int32_t ci0, int32_t cin) {
    size_t C = (size_t)d->cin, W = (size_t)d->win, cols = (size_t)wx.n, tc = (size_t)cin;
    const uint8_t *src = in + ((size_t)wy.a * W + (size_t)wx.a) * C + (size_t)ci0;
    if (tc == C) {
        dnas_diana_dma_2d(ibuf, src, (size_t)wy.n, cols * C, cols * C, W * C);
        return;
    }
    for (size_t r = 0; r < (size_t)wy.n; r++)
        dnas_diana_dma_2d(ibuf + r * cols * tc, src + r * W * C, cols, tc, tc, C);
}

dnas_rt_status dnas_diana_run_tiles(void *out, const void *in, const dnas_diana_job *j,
                                    const dnas_diana_tiles *t, uint8_t *l1, uint8_t *l1w) {
    if (!j || !t || !l1) return DNAS_RT_ERR_ARG;
    dnas_rt_status st = check(out, in, j);
    if (st) return st;
    const dnas_rt_conv_dims *d = &j->d;
    int digital = j->engine == DNAS_DIANA_DIGITAL;
    if ((digital && !l1w) || t->th < 1 || t->th > d->hout || t->tw < 1 || t->tw > d->wout ||
        t->tc < 1 || t->tc > d->cout)
        return DNAS_RT_ERR_ARG;
    const int32_t nh = ceil_div(d->hout, t->th), nw = ceil_div(d->wout, t->tw),
                  nc = ceil_div(d->cout, t->tc);
    const int32_t cpg = d->cout / d->groups, cig = d->cin / d->groups;
    if ((digital && nc > 1 && t->tc % DNAS_DIANA_BLOCK) || (d->groups > 1 && t->tc % cpg))
        return DNAS_RT_ERR_ARG;
    const size_t k = taps(d);
    const int in_changes = nh * nw > 1 || (d->groups > 1 && nc > 1);
    /* a digital weight buffer: whole blocks of tc channels, biases, multipliers */
    const size_t bias_at =
                     ((size_t)ceil_div(t->tc, DNAS_DIANA_BLOCK) * DNAS_DIANA_BLOCK * k + 3) / 4 * 4,
                 m_at = bias_at + (j->bias ? 4 * (size_t)t->tc : 0);
    if (digital && m_at + 4 * (size_t)t->tc > t->w_bytes) return DNAS_RT_ERR_ARG;
    dnas_rt_conv_dims whole_tc = *d;
    whole_tc.cout = t->tc;
    const size_t analog_tile = dnas_diana_analog_bytes(&whole_tc);
    uint8_t *o = (uint8_t *)out;
    const uint8_t *x = (const uint8_t *)in;
    long i = 0;
    for (int32_t ci = 0; ci < nc; ci++) {
        int32_t c0 = ci * t->tc, cn = min32(t->tc, d->cout - c0);
        uint8_t *wbuf = digital ? l1w + t->l1_w[ci & 1] : NULL;
        if (digital) { /* the channel tile's weights, biases and multipliers */
            size_t wb = (size_t)ceil_div(cn, DNAS_DIANA_BLOCK) * DNAS_DIANA_BLOCK * k;
            dnas_diana_dma_2d(wbuf, (const int8_t *)j->w + (size_t)c0 * k, 1, wb, wb, wb);
            if (j->bias)
                dnas_diana_dma_2d(wbuf + bias_at, j->bias + c0, 1, 4 * (size_t)cn, 4 * (size_t)cn,
                                  4 * (size_t)cn);
            dnas_diana_dma_2d(wbuf + m_at, j->rq.m + c0, 1, 4 * (size_t)cn, 4 * (size_t)cn,
                              4 * (size_t)cn);
        }
        int32_t tg = d->groups == 1 ? 1 : cn / cpg;
        int32_t ci0 = d->groups == 1 ? 0 : (c0 / cpg) * cig,
                tcin = d->groups == 1 ? d->cin : tg * cig;
        for (int32_t y = 0; y < nh; y++)
            for (int32_t xx = 0; xx < nw; xx++, i++) {
                int32_t oy = y * t->th, oh = min32(t->th, d->hout - oy);
                int32_t ox = xx * t->tw, ow = min32(t->tw, d->wout - ox);
                dnas_rt_window wy = dnas_rt_window_of(oy, oh, d->sh, d->kh, d->dh, d->pt, d->hin);
                dnas_rt_window wx = dnas_rt_window_of(ox, ow, d->sw, d->kw, d->dw, d->pl, d->win);
                if (wy.n < 1 || wx.n < 1 ||
                    (size_t)wy.n * (size_t)wx.n * (size_t)tcin > t->in_bytes ||
                    (size_t)oh * (size_t)ow * (size_t)cn > t->out_bytes)
                    return DNAS_RT_ERR_ARG;
                uint8_t *ibuf = l1 + t->l1_in[in_changes ? (int)(i & 1) : 0];
                uint8_t *obuf = l1 + t->l1_out[i & 1];
                if (i == 0 || in_changes) load_window(d, x, ibuf, wy, wx, ci0, tcin);
                dnas_diana_job s = *j;
                s.d.hin = wy.n, s.d.pt = wy.pb, s.d.pb = wy.pa;
                s.d.win = wx.n, s.d.pl = wx.pb, s.d.pr = wx.pa;
                s.d.cin = tcin, s.d.groups = tg;
                s.d.hout = oh, s.d.wout = ow, s.d.cout = cn;
                s.out_cmap = NULL, s.out_cstride = cn;
                if (digital) {
                    s.w = wbuf;
                    s.bias = j->bias ? (const int32_t *)(const void *)(wbuf + bias_at) : NULL;
                    s.rq.m = (const int32_t *)(const void *)(wbuf + m_at);
                } else {
                    s.w = (const uint8_t *)j->w + (size_t)ci * analog_tile;
                    s.bias = j->bias ? j->bias + c0 : NULL;
                    s.rq.m = j->rq.m + c0;
                }
                st = dnas_diana_run(obuf, ibuf, &s);
                if (st) return st;
                dnas_diana_l1_check();
                store_tile(j, o, obuf, oy, oh, ox, ow, c0, cn);
            }
    }
    return DNAS_RT_OK;
}
