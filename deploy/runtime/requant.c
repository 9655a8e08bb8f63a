/* Requantization, the rounding every kernel shares:
 *   y = clamp(floor((acc·m + 2^(s-1)) / 2^s), lo, hi),  s = 0: clamp(acc·m).
 *
 * C99 leaves >> of a negative value implementation-defined, so floor(v/2^s)
 * is computed on non-negative values only: for v < 0,
 *   floor(v / 2^s) = -(((-v - 1) >> s) + 1)
 * (-v - 1 = -(v + 1) cannot overflow, even for INT64_MIN). The rounding
 * term is not added to v (v + 2^61 could overflow for v near INT64_MAX):
 *   floor((v + 2^(s-1)) / 2^s) = floor(v / 2^s) + [v mod 2^s >= 2^(s-1)]
 * and v mod 2^s >= 2^(s-1) is bit s-1 of v in two's complement, read from
 * the well-defined conversion (uint64_t)v. */
#include "dnas_rt.h"

int64_t dnas_rt_round_shift(int64_t v, int s) {
    if (s <= 0)
        return v;
    if (s > DNAS_RT_SHIFT_MAX)
        s = DNAS_RT_SHIFT_MAX;
    int64_t q = v >= 0 ? v >> s : -((-(v + 1)) >> s) - 1;
    int64_t half = (int64_t)(((uint64_t)v >> (s - 1)) & 1u);
    return q + half;
}

int32_t dnas_rt_clamp(int64_t v, int32_t lo, int32_t hi) {
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return (int32_t)v;
}

int32_t dnas_rt_requant(int32_t acc, int32_t m, int s, int32_t lo, int32_t hi) {
    return dnas_rt_clamp(dnas_rt_round_shift((int64_t)acc * m, s), lo, hi);
}
