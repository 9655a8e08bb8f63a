/* SuperNet as a search method (search/method.h): the choice blocks of
 * search/supernet.h behind the method interface. alpha is the SuperNet
 * state's own array; one slice per block, `<mix>.theta` (its N logits);
 * the epoch hook sets the temperature of the schedule; the choices are
 * each block's argmax branch. SuperNet has no parameter view: the
 * network's gradients are already the raw weights'. */
#include <string.h>

#include "method.h"
#include "supernet.h"

static void sn_forward(search_arch *a) { search_supernet_forward(a->impl); }
static void sn_apply(search_arch *a, train_net *net) { search_supernet_apply(a->impl, net); }
static void sn_backward(search_arch *a, train_net *net, float *dalpha, int map_weights) {
    (void)net;
    if (!map_weights) search_supernet_backward(a->impl, dalpha);
}
static void sn_state(const search_arch *a, search_layer_state *s, int hard) { search_supernet_state(a->impl, s, hard); }
static void sn_state_backward(search_arch *a, const search_layer_grad *g, double scale, float *dalpha) {
    search_supernet_state_backward(a->impl, g, scale, dalpha);
}
static void sn_epoch(search_arch *a, int epoch, int nepochs) {
    search_supernet *s = a->impl;
    search_supernet_set_tau(s, (float)search_supernet_tau(&s->p, epoch, nepochs));
}
static void sn_choices(const search_arch *a, search_arch_choice *out) {
    const search_supernet *s = a->impl;
    for (int b = 0; b < s->nblocks; b++) {
        const train_layer *M = &s->net->layers[s->blocks[b].mix];
        int k = search_supernet_choice(s, b);
        snprintf(out[b].name, sizeof out[b].name, "%s", M->name);
        out[b].index = k;
        snprintf(out[b].choice, sizeof out[b].choice, "%s", M->inputs[k] ? s->net->layers[M->inputs[k]].name : "input");
    }
}
static dnas_status sn_export(const search_arch *a, const train_net *net, train_net **out, dnas_error *err) {
    return search_supernet_export(a->impl, net, out, err);
}
static void sn_detach(search_arch *a, train_net *net) { search_supernet_detach(a->impl, net); }
static void sn_destroy(search_arch *a) { search_supernet_free(a->impl); }

dnas_status search_supernet_method(search_arch *a, const search_config *cfg, train_net *net,
                                   const search_bridge *b, dnas_error *err) {
    (void)b;
    search_supernet *s;
    dnas_status st = search_supernet_init(&s, net, &cfg->supernet, cfg->seed, err);
    if (st) return st;
    a->impl = s;
    a->nalpha = s->nalpha;
    a->alpha = s->alpha;
    a->forward = sn_forward;
    a->apply = sn_apply;
    a->backward = sn_backward;
    a->state = sn_state;
    a->state_backward = sn_state_backward;
    a->epoch = sn_epoch;
    a->nchoices = s->nblocks;
    a->choices = sn_choices;
    a->export_net = sn_export;
    a->detach = sn_detach;
    a->destroy = sn_destroy;
    for (int k = 0; k < s->nblocks; k++)
        search_arch_add_slice(a, net->layers[s->blocks[k].mix].name, "theta", s->blocks[k].off,
                              (size_t)s->blocks[k].n);
    return DNAS_OK;
}
