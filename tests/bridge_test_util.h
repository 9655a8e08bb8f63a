/* Test helpers for the cost bridge: zoo models and targets, a fixture (net,
 * bridge, state, result), the state's variables, and a difference check of
 * the bridge's gradients. Included by the cmocka tests after <cmocka.h>;
 * header-only (static). */
#ifndef DNAS_TESTS_BRIDGE_TEST_UTIL_H
#define DNAS_TESTS_BRIDGE_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "search.h"

static inline const char *bt_source_dir(void) {
    const char *s = getenv("DNAS_SOURCE_DIR");
    return s && *s ? s : DNAS_SOURCE_DIR;
}

static inline hwcost_target *bt_target(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/configs/targets/%s.yaml", bt_source_dir(), name);
    hwcost_target *t = malloc(sizeof *t);
    dnas_error err;
    if (!t || hwcost_target_load(t, path, &err)) fail_msg("%s", err.msg);
    return t;
}

typedef struct {
    train_net *net;
    search_bridge *b;
    search_layer_state *s;
    search_cost_result r;
    search_cost_params p;
} bt_fixture;

static inline void bt_open_net(bt_fixture *f, train_net *net) {
    memset(f, 0, sizeof *f);
    f->net = net;
    dnas_error err;
    if (search_bridge_init(&f->b, net, &err)) fail_msg("%s", err.msg);
    f->s = calloc((size_t)net->nlayers, sizeof *f->s);
    search_bridge_state_default(f->b, f->s, 8, 8);
    search_cost_result_init(&f->r, f->b);
    f->p = search_cost_default_params();
}

/* A zoo model by name (configs/models/NAME.yaml). */
static inline void bt_open(bt_fixture *f, const char *model) {
    char path[4096];
    snprintf(path, sizeof path, "%s/configs/models/%s.yaml", bt_source_dir(), model);
    train_net *net;
    dnas_error err;
    if (train_net_load(&net, path, &err)) fail_msg("%s", err.msg);
    bt_open_net(f, net);
}

static inline void bt_close(bt_fixture *f) {
    search_cost_result_free(&f->r);
    search_bridge_free(f->b);
    free(f->s);
    train_net_free(f->net);
}

static inline void bt_eval(bt_fixture *f) {
    dnas_error err;
    if (search_bridge_eval(f->b, f->s, &f->p, &f->r, &err)) fail_msg("%s", err.msg);
}

static inline int bt_layer(const bt_fixture *f, const char *name) {
    int i = train_net_find(f->net, name);
    if (i < 0) fail_msg("no layer '%s'", name);
    return i;
}

static inline const search_cost_row *bt_row(const bt_fixture *f, const char *name) {
    int i = bt_layer(f, name);
    for (int r = 0; r < f->r.nrows; r++)
        if (f->r.rows[r].layer == i) return &f->r.rows[r];
    fail_msg("layer '%s' is no conv/linear", name);
    return NULL;
}

/* A continuous quantity of the state. */
typedef enum { BT_COUT, BT_K, BT_W, BT_A, BT_SHARE, BT_PRESENCE } bt_kind;
typedef struct {
    bt_kind kind;
    int layer, j;
} bt_var;

static inline double *bt_ptr(search_layer_state *s, bt_var v) {
    switch (v.kind) {
    case BT_COUT: return &s[v.layer].cout;
    case BT_K: return &s[v.layer].k;
    case BT_W: return &s[v.layer].w.prob[v.j];
    case BT_A: return &s[v.layer].a.prob[v.j];
    case BT_PRESENCE: return &s[v.layer].presence;
    default: return &s[v.layer].share[v.j];
    }
}

static inline double bt_grad(const search_layer_grad *g, bt_var v) {
    switch (v.kind) {
    case BT_COUT: return g[v.layer].d_cout;
    case BT_K: return g[v.layer].d_k;
    case BT_W: return g[v.layer].d_w[v.j];
    case BT_A: return g[v.layer].d_a[v.j];
    case BT_PRESENCE: return g[v.layer].d_presence;
    default: return g[v.layer].d_share[v.j];
    }
}

static inline int bt_is_row(const bt_fixture *f, int i) {
    train_op op = f->net->layers[i].op;
    return i > 0 && (op == TRAIN_OP_CONV || op == TRAIN_OP_LINEAR);
}

/* Layers that produce a tensor (BN, ReLU, dropout, flatten write in place). */
static inline int bt_is_producer(const bt_fixture *f, int i) {
    train_op op = f->net->layers[i].op;
    return op != TRAIN_OP_BN && op != TRAIN_OP_RELU && op != TRAIN_OP_DROPOUT && op != TRAIN_OP_FLATTEN;
}

/* Every variable of the given kinds (bit mask of 1 << bt_kind): owners'
 * cout (not the network output's), conv k, θw, θa, the parallel shares,
 * the presence of every conv/linear and tensor producer. */
