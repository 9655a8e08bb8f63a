/* MixPrec's architecture parameters at work (search/mixprec.h): θ from
 * alpha, the view and pact coefficients, the task gradient back to alpha,
 * and the cost state and its gradient. */
#include <string.h>

#include "mixprec.h"

static int argmax(const float *v, int n) {
    int k = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[k]) k = j;
    return k;
}

/* Every row block of alpha: (offset, rows, P). */
#define FOR_BLOCKS(m, OFF, ROWS, P, BODY)                                                                            \
    do {                                                                                                             \
        for (int k_ = 0; k_ < (m)->nw; k_++) {                                                                       \
            size_t OFF = (m)->w[k_].off;                                                                             \
            int ROWS = (m)->w[k_].rows, P = (m)->w[k_].prec.nprec;                                                   \
            BODY;                                                                                                    \
        }                                                                                                            \
        for (int k_ = 0; k_ < (m)->na; k_++) {                                                                       \
            size_t OFF = (m)->a[k_].off;                                                                             \
            int ROWS = 1, P = (m)->cfg.abits.nprec;                                                                  \
            BODY;                                                                                                    \
        }                                                                                                            \
    } while (0)

void search_mixprec_forward(search_mixprec *m) {
    float T = m->cfg.temperature;
    FOR_BLOCKS(m, off, rows, P, {
        train_softmax_temp_forward(m->theta + off, m->alpha + off, rows, P, T);
        if (m->hard) train_softmax_hard_forward(m->theta + off, m->theta + off, rows, P);
    });
}

static train_wq_dims wdims(const search_mixprec_wlayer *W) {
    train_wq_dims d = {W->cout, W->len, W->rows > 1, W->prec};
    return d;
}

/* θ_0 of channel c of a pruning layer. */
static float theta0(const search_mixprec *m, const search_mixprec_wlayer *W, int c) {
    return m->theta[W->off + (size_t)(W->rows > 1 ? c : 0) * W->prec.nprec];
}

/* The parameters a pruning layer's (1 − θ0,c) scales: BN γ and β, or the
 * layer's bias (len 0 without one). */
static void keep_targets(const search_mixprec *m, const search_mixprec_wlayer *W, size_t *g_off, size_t *b_off,
                         size_t *len) {
    const train_layer *L = &m->net->layers[W->layer];
    if (W->bn) {
        const train_layer *B = &m->net->layers[W->bn];
        *g_off = B->w_off, *b_off = B->b_off, *len = B->w_len;
    } else {
        *g_off = L->b_off, *b_off = L->b_off, *len = L->b_len;
    }
}

void search_mixprec_apply(search_mixprec *m, train_net *net) {
    memcpy(m->view, net->params, net->nparams * sizeof *m->view);
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        const train_layer *L = &net->layers[W->layer];
        train_wq_dims d = wdims(W);
        train_wq_mix_forward(m->view + L->w_off, net->params + L->w_off, m->theta + W->off, &d);
        if (W->prec.bits[0] != 0) continue;
        size_t g, b, len;
        keep_targets(m, W, &g, &b, &len);
        for (size_t c = 0; c < len; c++) {
            float keep = 1.0f - theta0(m, W, (int)c);
            m->view[g + c] = net->params[g + c] * keep;
            if (b != g) m->view[b + c] = net->params[b + c] * keep;
        }
    }
    for (int k = 0; k < m->na; k++) {
        memset(m->dtheta + m->a[k].off, 0, (size_t)m->cfg.abits.nprec * sizeof *m->dtheta);
        train_net_set_pact_coef(net, m->a[k].layer, m->theta + m->a[k].off, m->dtheta + m->a[k].off);
    }
    train_net_set_param_view(net, m->view);
}

void search_mixprec_backward(search_mixprec *m, train_net *net, float *dalpha, int map_weights) {
    if (dalpha) {
        for (int k = 0; k < m->nw; k++) {
            const search_mixprec_wlayer *W = &m->w[k];
            const train_layer *L = &net->layers[W->layer];
            float *dt = m->dtheta + W->off;
            memset(dt, 0, (size_t)W->rows * W->prec.nprec * sizeof *dt);
            train_wq_dims d = wdims(W);
            train_wq_mix_backward(NULL, dt, net->grads + L->w_off, net->params + L->w_off, m->theta + W->off, &d);
            if (W->prec.bits[0] != 0) continue;
            /* view = p·(1 − θ0,c): dθ0,c −= Σ dview·p over γ and β (or the bias) */
            size_t g, b, len;
            keep_targets(m, W, &g, &b, &len);
            for (size_t c = 0; c < len; c++) {
                double s = (double)net->grads[g + c] * net->params[g + c];
                if (b != g) s += (double)net->grads[b + c] * net->params[b + c];
                dt[(size_t)(W->rows > 1 ? c : 0) * W->prec.nprec] -= (float)s;
            }
        }
        if (!m->hard) {
            float T = m->cfg.temperature;
            FOR_BLOCKS(m, off, rows, P,
                       train_softmax_temp_backward(dalpha + off, m->dtheta + off, m->theta + off, rows, P, T));
        }
    }
    if (!map_weights) return;
    /* W~ = Σθ·Q(W): dW = (Σθ)·dW~ = dW~ (θ sums to 1), already in place */
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        if (W->prec.bits[0] != 0) continue;
        size_t g, b, len;
        keep_targets(m, W, &g, &b, &len);
        for (size_t c = 0; c < len; c++) {
            float keep = 1.0f - theta0(m, W, (int)c);
            net->grads[g + c] *= keep;
            if (b != g) net->grads[b + c] *= keep;
        }
    }
}

