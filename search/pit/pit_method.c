/* PIT as a search method (search/method.h): the masks of search/pit.h
 * behind the method interface. alpha is the PIT state's own array; the
 * slices are each group's channel mask `<owner>.a` and each time-masked
 * conv's `<conv>.b` and `<conv>.g`. */
#include "method.h"
#include "pit.h"

static void pit_forward(search_arch *a) { search_pit_forward(a->impl); }
static void pit_apply(search_arch *a, train_net *net) { search_pit_apply(a->impl, net); }
static void pit_backward(search_arch *a, train_net *net, float *dalpha, int map_weights) {
    search_pit_backward(a->impl, net, dalpha, map_weights);
}
static void pit_state(const search_arch *a, search_layer_state *s, int hard) { search_pit_state(a->impl, s, hard); }
static void pit_state_backward(search_arch *a, const search_layer_grad *g, double scale, float *dalpha) {
    search_pit_state_backward(a->impl, g, scale, dalpha);
}
static dnas_status pit_export(const search_arch *a, const train_net *net, train_net **out, dnas_error *err) {
    return search_pit_export(a->impl, net, out, err);
}
static void pit_detach(search_arch *a, train_net *net) {
    (void)a;
    train_net_set_param_view(net, NULL);
}
static void pit_destroy(search_arch *a) { search_pit_free(a->impl); }

dnas_status search_pit_method(search_arch *a, const search_config *cfg, train_net *net, const search_bridge *b,
                              dnas_error *err) {
    (void)cfg;
    search_pit *p;
    dnas_status st = search_pit_init(&p, net, b, err);
    if (st) return st;
    a->impl = p;
    a->nalpha = p->nalpha;
    a->alpha = p->alpha;
    a->forward = pit_forward;
    a->apply = pit_apply;
    a->backward = pit_backward;
    a->state = pit_state;
    a->state_backward = pit_state_backward;
    a->export_net = pit_export;
    a->detach = pit_detach;
    a->destroy = pit_destroy;
    for (int g = 0; g < p->ngroups; g++)
        search_arch_add_slice(a, net->layers[p->groups[g].owner].name, "a", p->groups[g].a_off,
                              (size_t)p->groups[g].c);
    for (int t = 0; t < p->ntime; t++) {
        const search_pit_time *T = &p->time[t];
        search_arch_add_slice(a, net->layers[T->layer].name, "b", T->b_off, (size_t)T->k);
        search_arch_add_slice(a, net->layers[T->layer].name, "g", T->g_off, (size_t)T->l);
    }
    return DNAS_OK;
}
