/* MixPrec's network side (search/mixprec.h): the supernet made from a seed
 * (ReLUs become pact layers) and the layers the method searches. */
#include <stdlib.h>
#include <string.h>

#include "mixprec.h"

dnas_status search_mixprec_prepare(const search_mixprec_config *cfg, train_net **net,
                                   dnas_error *err) {
    train_net *seed = *net;
    for (int i = 1; i < seed->nlayers; i++) {
        const train_layer *L = &seed->layers[i];
        if ((L->op == TRAIN_OP_CONV || L->op == TRAIN_OP_LINEAR) && L->wbits)
            return dnas_fail(
                err, DNAS_ERR_UNSUPPORTED,
                "model '%s' (%s): layer '%s' (line %d) already has wbits: MixPrec searches the "
                "precisions of a float seed",
                seed->name, seed->path, L->name, L->line);
    }
    train_spec *spec = train_net_spec(seed);
    long bits[TRAIN_FQ_MAX_PREC];
    for (int k = 0; k < cfg->abits.nprec; k++)
        bits[k] = cfg->abits.bits[k];
    for (int i = 0; i < spec->nlayers; i++) {
        train_spec_layer *l = spec->layers[i];
        if (!l->op || (strcmp(l->op, "relu") && strcmp(l->op, "relu6"))) continue;
        free(l->op);
        l->op = dnas_xmalloc(sizeof "pact");
        memcpy(l->op, "pact", sizeof "pact");
        train_spec_set_ints(l, "bits", bits, cfg->abits.nprec);
    }
    train_net *super;
    dnas_status st = train_net_build(&super, spec, seed->path, err);
    train_spec_free(spec);
    if (st) return st;
    snprintf(super->name, sizeof super->name, "%s", seed->name);
    train_net_free(seed);
    *net = super;
    return DNAS_OK;
}

/* 1 when output channel group of conv / linear i can be pruned alone: a
 * PIT group whose only conv / linear is i. */
static int can_prune(const search_pit *pit, const train_net *net, int i) {
    int g = pit->group_of[i];
    if (g < 0 || pit->groups[g].owner != i) return 0;
    for (int j = 1; j < net->nlayers; j++)
        if (j != i &&
            (net->layers[j].op == TRAIN_OP_CONV || net->layers[j].op == TRAIN_OP_LINEAR) &&
            pit->group_of[j] == g)
            return 0;
    return 1;
}

/* The keep index of every weight of wlayer W (search/mixprec.h), from
 * PIT's channel map of W's input and theta0_of (PIT alpha index -> θ index
 * of θ_0, -1); W->keep stays NULL when no column reads a pruning channel.
 * Column layout as PIT's view (pit_mask.c): a linear's feature f is input
 * channel f / (H·W); conv row o, input channel ci of its group reads
 * channel (o / og)·cg + ci, kh·kw taps. */
static void keep_map(search_mixprec_wlayer *W, const search_pit *pit, const train_net *net,
                     const int *theta0_of) {
    const train_layer *L = &net->layers[W->layer], *I = &net->layers[L->inputs[0]];
    const int *mi = pit->chmap + pit->choff[L->inputs[0]];
    int *k = dnas_xmalloc(L->w_len * sizeof *k), any = 0;
    if (L->op == TRAIN_OP_LINEAR) {
        size_t F = (size_t)I->c * I->h * I->w, hw = (size_t)I->h * I->w;
        for (size_t at = 0; at < L->w_len; at++) {
            int e = mi[(at % F) / hw];
            k[at] = e >= 0 ? theta0_of[e] : -1;
        }
    } else {
        int cg = I->c / L->groups, og = L->c / L->groups, kk = L->kh * L->kw;
        for (int o = 0; o < L->c; o++)
            for (int ci = 0; ci < cg; ci++) {
                int e = mi[(o / og) * cg + ci];
                for (int t = 0; t < kk; t++)
                    k[((size_t)o * cg + ci) * kk + t] = e >= 0 ? theta0_of[e] : -1;
            }
    }
    for (size_t at = 0; at < L->w_len; at++)
        any |= k[at] >= 0;
    if (!any) free(k), k = NULL;
    W->keep = k;
}

static void init_alpha(float *alpha, int rows, const train_fq_precs *p) {
    int top = p->bits[p->nprec - 1];
    for (int r = 0; r < rows; r++)
        for (int k = 0; k < p->nprec; k++)
            alpha[(size_t)r * p->nprec + k] = (float)p->bits[k] / (float)top;
}

