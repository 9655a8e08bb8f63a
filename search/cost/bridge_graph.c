/* The cost bridge's view of a network, read once: how each layer's
 * channels follow from the state (rules and add-group owners), the
 * conv/linear layers that cost something, and the activation tensors
 * with their lifetimes. Also the result buffers and the default state.
 *
 * Owners: every conv/linear (not depthwise) starts its own channel set;
 * depthwise, BN, ReLU, dropout and pools carry their input's set; an add
 * unites the sets of its inputs (union-find, the smallest layer index is
 * the root, so the network input, layer 0, wins and fixes the set). Concat
 * and flatten outputs are no one layer's count (owner -1) and join no set:
 * an add whose input 0 has a set unites it with those of its other inputs
 * that have one; its output has input 0's channels. */
#include <stdlib.h>
#include <string.h>

#include "bridge_internal.h"

static const char *COST_NAMES[SEARCH_COST_COUNT_] = {
    "params",       "params_no_bias", "macs",   "macs_no_bias", "bit_params", "bit_ops",
    "weight_bytes", "peak_act_bytes", "memory", "cycles",       "seconds",    "energy",
};

const char *search_cost_name(search_cost c) {
    return (unsigned)c < SEARCH_COST_COUNT_ ? COST_NAMES[c] : "?";
}

search_cost_params search_cost_default_params(void) {
    search_cost_params p = {NULL, SEARCH_ENGINE_FASTEST, 0, 0};
    return p;
}

/* dnas cost's rule: groups = channels in and out. */
static int is_depthwise(const train_net *net, const train_layer *L) {
    const train_layer *I = &net->layers[L->inputs[0]];
    return L->op == TRAIN_OP_CONV && L->groups > 1 && L->groups == L->c && L->groups == I->c;
}

/* Layer whose tensor layer i writes: BN, ReLU, dropout and flatten reuse
 * their input's (folded or in place at deploy). */
static int tensor_of(const train_net *net, int i) {
    while (i > 0) {
        train_op op = net->layers[i].op;
        if (op != TRAIN_OP_BN && op != TRAIN_OP_RELU && op != TRAIN_OP_DROPOUT && op != TRAIN_OP_FLATTEN)
            break;
        i = net->layers[i].inputs[0];
    }
    return i;
}

static int uf_find(int *par, int i) {
    while (par[i] != i) i = par[i] = par[par[i]];
    return i;
}

static void uf_union(int *par, int a, int c) {
    a = uf_find(par, a), c = uf_find(par, c);
    if (a < c) par[c] = a;
    if (c < a) par[a] = c;
}

/* Rules and owners (header comment). src[i]: the set layer i's channels
 * belong to, -1 for none. */
static void read_channels(search_bridge *b, int *src, int *par) {
    const train_net *net = b->net;
    for (int i = 0; i < b->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        int in0 = i > 0 && L->ninputs > 0 ? L->inputs[0] : 0;
        par[i] = i;
        src[i] = -1;
        if (i == 0) {
            b->rule[i] = BRIDGE_CH_INPUT, src[i] = 0;
            continue;
        }
        switch (L->op) {
        case TRAIN_OP_CONV:
        case TRAIN_OP_LINEAR:
            if (L->op == TRAIN_OP_CONV && is_depthwise(net, L))
                b->rule[i] = BRIDGE_CH_PASS, src[i] = src[in0];
            else
                b->rule[i] = BRIDGE_CH_SOURCE, src[i] = i;
            break;
        case TRAIN_OP_ADD:
            b->rule[i] = BRIDGE_CH_PASS, src[i] = src[in0];
            for (int j = 1; j < L->ninputs && src[in0] >= 0; j++)
                if (src[L->inputs[j]] >= 0) uf_union(par, src[in0], src[L->inputs[j]]);
            break;
        case TRAIN_OP_CONCAT: b->rule[i] = BRIDGE_CH_CONCAT; break;
        case TRAIN_OP_FLATTEN:
            b->rule[i] = BRIDGE_CH_FLATTEN;
            b->flat[i] = (double)net->layers[in0].h * net->layers[in0].w;
            break;
        default: /* BN, ReLU, dropout, pools, and ops added later that keep channels */
            if (L->ninputs > 0 && L->c == net->layers[in0].c)
                b->rule[i] = BRIDGE_CH_PASS, src[i] = src[in0];
            else
                b->rule[i] = BRIDGE_CH_FIXED;
        }
    }
    for (int i = 0; i < b->nlayers; i++) b->owner[i] = src[i] >= 0 ? uf_find(par, src[i]) : -1;
}

/* Tensors and their lifetimes over the layer order, exactly as dnas cost
 * has always computed them (its memory numbers must not change). */