static inline int bt_vars(const bt_fixture *f, unsigned kinds, int nshare, bt_var *v, int max) {
    int n = 0;
    for (int i = 1; i < f->net->nlayers; i++) {
        const train_layer *L = &f->net->layers[i];
        if (search_bridge_channel_owner(f->b, i) == i && i != f->net->output && n < max &&
            (kinds & 1u << BT_COUT))
            v[n++] = (bt_var){BT_COUT, i, 0};
        if (bt_is_row(f, i) && L->op == TRAIN_OP_CONV && n < max && (kinds & 1u << BT_K))
            v[n++] = (bt_var){BT_K, i, 0};
        for (int j = 0; bt_is_row(f, i) && j < f->s[i].w.n && n < max && (kinds & 1u << BT_W); j++)
            v[n++] = (bt_var){BT_W, i, j};
        for (int j = 0; bt_is_row(f, i) && j < nshare && n < max && (kinds & 1u << BT_SHARE); j++)
            v[n++] = (bt_var){BT_SHARE, i, j};
    }
    for (int i = 0; i < f->net->nlayers; i++)
        for (int j = 0; bt_is_producer(f, i) && j < f->s[i].a.n && n < max && (kinds & 1u << BT_A); j++)
            v[n++] = (bt_var){BT_A, i, j};
    for (int i = 1; i < f->net->nlayers && (kinds & 1u << BT_PRESENCE); i++)
        if ((bt_is_row(f, i) || bt_is_producer(f, i)) && n < max) v[n++] = (bt_var){BT_PRESENCE, i, 0};
    return n;
}

/* Discrete choices a difference of `slot` must not cross: each row's
 * engine and split, the peak step for the costs that hold the peak, a
 * level's largest rows. */
static inline long bt_choices(const bt_fixture *f, int slot) {
    int peak = slot == SEARCH_COST_PEAK_ACT || slot == SEARCH_COST_MEMORY || slot >= SEARCH_COST_COUNT_;
    long h = peak ? f->r.peak_layer : 0;
    if (slot >= SEARCH_COST_COUNT_)
        h = h * 31 + f->r.largest[slot - SEARCH_COST_COUNT_][0] * 7 +
            f->r.largest[slot - SEARCH_COST_COUNT_][1];
    for (int r = 0; r < f->r.nrows; r++) h = h * 31 + f->r.rows[r].engine * 2 + f->r.rows[r].split;
    return h;
}

/* Compares the gradient of `slot` with (C(x + h) − C(x − h)) / 2h per
 * variable: a central difference for small h, or a secant over whole ceil
 * periods: when 2h times the slope of every ceil argument in x is an
 * integer n, each ceil grows by exactly n over [x − h, x + h]
 * (ceil(y + n) = ceil(y) + n) and the secant equals the straight-through
 * derivative. step(v) gives h per variable. Variables where a discrete
 * choice changes are skipped. Returns the failures; at least one variable
 * must be checked. */
typedef double (*bt_step_fn)(const bt_fixture *f, bt_var v);
static inline int bt_check(bt_fixture *f, int slot, const bt_var *v, int nv, bt_step_fn step, double rtol,
                           const char *what) {
    bt_eval(f);
    long base = bt_choices(f, slot);
    search_layer_grad *g = malloc((size_t)f->net->nlayers * sizeof *g);
    memcpy(g, f->r.grad[slot], (size_t)f->net->nlayers * sizeof *g);
    double scale = fabs(f->r.value[slot]), *hs = malloc((size_t)nv * sizeof *hs);
    for (int k = 0; k < nv; k++) hs[k] = step(f, v[k]); /* at the base point */
    int fails = 0, checked = 0;
    for (int k = 0; k < nv; k++) {
        double *x = bt_ptr(f->s, v[k]), x0 = *x, h = hs[k];
        *x = x0 + h;
        bt_eval(f);
        double cp = f->r.value[slot];
        long chp = bt_choices(f, slot);
        *x = x0 - h;
        bt_eval(f);
        double cm = f->r.value[slot];
        long chm = bt_choices(f, slot);
        *x = x0;
        if (chp != base || chm != base) continue;
        double num = (cp - cm) / (2 * h), ana = bt_grad(g, v[k]);
        checked++;
        if (fabs(num - ana) > rtol * fmax(fabs(num), fabs(ana)) + 1e-12 * scale / h) {
            if (fails++ < 5)
                fprintf(stderr, "%s %s(%d): var kind %d layer '%s' j %d: difference %.10g analytic %.10g\n",
                        what, slot < SEARCH_COST_COUNT_ ? search_cost_name((search_cost)slot) : "level", slot,
                        v[k].kind, f->net->layers[v[k].layer].name, v[k].j, num, ana);
        }
    }
    free(g);
    free(hs);
    bt_eval(f);
    if (getenv("BT_VERBOSE")) /* how many were checked, for whoever changes a test */
        fprintf(stderr, "%s slot %d: %d of %d checked\n", what, slot, checked, nv);
    if (checked == 0) fail_msg("%s: no variable checked", what);
    return fails;
}

#endif
