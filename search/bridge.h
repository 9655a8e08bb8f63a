/* The cost bridge: from a network (train/) and the search state of its
 * layers to hwcost's layer descriptions, the network's costs on a target,
 * and their gradients with respect to every per-layer search quantity.
 * The algorithm is in search/cost/bridge_eval.c; docs/search.md "Cost
 * bridge" describes it for users.
 *
 * Search state, one entry per network layer (index = train_net layer):
 *   cout    Cout_eff, the layer's soft output channels (PIT: Σ of the
 *           binarized channel mask; MixPrec: Cout − Σ_c θ0,c). Read only
 *           where search_bridge_channel_owner(b, i) == i (below).
 *   k       K_eff, soft kernel taps of a conv (kh·kw at init).
 *   w       weight precision distribution of a conv/linear (θw).
 *   a       precision distribution of the tensor the layer produces (θa);
 *           a conv/linear prices its input at its input tensor's `a`.
 *           BN, ReLU, dropout and flatten write their input's tensor in
 *           place: that tensor's `a` is its producer's entry.
 *   share   ODiMO only: the fraction of Cout_eff on each of the target's
 *           parallel engines (part e has share[e]·Cout_eff channels).
 *   presence
 *           the probability that the layer is in the network (SuperNet: the
 *           θ of the choice-block branch it belongs to; 1 elsewhere). Every
 *           cost the layer causes counts `presence` times: a conv/linear's
 *           models, latency and energy, the bytes of the tensor it
 *           produces (peak activations, levels). Channels are not scaled
 *           (a consumer in the same branch prices its full Cin and counts
 *           with its own presence).
 *
 * Channels follow the graph: a consumer's Cin_eff is its producer's
 * Cout_eff through BN, ReLU, dropout and pooling; concat sums its inputs'
 * channels; flatten multiplies by the input's H·W; a depthwise conv has its
 * input's channels. Layers whose outputs meet in an add share one channel
 * count: the group's first layer (its "owner") holds it, the others'
 * `cout` are not read and get zero gradient. A group that meets the network
 * input is fixed (owner 0: the input is never pruned).
 *
 * Gradients: for every cost, one search_layer_grad per layer with
 * d/dcout (at owners), d/dk, d/dθw, d/dθa, d/dshare and d/dpresence. ceil() and steps
 * have straight-through derivatives, max/min (fastest engine, peak step,
 * largest layer) one-sided ones, as in hwcost. */
#ifndef DNAS_SEARCH_BRIDGE_H
#define DNAS_SEARCH_BRIDGE_H

#include "hwcost.h"
#include "net.h"

typedef struct {
    double cout;                      /* Cout_eff */
    double k;                         /* K_eff (conv only) */
    hwcost_prec w;                    /* weight precisions (conv/linear) */
    hwcost_prec a;                    /* precisions of the produced tensor */
    double share[HWCOST_MAX_ENGINES]; /* ODiMO: fraction per parallel engine */
    double presence;                  /* probability the layer exists (SuperNet); 1 by default */
} search_layer_state;

typedef struct {
    double d_cout, d_k;
    double d_w[HWCOST_MAX_PREC];
    double d_a[HWCOST_MAX_PREC];
    double d_share[HWCOST_MAX_ENGINES];
    double d_presence;
} search_layer_grad;

/* What the bridge returns, each a network total with its gradient. The
 * first seven are hwcost's target-independent models summed over the
 * conv/linear layers (same order as hwcost_model). */
typedef enum {
    SEARCH_COST_PARAMS = 0,
    SEARCH_COST_PARAMS_NO_BIAS,
    SEARCH_COST_MACS,
    SEARCH_COST_MACS_NO_BIAS,
    SEARCH_COST_BIT_PARAMS,
    SEARCH_COST_BIT_OPS,
    SEARCH_COST_WEIGHT_BYTES,
    SEARCH_COST_PEAK_ACT, /* peak activation bytes over the layer order */
    SEARCH_COST_MEMORY,   /* weight bytes + peak activation bytes */
    SEARCH_COST_CYCLES,   /* target latency, layers that have an engine */
    SEARCH_COST_SECONDS,  /* cycles / clock_hz */
    SEARCH_COST_ENERGY,   /* joules */
    SEARCH_COST_COUNT_
} search_cost;
/* Slot of memory level m's use (its `holds` summed), after the costs. */
#define SEARCH_COST_LEVEL(m) (SEARCH_COST_COUNT_ + (m))
#define SEARCH_COST_SLOTS (SEARCH_COST_COUNT_ + HWCOST_MAX_MEM)

const char *search_cost_name(search_cost c);

typedef enum {
    SEARCH_ENGINE_FASTEST = 0, /* per layer, the fastest engine that runs its kind, grouping and every
                                  precision with θ > 0 (hwcost_engine_supports); what dnas cost reports */
    SEARCH_ENGINE_FIXED,       /* every layer on `engine` (precisions not checked, as hwcost's latency) */
    SEARCH_ENGINE_PARALLEL,    /* ODiMO: layers that every parallel engine runs are split by `share`;
                                  the others go to the fastest engine */
} search_engine_mode;

