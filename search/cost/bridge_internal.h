/* Private to the cost bridge (search/cost/): the graph read once from the
 * network, the scratch of one result, and the gradient routing helpers. */
#ifndef DNAS_SEARCH_BRIDGE_INTERNAL_H
#define DNAS_SEARCH_BRIDGE_INTERNAL_H

#include "bridge.h"

/* How a layer's output channels follow from the state and its inputs
 * (step 1 of the algorithm in bridge_eval.c). */
typedef enum {
    BRIDGE_CH_INPUT = 0, /* the network input: fixed */
    BRIDGE_CH_SOURCE,    /* conv/linear: its owner's cout (fixed when the owner is 0) */
    BRIDGE_CH_PASS,      /* depthwise, BN, ReLU, dropout, pools, add: input 0's channels */
    BRIDGE_CH_FLATTEN,   /* input 0's channels × its H·W */
    BRIDGE_CH_CONCAT,    /* Σ of the inputs' channels */
    BRIDGE_CH_FIXED,     /* an op the bridge does not know that changes channels: its c, no gradient */
} bridge_ch_rule;

/* One conv/linear layer of the network (a row of the result). */
typedef struct {
    int layer;        /* index in the network */
    int in;           /* its input layer (inputs[0]) */
    double cin_scale; /* cin = ch[in] · cin_scale (linear: the input's H·W) */
    hwcost_kind kind;
    int tin, tout; /* tensors read and written */
} bridge_row;

/* An activation tensor: produced by `producer` (after BN/ReLU/dropout/
 * flatten, which write in place), alive over [first, last] in layer order. */
typedef struct {
    int producer;
    int h, w;
    int first, last;
} bridge_tensor;

struct search_bridge {
    const train_net *net;
    int nlayers;
    bridge_ch_rule *rule; /* per layer */
    int *owner;           /* per layer: search_bridge_channel_owner */
    double *flat;         /* per layer: BRIDGE_CH_FLATTEN's H·W of input 0 */
    int nrows;
    bridge_row *rows;
    int ntens;
    bridge_tensor *tens;
};

/* Per-row gradients kept for the memory levels (step 7). */
typedef struct {
    hwcost_grad gw[HWCOST_MAX_ENGINES + 1]; /* weight bytes: [0] whole layer, [1 + p] part p */
    hwcost_grad gin, gout;                  /* input / output tensor bytes */
    int layer_w[HWCOST_MAX_ENGINES];        /* 1: part p is at the layer's θw (else its engine's bits) */
    double share[HWCOST_MAX_ENGINES];       /* part p's fraction of the channels: the state's or recorded */
} bridge_row_grads;

struct search_cost_scratch {
    double *ch;                       /* nlayers: channels (step 1) */
    double *dch;                      /* SEARCH_COST_SLOTS × nlayers: d cost / d ch */
    hwcost_tensor *tens;              /* ntens */
    double *dtens;                    /* ntens: d peak / d channels */
    double (*dprob)[HWCOST_MAX_PREC]; /* ntens: d peak / d θa */
    bridge_row_grads *rg;             /* nrows */
};

/* Gradient routing (bridge_grad.c): `scale`·presence·g's partials of row
 * r (part p, or -1 for the whole layer) into slot (g: hwcost's partials of
 * the row or part, before the presence); d_presence of row r's layer +=
 * value, the row's cost in slot before the presence; a tensor's bytes
 * partials into slot (d_channels with respect to the tensor's priced
 * channels ch·presence); the reverse channel sweep of every slot. */
void search_bridge_route_row(const search_bridge *b, const search_layer_state *s, search_cost_result *res, int slot,
                      int r, int p, const hwcost_grad *g, double scale);
void search_bridge_route_presence(const search_bridge *b, search_cost_result *res, int slot, int r, double value);
void search_bridge_route_tensor(const search_bridge *b, const search_layer_state *s, search_cost_result *res,
                                int slot, int t, double d_channels, const double *d_prob, double scale);
void search_bridge_sweep(const search_bridge *b, search_cost_result *res);

#endif
