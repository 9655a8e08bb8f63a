/* PIT export: the pruned network as a spec, built, with the kept weights,
 * biases, BN affine and running statistics copied over.
 *
 * Channels: output channel c of layer i is kept when its mask is H(a') = 1
 * or it is fixed; a conv/linear keeps the rows of its kept output channels
 * and the columns of its kept input channels (a linear: each kept
 * channel's H·W block of features, in order); BN keeps its kept channels.
 *
 * Taps of a time-masked conv (K taps, dilation d, padding pl / pr; tap i
 * is weight index kw = K-1-i, train/ops.h): the kept taps are
 * {i : H(tb[i])·H(tg[i]) = 1}, tap 0 always among them. tb is
 * non-increasing in i and tg non-decreasing in i's power of two, so they
 * are 0, s, 2s, ..., imax for s = 2^p: s - 1 is the longest run of dropped
 * taps between kept ones and the exported dilation is s·d (REFERENCE.md;
 * s is taken as the gcd of the kept taps, which is that). Exported weight
 * kw' = 0..K'-1 is old kw = kw0 + kw'·s, kw0 = K-1-imax, K' = imax/s + 1,
 * and padding pl' = pl - kw0·d, pr' = pr, so output t reads exactly the
 * samples the kept taps read (same output length).
 * pl' < 0 (a centred "same" conv pruned past its centre, or a conv
 * without left padding) is not expressible: kw0 is then lowered on the
 * grid of step s until pl' >= 0 (or, when the grid cannot reach, s = 1),
 * the added taps carrying zero weights; the exported layer is exact but
 * larger than the mask says (search_pit_layer reports what is exported). */
#include <stdlib.h>
#include <string.h>

#include "pit.h"

typedef struct {
    int k, s, kw0, dil, pl, pr;
} tgeom;

static int gcd(int a, int b) {
    while (b) {
        int t = a % b;
        a = b, b = t;
    }
    return a;
}

static tgeom time_geom(const search_pit *p, int i) {
    const train_layer *L = &p->net->layers[i];
    tgeom g = {L->kw, 1, 0, L->dw, L->pl, L->pr};
    if (p->time_of[i] < 0) return g;
    const search_pit_time *T = &p->time[p->time_of[i]];
    const float *tm = p->tm + T->t_off;
    int K = T->k, d = L->dw, imax = 0, s = 0;
    for (int t = 0; t < K; t++)
        if (tm[t] > 0.5f) imax = t, s = gcd(s, t);
    if (s == 0) s = 1; /* tap 0 alone */
    int kw0 = K - 1 - imax;
    if (L->pl - kw0 * d < 0) {
        int q = L->pl / d;
        while (q >= 0 && (K - 1 - q) % s)
            q--;
        if (q < 0) s = 1, q = L->pl / d < kw0 ? L->pl / d : kw0;
        kw0 = q;
    }
    g.s = s;
    g.kw0 = kw0;
    g.k = (K - 1 - kw0) / s + 1;
    g.dil = g.k > 1 ? s * d : d;
    g.pl = L->pl - kw0 * d;
    return g;
}

int search_pit_channel_kept(const search_pit *p, int i, int c) {
    int e = p->chmap[p->choff[i] + (size_t)c];
    return e < 0 || p->hm[e] > 0.5f;
}

static int kept_count(const search_pit *p, int i) {
    int n = 0;
    for (int c = 0; c < p->net->layers[i].c; c++)
        n += search_pit_channel_kept(p, i, c);
    return n;
}

search_pit_layer_arch search_pit_layer(const search_pit *p, int i) {
    const train_layer *L = &p->net->layers[i];
    search_pit_layer_arch a = {kept_count(p, i), 0, L->kh * L->kw, L->dw, L->pl, L->pr};
    if (i == 0 || (L->op != TRAIN_OP_CONV && L->op != TRAIN_OP_LINEAR)) return a;
    const train_layer *I = &p->net->layers[L->inputs[0]];
    a.cin = kept_count(p, L->inputs[0]) * (L->op == TRAIN_OP_LINEAR ? I->h * I->w : 1);
    if (L->op == TRAIN_OP_CONV) {
        tgeom g = time_geom(p, i);
        a.k = L->kh * g.k;
        a.dilation = g.dil;
        a.pad_l = g.pl;
        a.pad_r = g.pr;
    }
    return a;
}

/* The kept channels of layer i's output: idx[0..n) (returns n). */
static int kept_list(const search_pit *p, int i, int *idx) {
    int n = 0;
    for (int c = 0; c < p->net->layers[i].c; c++)
        if (search_pit_channel_kept(p, i, c)) idx[n++] = c;
    return n;
}

