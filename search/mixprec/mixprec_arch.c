/* MixPrec's architecture parameters at work (search/mixprec.h): θ from
 * alpha, the view and pact coefficients, the task gradient back to alpha,
 * and the cost state and its gradient. */
#include <string.h>

#include "method.h"
#include "mixprec.h"

static int argmax(const float *v, int n) {
    int k = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[k]) k = j;
    return k;
}

/* Every row block of alpha: (offset, rows, P). */
#define FOR_BLOCKS(m, OFF, ROWS, P, BODY)                                                          \
    do {                                                                                           \
        for (int k_ = 0; k_ < (m)->nw; k_++) {                                                     \
            size_t OFF = (m)->w[k_].off;                                                           \
            int ROWS = (m)->w[k_].rows, P = (m)->w[k_].prec.nprec;                                 \
            BODY;                                                                                  \
        }                                                                                          \
        for (int k_ = 0; k_ < (m)->na; k_++) {                                                     \
            size_t OFF = (m)->a[k_].off;                                                           \
            int ROWS = 1, P = (m)->cfg.abits.nprec;                                                \
            BODY;                                                                                  \
        }                                                                                          \
    } while (0)

/* The hard choice (candidate index) of row r of W: the argmax of alpha,
 * except that a layer keeps a channel: when every row's argmax is 0 bits,
 * row W->rescue (the one nearest to a non-zero choice) takes its best
 * non-zero candidate. */
static int wchoice(const search_mixprec *m, const search_mixprec_wlayer *W, int r) {
    int P = W->prec.nprec;
    const float *a = m->alpha + W->off + (size_t)r * P;
    if (r != W->rescue) return argmax(a, P);
    return 1 + argmax(a + 1, P - 1);
}

static void set_rescue(const search_mixprec *m, search_mixprec_wlayer *W) {
    int P = W->prec.nprec;
    W->rescue = -1;
    if (W->prec.bits[0] != 0) return;
    float best = 0;
    for (int r = 0; r < W->rows; r++) {
        const float *a = m->alpha + W->off + (size_t)r * P;
        if (argmax(a, P) != 0) {
            W->rescue = -1;
            return;
        }
        float gap = a[0] - a[1 + argmax(a + 1, P - 1)];
        if (W->rescue < 0 || gap < best) W->rescue = r, best = gap;
    }
}

void search_mixprec_anneal(search_mixprec *m, int epoch, int nepochs) {
    m->temp = (float)search_anneal(m->cfg.temperature, m->cfg.temperature_final, epoch, nepochs, 0);
    search_mixprec_forward(m);
}

void search_mixprec_forward(search_mixprec *m) {
    float T = m->temp;
    FOR_BLOCKS(m, off, rows, P,
               train_softmax_temp_forward(m->theta + off, m->alpha + off, rows, P, T));
    for (int k = 0; k < m->nw; k++)
        set_rescue(m, &m->w[k]);
    if (!m->hard) return;
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        int P = W->prec.nprec;
        for (int r = 0; r < W->rows; r++) {
            int c = wchoice(m, W, r);
            for (int p = 0; p < P; p++)
                m->theta[W->off + (size_t)r * P + p] = p == c ? 1.0f : 0.0f;
        }
    }
    for (int k = 0; k < m->na; k++)
        train_softmax_hard_forward(m->theta + m->a[k].off, m->theta + m->a[k].off, 1,
                                   m->cfg.abits.nprec);
}

static train_wq_dims wdims(const search_mixprec_wlayer *W) {
    train_wq_dims d = {W->cout, W->len, W->rows > 1, W->prec};
    return d;
}

/* The weights W's quantizers read: W itself, or W ⊙ keep_in in m->wm. */
static const float *masked_weights(search_mixprec *m, const search_mixprec_wlayer *W,
                                   const float *w, size_t n) {
    if (!W->keep) return w;
    for (size_t i = 0; i < n; i++)
        m->wm[i] = W->keep[i] >= 0 ? w[i] * (1.0f - m->theta[W->keep[i]]) : w[i];
    return m->wm;
}

void search_mixprec_apply(search_mixprec *m, train_net *net) {
    memcpy(m->view, net->params, net->nparams * sizeof *m->view);
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        const train_layer *L = &net->layers[W->layer];
        train_wq_dims d = wdims(W);
        train_wq_mix_forward(m->view + L->w_off,
                             masked_weights(m, W, net->params + L->w_off, L->w_len),
                             m->theta + W->off, &d);
    }
    for (int k = 0; k < m->na; k++) {
        memset(m->dtheta + m->a[k].off, 0, (size_t)m->cfg.abits.nprec * sizeof *m->dtheta);
        train_net_set_pact_coef(net, m->a[k].layer, m->theta + m->a[k].off,
                                m->dtheta + m->a[k].off);
    }
    train_net_set_param_view(net, m->view);
}

