/* The integer network (qnet): what the search's export produces, what
 * `dnas quantize` writes and `dnas deploy` will read. Plain data: tensors
 * and a list of integer ops in schedule order, each op one dnas_rt kernel
 * call (deploy/runtime/dnas_rt.h, the one definition of integer
 * semantics). HDF5 layout: docs/deploy.md, "The integer network".
 *
 * Tensors are HWC bytes, [H][W][C] (a 1-D sequence is H = 1), int8 or uint8
 * with a bit width and a real scale: real = scale·q (no zero point). Range
 * of a tensor of b bits: 0..2^b - 1 unsigned, -2^(b-1)..2^(b-1) - 1 signed.
 * Tensor 0 is the network input: a float sample x (the training layout
 * (C, H, W), e.g. after normalization) becomes
 *     q = clamp(floor(x / scale + 1/2), lo, hi)     (in double)
 * in HWC order. The output tensor's values dequantize as scale·q.
 *
 * Ops (fields used; every op has kind, name, in[0], out):
 * - CONV     dnas_rt_conv2d: conv2d, conv1d (H = 1), grouped and depthwise,
 *            stride, dilation, padding pt/pb/pl/pr; w [Cout][kh][kw][Cin/groups]
 *            int8 at wbits, bias [Cout] int32 or NULL, m [Cout], shift, lo, hi.
 * - LINEAR   dnas_rt_linear over the input tensor's H·W·C bytes in HWC
 *            order (the export permutes a float network's CHW-flatten
 *            weights to it); w [Cout][Cin], bias, m, shift, lo, hi.
 * - ADD      dnas_rt_add of in[0] (ma) and in[1] (mb), shift, lo, hi.
 * - MAXPOOL  dnas_rt_maxpool: kh, kw, sh, sw, pt/pb/pl/pr; the output has
 *            the input's scale, signedness and bits.
 * - AVGPOOL  dnas_rt_avgpool: as maxpool plus ma (the one multiplier),
 *            shift, lo, hi; divides by kh·kw always (padding counts as 0).
 * - GAVGPOOL dnas_rt_global_avgpool: ma, shift, lo, hi; output [1][1][C].
 * - FLATTEN  no-op reshape: the output tensor is the input's bytes as
 *            [1][1][H·W·C] (same scale, signedness, bits).
 * Each op's lo..hi lies in its output tensor's range. */
#ifndef DNAS_DEPLOY_QNET_H
#define DNAS_DEPLOY_QNET_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "dnas_rt.h"

#define DEPLOY_QNET_NAME_LEN 64
/* The `format` attribute of a qnet group. */
#define DEPLOY_QNET_FORMAT "dnas-qnet-1"
/* Most tensors / ops a qnet may hold (checked on read). */
#define DEPLOY_QNET_MAX_ITEMS (1 << 20)

typedef enum {
    DEPLOY_QOP_CONV = 0,
    DEPLOY_QOP_LINEAR,
    DEPLOY_QOP_ADD,
    DEPLOY_QOP_MAXPOOL,
    DEPLOY_QOP_AVGPOOL,
    DEPLOY_QOP_GAVGPOOL,
    DEPLOY_QOP_FLATTEN,
    DEPLOY_QOP_COUNT_
} deploy_qop_kind;

/* "conv", "linear", "add", "maxpool", "avgpool", "global_avgpool",
 * "flatten" (the names the HDF5 table stores); NULL out of range. */
const char *deploy_qop_kind_name(deploy_qop_kind k);

typedef struct {
    char name[DEPLOY_QNET_NAME_LEN]; /* the float layer it holds the output of ("input") */
    int32_t h, w, c;                 /* [H][W][C], each 1..DNAS_RT_DIM_MAX */
    int is_signed;                   /* 1 int8, 0 uint8 */
    int bits;                        /* 2..8 */
    float scale;                     /* real = scale·q; finite, > 0 */
} deploy_qtensor;

