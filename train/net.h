/* A network: a DAG of named layers built from a model spec (spec.h) or a
 * model YAML (configs/models/, format in docs/models.md), with shapes
 * inferred at build, parameters and gradients each in one flat allocation,
 * and forward / backward over a batch. Every op is described once, in one
 * table (train/graph/op_table.c): its YAML names, keys, shape inference,
 * parameters, forward, backward, counts and how it writes itself back.
 *
 * Memory: net->params and net->grads are single float arrays carved by the
 * parameter table (net->param_table), so one optimizer loop or one
 * MPI_Allreduce covers every parameter. BatchNorm running statistics live
 * in net->state (saved in checkpoints, never trained).
 *
 * Hooks for the search (train/ offers them, search/ fills them; nothing
 * here knows what a mask or a quantizer is):
 * - Effective-parameter view (train_net_set_param_view): forward and
 *   backward read every trained value (conv / linear weights and biases,
 *   BN γ and β, PACT clips) from a caller's array laid out like
 *   net->params instead of net->params, and backward accumulates into net->grads the gradient
 *   with respect to the view's values. The search writes masked, mixed or
 *   fake-quantized weights, and channel masks folded into BN γ / β (which
 *   keeps the fused BN + ReLU kernel on), into the view before forward,
 *   and maps net->grads back to raw weights and architecture parameters
 *   after backward. net->params stays the optimizer's; init, checkpoints
 *   and the trainer use it.
 * - Choice blocks: a `mix` layer outputs Σ_k θ_k·x_k over its inputs, θ
 *   set per layer by the caller (train_net_set_mix, default 1/N), whose
 *   gradient backward accumulates into the caller's dθ.
 * - Mixed-precision activations: a `pact` layer is the PACT fake quantizer
 *   (absorbing the ReLU) over candidate bit widths, Σ_p θ_p·PACT_p(x),
 *   with a trained clip ("<layer>.clip", in net->params) and θ set by the
 *   caller (train_net_set_pact_coef, default one-hot on the largest
 *   width); forward / backward are ops.h's train_pact_mix_* kernels. */
#ifndef DNAS_TRAIN_NET_H
#define DNAS_TRAIN_NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ops.h"
#include "common.h"
#include "spec.h"

typedef enum {
    TRAIN_OP_INPUT = 0,
    TRAIN_OP_CONV,     /* conv2d, conv1d (H = 1), depthwise (groups = C): variant 0, 1, 2 */
    TRAIN_OP_LINEAR,   /* flattens its input */
    TRAIN_OP_BN,
    TRAIN_OP_RELU,     /* cap 0 = ReLU, 6 = ReLU6: variant 0, 1 */
    TRAIN_OP_MAXPOOL,
    TRAIN_OP_AVGPOOL,
    TRAIN_OP_GAVGPOOL,
    TRAIN_OP_ADD,
    TRAIN_OP_CONCAT,
    TRAIN_OP_FLATTEN,
    TRAIN_OP_DROPOUT,
    TRAIN_OP_MIX,      /* Σ_k θ_k·x_k, θ external (train_net_set_mix) */
    TRAIN_OP_PACT,     /* Σ_p θ_p·PACT_p(x), θ external (train_net_set_pact_coef) */
    TRAIN_OP_COUNT_
} train_op;

/* The engine op's name ("conv2d" for every convolution, "relu" for ReLU6). */
const char *train_op_name(train_op op);

#define TRAIN_MAX_INPUTS 8
#define TRAIN_NAME_LEN 64
#define TRAIN_ENGINE_NAME_LEN 32 /* an `engines` name, NUL included */
#define TRAIN_MAX_ENGINE_NAMES 4 /* distinct names in one layer's `engines` */

