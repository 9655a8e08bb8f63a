/* Public header of the hwcost module: differentiable hardware cost models
 * and target descriptions (configs/targets/<name>.yaml, docs/hwcost.md).
 *
 * hwcost uses nothing of dnas but common/ (status, errors, YAML): callers describe each layer with a
 * hwcost_layer (soft channel counts, soft kernel taps, precision
 * distributions) and get back a hwcost_grad: the cost and its partial
 * derivatives with respect to every continuous quantity of the description.
 *
 * Mixed precision (MixPrec): every per-layer model is
 *     cost = Σ_i Σ_j θa_i · θw_j · f(layer | a_bits_i, w_bits_j)
 * over the layer's activation (input) and weight precision candidates, so
 *     d cost / d θw_j = Σ_i θa_i f(a_i, w_j),   d cost / d θa_i = Σ_j θw_j f(a_i, w_j).
 * A weight candidate of 0 bits means "pruned": f(a, 0) = 0 for every model.
 * ceil() and step functions have straight-through derivatives (d ceil(x)/dx
 * = 1); max/min have their ordinary one-sided derivatives. */
#ifndef DNAS_HWCOST_H
#define DNAS_HWCOST_H

#include <stddef.h>

#include "common.h"

/* Module version string, for generated files and HDF5 attributes. */
const char *hwcost_version(void);

/* ---- layer description --------------------------------------------------- */

#define HWCOST_MAX_PREC 8

typedef enum {
    HWCOST_CONV = 0,  /* conv2d / conv1d (kh = 1, oh = 1), grouped if groups > 1 */
    HWCOST_DEPTHWISE, /* groups = channels; cout is ignored (= cin) */
    HWCOST_LINEAR,    /* fully connected; kernel and output size are taken as 1 */
    HWCOST_ADD,       /* no weights, no MACs; latency not modelled (0) */
    HWCOST_POOL,      /* no weights, no MACs; latency not modelled (0) */
    HWCOST_KIND_COUNT_
} hwcost_kind;

const char *hwcost_kind_name(hwcost_kind k);

/* A distribution over candidate precisions: prob[i] is the search's θ_i
 * (softmax output; not renormalized here). */
typedef struct {
    int n;
    double bits[HWCOST_MAX_PREC];
    double prob[HWCOST_MAX_PREC];
} hwcost_prec;

/* One layer. cin / cout / k are the soft quantities of the search (PIT's
 * Cin_eff, Cout_eff, K_eff); kh, kw are the seed kernel. The soft taps are
 * along the width (time) axis: kx = k / kh, ky = kh, so Πk = k always and a
 * 1-D conv (kh = 1) has kx = k. OX = ow, OY = oh. */
typedef struct {
    hwcost_kind kind;
    double cin, cout; /* (soft) input / output channels */
    double k;         /* (soft) kernel taps, kh·kw at init */
    int kh, kw;
    int oh, ow;    /* output height / width */
    int groups;    /* conv groups (>= 1); ignored for depthwise */
    int bias;      /* 1 when the layer has a bias (32-bit when stored) */
    hwcost_prec w; /* weight precisions (default {8}: 1.0) */
    hwcost_prec a; /* input activation precisions (default {8}: 1.0) */
} hwcost_layer;

/* A conv layer with everything at 1 and 8/8 bits; set the fields after. */
hwcost_layer hwcost_layer_default(void);
/* Single precision helper: {bits}: 1.0. */
hwcost_prec hwcost_prec_single(double bits);
/* Range checks (channels >= 0, k >= 0, groups >= 1, 1..8 candidates, bits >= 0). */
dnas_status hwcost_layer_check(const hwcost_layer *l, dnas_error *err);

/* Value and partial derivatives of one cost of one layer. */
typedef struct {
    double value;
    double d_cin, d_cout, d_k;
    double d_w[HWCOST_MAX_PREC]; /* d value / d w.prob[j] */
    double d_a[HWCOST_MAX_PREC]; /* d value / d a.prob[i] */
} hwcost_grad;

