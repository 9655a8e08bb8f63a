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
 * Tiles (dnas_diana_run_tiles): the engines read their inputs from and
 * write their outputs to the activation L1 (L1_act, shared by both), the
 * digital engine reads its weights, biases and multipliers from its weight
 * L1 (L1_wdig); the analog engine keeps its weights in the array and reads
 * its biases and multipliers where they are. A job too large for L1 runs in
 * output tiles (th rows, tw columns, tc channels; the last along each axis
 * may be smaller; channel tiles outer, then rows, then columns): for each
 * tile its input window (the rows and columns its taps reach, the padding
 * that falls inside the tile given to the engine as padding; for groups >
 * 1 the tile's groups' input channels) is moved from L2 into an L1_act
 * buffer by DMA, for a digital job the channel tile's weight blocks,
 * biases and multipliers into an L1_wdig buffer when the channel tile
 * changes, the engine computes the output tile into L1_act and DMA moves it
 * to its place in the output tensor (channels through out_cmap). An input
 * window is moved for every tile when inputs change between tiles (more
 * than one spatial tile, or groups > 1 and more than one channel tile),
 * else once. Buffers alternate between two of a kind when the pass chose
 * two (double buffering); the host model's transfers are synchronous, so
 * the values do not depend on it.
 *
 * Portable C99 with dnas_rt.h only, no libc, no dynamic memory, but for
 * the L1 and DMA calls below: generated code and dnas_diana_run_tiles use
 * them, dnas_diana_host.c implements them on the host with bounds checks
 * (its header lists them; a port to DIANA's own runtime is not part of
 * dnas). */
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

/* ---- L1 and DMA ---- */

/* Bytes of the two L1 memories the host model gives (configs/targets/
 * diana.yaml; a build may set others with -D). */
#ifndef DNAS_DIANA_L1_ACT_BYTES
#define DNAS_DIANA_L1_ACT_BYTES 128000
#endif
#ifndef DNAS_DIANA_L1_WDIG_BYTES
#define DNAS_DIANA_L1_WDIG_BYTES 65536
#endif

typedef enum {
    DNAS_DIANA_L1_ACT = 0,  /* activation L1 (both engines) */
    DNAS_DIANA_L1_WDIG = 1, /* the digital engine's weight L1 */
} dnas_diana_l1_mem;

/* The block of bytes (4-byte aligned) at the start of memory mem, or NULL
 * when mem holds fewer bytes or its block is allocated already. */
void *dnas_diana_l1_alloc(int mem, size_t bytes);
/* Frees mem's block. */
void dnas_diana_l1_free(int mem);
/* Copies rows rows of row_bytes bytes, row r from src + r·src_stride to
 * dst + r·dst_stride: one side inside an L1 block, the other outside both
 * L1 memories (L2). */
void dnas_diana_dma_2d(void *dst, const void *src, size_t rows, size_t row_bytes,
                       size_t dst_stride, size_t src_stride);
/* After an engine wrote into L1: every byte past each block is unchanged. */
void dnas_diana_l1_check(void);
/* Host model only: bytes its transfers moved into and out of L1 so far. */
void dnas_diana_host_bytes(unsigned long long *into_l1, unsigned long long *out_of_l1);

/* The tiles of one job and its L1 buffers. */
typedef struct {
    int32_t th, tw, tc;   /* output tile rows, columns, channels (of the job's) */
    uint32_t l1_in[2];    /* L1_act offsets of the input buffers (equal: one) */
    uint32_t l1_out[2];   /* of the output buffers */
    uint32_t l1_w[2];     /* digital: L1_wdig offsets of the weight buffers: the
                             channel tile's weight blocks padded to 4 bytes, its
                             int32 biases (when the job has any), multipliers */
    uint32_t in_bytes, out_bytes, w_bytes; /* bytes of one buffer of each kind */
} dnas_diana_tiles;

/* Runs job j in the tiles of t through the L1 blocks l1 (L1_act) and l1w
 * (L1_wdig; NULL for an analog job): in and out are the whole tensors in
 * L2. An analog job with more than one channel tile has its weights packed
 * per channel tile (tile i at i·dnas_diana_analog_bytes of tc channels).
 * DNAS_RT_ERR_ARG for a tiling outside the job, off its engine's blocks,
 * or whose tiles do not fit the buffers; else dnas_diana_run's status. */
dnas_rt_status dnas_diana_run_tiles(void *out, const void *in, const dnas_diana_job *j,
                                    const dnas_diana_tiles *t, uint8_t *l1, uint8_t *l1w);

#endif