typedef struct {
    char name[TRAIN_NAME_LEN];
    train_op op;
    int variant;                    /* which of the op's YAML names (conv1d, relu6, ...) */
    int line;                       /* line in the model YAML (1-based; 0: a spec made in C) */
    int ninputs;
    int inputs[TRAIN_MAX_INPUTS];   /* layer indices; layer 0 is the input */
    int c, h, w;                    /* output shape of one sample */

    /* conv / pool geometry (conv: kh, kw, stride, dilation, padding, groups) */
    int kh, kw, sh, sw, dh, dw;
    int pt, pb, pl, pr;
    int pad_same;                   /* padding: same (pt..pr computed from it) */
    int groups;
    int has_bias;
    float cap;                      /* relu cap, 0 = none */
    float p;                        /* dropout probability */
    float eps, momentum;            /* batchnorm */
    train_fq_precs prec;            /* pact: candidate bit widths */
    float clip_init;                /* pact: initial clip */
    /* conv / linear: weights fake-quantized in forward (symmetric per
     * output channel, straight-through): 0 = float, 2..16 = every channel
     * at that precision, -1 = per channel in wbits_ch (Cout entries, 0 or
     * 2..16, owned by the net); YAML key `wbits` (train/graph/op_wbits.c) */
    int wbits;
    unsigned char *wbits_ch;

    /* external coefficients (mix: one per input; pact: one per bit width),
     * set by the search; NULL = the op's default. dcoef (NULL = not
     * wanted) accumulates their gradient in backward. */
    int ncoef;
    const float *coef;
    float *dcoef;

    /* parameters: offsets into net->params (floats); len 0 when absent.
     * conv/linear: w = weight, b = bias. bn: w = gamma, b = beta. pact:
     * w = the clip (1 float). */
    size_t w_off, w_len, b_off, b_len;
    size_t state_off;               /* bn: running mean (C) then var (C) in net->state */

    /* conv / linear, per output channel (NULL: not given), from the model
     * key `engines` (docs/models.md, train/graph/op_engines.c):
     * engine_of[c]: index into engine_names of the engine channel c runs
     * on (ODiMO's split of a layer across parallel engines); train/ only
     * keeps it, the cost bridge and the integer export read it. */
    unsigned char *engine_of;
    int nengine_names;
    char (*engine_names)[TRAIN_ENGINE_NAME_LEN];

    /* BN whose only reader is a ReLU: relu_next is that ReLU's index and
     * the pair runs as one fused kernel (ReLU's bn_prev points back);
     * 0 = not fused. Set at build. */
    int relu_next, bn_prev;
} train_layer;

typedef struct {
    char name[TRAIN_NAME_LEN + 8];  /* "<layer>.weight", "<layer>.bias", ... */
    int layer;
    size_t off, len;
} train_param;

/* Per-layer counts for summaries (what dnas summary prints). */
typedef struct {
    int64_t weights;   /* conv/linear weights (no bias) */
    int64_t biases;    /* conv/linear biases */
    int64_t bn;        /* BN gamma + beta (running stats not counted) */
    int64_t macs;      /* weights × output pixels (bias adds not counted) */
} train_counts;

typedef struct train_net {
    char name[TRAIN_NAME_LEN];
    char path[4096];                /* the file loaded, or the path given to train_net_build */
    char *text;                     /* the model YAML loaded, or the spec written as YAML (checkpoints) */
    int nlayers;                    /* including layer 0 = input */
    train_layer *layers;
    int output;                     /* index of the output layer (last) */

    size_t nparams;
    float *params;
    float *grads;
    const float *view;              /* train_net_set_param_view: values read instead of params, or NULL */
    int nparam_table;
    train_param *param_table;
    size_t nstate;
    float *state;

    /* per-batch buffers (train_net_reserve) */
    int max_batch;
    float **act;                    /* act[i]: (max_batch, c, h, w) */
    float **dact;                   /* gradient of act[i] */
    char *dact_ready;               /* backward: dact[i] zeroed / written yet */
    float **aux;                    /* per-layer saved values (bn mean/invstd, dropout mask, argmax) */
    float *scratch;                 /* shared conv scratch */
    size_t scratch_floats;
    int scratch_threads;            /* OpenMP threads it was sized for */
    uint64_t rng;                   /* dropout */

    /* profiling (train_net_profile): seconds per layer, forward / backward */
    double *prof_fwd, *prof_bwd;
} train_net;

/* Build a network from a spec: checks every layer's op, keys, inputs and
 * attributes, infers shapes and lays out parameters. Errors name path, the
 * line (of a spec read from YAML) and what was expected. net->text gets the
 * spec written as YAML (checkpoints keep it). The spec is not kept. */
