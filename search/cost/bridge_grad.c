/* Gradient routing of the cost bridge (step 8 of bridge_eval.c), the
 * accumulation of a cost's gradient into a loss, and the hinges.
 *
 * hwcost returns partials with respect to one layer's description; the
 * bridge turns them into partials with respect to the search state:
 *   cin  = ch[in]·cin_scale      -> dch[in]     += d_cin·cin_scale
 *   cout = ch[layer]             -> dch[layer]  += d_cout
 *   part p: cout_p = share_p·ch  -> d_share[p]  += d_cout_p·ch[layer],
 *   (share_p the state's, or the layer's recorded split: bridge_eval.c)
 *                                   dch[layer]  += d_cout_p·share_p
 *   k, θw of the layer           -> d_k, d_w of the layer
 *   θa of the input tensor       -> d_a of the tensor's producer
 *   a tensor's bytes             -> dch and d_a of its producer
 *   presence π (SuperNet): a row's costs are π·f(row) and a tensor's
 *   bytes f(π·ch): every partial above is scaled by π, and d_presence
 *   gets f(row) (search_bridge_route_presence), resp. d_channels·ch
 * then the reverse sweep carries dch back along the channel rules to the
 * owners' d_cout (forward: ch[i] = f(ch[inputs]); backward: the chain rule
 * of that f, in reverse layer order so every consumer is done first). */
#include <string.h>

#include "bridge_internal.h"

void search_bridge_route_row(const search_bridge *b, const search_layer_state *s, search_cost_result *res, int slot,
                      int r, int p, const hwcost_grad *g, double scale) {
    const bridge_row *br = &b->rows[r];
    double *dch = res->priv->dch + (size_t)slot * b->nlayers;
    scale *= s[br->layer].presence;
    search_layer_grad *gl = &res->grad[slot][br->layer];
    dch[br->in] += scale * g->d_cin * br->cin_scale;
    if (p < 0) {
        dch[br->layer] += scale * g->d_cout;
    } else {
        gl->d_share[p] += scale * g->d_cout * res->priv->ch[br->layer];
        dch[br->layer] += scale * g->d_cout * res->priv->rg[r].share[p];
    }
    gl->d_k += scale * g->d_k;
    /* a part at its engine's own precision has no θw of the layer: its
     * d_w is with respect to that one fixed candidate */
    if (p < 0 || res->priv->rg[r].layer_w[p])
        for (int j = 0; j < s[br->layer].w.n; j++) gl->d_w[j] += scale * g->d_w[j];
    search_layer_grad *ga = &res->grad[slot][b->tens[br->tin].producer];
    for (int i = 0; i < s[b->tens[br->tin].producer].a.n; i++) ga->d_a[i] += scale * g->d_a[i];
}

void search_bridge_route_presence(const search_bridge *b, search_cost_result *res, int slot, int r, double value) {
    res->grad[slot][b->rows[r].layer].d_presence += value;
}

void search_bridge_route_tensor(const search_bridge *b, const search_layer_state *s, search_cost_result *res,
                                int slot, int t, double d_channels, const double *d_prob, double scale) {
    int prod = b->tens[t].producer;
    res->priv->dch[(size_t)slot * b->nlayers + prod] += scale * d_channels * s[prod].presence;
    search_layer_grad *ga = &res->grad[slot][prod];
    ga->d_presence += scale * d_channels * res->priv->ch[prod];
    for (int i = 0; i < HWCOST_MAX_PREC; i++) ga->d_a[i] += scale * d_prob[i];
}

void search_bridge_sweep(const search_bridge *b, search_cost_result *res) {
    const train_net *net = b->net;
    for (int slot = 0; slot < SEARCH_COST_COUNT_ + res->nmem; slot++) {
        double *dch = res->priv->dch + (size_t)slot * b->nlayers;
        search_layer_grad *g = res->grad[slot];
        for (int i = b->nlayers - 1; i > 0; i--) {
            double x = dch[i];
            if (x == 0) continue;
            const train_layer *L = &net->layers[i];
            switch (b->rule[i]) {
            case BRIDGE_CH_SOURCE:
                if (b->owner[i] > 0) g[b->owner[i]].d_cout += x;
                break;
            case BRIDGE_CH_PASS: dch[L->inputs[0]] += x; break;
            case BRIDGE_CH_FLATTEN: dch[L->inputs[0]] += x * b->flat[i]; break;
            case BRIDGE_CH_CONCAT:
                for (int j = 0; j < L->ninputs; j++) dch[L->inputs[j]] += x;
                break;
            default: break; /* the input and unknown ops: fixed */
            }
        }
    }
}

void search_cost_accumulate(const search_cost_result *r, int slot, double scale, search_layer_grad *acc) {
    DNAS_ASSERT(slot >= 0 && slot < SEARCH_COST_SLOTS);
    const search_layer_grad *g = r->grad[slot];
    for (int i = 0; i < r->nlayers; i++) {
        acc[i].d_cout += scale * g[i].d_cout;
        acc[i].d_k += scale * g[i].d_k;
        for (int j = 0; j < HWCOST_MAX_PREC; j++) {
            acc[i].d_w[j] += scale * g[i].d_w[j];
            acc[i].d_a[j] += scale * g[i].d_a[j];
        }
        for (int e = 0; e < HWCOST_MAX_ENGINES; e++) acc[i].d_share[e] += scale * g[i].d_share[e];
        acc[i].d_presence += scale * g[i].d_presence;
    }
}

/* max(0, v - budget): derivative 1 above the budget, 0 at or under it. */
double search_cost_hinge(const search_cost_result *r, int slot, double budget, double scale,
                         search_layer_grad *acc) {
    DNAS_ASSERT(slot >= 0 && slot < SEARCH_COST_SLOTS);
    double over = r->value[slot] - budget;
    if (!(over > 0)) return 0;
    if (acc) search_cost_accumulate(r, slot, scale, acc);
    return over;
}

double search_cost_memory_hinge(const search_cost_result *r, const hwcost_target *t, double scale,
                                search_layer_grad *acc) {
    DNAS_ASSERT(r->nmem == t->nmem);
    double sum = 0;
    for (int m = 0; m < t->nmem; m++)
        if (!t->mem[m].tiled) sum += search_cost_hinge(r, SEARCH_COST_LEVEL(m), t->mem[m].bytes, scale, acc);
    return sum;
}
