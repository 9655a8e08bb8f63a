/* SuperNet (REFERENCE.md §1): coarse layer choice among the branches of
 * choice blocks declared in the model YAML (docs/models.md "Choice
 * blocks"), with softmax, Gumbel-softmax and hard straight-through
 * coefficients and a temperature schedule; expected cost through the
 * bridge's presence; export of the argmax branch. Sources in
 * search/supernet/; the method interface (search/method.h) is in
 * supernet_method.c; docs/search.md "SuperNet".
 *
 * Choice blocks: every `mix` layer M with inputs x_1..x_N is one block.
 * Branch k is the set of layers that lead only into input k of M: x_k
 * itself when M is its only reader (M reading it once), and, going back,
 * every layer all of whose readers are in the branch. A branch may be empty
 * (x_k is read elsewhere too, e.g. the block's input: a skip). Layers of
 * no branch (a shared stem, everything outside blocks) count fully.
 *
 * Architecture parameters: alpha, one logit per branch per block (block b
 * at blocks[b].off, N values), 1/N at init. Per block, with temperature τ:
 *   softmax      θ = softmax(α/τ)
 *   gumbel       θ = softmax((α + G)/τ), G Gumbel noise drawn at every
 *                search_supernet_forward from the run's seeded generator
 *   hard         θ = one-hot(argmax softmax(α/τ)), backward through the
 *                softmax (straight-through)
 *   hard_gumbel  θ = one-hot(argmax of the Gumbel sample), backward through
 *                the Gumbel-softmax
 * The mix layers use θ (train_net_set_mix) and return dθ; the bridge
 * prices each branch layer at presence θ_k; both map to alpha through
 * the (Gumbel-)softmax's Jacobian. */
#ifndef DNAS_SEARCH_SUPERNET_H
#define DNAS_SEARCH_SUPERNET_H

#include <stddef.h>
#include <stdint.h>

#include "bridge.h"
#include "common.h"
#include "net.h"

typedef enum {
    SEARCH_SUPERNET_SOFTMAX = 0,
    SEARCH_SUPERNET_GUMBEL,
    SEARCH_SUPERNET_HARD,
    SEARCH_SUPERNET_HARD_GUMBEL,
    SEARCH_SUPERNET_MODE_COUNT_
} search_supernet_mode;

typedef enum { SEARCH_SUPERNET_ANNEAL_EXP = 0, SEARCH_SUPERNET_ANNEAL_LINEAR } search_supernet_anneal;

/* The `supernet:` map of a search config (docs/search.md "SuperNet"). */
typedef struct {
    search_supernet_mode mode;     /* softmax */
    double tau_start, tau_end;     /* 1.0 -> 0.1 over the search epochs */
    search_supernet_anneal anneal; /* exponential */
} search_supernet_params;

search_supernet_params search_supernet_default_params(void);
const char *search_supernet_mode_name(search_supernet_mode m);

/* Reads the `supernet:` mapping node into p (defaults where a key is
 * absent); errors name y's file and the line. */
dnas_status search_supernet_params_parse(dnas_yaml *y, yaml_node_t *map, search_supernet_params *p,
                                         dnas_error *err);
/* The search config's hook: p = the defaults, then root's `supernet:` map
 * if there is one (an error when the method is not supernet). */
dnas_status search_supernet_config_read(dnas_yaml *y, yaml_node_t *root, int is_supernet, search_supernet_params *p,
                                        dnas_error *err);

/* τ of search epoch e (0-based) of n: tau_start at e = 0, tau_end at
 * e = n − 1, geometric (exponential) or linear between; n <= 1: tau_start. */
double search_supernet_tau(const search_supernet_params *p, int e, int n);

typedef struct {
    int mix;       /* the mix layer */
    int n;         /* branches (its inputs) */
    size_t off;    /* its logits in alpha */
} search_supernet_block;

typedef struct {
    train_net *net;
    search_supernet_params p;
    int nblocks;
    search_supernet_block *blocks;
    int *block_of;  /* per layer: the block whose branch holds it, -1 none */
    int *branch_of; /* per layer: that branch, -1 none */
    size_t nalpha;
    float *alpha;  /* nalpha logits */
    float *soft;   /* nalpha: softmax((α [+ G]) / τ), what backward differentiates */
    float *theta;  /* nalpha: the coefficients in use (soft, or its one-hot) */
    float *dtheta; /* nalpha: dL/dθ from the mix layers (zeroed by apply) */
    float *tmp;    /* nalpha: scratch */
    float tau;
    uint64_t rng; /* Gumbel noise */
} search_supernet;

/* The blocks of net and their branches; alpha at 1/N, θ at τ = tau_start.
 * DNAS_ERR_UNSUPPORTED naming the layer for a network without mix layers,
 * a mix reading one layer twice, a mix inside another block's branch
 * (nested blocks) or a mix that is the network output. */
dnas_status search_supernet_init(search_supernet **s, train_net *net, const search_supernet_params *p,
                                 uint64_t seed, dnas_error *err);
void search_supernet_free(search_supernet *s);

/* τ for the coming epochs; θ again (forward). */
void search_supernet_set_tau(search_supernet *s, float tau);
/* soft and θ from alpha (gumbel modes: fresh noise). */
void search_supernet_forward(search_supernet *s);
/* θ onto the mix layers with dθ as their gradient buffer (zeroed). */
void search_supernet_apply(search_supernet *s, train_net *net);
/* dalpha += dL/dα from the dθ the last backward of the network left. */
void search_supernet_backward(search_supernet *s, float *dalpha);
/* Presence of every branch layer: θ_k of its branch (hard: 1 for the
 * argmax of alpha's branch, 0 for the others); other layers untouched. */
void search_supernet_state(const search_supernet *s, search_layer_state *st, int hard);
/* dalpha += scale · dC/dα from the bridge's d_presence (g: nlayers entries). */
void search_supernet_state_backward(search_supernet *s, const search_layer_grad *g, double scale, float *dalpha);
/* The branch block b keeps: the argmax of its logits (first on ties). */
int search_supernet_choice(const search_supernet *s, int b);
/* The network with every block replaced by its chosen branch: the mix
 * and the other branches dropped, readers of the mix reading the chosen
 * input; weights and BN statistics copied by name. In eval mode it
 * computes what the supernet computes with one-hot θ at the choices. */
dnas_status search_supernet_export(const search_supernet *s, const train_net *net, train_net **out,
                                   dnas_error *err);
/* The mix layers back to their default coefficients. */
void search_supernet_detach(search_supernet *s, train_net *net);

#endif