int search_mixprec_wbits(const search_mixprec *m, int k, int c) {
    const search_mixprec_wlayer *W = &m->w[k];
    int r = W->rows > 1 ? c : 0;
    return W->prec.bits[argmax(m->alpha + W->off + (size_t)r * W->prec.nprec, W->prec.nprec)];
}

int search_mixprec_abits(const search_mixprec *m, int k) {
    return m->cfg.abits.bits[argmax(m->alpha + m->a[k].off, m->cfg.abits.nprec)];
}

/* S_p = Σ_c θ_p,c (hard: channels whose argmax is p) into S (P). */
static void precision_mass(const search_mixprec *m, const search_mixprec_wlayer *W, int hard, double *S) {
    int P = W->prec.nprec;
    for (int p = 0; p < P; p++) S[p] = 0;
    for (int r = 0; r < W->rows; r++) {
        const float *a = m->alpha + W->off + (size_t)r * P, *t = m->theta + W->off + (size_t)r * P;
        if (hard)
            S[argmax(a, P)] += 1;
        else
            for (int p = 0; p < P; p++) S[p] += t[p];
    }
}

void search_mixprec_state(const search_mixprec *m, search_layer_state *s, int hard) {
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        search_layer_state *st = &s[W->layer];
        double S[TRAIN_FQ_MAX_PREC];
        precision_mass(m, W, hard, S);
        int z = W->prec.bits[0] == 0, P = W->prec.nprec;
        double tot = 0;
        for (int p = z; p < P; p++) tot += S[p];
        st->w.n = P - z;
        for (int p = z; p < P; p++) {
            st->w.bits[p - z] = W->prec.bits[p];
            st->w.prob[p - z] = tot > 0 ? S[p] / tot : 1.0 / (P - z);
        }
        if (z) st->cout = tot;
    }
    for (int k = 0; k < m->na; k++) {
        const search_mixprec_alayer *A = &m->a[k];
        search_layer_state *st = &s[A->layer];
        int P = m->cfg.abits.nprec, top = argmax(m->alpha + A->off, P);
        st->a.n = P;
        for (int p = 0; p < P; p++) {
            st->a.bits[p] = m->cfg.abits.bits[p];
            st->a.prob[p] = hard ? (p == top) : m->theta[A->off + p];
        }
    }
}

/* Gradients (soft state):
 *   no 0 candidate:  w_p = S_p / rows,  dθ_p,c = d_w[p] / rows;
 *   0 a candidate:   cout = S = Σ_{p>0} S_p, w_p = S_p / S:
 *     dcost/dS_p = d_cout + (d_w[p] − Σ_q d_w[q]·w_q) / S = dθ_p,c (p > 0), dθ_0,c = 0;
 *   pacts:           dθ_p = d_a[p]. */
void search_mixprec_state_backward(search_mixprec *m, const search_layer_grad *g, double scale, float *dalpha) {
    memset(m->dcost, 0, m->nalpha * sizeof *m->dcost);
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        const search_layer_grad *G = &g[W->layer];
        int z = W->prec.bits[0] == 0, P = W->prec.nprec;
        double dS[TRAIN_FQ_MAX_PREC] = {0};
        if (!z) {
            for (int p = 0; p < P; p++) dS[p] = G->d_w[p] / W->rows;
        } else {
            double S[TRAIN_FQ_MAX_PREC], tot = 0, mean = 0;
            precision_mass(m, W, 0, S);
            for (int p = 1; p < P; p++) tot += S[p];
            if (tot > 0) {
                for (int p = 1; p < P; p++) mean += G->d_w[p - 1] * S[p] / tot;
                for (int p = 1; p < P; p++) dS[p] = G->d_cout + (G->d_w[p - 1] - mean) / tot;
            }
        }
        for (int r = 0; r < W->rows; r++)
            for (int p = 0; p < P; p++) m->dcost[W->off + (size_t)r * P + p] = (float)(scale * dS[p]);
    }
    for (int k = 0; k < m->na; k++)
        for (int p = 0; p < m->cfg.abits.nprec; p++)
            m->dcost[m->a[k].off + p] = (float)(scale * g[m->a[k].layer].d_a[p]);
    float T = m->cfg.temperature;
    FOR_BLOCKS(m, off, rows, P, train_softmax_temp_backward(dalpha + off, m->dcost + off, m->theta + off, rows, P, T));
}
