/* Private to train/graph/: the op descriptor every op family fills (one
 * table, op_table.c, indexed by train_op), the contexts ops are built and
 * run in, and the typed attribute readers over spec values. */
#ifndef DNAS_GRAPH_INTERNAL_H
#define DNAS_GRAPH_INTERNAL_H

#include <stdint.h>

#include "net.h"
#include "spec.h"

/* Bounds of what a model may declare. Shape arithmetic is done in 64 bits
 * from these, then checked against them, so no int can overflow. */
#define DIM_MAX (1L << 24)      /* channels, features, height, width */
#define GEOM_MAX 65535L         /* kernel, stride, dilation, padding */
#define SAMPLE_MAX 0x7fffffffL  /* values of one sample of one layer */
#define MAX_LAYERS 1000000

/* ---- building a layer from its spec ---------------------------------------- */

typedef struct {
    const char *path;               /* for messages */
    dnas_error *err;
    train_net *net;                 /* layers before this one are built */
    const train_spec_layer *s;
    int variant;                    /* index into the op's variants */
} op_build;

/* "<path>:<line>: <msg>" (DNAS_ERR_CONFIG); "<path>: <msg>" when line is 0. */
dnas_status train_op_fail(const op_build *b, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "<path>:<line>: layer '<name>' (<op>): <msg>" (DNAS_ERR_SHAPE) at L->line. */
dnas_status train_op_shape_fail(const op_build *b, const train_layer *L, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Checks an inferred output shape against DIM_MAX / SAMPLE_MAX, then sets it. */
dnas_status train_op_set_shape(const op_build *b, train_layer *L, int64_t c, int64_t h, int64_t w);

/* Attribute readers, with common's YAML messages ("<what>: expected ...,
 * found ..." at the value's line). */
const train_spec_value *train_op_attr(const op_build *b, const char *key);
const char *train_op_str(const op_build *b, const train_spec_value *v, const char *what);
dnas_status train_op_int(const op_build *b, const train_spec_value *v, const char *what, long lo, long hi,
                   long *out);
dnas_status train_op_float(const op_build *b, const train_spec_value *v, const char *what, double lo,
                     double hi, int lo_open, double *out);
dnas_status train_op_bool(const op_build *b, const train_spec_value *v, const char *what, int *out);
dnas_status train_op_pair(const op_build *b, const train_spec_value *v, const char *what, long lo, long hi,
                    long *a, long *c);
/* Optional key: int-or-pair in [lo, hi] (dflt when absent), float, bool. */
dnas_status train_op_opt_pair(const op_build *b, const char *key, int *x, int *y, int dflt, long lo, long hi);
dnas_status train_op_opt_float(const op_build *b, const char *key, float *out, float dflt, double lo, double hi,
                         int lo_open);
dnas_status train_op_opt_bool(const op_build *b, const char *key, int *out, int dflt);
/* padding: same | valid | N | [h, w]; *same = 1 for TF same. */
dnas_status train_op_padding(const op_build *b, int *ph, int *pw, int *same);

/* Output size of a conv or pool along one axis, in 64 bits; 0 when the
 * window does not fit. TF "same": out = ceil(in / s), *pad_before = half
 * the total padding. */
int64_t train_op_out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p);
/* The same with padding p0 before and p1 after. */
int64_t train_op_out_size2(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1);
int64_t train_op_same_size(int64_t in, int64_t k, int64_t s, int64_t d, int *pad_before);

/* ---- running a layer --------------------------------------------------------- */

typedef struct {
    train_net *net;
    train_layer *L;
    int i;                          /* layer index */
    int n;                          /* batch */
    int training;
    const float *P;                 /* parameter values: the view, or net->params */
} op_run;

static inline size_t op_sample(const train_layer *L) { return (size_t)L->c * L->h * L->w; }
static inline const train_layer *op_in(const op_run *r, int k) { return &r->net->layers[r->L->inputs[k]]; }
static inline const float *op_x(const op_run *r, int k) { return r->net->act[r->L->inputs[k]]; }
/* Gradient of input k, NULL for the network input (never needed). */
static inline float *op_dx(const op_run *r, int k) {
    int s = r->L->inputs[k];
    return s > 0 ? r->net->dact[s] : NULL;
}

/* ---- the descriptor ---------------------------------------------------------- */

typedef struct {
    const char *name;               /* as written in a model YAML */
    const char *const *keys;        /* attributes besides name, op, input, inputs; NULL-terminated */
} op_variant;

typedef struct {
    const char *name;               /* train_op_name() */
    int nvariants;
    op_variant variants[3];
    int min_inputs, max_inputs;
    const char *param_names[2];     /* the w and b tensors' suffixes in the parameter table */
    /* Attributes -> geometry, output shape (train_op_set_shape), w_len / b_len. */
    dnas_status (*build)(const op_build *b, train_layer *L);
    /* The attributes that rebuild this layer (name, op, inputs already set). */
    void (*to_spec)(const train_net *net, const train_layer *L, train_spec_layer *s);
    size_t (*state_floats)(const train_layer *L);                 /* NULL: none */
    int64_t (*aux_floats)(const train_layer *L, int64_t act);      /* per batch; NULL: none */
    size_t (*scratch_floats)(const train_net *net, const train_layer *L, int n); /* NULL: none */
    void (*init)(train_net *net, const train_layer *L, uint64_t *rng);          /* NULL: nothing */
    void (*forward)(const op_run *r);
    void (*backward)(const op_run *r);
    train_counts (*counts)(const train_net *net, const train_layer *L);         /* NULL: zeros */
} op_desc;

extern const op_desc *const TRAIN_OP_TABLE[TRAIN_OP_COUNT_];

extern const op_desc train_op_input_desc, train_op_conv_desc, train_op_linear_desc, train_op_bn_desc, train_op_relu_desc, train_op_maxpool_desc,
    train_op_avgpool_desc, train_op_gavgpool_desc, train_op_add_desc, train_op_concat_desc, train_op_flatten_desc, train_op_dropout_desc,
    train_op_mix_desc, train_op_pact_desc;

/* conv and linear `engines` (op_engines.c): read after the output shape
 * is set into L->engine_of / engine_names; written back. */
dnas_status train_op_engines_build(const op_build *b, train_layer *L);
void train_op_engines_to_spec(const train_layer *L, train_spec_layer *s);

/* Inputs of equal shapes, output of that shape (add, mix). */
dnas_status train_op_equal_shapes(const op_build *b, train_layer *L);

/* Key list of ops without attributes. */
extern const char *const TRAIN_OP_NO_KEYS[];

/* conv and linear: He-uniform weights (Var(w) = 2 / fan_in keeps ReLU
 * activations at unit scale), bias 0; counts weights, biases and MACs =
 * weights × output pixels. */
void train_op_weights_init(train_net *net, const train_layer *L, uint64_t *rng);
train_counts train_op_weights_counts(const train_net *net, const train_layer *L);

/* conv and linear `wbits` (op_wbits.c): read after the output shape is
 * set; written back; aux floats; the weights forward / backward read (W,
 * or Q(W) computed into the layer's aux buffer). */
dnas_status train_op_wbits_build(const op_build *b, train_layer *L);
void train_op_wbits_to_spec(const train_layer *L, train_spec_layer *s);
int64_t train_op_wbits_aux(const train_layer *L, int64_t act);
const float *train_op_wbits_weights(const op_run *r, const float *w);

/* ---- specs ------------------------------------------------------------------- */

char *train_spec_strdup(const char *s);

/* Net internals shared by the builder and the walk (net.c): marks BN ->
 * ReLU pairs where the ReLU is the BN's only reader (relu_next / bn_prev). */
void train_net_fuse(train_net *net);

#endif
