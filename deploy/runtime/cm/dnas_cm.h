/* dnas_cm: Cortex-M kernels with dnas_rt's contract and results.
 *
 * Each kernel takes dnas_rt's arguments (dnas_rt.h: HWC bytes, int8
 * weights in dnas_rt's layout, the same dims and requant structs) plus a
 * caller-owned scratch buffer, and writes exactly the bytes the dnas_rt
 * kernel writes: the same int32 accumulators (the accumulator bound makes
 * every summation order exact) and the same requantization
 * (dnas_cm_requant equals dnas_rt_requant for every argument). A shape a
 * fast path does not cover, or a scratch buffer that is too small, runs
 * dnas_rt's kernel.
 *
 * With __ARM_FEATURE_DSP (Cortex-M4/M7/M33 with DSP) the inner loops use the
 * ACLE intrinsics of <arm_acle.h> (SXTB16/UXTB16, SMLAD, SMLABB/SMLATT);
 * elsewhere the same loops run on portable C definitions of those
 * instructions, so the host tests run the code the target runs.
 *
 * Fast paths (docs/deploy.md, "Cortex-M kernels"):
 * - conv2d with groups == 1, any kernel, stride, dilation, padding and
 *   signedness: the taps of two output pixels are gathered (im2col) as
 *   16-bit pairs into scratch, then a matrix multiply computes two output
 *   channels of both pixels at a time with SMLAD (4 accumulators, 16 MACs
 *   per 4-channel step). A 1x1 pointwise conv is the same multiply on the
 *   pixels' channels.
 * - depthwise conv2d (groups == cin == cout, cin % 4 == 0): four channels
 *   at a time, SMLABB/SMLATT on 16-bit channel pairs against weights
 *   repacked per call into scratch as [tap][channel] pairs.
 * - linear: the same multiply as conv2d with one pixel.
 */
#ifndef DNAS_CM_H
#define DNAS_CM_H

#include "dnas_rt.h"

/* clamp(round_shift((int64)acc·m, s), lo, hi): dnas_rt_requant's result for
 * every int32 acc and m, s in 0..62 (inline in the kernels). */
int32_t dnas_cm_requant(int32_t acc, int32_t m, int s, int32_t lo, int32_t hi);

/* Bytes of scratch dnas_cm_conv2d uses for d (0 when it runs dnas_rt's
 * kernel for d). */
size_t dnas_cm_conv2d_buffer_size(const dnas_rt_conv_dims *d);
size_t dnas_cm_linear_buffer_size(const dnas_rt_linear_dims *d);

/* dnas_rt_conv2d / dnas_rt_linear with scratch (4-byte aligned, bytes long;
 * may be NULL when bytes is 0). Same statuses, same output. */
dnas_rt_status dnas_cm_conv2d(void *out, const void *in, const dnas_rt_weights *w,
                              const int32_t *bias, const dnas_rt_requant_params *rq,
                              const dnas_rt_conv_dims *d, uint32_t *scratch, size_t bytes);
dnas_rt_status dnas_cm_linear(void *out, const void *in, const dnas_rt_weights *w,
                              const int32_t *bias, const dnas_rt_requant_params *rq,
                              const dnas_rt_linear_dims *d, uint32_t *scratch, size_t bytes);

#endif