dnas_status train_net_build(train_net **net, const train_spec *spec, const char *path, dnas_error *err);
/* Load and validate a model YAML (train_spec_load, then train_net_build).
 * net->text keeps the file's text as it was. */
dnas_status train_net_load(train_net **net, const char *path, dnas_error *err);
/* Same from YAML text in memory (path used in messages). */
dnas_status train_net_load_string(train_net **net, const char *yaml, const char *path,
                                   dnas_error *err);
void train_net_free(train_net *net);

/* The spec of a built network, each layer written by its op from its
 * fields (defaults left out, "same" padding kept as such): building it
 * gives the same shapes, counts and parameter layout. Free with
 * train_spec_free. */
train_spec *train_net_spec(const train_net *net);
/* That spec as a model YAML (what dnas summary / cost / train read); 0, or
 * -1 when a write failed. */
int train_net_write_yaml(FILE *f, const train_net *net);

/* Weight precision of output channel c of a conv / linear (0: float when
 * the layer has no wbits; a 0 entry of a per-channel list: zero weights). */
int train_layer_wbits(const train_layer *L, int c);

/* The op as written in YAML: "depthwise", "conv1d", "relu6", ... */
const char *train_layer_op_name(const train_layer *L);

/* Seeded initialization: conv/linear He-uniform (kaiming), bias 0, BN
 * gamma 1, beta 0, running mean 0, var 1. */
void train_net_init(train_net *net, uint64_t seed);

/* Allocate activation buffers for batches up to max_batch and the conv
 * scratch for the current OpenMP thread count; again only when either grew
 * (call it after omp_set_num_threads: conv layers never run on more
 * threads than the scratch was sized for). DNAS_ERR_NOMEM naming the
 * network, the batch and its largest layer when the buffers would need more
 * than the machine's memory; the buffers are then left as they were. */
dnas_status train_net_reserve(train_net *net, int max_batch, dnas_error *err);

/* Index of a layer by name, or -1. */
int train_net_find(const train_net *net, const char *name);

/* Forward a batch x (n, C, H, W) of the input shape; returns the output
 * activations (n, c, h, w of the output layer). training != 0 uses batch
 * statistics in BN and enables dropout. */
const float *train_net_forward(train_net *net, const float *x, int n, int training);
/* Backward from dout (gradient of the output activations, n rows);
 * accumulates parameter gradients into net->grads (caller zeroes). */
void train_net_backward(train_net *net, const float *dout, int n);

/* Effective-parameter view: view (nparams floats, net->params' layout,
 * owned by the caller, alive while set) replaces net->params as the values
 * forward and backward read; NULL reads net->params again. Backward's
 * gradients are with respect to the view's values. */
void train_net_set_param_view(train_net *net, const float *view);

/* Coefficients of mix layer `layer`: coef (ninputs floats, the caller's,
 * alive while set; NULL: 1/N each) and dcoef (ninputs floats or NULL),
 * into which backward accumulates dθ_k += Σ dy·x_k (the caller zeroes it).
 * A layer that is not a mix, or dcoef without coef, is a caller bug
 * (assert). */
void train_net_set_mix(train_net *net, int layer, const float *coef, float *dcoef);

/* Coefficients of pact layer `layer`: theta (one per bit width, in the
 * order of its `bits`; the caller's, alive while set; NULL: one-hot on the
 * largest width) and dtheta (same length or NULL), into which backward
 * accumulates dθ_p += Σ dy·PACT_p(x). The clip's gradient goes to
 * net->grads like any parameter's. A layer that is not a pact, or dtheta
 * without theta, is a caller bug (assert). */
void train_net_set_pact_coef(train_net *net, int layer, const float *theta, float *dtheta);

/* Start accumulating per-layer forward/backward seconds (zeroed here). */
void train_net_profile(train_net *net);
/* Print the per-layer times, sorted as the layers are, with shares. */
void train_net_profile_print(const train_net *net, FILE *f);

/* Counts of one layer, and totals over the network. */
train_counts train_net_layer_counts(const train_net *net, int layer);
train_counts train_net_total_counts(const train_net *net);
/* Output values per sample of the network output layer. */
int train_net_output_size(const train_net *net);

#endif
