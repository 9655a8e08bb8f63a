/* The interface every search method implements (PIT, SuperNet, MixPrec,
 * ODiMO); search/run/ drives it through the phases and knows no method.
 *
 * A method owns the architecture parameters `alpha` (one float array; the
 * run's Adam updates it) and decides how they enter the network: through
 * the effective-parameter view (train_net_set_param_view), the external
 * coefficients of `mix` and `pact` layers, or both. One step of the search
 * (search/run/run_search.c) calls, in order:
 *   forward   after every change of alpha (derived masks / probabilities);
 *   apply     the current weights and architecture onto the network (after
 *             forward and after every weight update);
 *   ...       the network's forward / backward (net->grads = dL/d(view));
 *   backward  dalpha += the task gradient through the method's chain, and
 *             (map_weights) net->grads become gradients of the raw weights;
 *   state / state_backward
 *             the search state the cost bridge prices and the way back
 *             from its per-layer gradients to alpha.
 * After the search: export_net builds the found network (its eval-mode
 * outputs equal the supernet's at the hard choice), detach leaves the
 * network plain again.
 *
 * Methods are created by search_arch_create (search/run/run_method.c) from
 * the config's method; each lives in its own folder (pit/, supernet/, ...). */
#ifndef DNAS_SEARCH_METHOD_H
#define DNAS_SEARCH_METHOD_H

#include <stddef.h>

#include "bridge.h"
#include "net.h"
#include "run_config.h"

/* A named slice of alpha ("conv1.a", "conv1.b", ...), stored in the run file. */
typedef struct {
    char name[TRAIN_NAME_LEN + 8];
    size_t off, len;
} search_arch_slice;

/* One discrete choice the search made (SuperNet: choice block `name`, the
 * mix layer, keeps branch `index`, whose output is layer `choice`; "input"
 * for the network input), stored in the run file's arch_params/choices. */
typedef struct {
    char name[TRAIN_NAME_LEN];
    int index;
    char choice[TRAIN_NAME_LEN];
} search_arch_choice;

typedef struct search_arch search_arch;
struct search_arch {
    search_method method;
    size_t nalpha;
    float *alpha; /* nalpha (+1) floats, the method's */
    int nslices;
    search_arch_slice *slices;
    /* how the bridge maps layers to engines while searching (ODiMO:
     * SEARCH_ENGINE_PARALLEL); the exported network is priced with the
     * default (fastest engine) */
    search_engine_mode engine_mode;
    void *impl; /* the method's own state */

    void (*forward)(search_arch *a);
    void (*apply)(search_arch *a, train_net *net);
    void (*backward)(search_arch *a, train_net *net, float *dalpha, int map_weights);
    /* s: nlayers entries already holding search_bridge_state_default at
     * the config's bits; hard: what the discrete choice selects, else the
     * soft state the regularizer differentiates */
    void (*state)(const search_arch *a, search_layer_state *s, int hard);
    void (*state_backward)(search_arch *a, const search_layer_grad *g, double scale, float *dalpha);
    /* optional (NULL: none): called before each search epoch (schedules,
     * e.g. a temperature from search_anneal) */
    void (*epoch)(search_arch *a, int epoch, int nepochs);
    /* optional (NULL: none): the nchoices discrete choices alpha selects now */
    int nchoices;
    void (*choices)(const search_arch *a, search_arch_choice *out);
    dnas_status (*export_net)(const search_arch *a, const train_net *net, train_net **out, dnas_error *err);
    void (*detach)(search_arch *a, train_net *net);
    void (*destroy)(search_arch *a); /* frees impl (the rest: search_arch_free) */
};

/* The network the method of cfg searches, made from the seed before the
 * bridge is built and before warmup (a method without such a step keeps
 * the seed): *net is replaced by it (the seed freed). Errors name the
 * layer the method cannot turn into its supernet. */
dnas_status search_arch_prepare(const search_config *cfg, train_net **net, dnas_error *err);

/* The method of cfg on net (the bridge built on net); net and bridge must
 * outlive a. Errors name the layer the method cannot handle. */
dnas_status search_arch_create(search_arch **a, const search_config *cfg, train_net *net,
                               const search_bridge *b, dnas_error *err);
void search_arch_free(search_arch *a);

/* Adds a slice named "<layer>.<suffix>" to a->slices (capacity grows). */
void search_arch_add_slice(search_arch *a, const char *layer, const char *suffix, size_t off, size_t len);

/* Each method's constructor (in its folder). */
dnas_status search_pit_method(search_arch *a, const search_config *cfg, train_net *net, const search_bridge *b,
                              dnas_error *err);
dnas_status search_supernet_method(search_arch *a, const search_config *cfg, train_net *net,
                                   const search_bridge *b, dnas_error *err);
dnas_status search_mixprec_method(search_arch *a, const search_config *cfg, train_net *net,
                                  const search_bridge *b, dnas_error *err);
/* ODiMO (search/odimo.h); a->impl is a search_odimo. */
dnas_status search_odimo_method(search_arch *a, const search_config *cfg, train_net *net, const search_bridge *b,
                                dnas_error *err);
/* Each method's supernet step (search_arch_prepare), where it has one. */
dnas_status search_mixprec_supernet(const search_config *cfg, train_net **net, dnas_error *err);

/* A schedule over the search epochs 0..nepochs-1: start at the first,
 * end at the last, in between start·(end/start)^r (linear = 0: a constant
 * ratio per epoch; start and end > 0) or start + r·(end − start)
 * (linear = 1), r = epoch / (nepochs − 1). The temperatures of SuperNet,
 * MixPrec and ODiMO follow it. */
double search_anneal(double start, double end, int epoch, int nepochs, int linear);

#endif
