/* What the compiler's files share beyond compiler.h: the op attribute text
 * (dump and generated comments) and writing generated files. */
#ifndef DNAS_DEPLOY_COMPILER_INTERNAL_H
#define DNAS_DEPLOY_COMPILER_INTERNAL_H

#include "compiler.h"

/* The op as the cost model sees it (kind, channels, kernel, output size,
 * groups, bias, weight and input bits; pass_engines.c). */
hwcost_layer deploy_ir_op_layer(const deploy_ir *ir, const deploy_ir_op *o);

/* The op's attributes as one line of text ("3x3 stride 1x1 ..."). */
void deploy_ir_op_attrs(const deploy_ir_op *o, char *buf, size_t len);

/* A generated file being written: dir/name. Writes go to f; the first
 * failure is remembered and reported by deploy_out_close. */
typedef struct {
    FILE *f;
    char path[4200];
} deploy_out;

dnas_status deploy_out_open(deploy_out *o, const char *dir, const char *name, dnas_error *err);
/* Closes o->f: DNAS_ERR_IO naming the path when any write or the close failed. */
dnas_status deploy_out_close(deploy_out *o, dnas_error *err);
/* dir/name as a directory (made when missing). */
dnas_status deploy_out_mkdir(const char *dir, const char *name, char *path, size_t len,
                             dnas_error *err);
/* s with every "*" "/" pair and control character made harmless for a C
 * block comment, into buf. */
void deploy_comment_text(const char *s, char *buf, size_t len);
/* s as a C identifier part: [A-Za-z0-9_] kept, anything else '_', at most
 * len - 1 characters. */
void deploy_ident(const char *s, char *buf, size_t len);

/* ---- the C sources every C-based backend writes (backend_c.c) ---- */

/* The comment a generated file opens with: file, what it holds, the
 * network, dnas version, backend, command line, source and run id. */
void deploy_c_head(FILE *f, const char *file, const char *what, const deploy_ir *ir,
                   const deploy_emit_info *info, const char *backend);
/* network.h, network.c, weights.c, test_main.c and dnas_rt/ into dir. */
dnas_status deploy_c_sources(const deploy_ir *ir, const deploy_emit_info *info, const char *backend,
                             const char *dir, dnas_error *err);
/* The static scratch buffer of the Cortex-M kernels (dnas_cm.h) in bytes:
 * the most one conv / linear of ir needs, rounded up to words, plus a word. */
size_t deploy_cm_scratch_bytes(const deploy_ir *ir);
/* " dnas_rt/a.c dnas_rt/b.c ...": the runtime's C files, for a Makefile. */
void deploy_c_rt_sources(FILE *f, int cm);

/* ---- the tiler (pass_tile.c): any backend with a small tiled memory ---- */

/* What bounds the tiles of one op: the memory (a GAP8's L1, a DIANA's
 * activation L1...) and the engine's granularity. */
typedef struct {
    size_t l1;         /* bytes of the memory */
    int32_t cout_gran; /* a channel tile is a multiple of it, or all channels (>= 1) */
    int32_t ow_gran;   /* a column tile is a multiple of it, or all columns (>= 1) */
    int weights_in_l1; /* 1: weight tiles (weights, bias, multipliers) are buffered there */
    size_t align;      /* every buffer starts at a multiple of it (>= 4: int32 biases) */
    size_t w_l1;       /* > 0: weight tiles are buffered in a memory of their own of these
                          bytes (DIANA's digital weight L1) instead */
    int32_t w_lanes;   /* a weight tile holds whole blocks of this many channels (>= 1) */
    int32_t cout_max;  /* > 0: a channel tile has at most this many channels */
    int weights_fixed; /* 1: the weights stay in the engine (DIANA's analog array): no
                          weight buffers, no weight DMA */
} deploy_tile_limits;

/* Op k (a conv or a linear) as a conv over HWC bytes: a linear layer is
 * the 1x1 conv of its H·W·C input features on a [1][1][features] input. */
void deploy_tile_conv_dims(const deploy_ir *ir, int k, dnas_rt_conv_dims *d);
/* *t for output tiles of th rows, tw columns, tc channels of op k: tile
 * counts, buffer sizes (the largest tile's), which buffers are doubled,
 * the bytes they take in the memory and the bytes DMA moves per inference.
 * DNAS_ERR_INVALID when a size is outside the layer or off the granularity. */
dnas_status deploy_tile_layout(const deploy_ir *ir, int k, int32_t th, int32_t tw, int32_t tc,
                               const deploy_tile_limits *lim, deploy_tile *t, dnas_error *err);
/* The tiles of op k: the largest output tile (th·tw·tc, then more channels,
 * then more columns) whose buffers fit lim->l1 (double-buffered when there
 * is more than one tile), the whole layer when it fits. DNAS_ERR_UNSUPPORTED
 * naming the op, the memory size and the smallest size any tiling needs
 * when none fits (or when an output row or column reads only padding). */
dnas_status deploy_tile_choose(const deploy_ir *ir, int k, const deploy_tile_limits *lim,
                               deploy_tile *t, dnas_error *err);
/* Bytes op k's weight tiles take in lim->w_l1's memory (0 without one). */
size_t deploy_tile_w_l1_bytes(const deploy_tile *t, const deploy_tile_limits *lim);
/* Offsets in the memory of the buffers of t, for alignment align: in[0],
 * in[1], w[0], w[1], out[0], out[1] (a single buffer: [1] = [0]); the end is
 * t->l1_bytes. */
void deploy_tile_offsets(const deploy_tile *t, size_t align, size_t off[6]);

/* The c backend's layer function for op k (conv, linear, add, pools,
 * flatten) on the one arena, with its comment; the comment alone. */
void deploy_c_layer(FILE *f, const deploy_ir *ir, int k);
/* `static const int32_t name[n] = {...};` (INT32_MIN spelled so). */
void deploy_c_array_i32(FILE *f, const char *name, const int32_t *v, size_t n);
/* network.c's entry points every backend shares: network_input(),
 * network_output() (tensors in network_arena) and network_quantize_input()
 * (network.h). */
void deploy_c_entry_points(FILE *f, const deploy_ir *ir);
/* The body of network_run() after its opening: each layer_K_NAME() in
 * order (returning K + 1 when layer K fails), then return 0 and the brace. */
void deploy_c_layer_calls(FILE *f, const deploy_ir *ir);
void deploy_c_layer_comment(FILE *f, const deploy_ir *ir, int k);

#endif
