/* MixPrec as a search method (search/method.h): search/mixprec.h behind
 * the method interface. alpha is the MixPrec state's own array; the slices
 * are `<conv>.w` (rows × weight candidates) and `<pact>.a`. */
#include "method.h"
#include "mixprec.h"

static void mp_forward(search_arch *a) {
    search_mixprec_forward(a->impl);
}
static void mp_apply(search_arch *a, train_net *net) {
    search_mixprec_apply(a->impl, net);
}
static void mp_backward(search_arch *a, train_net *net, float *dalpha, int map_weights) {
    search_mixprec_backward(a->impl, net, dalpha, map_weights);
}
static void mp_state(const search_arch *a, search_layer_state *s, int hard) {
    search_mixprec_state(a->impl, s, hard);
}
static void mp_state_backward(search_arch *a, const search_layer_grad *g, double scale,
                              float *dalpha) {
    search_mixprec_state_backward(a->impl, g, scale, dalpha);
}
static dnas_status mp_export(const search_arch *a, const train_net *net, train_net **out,
                             dnas_error *err) {
    return search_mixprec_export(a->impl, net, out, err);
}
static void mp_detach(search_arch *a, train_net *net) {
    const search_mixprec *m = a->impl;
    train_net_set_param_view(net, NULL);
    for (int k = 0; k < m->na; k++)
        train_net_set_pact_coef(net, m->a[k].layer, NULL, NULL);
}
static void mp_destroy(search_arch *a) {
    search_mixprec_free(a->impl);
}
static void mp_epoch(search_arch *a, int epoch, int nepochs) {
    search_mixprec_anneal(a->impl, epoch, nepochs);
}

dnas_status search_mixprec_supernet(const search_config *cfg, train_net **net, dnas_error *err) {
    return search_mixprec_prepare(&cfg->mixprec, net, err);
}

dnas_status search_mixprec_method(search_arch *a, const search_config *cfg, train_net *net,
                                  const search_bridge *b, dnas_error *err) {
    search_mixprec *m;
    dnas_status st = search_mixprec_init(&m, &cfg->mixprec, net, b, err);
    if (st) return st;
    a->impl = m;
    a->nalpha = m->nalpha;
    a->alpha = m->alpha;
    a->forward = mp_forward;
    a->apply = mp_apply;
    a->backward = mp_backward;
    a->state = mp_state;
    a->state_backward = mp_state_backward;
    a->export_net = mp_export;
    a->detach = mp_detach;
    a->destroy = mp_destroy;
    a->epoch = mp_epoch;
    for (int k = 0; k < m->nw; k++)
        search_arch_add_slice(a, net->layers[m->w[k].layer].name, "w", m->w[k].off,
                              (size_t)m->w[k].rows * m->w[k].prec.nprec);
    for (int k = 0; k < m->na; k++)
        search_arch_add_slice(a, net->layers[m->a[k].layer].name, "a", m->a[k].off,
                              (size_t)m->cfg.abits.nprec);
    return DNAS_OK;
}