typedef struct {
    deploy_qop_kind kind;
    char name[DEPLOY_QNET_NAME_LEN]; /* the float layer it comes from */
    int in[2];                       /* input tensors; in[1] = -1 except for ADD */
    int out;                         /* output tensor */
    int32_t kh, kw, sh, sw, dh, dw;  /* conv / pools (dh = dw = 1 for pools) */
    int32_t pt, pb, pl, pr;
    int32_t groups; /* conv */
    int wbits;      /* conv / linear: 2..8 */
    int8_t *w;      /* conv / linear weights (owned), wlen values */
    size_t wlen;
    int32_t *bias;  /* conv / linear: [Cout] (owned) or NULL */
    int32_t *m;     /* conv / linear: [Cout] multipliers (owned) */
    int32_t ma, mb; /* add: the two multipliers; avg pools: ma */
    int shift;      /* 0..62 */
    int32_t lo, hi; /* output clamp */
    /* conv / linear: each output channel's engine, an index into the
     * qnet's `engines` ([Cout], owned), or NULL: not recorded (one engine
     * for the op, deploy's choice). An ODiMO export records it; deploy
     * splits such an op per engine into disjoint channel slices. */
    int8_t *engine;
} deploy_qop;

/* How a sample of the data becomes the float input the network was
 * trained on, and so (through deploy_qnet_quantize) its integer input:
 *   1. the data loader's values: train_data_load_* (IDX and CIFAR pixels
 *      byte / 255 as float; NPY, CSV and HDF5 values as stored), shape
 *      (C, H, W);
 *   2. rows: an image (1, H, W) read as a sequence of H steps of W
 *      channels, (W, 1, H) (train_data_to_rows; `layout: rows`);
 *   3. normalized (c > 0): x = (x - mean[ch]) · (1 / std[ch]) per channel,
 *      in float as train_data_normalize computes it, with the statistics
 *      of the training split the network was trained on;
 *   4. q = clamp(floor(x / scale + 1/2), lo, hi) in HWC order
 *      (deploy_qnet_quantize, deploy_qnet_input_bytes).
 * recorded = 0 (a file written before the qnet stored it): unknown. */
typedef struct {
    int recorded;
    int rows;
    int c;             /* channels of mean and std: the input tensor's c; 0 not normalized */
    float *mean, *std; /* [c] (owned), std > 0 */
} deploy_qnet_input;

#define DEPLOY_QNET_MAX_ENGINES 4
#define DEPLOY_QNET_ENGINE_LEN 32

typedef struct {
    char name[DEPLOY_QNET_NAME_LEN];
    int nengines; /* names the ops' per-channel `engine` indices refer to (target engine names) */
    char engines[DEPLOY_QNET_MAX_ENGINES][DEPLOY_QNET_ENGINE_LEN];
    /* per engine name: the input bits that engine takes, 0: its inputs are
     * the tensor's. b in 2..7: channels on that engine read their input
     * clamped to b bits first (dnas_rt_saturate; DIANA's analog array: 7),
     * in the evaluator and in deployed code alike (docs/deploy.md, "DIANA") */
    int engine_in_bits[DEPLOY_QNET_MAX_ENGINES];
    int ntensors, nops;
    deploy_qtensor *tensors; /* tensors[0] is the network input */
    deploy_qop *ops;         /* schedule order */
    int output;              /* the output tensor */
    int cap_tensors, cap_ops;
    deploy_qnet_input input; /* the data's preprocessing (recorded or not) */
} deploy_qnet;

/* An empty network named name (truncated to DEPLOY_QNET_NAME_LEN - 1). */
void deploy_qnet_init(deploy_qnet *q, const char *name);
/* Frees every op's arrays and the lists; q is then empty (init again to reuse). */
void deploy_qnet_free(deploy_qnet *q);
/* Appends a copy of t; returns its index. */
int deploy_qnet_add_tensor(deploy_qnet *q, const deploy_qtensor *t);
/* Index of engine name in q->engines, added when new; -1 when the table
 * is full or the name is empty or too long. */
int deploy_qnet_engine(deploy_qnet *q, const char *name);
/* Appends a zeroed op of kind (in[1] = -1, strides, dilations and groups 1)
 * named name; the pointer is valid until the next append. Arrays the
 * caller sets (w, bias, m; dnas_xmalloc'd) belong to q from then on. */
