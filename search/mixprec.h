/* MixPrec (mixed-precision search, REFERENCE.md §1): per-layer or
 * per-output-channel weight precision and per-layer activation precision
 * from candidate sets (search/mixprec_config.h), by a softmax over
 * architecture logits. docs/search.md "MixPrec" describes it for users.
 *
 * Supernet (search_mixprec_prepare). The seed's ReLU / ReLU6 layers become
 * `pact` layers over the activation candidates (same names, clip learned,
 * initialised to 6); nothing else changes. Warmup trains this network with
 * float weights and 8-bit-like PACT (a pact's default θ is one-hot on its
 * largest width), so the clips are learned before the search.
 *
 * Architecture parameters, one float array alpha carved into rows of P
 * logits, θ = softmax(alpha / T) per row, alpha_p initialised to
 * p / p_max (REFERENCE.md):
 *   - per conv / linear, `<layer>.w`: one row (granularity layer) or Cout
 *     rows (channel) over the layer's weight candidates;
 *   - per pact layer, `<layer>.a`: one row over the activation candidates.
 * How they enter the network:
 *   - weights through the effective-parameter view,
 *       W_eff[c] = Σ_p θ_p,c·Q_p(W[c])   (train_wq_mix_*: symmetric
 *       per-channel min-max, straight-through dW = (Σθ)·dW_eff = dW_eff);
 *   - activations as the pact layers' coefficients θa
 *     (train_net_set_pact_coef), whose gradient the network accumulates.
 * BN is not folded during the search: it runs as in training (batch
 * statistics, running statistics updated every training step, also on
 * the architecture steps' validation batches, as in PIT). Folding is
 * left to the integer export, where it is exact: a symmetric per-channel
 * quantizer commutes with BN's per-channel scale, Q_p(a_c·W_c) = a_c·Q_p(W_c)
 * (a_c = γ_c/σ_c, either sign), so quantizing W and then folding BN gives
 * the weights that folding first and quantizing give.
 *
 * Pruning (0 in weight_bits, granularity channel): Q_0 = 0, and, as PIT
 * does with its channel masks, every conv / linear that reads a pruning
 * layer's channel c (through BN, pact, pools, flatten) sees that input
 * column scaled by keep_c = 1 − θ_0,c before its own quantizer:
 *   W_eff = Σ_p θ_p·Q_p(W ⊙ keep_in),
 * dW = dW_eff ⊙ keep_in (straight-through), dkeep_c += Σ dW_eff·W over the
 * column, dθ_0,c −= dkeep_c. At the hard choice a pruned channel's columns
 * are 0 before the readers' min-max quantizers, so removing it (export)
 * changes neither their scales nor their outputs; a pruned channel keeps
 * receiving gradient (Σ dW_eff·W is not 0) and can come back. 0 is a
 * candidate only of the layers whose output channels can be removed
 * alone: PIT's prunable channel groups (search/pit.h) that hold no other
 * conv / linear; other layers get the non-zero candidates.
 *
 * Cost state (search/bridge.h): s[layer].w = the layer's precision mix
 * θw averaged over its channels; with 0 a candidate, cout = Cout − Σ_c
 * θ_0,c = S and w = (S_p / S) over the non-zero p, S_p = Σ_c θ_p,c, so
 * cout·Σ w_p·bits_p is the expected bits of the surviving channels (no
 * double count); s[pact].a = θa (the pact is its tensor's producer).
 * Hard state: the argmax per row (channel counts per precision for
 * granularity channel), except that a layer keeps one channel: when every
 * channel's argmax is 0 bits, the one nearest to a non-zero choice takes
 * its best non-zero precision. */
#ifndef DNAS_SEARCH_MIXPREC_H
#define DNAS_SEARCH_MIXPREC_H

#include <stddef.h>

#include "bridge.h"
#include "mixprec_config.h"
#include "net.h"
#include "pit.h"