/* ---- target-independent models ------------------------------------------- */

typedef enum {
    HWCOST_PARAMS = 0,     /* Cout·(Cin/groups·Πk + bias); depthwise Cin·(Πk + bias) */
    HWCOST_PARAMS_NO_BIAS, /* the same without the bias term */
    HWCOST_MACS,           /* params × OX·OY: a bias add counts as one op */
    HWCOST_MACS_NO_BIAS,   /* params_no_bias × OX·OY */
    HWCOST_BIT_PARAMS,     /* params_no_bias · w_bits (= Πk·Cin·Cout·w_bits for groups 1) */
    HWCOST_BIT_OPS,        /* macs_no_bias · w_bits · a_bits */
    HWCOST_WEIGHT_BYTES,   /* ceil(params_no_bias·w_bits/8) + 4·Cout if bias (32-bit) */
    HWCOST_MODEL_COUNT_
} hwcost_model;

const char *hwcost_model_name(hwcost_model m);

/* Evaluates one model on one layer; g gets the value and the partials. */
dnas_status hwcost_eval(hwcost_model m, const hwcost_layer *l, hwcost_grad *g, dnas_error *err);

/* Activation tensors for the network's peak activation memory. A tensor is
 * produced at step `first` and read for the last time at step `last`
 * (>= first; steps are the caller's execution order). Its bytes are
 * Σ_i θa_i · ceil(channels·h·w·a_bits_i / 8). */
typedef struct {
    double channels;
    int h, w;
    int first, last;
    hwcost_prec a;
} hwcost_tensor;

/* Peak over steps s of Σ bytes of the tensors live at s (first <= s <= last).
 * d_channels[t] / d_prob[t][i] (either may be NULL) get the derivative of
 * the peak: that of the live set at the peak step (ties: the first such
 * step); *peak_step (may be NULL) the step. */
double hwcost_peak_activation_bytes(const hwcost_tensor *t, int n, double *d_channels,
                                    double (*d_prob)[HWCOST_MAX_PREC], int *peak_step);
/* Bytes of one tensor, with its derivatives (d_cin holds d/d channels). */
void hwcost_tensor_bytes(const hwcost_tensor *t, hwcost_grad *g);

/* ---- targets ------------------------------------------------------------- */

#define HWCOST_NAME_LEN 32
#define HWCOST_MAX_MEM 8
#define HWCOST_MAX_ENGINES 4
#define HWCOST_MAX_TABLE 32
#define HWCOST_MAX_PARAMS 16

/* What a memory level must hold (summed for the level's use). */
typedef enum {
    HWCOST_HOLD_NETWORK_WEIGHTS = 1 << 0,     /* all weight bytes of the network */
    HWCOST_HOLD_NETWORK_ACTIVATIONS = 1 << 1, /* peak activation bytes */
    HWCOST_HOLD_LAYER_WEIGHTS = 1 << 2,       /* largest one layer's weights */
    HWCOST_HOLD_LAYER_ACTIVATIONS = 1 << 3,   /* largest one layer's input + output */
} hwcost_hold;

typedef struct {
    char name[HWCOST_NAME_LEN];
    double bytes;
    int nconnects;
    int connects[HWCOST_MAX_MEM]; /* indices of connected levels */
    unsigned holds;               /* hwcost_hold bits */
    int engine;                   /* -1: all engines, else only layers on this engine */
    int tiled;                    /* 1: deploy tiles layers through it (overflow is not fatal) */
    int line;
} hwcost_memory;

typedef struct {
    double a_bits, w_bits, macs_per_cycle;
} hwcost_mpc;

typedef struct {
    char name[HWCOST_NAME_LEN];
    double value;
} hwcost_named;