void search_mixprec_backward(search_mixprec *m, train_net *net, float *dalpha, int map_weights) {
    if (dalpha) {
        for (int k = 0; k < m->nw; k++)
            memset(m->dtheta + m->w[k].off, 0,
                   (size_t)m->w[k].rows * m->w[k].prec.nprec * sizeof *m->dtheta);
        for (int k = 0; k < m->nw; k++) {
            const search_mixprec_wlayer *W = &m->w[k];
            const train_layer *L = &net->layers[W->layer];
            const float *g = net->grads + L->w_off, *w = net->params + L->w_off;
            train_wq_dims d = wdims(W);
            train_wq_mix_backward(NULL, m->dtheta + W->off, g, masked_weights(m, W, w, L->w_len),
                                  m->theta + W->off, &d);
            /* Wm = W·(1 − θ0): dθ0 −= Σ dWm·W, dWm = (Σθ)·dW_eff = dW_eff */
            for (size_t i = 0; W->keep && i < L->w_len; i++)
                if (W->keep[i] >= 0) m->dtheta[W->keep[i]] -= g[i] * w[i];
        }
        if (!m->hard) {
            float T = m->temp;
            FOR_BLOCKS(m, off, rows, P,
                       train_softmax_temp_backward(dalpha + off, m->dtheta + off, m->theta + off,
                                                   rows, P, T));
        }
    }
    if (!map_weights) return;
    /* dW = (Σθ)·dW_eff ⊙ keep_in = dW_eff ⊙ keep_in (θ sums to 1) */
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        float *g = net->grads + net->layers[W->layer].w_off;
        for (size_t i = 0; W->keep && i < net->layers[W->layer].w_len; i++)
            if (W->keep[i] >= 0) g[i] *= 1.0f - m->theta[W->keep[i]];
    }
}

int search_mixprec_wbits(const search_mixprec *m, int k, int c) {
    const search_mixprec_wlayer *W = &m->w[k];
    int r = W->rows > 1 ? c : 0;
    return W->prec.bits[wchoice(m, W, r)];
}

int search_mixprec_abits(const search_mixprec *m, int k) {
    return m->cfg.abits.bits[argmax(m->alpha + m->a[k].off, m->cfg.abits.nprec)];
}

/* S_p = Σ_c θ_p,c (hard: channels whose argmax is p) into S (P). */
static void precision_mass(const search_mixprec *m, const search_mixprec_wlayer *W, int hard,
                           double *S) {
    int P = W->prec.nprec;
    for (int p = 0; p < P; p++)
        S[p] = 0;
    for (int r = 0; r < W->rows; r++) {
        const float *t = m->theta + W->off + (size_t)r * P;
        if (hard)
            S[wchoice(m, W, r)] += 1;
        else
            for (int p = 0; p < P; p++)
                S[p] += t[p];
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
        for (int p = z; p < P; p++)
            tot += S[p];
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
void search_mixprec_state_backward(search_mixprec *m, const search_layer_grad *g, double scale,
                                   float *dalpha) {
    memset(m->dcost, 0, m->nalpha * sizeof *m->dcost);
    for (int k = 0; k < m->nw; k++) {
        const search_mixprec_wlayer *W = &m->w[k];
        const search_layer_grad *G = &g[W->layer];
        int z = W->prec.bits[0] == 0, P = W->prec.nprec;
        double dS[TRAIN_FQ_MAX_PREC] = {0};
        if (!z) {
            for (int p = 0; p < P; p++)
                dS[p] = G->d_w[p] / W->rows;
        } else {
            double S[TRAIN_FQ_MAX_PREC], tot = 0, mean = 0;
            precision_mass(m, W, 0, S);
            for (int p = 1; p < P; p++)
                tot += S[p];
            if (tot > 0) {
                for (int p = 1; p < P; p++)
                    mean += G->d_w[p - 1] * S[p] / tot;
                for (int p = 1; p < P; p++)
                    dS[p] = G->d_cout + (G->d_w[p - 1] - mean) / tot;
            }
        }
        for (int r = 0; r < W->rows; r++)
            for (int p = 0; p < P; p++)
                m->dcost[W->off + (size_t)r * P + p] = (float)(scale * dS[p]);
    }
    for (int k = 0; k < m->na; k++)
        for (int p = 0; p < m->cfg.abits.nprec; p++)
            m->dcost[m->a[k].off + p] = (float)(scale * g[m->a[k].layer].d_a[p]);
    float T = m->temp;
    FOR_BLOCKS(
        m, off, rows, P,
        train_softmax_temp_backward(dalpha + off, m->dcost + off, m->theta + off, rows, P, T));
}
