/* dnas_rt: the integer kernels of dnas, the one definition of its integer
 * semantics. Generated code links them on every target and the search's
 * integer evaluator runs them on the host, so the integer accuracy on a
 * Pareto front is the deployed code's accuracy. docs/deploy.md restates the
 * rules below with worked examples.
 *
 * Portable C99: no dynamic memory, no stdio, nothing beyond <stdint.h> and
 * <stddef.h>, no implementation-defined or undefined behaviour for any
 * input a kernel accepts (checked: -std=c99 -pedantic -Wconversion, UBSan).
 *
 * Conventions (all kernels):
 * - Argument order: output, inputs, weights, bias, requant params, dims.
 *   `const` on every input. The caller owns all memory; no kernel needs
 *   scratch. Output must not overlap an input.
 * - Tensors are HWC, one value per byte: [H][W][C], channel fastest. A 1-D
 *   sequence is H = 1 (and kh = 1). A dims flag `*_signed` says how the
 *   bytes read: 1 int8_t (-128..127), 0 uint8_t (0..255). Activations after
 *   a ReLU are unsigned; narrower activations (e.g. 4-bit, 0..15) are the
 *   same bytes with a narrower lo..hi.
 * - Weights are signed symmetric, |w| <= 2^(bits-1) - 1 (127, 7, 1 for 8,
 *   4, 2 bits), passed as a dnas_rt_weights (data, bits, packing) so that
 *   packed sub-byte layouts can be added as new packings.
 * - Accumulation: acc = b_c + Σ x·w in int32 (see "accumulator bound").
 * - Requantization: y = clamp((acc·m + 2^(s-1)) >> s, lo, hi) with a 64-bit
 *   product, s in 0..62 (s = 0: y = clamp(acc·m)), and >> the floor of the
 *   division by 2^s, also for negative values: rounding is half up
 *   (toward +inf), -2.5 -> -2, -2.51 -> -3, 2.5 -> 3. m may be any int32,
 *   negative included.
 * - Every kernel checks its dims and params in O(1) (plus O(Cout) for a
 *   bias) and returns a status before writing anything; DNAS_RT_OK means
 *   the whole output was written.
 * - Dims fields are int32_t (the same limits on 16-bit-int targets); every
 *   size, kernel tap count, stride, dilation and padding is at most
 *   DNAS_RT_DIM_MAX, so index arithmetic stays inside int32 / size_t.
 */
#ifndef DNAS_RT_H
#define DNAS_RT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    DNAS_RT_OK = 0,
    DNAS_RT_ERR_ARG,         /* a NULL pointer; dims, params or weights out of range or
                                inconsistent */
    DNAS_RT_ERR_BOUND,       /* the int32 accumulator (or pool sum) bound does not hold */
    DNAS_RT_ERR_UNSUPPORTED, /* a weight packing this build does not implement */
} dnas_rt_status;

#define DNAS_RT_DIM_MAX (1L << 24)
#define DNAS_RT_SHIFT_MAX 62
#define DNAS_RT_ACC_MAX INT32_MAX /* |acc| never exceeds this */

/* ---- requantization: used by every kernel ------------------------------- */

/* floor((v + 2^(s-1)) / 2^s) for s >= 1 and v for s = 0, for every int64 v
 * (no intermediate overflows). s outside 0..62 is taken as the nearest end
 * of that range; kernels reject it before. */
int64_t dnas_rt_round_shift(int64_t v, int s);
/* v clamped to lo..hi (lo when v < lo, else hi when v > hi). */
int32_t dnas_rt_clamp(int64_t v, int32_t lo, int32_t hi);
/* clamp(round_shift((int64)acc·m, s), lo, hi): the requantization of one
 * accumulator. |acc·m| <= 2^62, so the product and rounding fit int64 for
 * every int32 acc and m. */
int32_t dnas_rt_requant(int32_t acc, int32_t m, int s, int32_t lo, int32_t hi);

/* Per-output-channel requantization (conv2d, linear): channel c uses m[c].
 * lo..hi must lie in the output type's range (0..255 unsigned, -128..127
 * signed), lo <= hi. To requantize by a real ratio r_c = S_in·S_w,c / S_out
 * pick s and m[c] = round(r_c·2^s) with |m[c]| < 2^31. */
typedef struct {
    const int32_t *m; /* [Cout] */
    int s;            /* 0..62 */
    int32_t lo, hi;
} dnas_rt_requant_params;