typedef struct {
    char name[HWCOST_NAME_LEN];
    int model;    /* index into the latency-model registry */
    unsigned ops; /* bit (1 << hwcost_kind) per supported kind */
    int grouped;  /* 1: conv with groups > 1 supported */
    int nwbits, nabits;
    double wbits[HWCOST_MAX_PREC], abits[HWCOST_MAX_PREC];
    double power_w;
    double peak_macs_per_cycle;
    int nmpc;
    hwcost_mpc mpc[HWCOST_MAX_TABLE]; /* MAC/cycle by (a, w) */
    int ngran;
    hwcost_named gran[HWCOST_MAX_PARAMS]; /* granularity, e.g. cout: 16 */
    int nparams;
    hwcost_named params[HWCOST_MAX_PARAMS]; /* model constants */
    int input_bits; /* the engine clamps its inputs to this many bits before the
                       weights multiply (DIANA analog: 7); 0: it takes them as they are */
    int line;
} hwcost_engine;

typedef struct {
    char name[HWCOST_NAME_LEN];
    char path[4096]; /* as given to the loader, for messages */
    double clock_hz;
    int nmem;
    hwcost_memory mem[HWCOST_MAX_MEM];
    int nengines;
    hwcost_engine engines[HWCOST_MAX_ENGINES];
    /* engines that can run one layer together, splitting its output
     * channels (ODiMO); nparallel = 0 when the target has none */
    int nparallel;
    int parallel[HWCOST_MAX_ENGINES];
    double parallel_power_w; /* power while all run at once */
    double smooth_max_tau;   /* temperature of the smooth max, cycles */
} hwcost_target;

/* Loads and validates a target YAML. Errors name the file and line. */
dnas_status hwcost_target_load(hwcost_target *t, const char *path, dnas_error *err);
dnas_status hwcost_target_load_string(hwcost_target *t, const char *yaml, const char *path,
                                        dnas_error *err);
int hwcost_target_engine(const hwcost_target *t, const char *name); /* index or -1 */
int hwcost_target_memory(const hwcost_target *t, const char *name); /* index or -1 */
/* A named model constant / granularity of an engine, or `dflt` when absent. */
double hwcost_engine_param(const hwcost_engine *e, const char *name, double dflt);
double hwcost_engine_gran(const hwcost_engine *e, const char *name, double dflt);
/* 1 when the engine runs the layer's kind (and groups, for engines that
 * require groups = 1) at every precision of the layer's distributions. */
int hwcost_engine_supports(const hwcost_engine *e, const hwcost_layer *l);

/* Names of the registered latency models (NULL past the end). */
const char *hwcost_latency_model_name(int i);

/* Latency of one layer on one engine, in cycles, with its partials.
 * DNAS_ERR_UNSUPPORTED when the engine cannot run the layer. */
dnas_status hwcost_latency_cycles(const hwcost_target *t, int engine, const hwcost_layer *l, hwcost_grad *g,
                                    dnas_error *err);
/* The same in seconds (cycles / clock_hz). */
dnas_status hwcost_latency_seconds(const hwcost_target *t, int engine, const hwcost_layer *l,
                                     hwcost_grad *g, dnas_error *err);
/* Energy in joules: engine power × seconds. */
dnas_status hwcost_energy(const hwcost_target *t, int engine, const hwcost_layer *l, hwcost_grad *g,
                            dnas_error *err);

/* One layer split across the target's parallel engines (ODiMO): layers[e]
 * describes the part on parallel engine e (its cout = that engine's soft
 * channel count, its precisions), e = 0..nparallel-1.
 * Latency (cycles) = smooth max softmax(t/τ)·t of the engines' cycles;
 * energy (J) = P_all·t_min + Σ_e P_e·(t_e - t_min) (t in seconds), which for
 * two engines is ODiMO's P_both·t_min + P_ana(t_a-t_min) + P_dig(t_d-t_min).
 * g[e] gets the partials with respect to layers[e]. */
dnas_status hwcost_parallel_latency(const hwcost_target *t, const hwcost_layer *layers, double *cycles,
                                      hwcost_grad *g, dnas_error *err);
dnas_status hwcost_parallel_energy(const hwcost_target *t, const hwcost_layer *layers, double *joules,
                                     hwcost_grad *g, dnas_error *err);

#endif