deploy_qop *deploy_qnet_add_op(deploy_qnet *q, deploy_qop_kind kind, const char *name);

/* Sets q's input preprocessing (recorded): rows, and c > 0 channels of
 * mean and std (copied) when the data was normalized (c = 0: not; mean
 * and std may then be NULL). */
void deploy_qnet_set_input(deploy_qnet *q, int rows, int c, const float *mean, const float *std);
/* Copies src's preprocessing into dst (replacing dst's). */
void deploy_qnet_copy_input(deploy_qnet_input *dst, const deploy_qnet_input *src);
void deploy_qnet_input_free(deploy_qnet_input *in);
/* Step 3 of deploy_qnet_input in place on n samples x (n, C, H, W) of the
 * input tensor's shape; nothing when the data was not normalized. */
void deploy_qnet_normalize(const deploy_qnet *q, float *x, int n);
/* Step 4: n float samples x (n, C, H, W) of the input tensor's shape,
 * quantized into its bytes [H][W][C] (n · input size bytes; int8 values
 * as their two's-complement byte). */
void deploy_qnet_input_bytes(const deploy_qnet *q, const float *x, int n, uint8_t *out);

/* The dnas_rt dims of a CONV op reading tensor in and writing out. */
dnas_rt_conv_dims deploy_qop_conv_dims(const deploy_qop *op, const deploy_qtensor *in,
                                       const deploy_qtensor *out);

/* Range of a tensor's values: lo, hi as in the header comment. */
void deploy_qtensor_range(const deploy_qtensor *t, int32_t *lo, int32_t *hi);
/* Values of one sample of a tensor (h·w·c). */
size_t deploy_qtensor_size(const deploy_qtensor *t);

/* Everything a reader or the evaluator relies on; the first problem is
 * DNAS_ERR_FORMAT (DNAS_ERR_SHAPE for shapes) "<where>: op 3 'conv2'
 * (conv): ...", naming what was expected:
 * - tensors: sizes 1..DNAS_RT_DIM_MAX and H·W·C below 2^31, bits 2..8,
 *   is_signed 0/1, a finite scale > 0; the output index in range;
 * - ops: a known kind, tensor indices in range, every input written by an
 *   earlier op (or the network input), every tensor but the input written
 *   by exactly one op, the output written; shapes as the kind requires
 *   (dnas_rt_conv_out_size), lo..hi inside the output tensor's range;
 * - conv / linear: weights, bias and multipliers present with the lengths
 *   the shapes give, every weight in ±(2^(wbits-1) - 1) and the
 *   accumulator bound (dnas_rt_conv2d_check / dnas_rt_linear_check);
 * - pools: padding narrower than the window, the pool-sum bound;
 * - a recorded input preprocessing: rows only for an input [1][W][C]
 *   (a sequence), mean and std of the input's c channels (or none),
 *   finite, std > 0. */
dnas_status deploy_qnet_check(const deploy_qnet *q, const char *where, dnas_error *err);

/* ---- multipliers ---------------------------------------------------------- */

/* Multipliers for real ratios r[0..n) sharing one shift: s is the largest
 * in 0..62 with round(max|r|·2^s) <= 2^31 - 1 (so the largest multiplier
 * has 31 significant bits, or s = 62), m[c] = round(r[c]·2^s) (half away
 * from zero). Channel c's ratio is then exact to 0.5/|m[c]| relative, i.e.
 * 2^-31·max|r|/|r[c]|. r must be finite; max|r| = 0 gives s = 0, m = 0.
 * DNAS_ERR_UNSUPPORTED (naming what) when max|r| >= 2^31 - 1/2: no int32
 * multiplier can represent it. */
dnas_status deploy_qnet_multipliers(int32_t *m, int *shift, const double *r, int n,
                                    const char *what, dnas_error *err);

/* ---- HDF5 ----------------------------------------------------------------- */

/* Writes q as group `group` of loc (a file or group id): the layout in
 * docs/deploy.md. q must pass deploy_qnet_check (DNAS_ERR_INVALID
 * otherwise); a failed write is DNAS_ERR_IO naming where and group. */