typedef struct {
    int layer;           /* a conv / linear */
    int cout, len;       /* weight (Cout, len) */
    int rows;            /* rows of θ: Cout (channel) or 1 */
    train_fq_precs prec; /* this layer's candidates (0 first when it can prune) */
    size_t off;          /* its rows·P entries in alpha, theta */
    int rescue;          /* the row kept when every row's argmax is 0 bits, else -1 (forward) */
    int *keep;           /* (Cout·len) per weight, the θ index of θ_0 of the pruning channel its
                            input column reads, -1 none; NULL when it reads no pruning channel */
} search_mixprec_wlayer;

typedef struct {
    int layer;  /* a pact */
    size_t off; /* its P entries */
} search_mixprec_alayer;

typedef struct search_mixprec {
    train_net *net;
    const search_bridge *bridge;
    search_mixprec_config cfg;
    float temp;      /* the softmax temperature now (search_mixprec_anneal) */
    search_pit *pit; /* channel groups and the pruned export */
    int nw, na;
    search_mixprec_wlayer *w;
    search_mixprec_alayer *a;
    size_t nalpha;
    float *alpha;  /* (nalpha) logits; the run's Adam updates them */
    float *theta;  /* (nalpha) softmax per row (or one-hot, hard) */
    float *dtheta; /* (nalpha) task gradient w.r.t. θ (pact rows: the network's) */
    float *dcost;  /* (nalpha) scratch of state_backward */
    float *view;   /* (net->nparams) effective parameters */
    float *wm;     /* (largest w_len) W ⊙ keep_in of one layer */
    int hard;      /* 1: θ is the one-hot argmax of the softmax (export check, tests) */
} search_mixprec;

/* The supernet of a seed: each relu / relu6 becomes a pact over
 * cfg->abits (same name, inputs and readers). *net is replaced and freed.
 * DNAS_ERR_UNSUPPORTED for a seed whose conv / linear already has wbits. */
dnas_status search_mixprec_prepare(const search_mixprec_config *cfg, train_net **net,
                                   dnas_error *err);

/* Reads the network (conv / linear layers, pact layers, prunable groups)
 * and allocates alpha at p / p_max. net and bridge must outlive m. */
dnas_status search_mixprec_init(search_mixprec **m, const search_mixprec_config *cfg,
                                train_net *net, const search_bridge *bridge, dnas_error *err);
void search_mixprec_free(search_mixprec *m);

/* Before search epoch e of n: T = temperature·(temperature_final /
 * temperature)^(e / (n − 1)) (the first epoch at temperature, the last at
 * temperature_final), θ recomputed. */
void search_mixprec_anneal(search_mixprec *m, int epoch, int nepochs);
/* θ from alpha (softmax, or one-hot when m->hard). */
void search_mixprec_forward(search_mixprec *m);
/* View and pact coefficients onto net (header comment); zeroes the pact
 * rows of dtheta. */
void search_mixprec_apply(search_mixprec *m, train_net *net);
/* dalpha (or NULL) += dL/dalpha from net->grads (= dL/d view) and the
 * pacts' dθ; map_weights: net->grads become the raw parameters' (columns
 * reading pruning channels times keep). */
void search_mixprec_backward(search_mixprec *m, train_net *net, float *dalpha, int map_weights);
void search_mixprec_state(const search_mixprec *m, search_layer_state *s, int hard);
void search_mixprec_state_backward(search_mixprec *m, const search_layer_grad *g, double scale,
                                   float *dalpha);

/* Argmax weight precision of channel c of conv / linear entry k (of row 0
 * at granularity layer), and argmax activation bits of pact entry k. */
int search_mixprec_wbits(const search_mixprec *m, int k, int c);
int search_mixprec_abits(const search_mixprec *m, int k);

/* The found network: pruned (0-bit) channels removed (PIT's export), each
 * conv / linear with `wbits` at its argmax (a list per channel at
 * granularity channel), each pact with its one argmax `bits`; weights,
 * clips, BN affine and running statistics from net->params / net->state.
 * In eval mode it computes what the supernet computes at the hard choice.
 * m's PIT state (masks) is used as scratch. */
dnas_status search_mixprec_export(const search_mixprec *m, const train_net *net, train_net **out,
                                  dnas_error *err);

#endif