/* One multiplier for a whole tensor (average pools). */
typedef struct {
    int32_t m;
    int s;
    int32_t lo, hi;
} dnas_rt_tensor_requant;

/* ---- weights -------------------------------------------------------------- */

/* Weight storage. The logical layout (the kernel's, e.g. [Cout][kh][kw][Cin/g])
 * is the same for every packing: weight i of that flat order is stored
 *   INT8  in byte i (int8_t);
 *   INT4  in byte i/2, bits 4·(i%2) .. 4·(i%2)+3 (the low nibble first), as a
 *         4-bit two's-complement value (bits <= 4);
 *   INT2  in byte i/4, bits 2·(i%4) .. 2·(i%4)+1 (the lowest pair first), as a
 *         2-bit two's-complement value (bits <= 2).
 * The last byte's unused bits are 0. No row starts on a byte boundary of its
 * own: the array is one stream. */
typedef enum {
    DNAS_RT_PACK_INT8 = 0, /* one weight per int8_t, in the kernel's layout */
    DNAS_RT_PACK_INT4 = 1, /* two weights per byte */
    DNAS_RT_PACK_INT2 = 2, /* four weights per byte */
} dnas_rt_packing;

/* A weight tensor: its bytes, its precision and how they are packed (a
 * packing narrower than the bits is DNAS_RT_ERR_ARG; an unknown one
 * DNAS_RT_ERR_UNSUPPORTED); the logical layout stays the kernel's. */
typedef struct {
    const void *data;
    int bits; /* 2..8: every value in ±(2^(bits-1) - 1) */
    dnas_rt_packing packing;
} dnas_rt_weights;

/* Weight i (of the logical order) of w, whatever its packing. */
int32_t dnas_rt_weight_at(const dnas_rt_weights *w, size_t i);
/* Bytes that count weights take in packing p (INT4: ceil(count/2), INT2:
 * ceil(count/4)); 0 for an unknown packing. */
size_t dnas_rt_packed_bytes(dnas_rt_packing p, size_t count);
/* Packs count int8 weights src (each inside p's range: -8..7 for INT4,
 * -2..1 for INT2) into dst (dnas_rt_packed_bytes(p, count) bytes; unused
 * bits 0). */
void dnas_rt_pack(void *dst, const int8_t *src, size_t count, dnas_rt_packing p);

/* DNAS_RT_OK when each of the count weights lies in ±(2^(bits-1) - 1), else
 * DNAS_RT_ERR_ARG (or DNAS_RT_ERR_UNSUPPORTED for an unknown packing). */
dnas_rt_status dnas_rt_weights_check(const dnas_rt_weights *w, size_t count);

/* ---- accumulator bound ---------------------------------------------------- *
 * A conv or linear accumulator is b_c + Σ_{k<K} x_k·w_k with K = kh·kw·Cin/groups
 * (linear: K = Cin), |x| <= xmax (128 for int8 input, 255 for uint8) and
 * |w| <= wmax = 2^(bits-1) - 1. If
 *     K·xmax·wmax + max_c |b_c| <= DNAS_RT_ACC_MAX (2^31 - 1)
 * then every partial sum, in any summation order, fits int32. Kernels check
 * it from the dims, bits and bias (O(Cout)); that the weights really lie in
 * their range is the caller's promise, checked once by the *_check
 * functions. E.g. uint8 x, 8-bit w: K <= 66311 with no bias. */

/* K·xmax·wmax + bias_absmax: the largest |acc|, saturated at INT64_MAX (also
 * returned for a negative k or bias_absmax, or bits outside 1..8). */
int64_t dnas_rt_acc_bound(int64_t k, int in_signed, int bits, int64_t bias_absmax);

/* ---- conv2d (conv1d: hin = hout = kh = 1) ------------------------------- */

typedef struct {
    int32_t hin, win, cin;    /* input  [Hin][Win][Cin] */
    int32_t hout, wout, cout; /* output [Hout][Wout][Cout] */
    int32_t kh, kw;           /* kernel taps */
    int32_t sh, sw;           /* stride >= 1 */
    int32_t dh, dw;           /* dilation >= 1 */
    int32_t pt, pb, pl, pr;   /* padding top, bottom, left, right >= 0 (value 0) */
    int32_t groups;           /* divides cin and cout; depthwise: groups == cin */
    int in_signed, out_signed;
} dnas_rt_conv_dims;

/* Output size of one axis: floor((in + p_before + p_after - d·(k-1) - 1) / s) + 1,
 * or 0 when the dilated kernel does not fit or an argument is out of range. */
