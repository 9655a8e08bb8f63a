/* dnas_diana: a bit-accurate functional model, on the host, of DIANA's two
 * accelerators as the `diana` backend drives them (docs/deploy.md,
 * "DIANA"). Generated DIANA code calls dnas_diana_run for every conv and
 * linear layer (one job per engine of a layer) and dnas_rt for what the
 * accelerators do not run (adds, pools), so the same code links against
 * this model in the tests.
 *
 * A job is one conv (a linear is a 1x1 conv on a 1x1 input of Cin = H·W·C
 * input bytes) on one engine, writing its d.cout channels into an HWC
 * tensor of out_cstride channels per pixel: job channel c is the tensor's
 * channel out_cmap[c] (out_cmap NULL: channel c, d.cout = out_cstride).
 * The jobs of a layer split between the engines write disjoint channel
 * sets of one tensor in place, no concat copy.
 *
 * Digital engine (16x16 PE array, int8): weights in blocks of 16 output
 * channels, int8 [ceil(cout/16)][kh][kw][cin/groups][16] (lane l of block b
 * is output channel 16·b + l; lanes past cout hold 0): each block is one
 * pass of the array, 16 channels at once. acc = bias + Σ x·w in int32,
 * then dnas_rt_requant: dnas_rt_conv2d's values exactly.
 *
 * Analog engine (AIMC array, ternary weights, groups 1): weights as two
 * bit-planes, w+ then w-, each [R][ceil(cout/8)] bytes with R = kh·kw·cin
 * array rows in the order (ky, kx, ci) and output channel c at bit c % 8 of
 * byte c / 8 of a row: w = +1 where w+ is set, -1 where w- is set, 0 where
 * neither (both set is refused by the packer). Each input value is first
 * clamped to in_lo..in_hi (the 7-bit input of the array: 0..127 unsigned,
 * -64..63 signed; dnas_rt_saturate's rule), padding is 0, then
 * acc = bias + Σ x'·w in int32 and dnas_rt_requant. The array's ADC is
 * modelled as exact (no output quantization before the requantization).
 *
 * Portable C99 with dnas_rt.h only: no libc, no dynamic memory. */
#ifndef DNAS_DIANA_H
#define DNAS_DIANA_H

#include "dnas_rt.h"

#define DNAS_DIANA_BLOCK 16 /* output channels per digital weight block */
#define DNAS_DIANA_ANALOG_IN_BITS 7

typedef enum {
    DNAS_DIANA_DIGITAL = 0,
    DNAS_DIANA_ANALOG = 1,
} dnas_diana_engine;

typedef struct {
    int engine;                /* dnas_diana_engine */
    dnas_rt_conv_dims d;       /* the job's conv; d.cout = the job's channels */
    const int32_t *out_cmap;   /* [d.cout] output channels, ascending, or NULL: all */
    int32_t out_cstride;       /* channels per pixel of the output tensor */
    int32_t in_lo, in_hi;      /* analog: the input saturation (in_lo <= 0 <= in_hi) */
    const void *w;             /* the engine's weight layout (above) */
    const int32_t *bias;       /* [d.cout] or NULL */
    dnas_rt_requant_params rq; /* rq.m [d.cout] */
} dnas_diana_job;

/* Bytes of a job's weights in the digital / analog layout. */
size_t dnas_diana_digital_bytes(const dnas_rt_conv_dims *d);
size_t dnas_diana_analog_bytes(const dnas_rt_conv_dims *d);

/* dnas_rt's weights w [cout][K] (K = kh·kw·cin/groups) into the digital
 * blocks dst (dnas_diana_digital_bytes). */
void dnas_diana_pack_digital(int8_t *dst, const int8_t *w, int32_t cout, int32_t k);
/* Ternary weights w [cout][K] (groups 1) into the two bit-planes dst
 * (dnas_diana_analog_bytes): DNAS_RT_ERR_ARG when a weight is not -1, 0
 * or 1 (dst is then incomplete). */
dnas_rt_status dnas_diana_pack_analog(uint8_t *dst, const int8_t *w, int32_t cout, int32_t k);

/* Runs job j: out is the whole output tensor, in the whole input tensor.
 * Checks as dnas_rt_conv2d (dims, requant, the accumulator bound at 8 or 2
 * weight bits) plus the channel map (ascending, inside 0..out_cstride - 1;
 * without a map d.cout = out_cstride; groups 1 with a map) and, for the
 * analog engine, groups 1 and in_lo..in_hi (O(cout)); returns DNAS_RT_ERR_ARG or
 * DNAS_RT_ERR_BOUND before writing anything, else DNAS_RT_OK. */
dnas_rt_status dnas_diana_run(void *out, const void *in, const dnas_diana_job *j);

#endif
