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
