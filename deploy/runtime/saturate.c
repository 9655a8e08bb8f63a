/* Input saturation: the bytes of a tensor clamped into a narrower range,
 * what an engine with a narrower input does to its inputs before the
 * weights multiply (DIANA's analog array takes 7-bit inputs). The integer
 * evaluator and the DIANA host model (runtime/diana/) both clamp through
 * dnas_rt_clamp, so the network's integer semantics have one definition. */
#include "dnas_rt.h"
#include "rt_internal.h"

dnas_rt_status dnas_rt_saturate(void *out, const void *in, size_t n, int sgn, int32_t lo,
                                int32_t hi) {
    if (!out || !in || !dnas_rt_priv_flag_ok(sgn) || !dnas_rt_priv_out_ok(lo, hi, 0, sgn))
        return DNAS_RT_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        dnas_rt_priv_store(out, i, sgn, dnas_rt_clamp(dnas_rt_priv_load(in, i, sgn), lo, hi));
    return DNAS_RT_OK;
}

void dnas_rt_saturate_range(int sgn, int bits, int32_t *lo, int32_t *hi) {
    if (bits < 1) bits = 1;
    if (bits > 8) bits = 8;
    if (sgn) {
        *hi = (int32_t)((1L << (bits - 1)) - 1);
        *lo = -*hi - 1;
    } else {
        *lo = 0;
        *hi = (int32_t)((1L << bits) - 1);
    }
}