dnas_status search_mixprec_init(search_mixprec **out, const search_mixprec_config *cfg,
                                train_net *net, const search_bridge *bridge, dnas_error *err) {
    *out = NULL;
    search_pit *pit;
    dnas_status st = search_pit_init(&pit, net, bridge, err);
    if (st) return st;
    search_mixprec *m = dnas_xcalloc(1, sizeof *m);
    m->net = net;
    m->bridge = bridge;
    m->cfg = *cfg;
    m->temp = cfg->temperature;
    m->pit = pit;
    m->w = dnas_xcalloc((size_t)net->nlayers, sizeof *m->w);
    m->a = dnas_xcalloc((size_t)net->nlayers, sizeof *m->a);
    size_t off = 0;
    int zero = cfg->wbits.bits[0] == 0;
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        if (L->op == TRAIN_OP_PACT) {
            if (L->prec.nprec != cfg->abits.nprec ||
                memcmp(L->prec.bits, cfg->abits.bits,
                       (size_t)L->prec.nprec * sizeof L->prec.bits[0])) {
                search_mixprec_free(m);
                return dnas_fail(err, DNAS_ERR_UNSUPPORTED,
                                 "model '%s': pact layer '%s' (line %d) has other bit widths than "
                                 "mixprec: act_bits",
                                 net->name, L->name, L->line);
            }
            m->a[m->na++] = (search_mixprec_alayer){i, off};
            off += (size_t)cfg->abits.nprec;
            continue;
        }
        if (L->op != TRAIN_OP_CONV && L->op != TRAIN_OP_LINEAR) continue;
        search_mixprec_wlayer *W = &m->w[m->nw++];
        W->layer = i;
        W->cout = L->c;
        W->len = (int)(L->w_len / (size_t)L->c);
        W->rows = cfg->granularity == SEARCH_MIXPREC_CHANNEL ? L->c : 1;
        W->prec = cfg->wbits;
        if (zero && !can_prune(pit, net, i)) { /* drop the 0 candidate */
            W->prec.nprec--;
            memmove(W->prec.bits, W->prec.bits + 1, (size_t)W->prec.nprec * sizeof W->prec.bits[0]);
        }
        W->off = off;
        off += (size_t)W->rows * W->prec.nprec;
    }
    m->nalpha = off;
    m->alpha = dnas_xcalloc(off + 1, sizeof *m->alpha);
    m->theta = dnas_xcalloc(off + 1, sizeof *m->theta);
    m->dtheta = dnas_xcalloc(off + 1, sizeof *m->dtheta);
    m->dcost = dnas_xcalloc(off + 1, sizeof *m->dcost);
    m->view = dnas_xcalloc(net->nparams + 1, sizeof *m->view);
    /* θ_0 of each pruning channel by PIT alpha index, then the readers' keep maps */
    int *theta0_of = dnas_xmalloc((pit->nalpha + 1) * sizeof *theta0_of);
    for (size_t e = 0; e < pit->nalpha; e++)
        theta0_of[e] = -1;
    size_t most = 1;
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        size_t wl = net->layers[W->layer].w_len;
        most = wl > most ? wl : most;
        if (W->prec.bits[0] != 0) continue;
        const search_pit_group *G = &pit->groups[pit->group_of[W->layer]];
        for (int c = 0; c < W->cout; c++)
            theta0_of[G->a_off + (size_t)c] = (int)(W->off + (size_t)c * W->prec.nprec);
    }
    if (zero)
        for (int k = 0; k < m->nw; k++)
            keep_map(&m->w[k], pit, net, theta0_of);
    free(theta0_of);
    m->wm = dnas_xcalloc(most, sizeof *m->wm);
    for (int k = 0; k < m->nw; k++)
        init_alpha(m->alpha + m->w[k].off, m->w[k].rows, &m->w[k].prec);
    for (int k = 0; k < m->na; k++)
        init_alpha(m->alpha + m->a[k].off, 1, &cfg->abits);
    search_mixprec_forward(m);
    *out = m;
    return DNAS_OK;
}

void search_mixprec_free(search_mixprec *m) {
    if (!m) return;
    search_pit_free(m->pit);
    for (int k = 0; k < m->nw; k++)
        free(m->w[k].keep);
    free(m->wm);
    free(m->w);
    free(m->a);
    free(m->alpha);
    free(m->theta);
    free(m->dtheta);
    free(m->dcost);
    free(m->view);
    free(m);
}
