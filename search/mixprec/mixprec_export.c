/* MixPrec export (search/mixprec.h): the hard choice as a plain network.
 *   1. pruned channels: PIT's export (search/pit.h) with each pruning
 *      layer's channels kept where the hard choice is above 0 bits, every
 *      other channel kept; it removes the channels from the layer, its BN
 *      and every reader, copying what is kept. The supernet's readers
 *      quantize those columns as zeros (search/mixprec.h), so their
 *      min-max scales do not change;
 *   2. every conv / linear gets `wbits`: the layer's argmax, or one per
 *      kept channel (one value when they are all equal); every pact its one
 *      argmax `bits`; the network is rebuilt from that spec (the parameter
 *      layout does not change) and parameters and BN statistics copied.
 * In eval mode the result equals the supernet with one-hot θ at the
 * argmax: Q_p(W) of the kept channels, the pacts at the chosen widths. */
#include <stdlib.h>
#include <string.h>

#include "mixprec.h"

/* PIT's masks: each pruning layer's channels kept where the choice is
 * above 0 bits; PIT's keep-alive of a group's last channel is overridden
 * (the hard choice keeps a channel of every layer itself). */
static void set_masks(const search_mixprec *m) {
    search_pit *pit = m->pit;
    for (size_t k = 0; k < pit->nalpha; k++)
        pit->alpha[k] = 1.0f;
    search_pit_forward(pit);
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        if (W->prec.bits[0] != 0) continue;
        const search_pit_group *G = &pit->groups[pit->group_of[W->layer]];
        for (int c = 0; c < W->cout; c++)
            pit->hm[G->a_off + (size_t)c] = search_mixprec_wbits(m, k, c) > 0 ? 1.0f : 0.0f;
    }
}

dnas_status search_mixprec_export(const search_mixprec *m, const train_net *net, train_net **out,
                                  dnas_error *err) {
    *out = NULL;
    set_masks(m);
    train_net *pruned;
    dnas_status st = search_pit_export(m->pit, net, &pruned, err);
    if (st) return st;
    train_spec *spec = train_net_spec(pruned);
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        train_spec_layer *l = spec->layers[train_spec_find(spec, net->layers[W->layer].name)];
        int n = 0, same = 1;
        long *b = NULL;
        if (W->rows > 1) {
            b = dnas_xmalloc((size_t)W->cout * sizeof *b);
            for (int c = 0; c < W->cout; c++) {
                if (!search_pit_channel_kept(m->pit, W->layer, c)) continue;
                b[n] = search_mixprec_wbits(m, k, c);
                same &= b[n] == b[0];
                n++;
            }
        }
        if (!b || same)
            train_spec_set_int(l, "wbits", b ? b[0] : search_mixprec_wbits(m, k, 0));
        else
            train_spec_set_ints(l, "wbits", b, n);
        free(b);
    }
    for (int k = 0; k < m->na; k++)
        train_spec_set_int(spec->layers[train_spec_find(spec, net->layers[m->a[k].layer].name)],
                           "bits", search_mixprec_abits(m, k));
    train_net *q = NULL;
    st = train_net_build(&q, spec, net->path, err);
    train_spec_free(spec);
    if (!st) {
        DNAS_ASSERT(q->nparams == pruned->nparams && q->nstate == pruned->nstate);
        snprintf(q->name, sizeof q->name, "%s", pruned->name);
        memcpy(q->params, pruned->params, q->nparams * sizeof *q->params);
        memcpy(q->state, pruned->state, q->nstate * sizeof *q->state);
        *out = q;
    }
    train_net_free(pruned);
    return st;
}