dnas_status deploy_qnet_write(hid_t loc, const char *group, const deploy_qnet *q, const char *where,
                              dnas_error *err);
/* Reads group `group` of loc into q (initialized here; freed again on an
 * error). Every dataset is checked (present, type, rank, sizes, offsets)
 * before it is read, then the network with deploy_qnet_check; messages
 * name where (the file), the dataset and what was expected. */
dnas_status deploy_qnet_read(hid_t loc, const char *group, deploy_qnet *q, const char *where,
                             dnas_error *err);

/* A file written by `dnas quantize`: the qnet in group /qnet and root
 * attributes format "dnas-quant-1", version, commit, source (what it was
 * made from), float_acc and int_acc (-1: not measured). Written to
 * PATH.tmp, then renamed over path. */
#define DEPLOY_QUANT_FORMAT "dnas-quant-1"
typedef struct {
    const char *source;
    double float_acc, int_acc;
} deploy_quant_info;
dnas_status deploy_qnet_save(const char *path, const deploy_qnet *q, const deploy_quant_info *info,
                             dnas_error *err);
/* Reads /qnet of a file deploy_qnet_save wrote (its format attribute
 * checked) into q. */
dnas_status deploy_qnet_load(const char *path, deploy_qnet *q, dnas_error *err);

/* The qnet of any dnas file: group `group` when non-NULL; else run `run`'s
 * /runs/RUN/qnet when run is non-NULL; else /qnet (a dnas quantize file), or
 * /runs/ID/qnet when the file holds exactly one run. used gets the group
 * read and run_id the run's id ("" without one). A missing file or group,
 * an unknown run, several runs without `run`, or a group that is not a qnet
 * are errors naming path and what was expected. */
dnas_status deploy_qnet_load_from(const char *path, const char *group, const char *run,
                                  deploy_qnet *q, char *used, size_t used_len, char *run_id,
                                  size_t run_len, dnas_error *err);

/* ---- evaluator ------------------------------------------------------------ */

/* Runs a checked qnet sample by sample through the dnas_rt kernels, one
 * byte buffer per tensor (the sum of all tensor sizes; no planning). A
 * conv / linear whose channels are on an engine with engine_in_bits runs
 * those channels on the input clamped to that many bits (dnas_rt_saturate). */
typedef struct {
    const deploy_qnet *q;
    uint8_t **buf;      /* [ntensors] */
    uint8_t *sat, *alt; /* the largest tensor's bytes: a clamped input, its op's output */
} deploy_qeval;

/* Checks q (deploy_qnet_check, where naming it in messages) and allocates
 * the buffers. q must outlive the evaluator and not change. */
dnas_status deploy_qeval_init(deploy_qeval *ev, const deploy_qnet *q, const char *where,
                              dnas_error *err);
void deploy_qeval_free(deploy_qeval *ev);

/* Input quantization of one value: clamp(floor(x / scale + 1/2), lo, hi)
 * in double; NaN gives 0. */
int32_t deploy_qnet_quantize(const deploy_qtensor *t, float x);

/* One sample: in, the input tensor's bytes [H][W][C] (int8 or uint8 as the
 * tensor says); out (output tensor size) gets the output values. A kernel
 * refusing is DNAS_ERR_INVALID naming the op (cannot happen after a
 * successful init). */
dnas_status deploy_qeval_sample(deploy_qeval *ev, int32_t *out, const void *in, dnas_error *err);
/* n samples of float input x (n, C, H, W) (C, H, W the input tensor's c,
 * h, w): each quantized into HWC (deploy_qnet_quantize), then run; out
 * (n, output size) int32 in the output tensor's HWC order. */
dnas_status deploy_qeval_run(deploy_qeval *ev, int32_t *out, const float *x, int n,
                             dnas_error *err);

/* Index of the largest of v[0..k) (the first on ties), -1 for k < 1. */
int deploy_qnet_argmax(const int32_t *v, int k);
/* Samples of x (n, C, H, W) whose output argmax equals label y[i], run in
 * chunks through the evaluator. */
dnas_status deploy_qeval_correct(deploy_qeval *ev, long *correct, const float *x, const int32_t *y,
                                 int n, dnas_error *err);

#endif
