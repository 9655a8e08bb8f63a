/* MixPrec export (search/mixprec.h): the hard choice as a plain network.
 *   1. pruned channels: PIT's export (search/pit.h) with each pruning
 *      layer's channel mask at 1 where the argmax precision is above 0 and
 *      0 where it is 0, every other mask at 1; it removes the channels from
 *      the layer, its BN and every reader, copying what is kept. PIT keeps
 *      the last channel of a group alive: when that channel's choice is 0
 *      bits it stays, with `wbits` 0 (zero weights) and its BN γ, β (or
 *      bias) set to 0, so it outputs 0 as in the supernet;
 *   2. every conv / linear gets `wbits`: the layer's argmax, or one per
 *      kept channel (one value when they are all equal); every pact its one
 *      argmax `bits`; the network is rebuilt from that spec (the parameter
 *      layout does not change) and parameters and BN statistics copied.
 * In eval mode the result equals the supernet with one-hot θ at the
 * argmax: Q_p(W) of the kept channels, the pacts at the chosen widths. */
#include <stdlib.h>
#include <string.h>

#include "mixprec.h"

/* Keeps of pruning layers' channels into PIT's masks. */
static void set_masks(const search_mixprec *m) {
    search_pit *pit = m->pit;
    for (size_t k = 0; k < pit->nalpha; k++) pit->alpha[k] = 1.0f;
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        if (W->prec.bits[0] != 0) continue;
        const search_pit_group *G = &pit->groups[pit->group_of[W->layer]];
        for (int c = 0; c < W->cout; c++)
            pit->alpha[G->a_off + (size_t)c] = search_mixprec_wbits(m, k, c) > 0 ? 1.0f : 0.0f;
    }
    search_pit_forward(pit);
}

/* Zeroes the affine (BN γ, β, or the bias) of exported channel c of conv /
 * linear `layer` in net. */
static void zero_channel(train_net *net, int layer, int c) {
    const train_layer *L = &net->layers[layer];
    int bn = 0, n = 0;
    for (int j = layer + 1; j < net->nlayers; j++)
        for (int i = 0; i < net->layers[j].ninputs; i++)
            if (net->layers[j].inputs[i] == layer) n++, bn = j;
    if (n == 1 && net->layers[bn].op == TRAIN_OP_BN) {
        net->params[net->layers[bn].w_off + (size_t)c] = 0.0f;
        net->params[net->layers[bn].b_off + (size_t)c] = 0.0f;
    }
    if (L->b_len) net->params[L->b_off + (size_t)c] = 0.0f;
}

dnas_status search_mixprec_export(const search_mixprec *m, const train_net *net, train_net **out, dnas_error *err) {
    *out = NULL;
    set_masks(m);
    train_net *pruned;
    dnas_status st = search_pit_export(m->pit, net, &pruned, err);
    if (st) return st;
    train_spec *spec = train_net_spec(pruned);
    int *zeroed = dnas_xcalloc((size_t)m->nw + 1, sizeof *zeroed); /* exported channel to zero + 1, 0 none */
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
                if (b[n] == 0) zeroed[k] = n + 1;
                same &= b[n] == b[0];
                n++;
            }
        }
        if (!b || (same && b[0] > 0))
            train_spec_set_int(l, "wbits", b ? b[0] : search_mixprec_wbits(m, k, 0));
        else
            train_spec_set_ints(l, "wbits", b, n);
        free(b);
    }
    for (int k = 0; k < m->na; k++)
        train_spec_set_int(spec->layers[train_spec_find(spec, net->layers[m->a[k].layer].name)], "bits",
                           search_mixprec_abits(m, k));
    train_net *q = NULL;
    st = train_net_build(&q, spec, net->path, err);
    train_spec_free(spec);
    if (!st) {
        DNAS_ASSERT(q->nparams == pruned->nparams && q->nstate == pruned->nstate);
        snprintf(q->name, sizeof q->name, "%s", pruned->name);
        memcpy(q->params, pruned->params, q->nparams * sizeof *q->params);
        memcpy(q->state, pruned->state, q->nstate * sizeof *q->state);
        for (int k = 0; k < m->nw; k++)
            if (zeroed[k]) zero_channel(q, m->w[k].layer, zeroed[k] - 1);
        *out = q;
    }
    free(zeroed);
    train_net_free(pruned);
    return st;
}
