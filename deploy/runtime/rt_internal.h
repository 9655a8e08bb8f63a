/* Private helpers shared by the dnas_rt kernels (not installed, not for
 * generated code): byte loads by signedness and the O(1) argument checks. */
#ifndef DNAS_RT_INTERNAL_H
#define DNAS_RT_INTERNAL_H

#include "dnas_rt.h"

/* Value i of a byte tensor: int8_t when sgn, else uint8_t. Reading through
 * int8_t is exact (int8_t is two's complement by definition). */
static inline int32_t dnas_rt_priv_load(const void *p, size_t i, int sgn) {
    return sgn ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}
/* v must already lie in the type's range (a clamp to lo..hi checked against it). */
static inline void dnas_rt_priv_store(void *p, size_t i, int sgn, int32_t v) {
    if (sgn)
        ((int8_t *)p)[i] = (int8_t)v;
    else
        ((uint8_t *)p)[i] = (uint8_t)v;
}

/* 1 when flag is 0 or 1. */
int dnas_rt_priv_flag_ok(int flag);
/* 1 when 1 <= v <= DNAS_RT_DIM_MAX (lo = 1) or 0 <= v <= DNAS_RT_DIM_MAX (lo = 0). */
int dnas_rt_priv_dim_ok(int32_t v, int32_t lo);
/* 1 when lo <= hi and both lie in the type's range; s in 0..62. */
int dnas_rt_priv_out_ok(int32_t lo, int32_t hi, int s, int out_signed);
/* *out = a·b when it fits size_t: 1, else 0. */
int dnas_rt_priv_mul(size_t a, size_t b, size_t *out);
/* *count = a·b·c when all are >= 0 and it fits size_t: 1, else 0. */
int dnas_rt_priv_count(int32_t a, int32_t b, int32_t c, size_t *count);
/* Largest |x| of a byte tensor: 128 signed, 255 unsigned. */
int32_t dnas_rt_priv_xmax(int sgn);
/* The accumulator bound for k terms, bits and a bias [cout] (or NULL):
 * DNAS_RT_OK or DNAS_RT_ERR_BOUND. */
dnas_rt_status dnas_rt_priv_acc_check(int64_t k, int in_signed, int bits, const int32_t *bias,
                                      int32_t cout);
/* Weights struct: non-NULL data, bits 2..8 (DNAS_RT_ERR_ARG), packing
 * known (DNAS_RT_ERR_UNSUPPORTED). */
dnas_rt_status dnas_rt_priv_weights_ok(const dnas_rt_weights *w);
/* Pool dims: sizes, padding narrower than the window, output sizes,
 * flags. DNAS_RT_OK or DNAS_RT_ERR_ARG. */
dnas_rt_status dnas_rt_priv_pool_args(const void *out, const void *in, const dnas_rt_pool_dims *d);

#endif