typedef struct {
    const hwcost_target *target; /* NULL: no latency, energy or levels */
    search_engine_mode mode;
    int engine; /* SEARCH_ENGINE_FIXED: index in target->engines */
    /* A conv/linear whose channels record their engines (model key
     * `engines`, an ODiMO export) runs as recorded in FASTEST and PARALLEL
     * modes when the target has those engines: all channels on one engine
     * -> that engine; spread over the parallel engines -> split with
     * share_q = (channels on q) / C. 1: ignore the record (the same network
     * unsplit, e.g. ODiMO's all-digital reference). */
    int ignore_engines;
} search_cost_params;

search_cost_params search_cost_default_params(void);

/* One conv/linear layer as evaluated. */
typedef struct {
    int layer;      /* index in the network */
    hwcost_layer d; /* the whole layer as hwcost sees it */
    int split;      /* 1: split across the parallel engines (parts below) */
    hwcost_layer part[HWCOST_MAX_ENGINES];
    double v[HWCOST_MODEL_COUNT_];     /* every target-independent model (split: Σ of the parts) */
    double act_bytes;                  /* input + output tensor bytes */
    double cyc[HWCOST_MAX_ENGINES];    /* whole layer on each engine, where ok[e] */
    int ok[HWCOST_MAX_ENGINES];        /* 0: the engine cannot run the kind, grouping or precision */
    int engine;                        /* engine that runs it, -1 none (split: -1) */
    double cycles, seconds, joules;    /* on that engine or split; 0 when none */
    double wbytes[HWCOST_MAX_ENGINES]; /* weight bytes stored on each engine */
} search_cost_row;

typedef struct search_bridge search_bridge;

typedef struct {
    int nlayers, nrows;
    search_cost_row *rows;                      /* nrows, in layer order */
    double value[SEARCH_COST_SLOTS];            /* totals; levels at SEARCH_COST_LEVEL(m) */
    search_layer_grad *grad[SEARCH_COST_SLOTS]; /* each nlayers entries */
    int nmem;                                   /* levels evaluated (target's, else 0) */
    int largest[HWCOST_MAX_MEM][2]; /* level m: row with the largest weights [0] / activations [1], -1 none */
    int peak_layer;                 /* layer at the peak activation step */
    int nunmapped;                  /* rows with no engine (not in the latency totals) */
    struct search_cost_scratch *priv; /* private buffers */
} search_cost_result;

/* Reads the network's graph: conv/linear layers, channel owners (add
 * groups), tensors and lifetimes. The network must outlive the bridge and
 * keep its layers. DNAS_ERR_INVALID for a network without layers. */
dnas_status search_bridge_init(search_bridge **b, const train_net *net, dnas_error *err);
void search_bridge_free(search_bridge *b);
int search_bridge_nlayers(const search_bridge *b);
/* The layer whose `cout` sets layer i's output channels: i itself for an
 * unshared conv/linear, the first layer of its add group, 0 when the
 * channels are the network input's (fixed), -1 when they are no one
 * layer's count (concat, flatten, an op the bridge does not know). */
int search_bridge_channel_owner(const search_bridge *b, int i);

/* The network as it is: cout = c, k = kh·kw, one weight precision wbits,
 * one activation precision abits, share = {1, 0, ...}, presence 1; except that a
 * conv / linear with its own `wbits` has those (a per-channel list as the
 * fraction of channels at each width, 0-bit channels costing 0 bits) and a
 * pact of one bit width produces its tensor at that width. s has nlayers
 * entries. */
void search_bridge_state_default(const search_bridge *b, search_layer_state *s, double wbits, double abits);

/* Buffers of a result for bridge b (several results may share one bridge). */
void search_cost_result_init(search_cost_result *r, const search_bridge *b);
void search_cost_result_free(search_cost_result *r);

/* Evaluates every cost and its gradient at state s into r (overwritten).
 * DNAS_ERR_INVALID for a negative or non-finite quantity or 0 or more than
 * HWCOST_MAX_PREC precisions (naming the layer), or a fixed engine out of
 * range; DNAS_ERR_UNSUPPORTED for ODiMO on a target without parallel
 * engines. */
dnas_status search_bridge_eval(const search_bridge *b, const search_layer_state *s,
                               const search_cost_params *p, search_cost_result *r, dnas_error *err);

/* acc[i] += scale · grad[slot][i] over the layers (acc: nlayers entries). */
void search_cost_accumulate(const search_cost_result *r, int slot, double scale, search_layer_grad *acc);
/* Hinge max(0, value[slot] − budget); when positive, acc += scale · its
 * gradient (that of the slot), else nothing. Returns the hinge. */
double search_cost_hinge(const search_cost_result *r, int slot, double budget, double scale,
                         search_layer_grad *acc);
/* Σ of the hinges of the target's memory levels that deploy does not tile
 * (a tiled level's overflow means tiling, not failure), each against its
 * bytes; acc as above (may be NULL). */
double search_cost_memory_hinge(const search_cost_result *r, const hwcost_target *t, double scale,
                                search_layer_grad *acc);

#endif