static void edit_spec(const search_pit *p, train_spec *s) {
    const train_net *net = p->net;
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        if (L->op != TRAIN_OP_CONV && L->op != TRAIN_OP_LINEAR) continue;
        int at = train_spec_find(s, L->name);
        DNAS_ASSERT(at >= 0);
        train_spec_layer *sl = s->layers[at];
        int cout = kept_count(p, i);
        if (cout != L->c && L->variant != 2 /* depthwise: out follows the input */)
            train_spec_set_int(sl, "out", cout);
        if (L->op == TRAIN_OP_CONV && L->groups > 1 && L->groups == L->c && L->variant != 2)
            train_spec_set_int(sl, "groups", cout); /* a depthwise conv written as conv1d / conv2d */
        if (L->op != TRAIN_OP_CONV) continue;
        tgeom g = time_geom(p, i);
        if (g.k == L->kw && g.dil == L->dw) continue;
        train_spec_set_int(sl, "kernel", g.k);
        train_spec_set_int(sl, "dilation", g.dil);
        train_spec_set_pair(sl, "padding", g.pl, g.pr);
    }
}

/* Weights and bias of conv/linear layer i into the exported layer E. */
static void copy_weights(const search_pit *p, const train_net *net, train_net *out, int i, int *rows,
                         int *cols) {
    const train_layer *L = &net->layers[i], *I = &net->layers[L->inputs[0]], *E = &out->layers[i];
    const float *W = net->params + L->w_off;
    float *V = out->params + E->w_off;
    int nr = kept_list(p, i, rows);
    if (L->op == TRAIN_OP_LINEAR) {
        // W (out, F): kept channels' H·W blocks in order
        size_t F = (size_t)I->c * I->h * I->w, hw = (size_t)I->h * I->w, at = 0;
        for (int r = 0; r < nr; r++)
            for (size_t f = 0; f < F; f++)
                if (search_pit_channel_kept(p, L->inputs[0], (int)(f / hw)))
                    V[at++] = W[(size_t)rows[r] * F + f];
        DNAS_ASSERT(at == E->w_len);
    } else {
        // W (Cout, Cin/G, kh, kw): groups 1 keep the kept input channels; grouped ones all
        // (grouped groups are fixed; a depthwise row reads its own channel)
        const int cg = I->c / L->groups;
        int nc = cg;
        if (L->groups == 1)
            nc = kept_list(p, L->inputs[0], cols);
        else
            for (int c = 0; c < cg; c++)
                cols[c] = c;
        const tgeom g = time_geom(p, i);
        const search_pit_time *T = p->time_of[i] >= 0 ? &p->time[p->time_of[i]] : NULL;
        size_t at = 0;
        for (int r = 0; r < nr; r++)
            for (int c = 0; c < nc; c++)
                for (int ky = 0; ky < L->kh; ky++)
                    for (int kx = 0; kx < g.k; kx++) {
                        int kw = g.kw0 + kx * g.s; // old weight index along w
                        float t = T ? p->tm[T->t_off + L->kw - 1 - kw] : 1.0f;
                        V[at++] = W[(((size_t)rows[r] * cg + cols[c]) * L->kh + ky) * L->kw + kw] * t;
                    }
        DNAS_ASSERT(at == E->w_len);
    }
    if (L->b_len) {
        DNAS_ASSERT(E->b_len == (size_t)nr);
        for (int r = 0; r < nr; r++)
            out->params[E->b_off + r] = net->params[L->b_off + rows[r]];
    }
}

static void copy_bn(const search_pit *p, const train_net *net, train_net *out, int i, int *rows) {
    const train_layer *L = &net->layers[i], *E = &out->layers[i];
    int n = kept_list(p, i, rows);
    DNAS_ASSERT(n == E->c);
    for (int r = 0; r < n; r++) {
        out->params[E->w_off + r] = net->params[L->w_off + rows[r]];
        out->params[E->b_off + r] = net->params[L->b_off + rows[r]];
        out->state[E->state_off + r] = net->state[L->state_off + rows[r]];
        out->state[E->state_off + n + r] = net->state[L->state_off + L->c + rows[r]];
    }
}

dnas_status search_pit_export(const search_pit *p, const train_net *net, train_net **out, dnas_error *err) {
    DNAS_ASSERT(net == p->net);
    train_spec *s = train_net_spec(net);
    edit_spec(p, s);
    dnas_status st = train_net_build(out, s, net->path, err);
    train_spec_free(s);
    if (st) return st;
    train_net *o = *out;
    int maxc = 1;
    for (int i = 0; i < net->nlayers; i++)
        maxc = net->layers[i].c > maxc ? net->layers[i].c : maxc;
    int *rows = dnas_xmalloc((size_t)maxc * sizeof *rows), *cols = dnas_xmalloc((size_t)maxc * sizeof *cols);
    for (int i = 1; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        DNAS_ASSERT(!strcmp(L->name, o->layers[i].name) && L->op == o->layers[i].op);
        if (L->op == TRAIN_OP_CONV || L->op == TRAIN_OP_LINEAR)
            copy_weights(p, net, o, i, rows, cols);
        else if (L->op == TRAIN_OP_BN)
            copy_bn(p, net, o, i, rows);
        else if (L->w_len)
            memcpy(o->params + o->layers[i].w_off, net->params + L->w_off, L->w_len * sizeof *o->params);
    }
    free(rows);
    free(cols);
    return DNAS_OK;
}
