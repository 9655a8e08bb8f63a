/* SuperNet coefficients: θ from alpha per block (softmax, Gumbel-softmax,
 * hard straight-through; train/ops.h's kernels), onto the mix layers, and
 * the way back from dθ (the network's) and d_presence (the bridge's) to
 * alpha.
 *
 * Forward, per block b (logits α = alpha[off .. off + N)):
 *   soft = softmax((α + G)/τ)   G = 0 (softmax, hard) or Gumbel noise
 *   θ    = soft                 (softmax, gumbel)
 *          one-hot(argmax soft) (hard, hard_gumbel)
 * Backward: dα_j += soft_j·(dθ_j − Σ_k soft_k·dθ_k)/τ — the softmax's
 * Jacobian at soft; for the hard modes that is the straight-through
 * estimator (∂θ/∂soft taken as the identity). The expected cost uses the
 * same θ: branch layers have presence θ_k, so dC/dθ_k = Σ over branch k's
 * layers of d_presence, mapped back the same way. */
#include <string.h>

#include "supernet.h"

static int is_hard(search_supernet_mode m) {
    return m == SEARCH_SUPERNET_HARD || m == SEARCH_SUPERNET_HARD_GUMBEL;
}

static int is_gumbel(search_supernet_mode m) {
    return m == SEARCH_SUPERNET_GUMBEL || m == SEARCH_SUPERNET_HARD_GUMBEL;
}

void search_supernet_forward(search_supernet *s) {
    for (int b = 0; b < s->nblocks; b++) {
        const search_supernet_block *B = &s->blocks[b];
        float *soft = s->soft + B->off, *th = s->theta + B->off;
        const float *a = s->alpha + B->off;
        if (is_gumbel(s->p.mode))
            train_gumbel_softmax_forward(soft, NULL, a, 1, B->n, s->tau, &s->rng);
        else
            train_softmax_temp_forward(soft, a, 1, B->n, s->tau);
        if (is_hard(s->p.mode))
            train_softmax_hard_forward(th, soft, 1, B->n);
        else
            memcpy(th, soft, (size_t)B->n * sizeof *th);
    }
}

void search_supernet_set_tau(search_supernet *s, float tau) {
    DNAS_ASSERT(tau > 0);
    s->tau = tau;
    search_supernet_forward(s);
}

void search_supernet_apply(search_supernet *s, train_net *net) {
    memset(s->dtheta, 0, s->nalpha * sizeof *s->dtheta);
    for (int b = 0; b < s->nblocks; b++)
        train_net_set_mix(net, s->blocks[b].mix, s->theta + s->blocks[b].off, s->dtheta + s->blocks[b].off);
}

/* dalpha += the softmax backward of d (nalpha, per block) at soft. */
static void to_alpha(const search_supernet *s, const float *d, float *dalpha) {
    for (int b = 0; b < s->nblocks; b++) {
        const search_supernet_block *B = &s->blocks[b];
        train_softmax_temp_backward(dalpha + B->off, d + B->off, s->soft + B->off, 1, B->n, s->tau);
    }
}

void search_supernet_backward(search_supernet *s, float *dalpha) {
    to_alpha(s, s->dtheta, dalpha);
}

int search_supernet_choice(const search_supernet *s, int b) {
    const search_supernet_block *B = &s->blocks[b];
    const float *a = s->alpha + B->off;
    int best = 0;
    for (int k = 1; k < B->n; k++)
        if (a[k] > a[best]) best = k;
    return best;
}

void search_supernet_state(const search_supernet *s, search_layer_state *st, int hard) {
    for (int i = 1; i < s->net->nlayers; i++) {
        int b = s->block_of[i];
        if (b < 0) continue;
        int k = s->branch_of[i];
        st[i].presence = hard ? (k == search_supernet_choice(s, b) ? 1.0 : 0.0) : s->theta[s->blocks[b].off + (size_t)k];
    }
}

void search_supernet_state_backward(search_supernet *s, const search_layer_grad *g, double scale, float *dalpha) {
    memset(s->tmp, 0, s->nalpha * sizeof *s->tmp);
    for (int i = 1; i < s->net->nlayers; i++)
        if (s->block_of[i] >= 0)
            s->tmp[s->blocks[s->block_of[i]].off + (size_t)s->branch_of[i]] += (float)(scale * g[i].d_presence);
    to_alpha(s, s->tmp, dalpha);
}

void search_supernet_detach(search_supernet *s, train_net *net) {
    for (int b = 0; b < s->nblocks; b++) train_net_set_mix(net, s->blocks[b].mix, NULL, NULL);
}
