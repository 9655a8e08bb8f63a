/* Pooling: max and average over kh × kw windows (stride defaults to the
 * kernel; padded cells never win a max and are left out of an average),
 * and the global average over H × W. */
#include <stdint.h>

#include "graph_internal.h"

static train_pool_dims pool_dims(const op_run *r) {
    const train_layer *L = r->L, *in = op_in(r, 0);
    train_pool_dims d = {
        .n = r->n, .c = L->c, .hin = in->h, .win = in->w, .hout = L->h, .wout = L->w,
        .kh = L->kh, .kw = L->kw, .sh = L->sh, .sw = L->sw, .pt = L->pt, .pl = L->pl,
    };
    return d;
}

static dnas_status build(const op_build *b, train_layer *L) {
    const train_layer *in = &b->net->layers[L->inputs[0]];
    dnas_status st;
    if (!train_op_attr(b, "kernel")) return train_op_fail(b, b->s->line, "layer '%s': missing 'kernel'", L->name);
    if ((st = train_op_opt_pair(b, "kernel", &L->kh, &L->kw, 1, 1, GEOM_MAX))) return st;
    if ((st = train_op_opt_pair(b, "stride", &L->sh, &L->sw, 0, 1, GEOM_MAX))) return st;
    if (!train_op_attr(b, "stride")) L->sh = L->kh, L->sw = L->kw;
    int ph, pw;
    int64_t h, w;
    if ((st = train_op_padding(b, &ph, &pw, &L->pad_same))) return st;
    if (L->pad_same) {
        h = train_op_same_size(in->h, L->kh, L->sh, 1, &L->pt);
        w = train_op_same_size(in->w, L->kw, L->sw, 1, &L->pl);
    } else {
        L->pt = ph;
        L->pl = pw;
        h = train_op_out_size(in->h, L->kh, L->sh, 1, ph);
        w = train_op_out_size(in->w, L->kw, L->sw, 1, pw);
    }
    if (h < 1 || w < 1)
        return train_op_shape_fail(b, L, "pool %dx%d does not fit input %dx%d", L->kh, L->kw, in->h, in->w);
    return train_op_set_shape(b, L, in->c, h, w);
}

static void put_pair(train_spec_layer *s, const char *key, int a, int b) {
    if (a == b)
        train_spec_set_int(s, key, a);
    else
        train_spec_set_pair(s, key, a, b);
}

static void to_spec(const train_net *net, const train_layer *L, train_spec_layer *s) {
    put_pair(s, "kernel", L->kh, L->kw);
    if (L->sh != L->kh || L->sw != L->kw) put_pair(s, "stride", L->sh, L->sw);
    if (L->pad_same)
        train_spec_set(s, "padding", "same");
    else if (L->pt || L->pl)
        put_pair(s, "padding", L->pt, L->pl);
}

/* max-pool: the argmax (int32 in the float buffer) of every output */
static int64_t max_aux(const train_layer *L, int64_t act) { return act; }

static void max_forward(const op_run *r) {
    train_pool_dims d = pool_dims(r);
    train_maxpool_forward(r->net->act[r->i], (int32_t *)(void *)r->net->aux[r->i], op_x(r, 0), &d);
}

static void max_backward(const op_run *r) {
    train_pool_dims d = pool_dims(r);
    float *dx = op_dx(r, 0);
    const int32_t *argmax = (const int32_t *)(const void *)r->net->aux[r->i];
    if (dx) train_maxpool_backward(dx, r->net->dact[r->i], argmax, &d);
}

static void avg_forward(const op_run *r) {
    train_pool_dims d = pool_dims(r);
    train_avgpool_forward(r->net->act[r->i], op_x(r, 0), &d);
}

static void avg_backward(const op_run *r) {
    train_pool_dims d = pool_dims(r);
    float *dx = op_dx(r, 0);
    if (dx) train_avgpool_backward(dx, r->net->dact[r->i], &d);
}

static const char *const POOL_KEYS[] = {"kernel", "stride", "padding", NULL};

const op_desc train_op_maxpool_desc = {
    .name = "maxpool",
    .nvariants = 1,
    .variants = {{"maxpool", POOL_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .build = build, .to_spec = to_spec, .aux_floats = max_aux,
    .forward = max_forward, .backward = max_backward,
};

const op_desc train_op_avgpool_desc = {
    .name = "avgpool",
    .nvariants = 1,
    .variants = {{"avgpool", POOL_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .build = build, .to_spec = to_spec,
    .forward = avg_forward, .backward = avg_backward,
};

/* ---- global average pool: (N, C, H, W) -> (N, C, 1, 1) ----------------------- */

static dnas_status gavg_build(const op_build *b, train_layer *L) {
    const train_layer *in = &b->net->layers[L->inputs[0]];
    return train_op_set_shape(b, L, in->c, 1, 1);
}

static void gavg_forward(const op_run *r) {
    const train_layer *in = op_in(r, 0);
    train_gavgpool_forward(r->net->act[r->i], op_x(r, 0), r->n, r->L->c, in->h * in->w);
}

static void gavg_backward(const op_run *r) {
    const train_layer *in = op_in(r, 0);
    float *dx = op_dx(r, 0);
    if (dx) train_gavgpool_backward(dx, r->net->dact[r->i], r->n, r->L->c, in->h * in->w);
}

const op_desc train_op_gavgpool_desc = {
    .name = "global_avgpool",
    .nvariants = 1,
    .variants = {{"global_avgpool", TRAIN_OP_NO_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .build = gavg_build,
    .forward = gavg_forward, .backward = gavg_backward,
};
