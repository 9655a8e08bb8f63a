/* PIT masks at run time: from alpha to binarized masks, into the
 * effective-parameter view, and the gradients back (search/pit.h).
 *
 * Forward, per group: a' = keepalive(a) (last channel kept), hm = H(a');
 * per time-masked conv: b' = keepalive(b) (tap 0 kept), g' = keepalive(g)
 * (g_{L-1} kept), tb = rf(b'), tg = dil(g'), tm = H(tb)·H(tg).
 * View: W_eff[o, c, kw] = W[o, c, kw] · hm[map_in(c)] · tm[K-1-kw] (a
 * linear: W_eff[o, f] = W[o, f] · hm[map_in(f / (H·W))]); the rest of the
 * view is net->params.
 * Backward (what the forward did, then its derivative):
 *   dhm[map_in(c)] += Σ dW_eff·W·tm,  dtm[K-1-kw] += Σ dW_eff·W·hm,
 *   dW = dW_eff·hm·tm;
 *   H is straight-through: da' = dhm, dtb = dtm·H(tg), dtg = dtm·H(tb);
 *   then the rf / dil sums and keep-alive backward (train/ops.h).
 * Sums run in a fixed order in double: results do not depend on threads. */
#include <string.h>

#include "pit.h"

void search_pit_forward(search_pit *p) {
    for (int g = 0; g < p->ngroups; g++) {
        const search_pit_group *G = &p->groups[g];
        train_pit_keepalive_forward(p->prime + G->a_off, p->alpha + G->a_off, G->c, G->c - 1);
        train_pit_binarize_forward(p->hm + G->a_off, p->prime + G->a_off, (size_t)G->c);
    }
    for (int t = 0; t < p->ntime; t++) {
        const search_pit_time *T = &p->time[t];
        float *tb = p->tb + T->t_off, *tg = p->tg + T->t_off, *tm = p->tm + T->t_off;
        train_pit_keepalive_forward(p->prime + T->b_off, p->alpha + T->b_off, T->k, 0);
        train_pit_keepalive_forward(p->prime + T->g_off, p->alpha + T->g_off, T->l, T->l - 1);
        train_pit_rf_forward(tb, p->prime + T->b_off, T->k);
        train_pit_dil_forward(tg, p->prime + T->g_off, T->k);
        for (int i = 0; i < T->k; i++)
            tm[i] = (tb[i] > TRAIN_PIT_THRESHOLD ? 1.0f : 0.0f) * (tg[i] > TRAIN_PIT_THRESHOLD ? 1.0f : 0.0f);
    }
}

enum { APPLY, GRAD_ARCH, MAP_WEIGHTS };

/* One pass over the weights of masked layer i. APPLY: view = W·masks;
 * GRAD_ARCH: dprime (channel entries) and dtm from net->grads; MAP_WEIGHTS:
 * grads *= masks. */
static void walk(search_pit *p, train_net *net, int i, int mode) {
    const train_layer *L = &net->layers[i], *I = &net->layers[L->inputs[0]];
    const int *mi = p->chmap + p->choff[L->inputs[0]];
    const float *W = net->params + L->w_off;
    float *V = p->view + L->w_off, *G = net->grads + L->w_off;
    if (L->op == TRAIN_OP_LINEAR) {
        // W (out, F), F = C·H·W of the input, feature f in channel f / hw
        const size_t F = (size_t)I->c * I->h * I->w, hw = (size_t)I->h * I->w;
        for (int o = 0; o < L->c; o++)
            for (size_t f = 0; f < F; f++) {
                int e = mi[f / hw];
                if (e < 0) continue;
                size_t at = (size_t)o * F + f;
                if (mode == APPLY)
                    V[at] = W[at] * p->hm[e];
                else if (mode == GRAD_ARCH)
                    p->dprime[e] += (double)G[at] * W[at];
                else
                    G[at] *= p->hm[e];
            }
        return;
    }
    // conv: W (Cout, Cin/G, kh, kw); row o of group o / og reads input channel (o / og)·cg + ci
    const int cg = I->c / L->groups, og = L->c / L->groups, kk = L->kh * L->kw;
    const search_pit_time *T = p->time_of[i] >= 0 ? &p->time[p->time_of[i]] : NULL;
    const float *tm = T ? p->tm + T->t_off : NULL;
    double *dtm = T ? p->dtm + T->t_off : NULL;
    for (int o = 0; o < L->c; o++)
        for (int ci = 0; ci < cg; ci++) {
            int e = mi[(o / og) * cg + ci];
            if (e < 0 && !tm) continue; /* factor 1, no mask to differentiate */
            float m = e >= 0 ? p->hm[e] : 1.0f;
            size_t row = ((size_t)o * cg + ci) * kk;
            const float *w = W + row;
            float *v = V + row, *g = G + row;
            double dm = 0;
            if (!tm) {
                if (mode == APPLY)
                    for (int k = 0; k < kk; k++) v[k] = w[k] * m;
                else if (mode == GRAD_ARCH)
                    for (int k = 0; k < kk; k++) dm += (double)g[k] * w[k];
                else
                    for (int k = 0; k < kk; k++) g[k] *= m;
            } else { // kh = 1: weight kw is tap K-1-kw
                const int K = L->kw;
                if (mode == APPLY)
                    for (int kw = 0; kw < K; kw++) v[kw] = w[kw] * m * tm[K - 1 - kw];
                else if (mode == GRAD_ARCH)
                    for (int kw = 0; kw < K; kw++) {
                        double gw = (double)g[kw] * w[kw];
                        dm += gw * tm[K - 1 - kw];
                        dtm[K - 1 - kw] += gw * m;
                    }
                else
                    for (int kw = 0; kw < K; kw++) g[kw] *= m * tm[K - 1 - kw];
            }
            if (mode == GRAD_ARCH && e >= 0) p->dprime[e] += dm;
        }
}

