/* dnas_gap8: one conv or linear layer on the GAP8 cluster, in output tiles
 * through L1 (the layer descriptor the `gap8` backend writes and the tile
 * pass chose), written against dnas_pulp.h and computing with the dnas_rt
 * kernels, so its results are the integer evaluator's bit for bit.
 *
 * A layer is a conv over HWC bytes (dnas_rt_conv_dims; a linear layer is
 * the 1x1 conv of its Cin features on a [1][1][Cin] input, the same
 * arithmetic). Its output is cut into tiles of th rows, tw columns and tc
 * channels (the last along each axis may be smaller), channel tiles outer,
 * then rows, then columns. For each tile the input window it needs (the
 * rows and columns its taps reach, with the halo, strides, dilation and the
 * padding that falls inside the tile; all input channels, or for groups > 1
 * those of the tile's groups) and the tile's weights, biases and
 * multipliers come from L2/L3 into L1 by DMA, the cores compute the output
 * tile, and DMA writes it back to L2. With two buffers of a kind the next
 * tile's transfers run while the cores compute (double buffering).
 *
 * A layer may compute a subset of its output tensor's channels (a layer
 * split by input clamp: the channels of an engine that reads its input at
 * fewer bits, e.g. DIANA's 7-bit analog array, in one layer, the rest in
 * another): d.cout is the subset's size, chan lists the output tensor's
 * channels it computes (the weights, biases and multipliers are the whole
 * layer's, ctotal channels), and DMA gathers their constants and scatters
 * the output channels; with in_bits the input tile is clamped to that many
 * bits in L1 after its DMA (dnas_rt_saturate), as the integer evaluator
 * clamps the whole input. Plain C99 beside dnas_rt. */
#ifndef DNAS_GAP8_H
#define DNAS_GAP8_H

#include "dnas_pulp.h"
#include "dnas_rt.h"

typedef struct {
    dnas_rt_conv_dims d; /* the whole layer */
    int32_t th, tw, tc;  /* output tile rows, columns, channels */
    int wbits, shift;    /* weight bits, requantization shift */
    int32_t lo, hi;      /* output clamp */
    uint32_t l1_in[2];   /* L1 offsets of the input buffers (equal: one buffer) */
    uint32_t l1_w[2];    /* of the weight buffers: weights [tc][kh][kw][Cin/groups],
                            padded to 4 bytes, then tc int32 biases (when the layer
                            has a bias), then tc int32 multipliers */
    uint32_t l1_out[2];  /* of the output buffers */
    int ncores;          /* 1..DNAS_PULP_CORES */
    int32_t ctotal;      /* channels of the output tensor and of w, bias, m (>= d.cout;
                            0: d.cout) */
    const int32_t *chan; /* the d.cout channels computed (distinct, < ctotal), or NULL:
                            0..d.cout-1 (then ctotal is d.cout or 0) */
    int in_bits;         /* 1..7: the input clamped to that many bits; 0: as it is */
} dnas_gap8_layer;

/* Runs layer L: in and out in L2 ([Hin][Win][Cin], [Hout][Wout][ctotal]
 * bytes), w, bias (or NULL) and m in L2 or L3, l1 the L1 block the buffer
 * offsets are relative to. Returns DNAS_RT_OK, or a dnas_rt status when a
 * kernel refused (or DNAS_RT_ERR_ARG for a descriptor whose tiles do not
 * cover the layer or whose buffers double-buffering would overwrite). */
dnas_rt_status dnas_gap8_conv(const dnas_gap8_layer *L, uint8_t *l1, uint8_t *out,
                              const uint8_t *in, const int8_t *w, const int32_t *bias,
                              const int32_t *m);

#endif