static void read_tensors(search_bridge *b, int *tid) {
    const train_net *net = b->net;
    for (int i = 0; i < b->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        int t = tensor_of(net, i);
        if (t != i) {
            tid[i] = tid[t];
        } else {
            tid[i] = b->ntens;
            b->tens[b->ntens++] = (bridge_tensor){i, L->h, L->w, i, i};
        }
        for (int j = 0; j < L->ninputs; j++) {
            bridge_tensor *in = &b->tens[tid[L->inputs[j]]];
            if (in->last < i) in->last = i;
        }
    }
    b->tens[tid[net->output]].last = b->nlayers - 1;
    for (int i = 1; i < b->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        if (L->op != TRAIN_OP_CONV && L->op != TRAIN_OP_LINEAR) continue;
        const train_layer *I = &net->layers[L->inputs[0]];
        bridge_row *r = &b->rows[b->nrows++];
        r->layer = i;
        r->in = L->inputs[0];
        r->cin_scale = L->op == TRAIN_OP_LINEAR ? (double)I->h * I->w : 1;
        r->kind = L->op == TRAIN_OP_LINEAR ? HWCOST_LINEAR
                  : is_depthwise(net, L)   ? HWCOST_DEPTHWISE
                                           : HWCOST_CONV;
        r->tin = tid[L->inputs[0]];
        r->tout = tid[i];
    }
}

dnas_status search_bridge_init(search_bridge **out, const train_net *net, dnas_error *err) {
    *out = NULL;
    if (!net || net->nlayers < 2)
        return dnas_fail(err, DNAS_ERR_INVALID, "cost bridge: the network has no layers");
    search_bridge *b = dnas_xcalloc(1, sizeof *b);
    size_t n = (size_t)net->nlayers;
    b->net = net;
    b->nlayers = net->nlayers;
    b->rule = dnas_xcalloc(n, sizeof *b->rule);
    b->owner = dnas_xcalloc(n, sizeof *b->owner);
    b->flat = dnas_xcalloc(n, sizeof *b->flat);
    b->rows = dnas_xcalloc(n, sizeof *b->rows);
    b->tens = dnas_xcalloc(n, sizeof *b->tens);
    int *tmp = dnas_xcalloc(2 * n, sizeof *tmp);
    read_channels(b, tmp, tmp + n);
    read_tensors(b, tmp);
    free(tmp);
    *out = b;
    return DNAS_OK;
}

void search_bridge_free(search_bridge *b) {
    if (!b) return;
    free(b->rule);
    free(b->owner);
    free(b->flat);
    free(b->rows);
    free(b->tens);
    free(b);
}

int search_bridge_nlayers(const search_bridge *b) {
    return b->nlayers;
}

int search_bridge_channel_owner(const search_bridge *b, int i) {
    DNAS_ASSERT(i >= 0 && i < b->nlayers);
    return b->owner[i];
}

void search_bridge_state_default(const search_bridge *b, search_layer_state *s, double wbits, double abits) {
    for (int i = 0; i < b->nlayers; i++) {
        const train_layer *L = &b->net->layers[i];
        memset(&s[i], 0, sizeof s[i]);
        s[i].cout = L->c;
        s[i].k = L->op == TRAIN_OP_CONV ? (double)L->kh * L->kw : 1;
        s[i].w = hwcost_prec_single(wbits);
        s[i].a = hwcost_prec_single(abits);
        if ((L->op == TRAIN_OP_CONV || L->op == TRAIN_OP_LINEAR) && L->wbits) { /* its own precisions */
            hwcost_prec w = {0};
            for (int c = 0; c < L->c; c++) {
                int wb = train_layer_wbits(L, c), k = 0;
                while (k < w.n && w.bits[k] != wb) k++;
                if (k == w.n && w.n < HWCOST_MAX_PREC) w.bits[w.n++] = wb;
                if (k < w.n) w.prob[k] += 1.0 / L->c;
            }
            s[i].w = w;
        }
        if (L->op == TRAIN_OP_PACT && L->prec.nprec == 1) s[i].a = hwcost_prec_single(L->prec.bits[0]);
        s[i].share[0] = 1;
        s[i].presence = 1;
    }
}

void search_cost_result_init(search_cost_result *r, const search_bridge *b) {
    memset(r, 0, sizeof *r);
    size_t n = (size_t)b->nlayers;
    r->nlayers = b->nlayers;
    r->nrows = b->nrows;
    r->rows = dnas_xcalloc((size_t)b->nrows + 1, sizeof *r->rows);
    search_layer_grad *g = dnas_xcalloc(SEARCH_COST_SLOTS * n, sizeof *g);
    for (int k = 0; k < SEARCH_COST_SLOTS; k++) r->grad[k] = g + k * n;
    struct search_cost_scratch *p = dnas_xcalloc(1, sizeof *p);
    p->ch = dnas_xcalloc(n, sizeof *p->ch);
    p->dch = dnas_xcalloc(SEARCH_COST_SLOTS * n, sizeof *p->dch);
    p->tens = dnas_xcalloc((size_t)b->ntens, sizeof *p->tens);
    p->dtens = dnas_xcalloc((size_t)b->ntens, sizeof *p->dtens);
    p->dprob = dnas_xcalloc((size_t)b->ntens, sizeof *p->dprob);
    p->rg = dnas_xcalloc((size_t)b->nrows + 1, sizeof *p->rg);
    r->priv = p;
}

void search_cost_result_free(search_cost_result *r) {
    if (!r || !r->priv) return;
    free(r->rows);
    free(r->grad[0]);
    free(r->priv->ch);
    free(r->priv->dch);
    free(r->priv->tens);
    free(r->priv->dtens);
    free(r->priv->dprob);
    free(r->priv->rg);
    free(r->priv);
    memset(r, 0, sizeof *r);
}
