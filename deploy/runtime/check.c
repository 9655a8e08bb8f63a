/* Argument checks shared by the kernels, the accumulator bound and the
 * weight range check. Sizes are compared by division, never by a product
 * that could overflow. */
#include "rt_internal.h"

int dnas_rt_priv_flag_ok(int flag) { return flag == 0 || flag == 1; }

int dnas_rt_priv_dim_ok(int32_t v, int32_t lo) { return v >= lo && v <= DNAS_RT_DIM_MAX; }

int dnas_rt_priv_out_ok(int32_t lo, int32_t hi, int s, int out_signed) {
    int32_t tmin = out_signed ? -128 : 0, tmax = out_signed ? 127 : 255;
    return dnas_rt_priv_flag_ok(out_signed) && lo <= hi && lo >= tmin && hi <= tmax && s >= 0 &&
           s <= DNAS_RT_SHIFT_MAX;
}

int dnas_rt_priv_mul(size_t a, size_t b, size_t *out) {
    if (b != 0 && a > (size_t)-1 / b)
        return 0;
    *out = a * b;
    return 1;
}

int dnas_rt_priv_count(int32_t a, int32_t b, int32_t c, size_t *count) {
    size_t ab;
    if (a < 0 || b < 0 || c < 0)
        return 0;
    return dnas_rt_priv_mul((size_t)a, (size_t)b, &ab) && dnas_rt_priv_mul(ab, (size_t)c, count);
}

int32_t dnas_rt_priv_xmax(int sgn) { return sgn ? 128 : 255; }

int64_t dnas_rt_acc_bound(int64_t k, int in_signed, int bits, int64_t bias_absmax) {
    if (k < 0 || bias_absmax < 0 || bits < 1 || bits > 8)
        return INT64_MAX;
    int64_t per_term = (int64_t)dnas_rt_priv_xmax(in_signed) * (((int64_t)1 << (bits - 1)) - 1);
    if (per_term != 0 && k > (INT64_MAX - bias_absmax) / per_term)
        return INT64_MAX;
    return k * per_term + bias_absmax;
}

dnas_rt_status dnas_rt_priv_acc_check(int64_t k, int in_signed, int bits, const int32_t *bias,
                                      int32_t cout) {
    int64_t bmax = 0;
    for (int32_t c = 0; bias && c < cout; c++) {
        int64_t b = bias[c] < 0 ? -(int64_t)bias[c] : (int64_t)bias[c];
        if (b > bmax)
            bmax = b;
    }
    return dnas_rt_acc_bound(k, in_signed, bits, bmax) <= DNAS_RT_ACC_MAX ? DNAS_RT_OK
                                                                          : DNAS_RT_ERR_BOUND;
}

dnas_rt_status dnas_rt_priv_weights_ok(const dnas_rt_weights *w) {
    if (!w || !w->data || w->bits < 2 || w->bits > 8)
        return DNAS_RT_ERR_ARG;
    switch (w->packing) {
    case DNAS_RT_PACK_INT8: return DNAS_RT_OK;
    case DNAS_RT_PACK_INT4: return w->bits <= 4 ? DNAS_RT_OK : DNAS_RT_ERR_ARG;
    case DNAS_RT_PACK_INT2: return w->bits <= 2 ? DNAS_RT_OK : DNAS_RT_ERR_ARG;
    default: return DNAS_RT_ERR_UNSUPPORTED;
    }
}

/* Sign extension by arithmetic on unsigned values: v - 2·(v & top). */
int32_t dnas_rt_weight_at(const dnas_rt_weights *w, size_t i) {
    const uint8_t *b = (const uint8_t *)w->data;
    unsigned v;
    switch (w->packing) {
    case DNAS_RT_PACK_INT4:
        v = ((unsigned)b[i >> 1] >> (unsigned)((i & 1u) * 4u)) & 15u;
        return (int32_t)v - (int32_t)((v & 8u) << 1);
    case DNAS_RT_PACK_INT2:
        v = ((unsigned)b[i >> 2] >> (unsigned)((i & 3u) * 2u)) & 3u;
        return (int32_t)v - (int32_t)((v & 2u) << 1);
    default: return ((const int8_t *)w->data)[i];
    }
}

size_t dnas_rt_packed_bytes(dnas_rt_packing p, size_t count) {
    switch (p) {
    case DNAS_RT_PACK_INT8: return count;
    case DNAS_RT_PACK_INT4: return count / 2 + (count & 1u);
    case DNAS_RT_PACK_INT2: return count / 4 + ((count & 3u) != 0);
    default: return 0;
    }
}

void dnas_rt_pack(void *dst, const int8_t *src, size_t count, dnas_rt_packing p) {
    uint8_t *b = (uint8_t *)dst;
    size_t n = dnas_rt_packed_bytes(p, count);
    if (p == DNAS_RT_PACK_INT8) {
        for (size_t i = 0; i < count; i++)
            b[i] = (uint8_t)src[i];
        return;
    }
    unsigned per = p == DNAS_RT_PACK_INT4 ? 2u : 4u, width = 8u / per, mask = (1u << width) - 1u;
    for (size_t j = 0; j < n; j++)
        b[j] = 0;
    for (size_t i = 0; i < count; i++) {
        unsigned v = (unsigned)(src[i] < 0 ? src[i] + 256 : src[i]) & mask;
        b[i / per] = (uint8_t)(b[i / per] | (v << (unsigned)((i % per) * width)));
    }
}

dnas_rt_status dnas_rt_weights_check(const dnas_rt_weights *w, size_t count) {
    dnas_rt_status st = dnas_rt_priv_weights_ok(w);
    if (st != DNAS_RT_OK)
        return st;
    int32_t wmax = ((int32_t)1 << (w->bits - 1)) - 1;
    for (size_t i = 0; i < count; i++) {
        int32_t v = dnas_rt_weight_at(w, i);
        if (v > wmax || v < -wmax)
            return DNAS_RT_ERR_ARG;
    }
    return DNAS_RT_OK;
}