void search_pit_apply(search_pit *p, train_net *net) {
    DNAS_ASSERT(net == p->net);
    memcpy(p->view, net->params, net->nparams * sizeof *p->view);
    for (int i = 1; i < net->nlayers; i++)
        if (p->masked[i]) walk(p, net, i, APPLY);
    train_net_set_param_view(net, p->view);
}

/* dalpha += the chain from dprime (channel entries: d/da'; b', g' entries
 * unused) and dtm, through H, rf / dil and keep-alive. */
static void chain(search_pit *p, float *dalpha) {
    for (int g = 0; g < p->ngroups; g++) {
        const search_pit_group *G = &p->groups[g];
        for (int c = 0; c < G->c; c++)
            p->dbuf[G->a_off + c] = (float)p->dprime[G->a_off + c];
        train_pit_keepalive_backward(dalpha + G->a_off, p->dbuf + G->a_off, p->alpha + G->a_off, G->c,
                                     G->c - 1);
    }
    for (int t = 0; t < p->ntime; t++) {
        const search_pit_time *T = &p->time[t];
        const float *tb = p->tb + T->t_off, *tg = p->tg + T->t_off;
        float *dtb = p->dtb + T->t_off, *dtg = p->dtg + T->t_off;
        float *db = p->dbuf + T->b_off, *dg = p->dbuf + T->g_off;
        memset(db, 0, (size_t)(T->k + T->l) * sizeof *db);
        for (int i = 0; i < T->k; i++) {
            // tm = H(tb)·H(tg), H straight-through
            double d = p->dtm[T->t_off + i];
            dtb[i] = (float)(d * (tg[i] > TRAIN_PIT_THRESHOLD)) + dtb[i];
            dtg[i] = (float)(d * (tb[i] > TRAIN_PIT_THRESHOLD)) + dtg[i];
        }
        train_pit_rf_backward(db, dtb, T->k);
        train_pit_dil_backward(dg, dtg, T->k);
        train_pit_keepalive_backward(dalpha + T->b_off, db, p->alpha + T->b_off, T->k, 0);
        train_pit_keepalive_backward(dalpha + T->g_off, dg, p->alpha + T->g_off, T->l, T->l - 1);
    }
}

static void zero_scratch(search_pit *p) {
    memset(p->dprime, 0, p->nalpha * sizeof *p->dprime);
    memset(p->dtm, 0, p->ntaps * sizeof *p->dtm);
    memset(p->dtb, 0, p->ntaps * sizeof *p->dtb);
    memset(p->dtg, 0, p->ntaps * sizeof *p->dtg);
}

void search_pit_backward(search_pit *p, train_net *net, float *dalpha, int map_weights) {
    DNAS_ASSERT(net == p->net);
    if (dalpha) {
        zero_scratch(p);
        for (int i = 1; i < net->nlayers; i++)
            if (p->masked[i]) walk(p, net, i, GRAD_ARCH);
        chain(p, dalpha);
    }
    if (map_weights)
        for (int i = 1; i < net->nlayers; i++)
            if (p->masked[i]) walk(p, net, i, MAP_WEIGHTS);
}

void search_pit_state(const search_pit *p, search_layer_state *s, int hard) {
    for (int g = 0; g < p->ngroups; g++) {
        const search_pit_group *G = &p->groups[g];
        double n = 0;
        for (int c = 0; c < G->c; c++)
            n += p->hm[G->a_off + c];
        s[G->owner].cout = n;
    }
    for (int t = 0; t < p->ntime; t++) {
        const search_pit_time *T = &p->time[t];
        double k = 0;
        for (int i = 0; i < T->k && hard; i++)
            k += p->tm[T->t_off + i];
        s[T->layer].k = hard ? k : train_pit_keff(p->tb + T->t_off, p->tg + T->t_off, T->k);
    }
}

void search_pit_state_backward(search_pit *p, const search_layer_grad *g, double scale, float *dalpha) {
    search_pit *q = p;
    zero_scratch(q);
    for (int k = 0; k < p->ngroups; k++) {
        const search_pit_group *G = &p->groups[k];
        // cout = Σ_c H(a'_c), straight-through: ∂cout/∂a'_c = 1
        for (int c = 0; c < G->c; c++)
            q->dprime[G->a_off + c] = scale * g[G->owner].d_cout;
    }
    for (int t = 0; t < p->ntime; t++) {
        const search_pit_time *T = &p->time[t];
        train_pit_keff_backward(q->dtb + T->t_off, q->dtg + T->t_off, (float)(scale * g[T->layer].d_k),
                                p->tb + T->t_off, p->tg + T->t_off, T->k);
    }
    chain(q, dalpha);
}
