/* ODiMO (search/odimo/): one layer's output channels split across a
 * target's parallel engines (DIANA: digital 8-bit and analog ternary),
 * chosen per channel by differentiable search (REFERENCE.md §1 "ODiMO",
 * docs/search.md "ODiMO").
 *
 * Searched layers: every conv/linear that each parallel engine runs (kind
 * and grouping, as hwcost_engine_supports reads the target: on DIANA the
 * convs with groups = 1 and the linears; depthwise convs stay on the
 * digital engine and get no parameters). Each parallel engine must have
 * exactly one weight precision (its `weight_bits`), 2..8 bits.
 *
 * Per output channel c of a searched layer, over the P parallel engines:
 *   θ_c = softmax(α_c / T)                                   (P values)
 *   W_eff[c] = Σ_p θ_c,p · Q_{b_p}(W[c])                     (train_wq_mix_forward)
 * with Q_b the symmetric per-channel quantizer of train/ops.h (b = 2 is
 * ternary: levels {-1, 0, 1}·s_c), written into the effective-parameter
 * view; straight-through weight gradients (Σ_p θ_c,p = 1, so dW = dW_eff)
 * and dθ_c,p = Σ_i dW_eff[c,i]·Q_{b_p}(W[c,i]).
 * Cost state: share_p = Σ_c θ_c,p / C of the layer; the bridge's PARALLEL
 * mode prices each engine's part and the layer's latency as the target's
 * smooth max (hwcost_parallel_latency, temperature smooth_max_tau_cycles),
 * energy as hwcost_parallel_energy. Hard choice: per channel argmax θ
 * (ties: the first parallel engine). */
#ifndef DNAS_SEARCH_ODIMO_H
#define DNAS_SEARCH_ODIMO_H

#include "common.h"
#include "hwcost.h"
#include "net.h"

/* The `odimo:` map of a search config (all optional). */
typedef struct {
    float temperature;                  /* T of the softmax in the first search epoch (default 1) */
    float temperature_final;            /* T of the last one, geometric in between (default: temperature) */
    int ninit;                          /* 0: uniform start */
    float init[HWCOST_MAX_ENGINES];     /* initial θ per parallel engine (target order), normalized */
    int line;                           /* of `method:` (messages) */
    int init_line;                      /* of `init:` */
} search_odimo_config;

/* Reads `odimo:` of the config root (after `method:`); an `odimo:` map
 * with another method is an error. Errors name file:line. */
dnas_status search_odimo_config_parse(dnas_yaml *y, yaml_node_t *root, int is_odimo, search_odimo_config *oc,
                                      dnas_error *err);
void search_odimo_config_default(search_odimo_config *oc);

/* One searched layer. */
typedef struct {
    int layer;     /* index in the network */
    int c, len;    /* weight (C, len) */
    size_t off;    /* of its α (C, P) in alpha / theta */
} search_odimo_layer;

typedef struct {
    train_net *net;
    hwcost_target target;
    int P;                                 /* parallel engines */
    int bits[HWCOST_MAX_ENGINES];          /* each one's weight bits */
    int nlayers;
    search_odimo_layer *layers;
    int *slot_of;                          /* per network layer: index in layers, -1 */
    float temperature;                     /* now (the schedule's) */
    float cfg_temperature, cfg_temperature_final; /* the schedule's ends */
    int hard;                              /* 1: θ one-hot at argmax (export equivalence, tests) */
    size_t nalpha;
    float *alpha, *theta, *dtheta;         /* nalpha each */
    float *view;                           /* net->nparams */
} search_odimo;

/* Per channel: the parallel engine index (0..P-1) of its hard choice. */
int search_odimo_channel_engine(const search_odimo *o, int slot, int c);

#endif