int32_t dnas_rt_conv_out_size(int32_t in, int32_t k, int32_t s, int32_t d, int32_t p_before,
                              int32_t p_after);

/* out [Hout][Wout][Cout] (int8/uint8 per out_signed), in [Hin][Win][Cin]
 * (per in_signed), w [Cout][kh][kw][Cin/groups], bias [Cout] int32 or NULL.
 *   acc[oy][ox][co] = bias[co] + Σ_{ky,kx,ci} x[iy][ix][g·Cin/groups + ci]·w[co][ky][kx][ci]
 *   with g = co / (Cout/groups), iy = oy·sh - pt + ky·dh, ix = ox·sw - pl + kx·dw,
 *   x = 0 outside the input; out = requant(acc, rq->m[co], rq->s, rq->lo, rq->hi).
 * Dims: every size >= 1, hout and wout equal to dnas_rt_conv_out_size.
 * Returns DNAS_RT_OK, DNAS_RT_ERR_ARG, DNAS_RT_ERR_BOUND (accumulator bound)
 * or DNAS_RT_ERR_UNSUPPORTED (packing). */
/* The input rows (or columns) that output rows o0..o0+n-1 of a conv read
 * along one axis (stride s, kernel k, dilation dil, padding p before, in
 * input rows): the first row a inside the input, how many (n), and how
 * many padding rows come before (pb) and after (pa) them. Tiled backends
 * load a tile's input window with it. */
typedef struct {
    int32_t a, n, pb, pa;
} dnas_rt_window;
dnas_rt_window dnas_rt_window_of(int32_t o0, int32_t n, int32_t s, int32_t k, int32_t dil, int32_t p,
                                 int32_t in);

dnas_rt_status dnas_rt_conv2d(void *out, const void *in, const dnas_rt_weights *w,
                              const int32_t *bias, const dnas_rt_requant_params *rq,
                              const dnas_rt_conv_dims *d);
/* Same contract and results; naive loops, the reference of dnas_rt_conv2d. */
dnas_rt_status dnas_rt_conv2d_ref(void *out, const void *in, const dnas_rt_weights *w,
                                  const int32_t *bias, const dnas_rt_requant_params *rq,
                                  const dnas_rt_conv_dims *d);
/* What the kernel checks, plus every weight in its range: run once where a
 * layer is set up. */
dnas_rt_status dnas_rt_conv2d_check(const dnas_rt_weights *w, const int32_t *bias,
                                    const dnas_rt_requant_params *rq, const dnas_rt_conv_dims *d);
/* The O(1) checks dnas_rt_conv2d makes before it writes (no weight ranges),
 * for kernels that share its contract (deploy/runtime/cm). */
dnas_rt_status dnas_rt_conv2d_args(const void *out, const void *in, const dnas_rt_weights *w,
                                   const int32_t *bias, const dnas_rt_requant_params *rq,
                                   const dnas_rt_conv_dims *d);

/* ---- linear (fully connected) --------------------------------------------- */

typedef struct {
    int32_t cin;  /* input features: a flattened HWC tensor, H·W·C */
    int32_t cout; /* output features */
    int in_signed, out_signed;
} dnas_rt_linear_dims;

/* out [Cout], in [Cin], w [Cout][Cin], bias [Cout] int32 or NULL:
 *   out[co] = requant(bias[co] + Σ_ci x[ci]·w[co][ci], rq->m[co], rq->s, rq->lo, rq->hi).
 * Returns as dnas_rt_conv2d. */
dnas_rt_status dnas_rt_linear(void *out, const void *in, const dnas_rt_weights *w,
                              const int32_t *bias, const dnas_rt_requant_params *rq,
                              const dnas_rt_linear_dims *d);
dnas_rt_status dnas_rt_linear_check(const dnas_rt_weights *w, const int32_t *bias,
                                    const dnas_rt_requant_params *rq,
                                    const dnas_rt_linear_dims *d);
/* The O(1) checks dnas_rt_linear makes before it writes (no weight ranges). */
dnas_rt_status dnas_rt_linear_args(const void *out, const void *in, const dnas_rt_weights *w,
                                   const int32_t *bias, const dnas_rt_requant_params *rq,
                                   const dnas_rt_linear_dims *d);

/* ---- add: two tensors of one shape, each with its own multiplier --------- */

typedef struct {
    int32_t ma, mb; /* multipliers of a and b */
    int s;          /* 0..62 */
    int32_t lo, hi; /* in the output type's range */
} dnas_rt_add_params;

typedef struct {
    int32_t h, w, c; /* a, b and out are [H][W][C] */
    int a_signed, b_signed, out_signed;
} dnas_rt_add_dims;

/* out = clamp(round_shift(a·ma + b·mb, s), lo, hi) per element, in int64
 * (|a·ma + b·mb| < 2^40: no overflow). For real scales pick
 * ma = round(S_a/S_out·2^s), mb = round(S_b/S_out·2^s). out may equal a
 * or b (elementwise, read before written). Returns DNAS_RT_OK or
 * DNAS_RT_ERR_ARG. */
dnas_rt_status dnas_rt_add(void *out, const void *a, const void *b, const dnas_rt_add_params *p,
                           const dnas_rt_add_dims *d);

/* ---- pooling ---------------------------------------------------------------- */

typedef struct {
    int32_t hin, win, c;    /* input  [Hin][Win][C] */
    int32_t hout, wout;     /* output [Hout][Wout][C]; equal to dnas_rt_conv_out_size (d = 1) */
    int32_t kh, kw, sh, sw; /* window and stride >= 1 */
    int32_t pt, pb, pl, pr; /* padding, each smaller than the window along its axis, so
                               every window holds at least one real pixel */
    int in_signed, out_signed;
} dnas_rt_pool_dims;

/* out [Hout][Wout][C] = max over the window's real pixels (padding never
 * wins); out_signed must equal in_signed, values are copied unchanged.
 * Returns DNAS_RT_OK or DNAS_RT_ERR_ARG. */
dnas_rt_status dnas_rt_maxpool(void *out, const void *in, const dnas_rt_pool_dims *d);

/* out [Hout][Wout][C] = requant(sum, rq->m, rq->s, rq->lo, rq->hi) with sum
 * the int32 sum of the window's kh·kw cells, padding counted as zeros: the
 * divisor is always kh·kw (PyTorch's count_include_pad=True; one m for the
 * whole tensor, no division on the target). For an average with scale
 * ratio S_in/S_out pick s and m = round(S_in/(S_out·kh·kw)·2^s), e.g.
 * kh·kw = 9, S_in = S_out, s = 20: m = round(2^20/9) = 116508.
 * kh·kw·xmax <= 2^31 - 1 (xmax 128 int8, 255 uint8) is checked (DNAS_RT_ERR_BOUND).
 * Returns DNAS_RT_OK, DNAS_RT_ERR_ARG or DNAS_RT_ERR_BOUND. */
dnas_rt_status dnas_rt_avgpool(void *out, const void *in, const dnas_rt_tensor_requant *rq,
                               const dnas_rt_pool_dims *d);

typedef struct {
    int32_t h, w, c; /* input [H][W][C]; output [1][1][C] */
    int in_signed, out_signed;
} dnas_rt_gavgpool_dims;

/* out [C] = requant(Σ_{y,x} in[y][x][c], rq->m, rq->s, rq->lo, rq->hi);
 * m = round(S_in/(S_out·H·W)·2^s). H·W·xmax <= 2^31 - 1 is checked.
 * Returns DNAS_RT_OK, DNAS_RT_ERR_ARG or DNAS_RT_ERR_BOUND. */
dnas_rt_status dnas_rt_global_avgpool(void *out, const void *in, const dnas_rt_tensor_requant *rq,
                                      const dnas_rt_gavgpool_dims *d);

/* ---- input saturation ------------------------------------------------------- */

/* out[i] = clamp(in[i], lo, hi) over n values of a byte tensor (int8 when
 * sgn, else uint8): the input of an engine that takes fewer bits than the
 * tensor has (DIANA's analog array: 7 bits) is clamped into that engine's
 * range before the weights multiply; docs/deploy.md, "DIANA". out may equal
 * in. lo <= hi inside the type's range. Returns DNAS_RT_OK or
 * DNAS_RT_ERR_ARG. */
dnas_rt_status dnas_rt_saturate(void *out, const void *in, size_t n, int sgn, int32_t lo,
                                int32_t hi);
/* The range of bits-bit values (bits taken into 1..8): 0..2^bits - 1
 * unsigned, -2^(bits-1)..2^(bits-1) - 1 signed; e.g. 7 bits: 0..127,
 * -64..63. */
void dnas_rt_saturate_range(int sgn, int bits, int32_t *lo, int32_t *hi);

#endif
