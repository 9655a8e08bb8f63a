/* Convolution: conv2d, conv1d (input H = 1, scalar geometry) and depthwise
 * (groups = channels) are one engine op, TRAIN_OP_CONV; L->variant says
 * which was written. Weights (Cout, Cin/groups, kh, kw), bias (Cout). */
#include <math.h>
#include <string.h>

#include "graph_internal.h"

enum { CONV2D, CONV1D, DEPTHWISE };

static train_conv_dims conv_dims(const train_net *net, const train_layer *L, int n) {
    const train_layer *in = &net->layers[L->inputs[0]];
    train_conv_dims d = {
        .n = n, .cin = in->c, .hin = in->h, .win = in->w,
        .cout = L->c, .hout = L->h, .wout = L->w,
        .kh = L->kh, .kw = L->kw, .sh = L->sh, .sw = L->sw, .dh = L->dh, .dw = L->dw,
        .pt = L->pt, .pl = L->pl, .groups = L->groups,
    };
    return d;
}

/* Output size with TF same padding on both axes; pb / pr take the odd pixel. */
static void same_padding(train_layer *L, const train_layer *in, int conv1d, int64_t *h, int64_t *w) {
    *h = train_op_same_size(in->h, L->kh, L->sh, L->dh, &L->pt);
    *w = train_op_same_size(in->w, L->kw, L->sw, L->dw, &L->pl);
    if (conv1d) L->pt = 0, *h = 1;
    /* total padding minus the leading part */
    int64_t pb = (*h - 1) * L->sh + (int64_t)L->dh * (L->kh - 1) + 1 - in->h - L->pt;
    int64_t pr = (*w - 1) * L->sw + (int64_t)L->dw * (L->kw - 1) + 1 - in->w - L->pl;
    L->pb = pb < 0 ? 0 : (int)pb;
    L->pr = pr < 0 ? 0 : (int)pr;
}

static dnas_status build(const op_build *b, train_layer *L) {
    const train_layer *in = &b->net->layers[L->inputs[0]];
    dnas_status st;
    int kind = b->variant;
    const train_spec_value *outv = train_op_attr(b, "out");
    long cout = in->c;
    if (outv) {
        if ((st = train_op_int(b, outv, "out", 1, DIM_MAX, &cout))) return st;
    } else if (kind != DEPTHWISE) {
        return train_op_fail(b, b->s->line, "layer '%s': missing 'out' (output channels)", L->name);
    }
    if (!train_op_attr(b, "kernel")) return train_op_fail(b, b->s->line, "layer '%s': missing 'kernel'", L->name);
    if ((st = train_op_opt_pair(b, "kernel", &L->kh, &L->kw, 1, 1, GEOM_MAX)) ||
        (st = train_op_opt_pair(b, "stride", &L->sh, &L->sw, 1, 1, GEOM_MAX)) ||
        (st = train_op_opt_pair(b, "dilation", &L->dh, &L->dw, 1, 1, GEOM_MAX)))
        return st;
    int ph, pw;
    if ((st = train_op_padding(b, &ph, &pw, &L->pad_same))) return st;
    long groups = 1;
    const train_spec_value *gv = train_op_attr(b, "groups");
    if (gv && (st = train_op_int(b, gv, "groups", 1, DIM_MAX, &groups))) return st;
    if (kind == DEPTHWISE) {
        if (cout != in->c)
            return train_op_shape_fail(b, L, "depthwise: out must equal the input channels (%d), got %ld", in->c,
                                 cout);
        groups = in->c;
    }
    if (kind == CONV1D) {
        if (in->h != 1)
            return train_op_shape_fail(b, L, "conv1d expects an input of height 1 (C, 1, T), got (%d, %d, %d)",
                                 in->c, in->h, in->w);
        if (L->kh != L->kw || L->sh != L->sw || L->dh != L->dw)
            return train_op_fail(b, b->s->line,
                           "layer '%s': conv1d takes scalar kernel, stride and dilation (padding: N or "
                           "[left, right])", L->name);
        L->kh = L->sh = L->dh = 1;
    }
    if (in->c % groups || cout % groups)
        return train_op_shape_fail(b, L, "groups %ld must divide input channels %d and output channels %ld", groups,
                             in->c, cout);
    L->groups = (int)groups;
    if ((st = train_op_opt_bool(b, "bias", &L->has_bias, 1))) return st;
    int64_t h, w;
    if (L->pad_same) {
        same_padding(L, in, kind == CONV1D, &h, &w);
    } else if (kind == CONV1D) { /* [left, right]: (ph, pw) as read */
        L->pt = L->pb = 0;
        L->pl = ph, L->pr = pw;
        h = 1;
        w = train_op_out_size2(in->w, L->kw, L->sw, L->dw, ph, pw);
    } else {
        L->pt = L->pb = ph;
        L->pl = L->pr = pw;
        h = train_op_out_size(in->h, L->kh, L->sh, L->dh, ph);
        w = train_op_out_size(in->w, L->kw, L->sw, L->dw, pw);
    }
    if ((h < 1 || w < 1) && kind == CONV1D)
        return train_op_shape_fail(b, L, "kernel %d (dilation %d) does not fit input length %d with padding "
                             "[%d, %d]", L->kw, L->dw, in->w, ph, pw);
    if (h < 1 || w < 1)
        return train_op_shape_fail(b, L, "kernel %dx%d (dilation %dx%d) does not fit input %dx%d with padding "
                             "%d,%d", L->kh, L->kw, L->dh, L->dw, in->h, in->w, ph, pw);
    if ((st = train_op_set_shape(b, L, cout, h, w))) return st;
    int64_t wl;
    if (dnas_mul64((int64_t)L->c * (in->c / L->groups), (int64_t)L->kh * L->kw, &wl) || wl > SAMPLE_MAX)
        return train_op_shape_fail(b, L, "%d x %d x %dx%d weights: more than %ld", L->c, in->c / L->groups, L->kh,
                             L->kw, SAMPLE_MAX);
    L->w_len = (size_t)wl;
    L->b_len = L->has_bias ? (size_t)L->c : 0;
    if ((st = train_op_wbits_build(b, L))) return st;
    return train_op_engines_build(b, L);
}

/* Geometry as written: pairs for conv2d / depthwise, scalars for conv1d
 * (its w axis); nothing at the default (dflt -1: always written). */
static void put_geom(train_spec_layer *s, const char *key, int a, int b, int conv1d, int dflt) {
    if (conv1d ? b == dflt : a == dflt && b == dflt) return;
    if (conv1d || a == b)
        train_spec_set_int(s, key, conv1d ? b : a);
    else
        train_spec_set_pair(s, key, a, b);
}

static void to_spec(const train_net *net, const train_layer *L, train_spec_layer *s) {
    int c1 = L->variant == CONV1D;
    if (L->variant != DEPTHWISE) train_spec_set_int(s, "out", L->c);
    put_geom(s, "kernel", L->kh, L->kw, c1, -1);
    put_geom(s, "stride", L->sh, L->sw, c1, 1);
    put_geom(s, "dilation", L->dh, L->dw, c1, 1);
    if (L->pad_same)
        train_spec_set(s, "padding", "same");
    else if (c1 && L->pl != L->pr)
        train_spec_set_pair(s, "padding", L->pl, L->pr);
    else
        put_geom(s, "padding", L->pt, L->pl, c1, 0);
    if (L->variant != DEPTHWISE && L->groups != 1) train_spec_set_int(s, "groups", L->groups);
    if (!L->has_bias) train_spec_set_bool(s, "bias", 0);
    train_op_wbits_to_spec(L, s);
    train_op_engines_to_spec(L, s);
}

static size_t scratch_floats(const train_net *net, const train_layer *L, int n) {
    train_conv_dims d = conv_dims(net, L, n);
    return train_conv2d_scratch_floats(&d);
}

void train_op_weights_init(train_net *net, const train_layer *L, uint64_t *rng) {
    float *w = net->params + L->w_off, *b = net->params + L->b_off;
    size_t fan_in = L->w_len / (size_t)L->c;
    float bound = sqrtf(6.0f / (float)fan_in);
    for (size_t k = 0; k < L->w_len; k++) w[k] = (2.0f * train_rng_uniform(rng) - 1.0f) * bound;
    memset(b, 0, L->b_len * sizeof *b);
}

static void forward(const op_run *r) {
    const train_layer *L = r->L;
    train_conv_dims d = conv_dims(r->net, L, r->n);
    const float *b = L->b_len ? r->P + L->b_off : NULL;
    train_conv2d_forward(r->net->act[r->i], op_x(r, 0), train_op_wbits_weights(r, r->P + L->w_off), b, &d, r->net->scratch,
                         r->net->scratch_floats);
}

static void backward(const op_run *r) {
    const train_layer *L = r->L;
    train_net *net = r->net;
    train_conv_dims d = conv_dims(net, L, r->n);
    float *db = L->b_len ? net->grads + L->b_off : NULL;
    train_conv2d_backward(op_dx(r, 0), net->grads + L->w_off, db, net->dact[r->i], op_x(r, 0),
                          L->wbits ? net->aux[r->i] : r->P + L->w_off, &d, net->scratch, net->scratch_floats);
}

train_counts train_op_weights_counts(const train_net *net, const train_layer *L) {
    train_counts c = {(int64_t)L->w_len, (int64_t)L->b_len, 0, (int64_t)L->w_len * L->h * L->w};
    return c;
}

static const char *const CONV_KEYS[] = {"out",     "kernel", "stride", "dilation",
                                        "padding", "groups", "bias",   "wbits", "engines", NULL};
static const char *const DW_KEYS[] = {"out", "kernel", "stride", "dilation", "padding", "bias", "wbits", "engines", NULL};

const op_desc train_op_conv_desc = {
    .name = "conv2d",
    .nvariants = 3,
    .variants = {{"conv2d", CONV_KEYS}, {"conv1d", CONV_KEYS}, {"depthwise", DW_KEYS}},
    .min_inputs = 1, .max_inputs = 1,
    .param_names = {"weight", "bias"},
    .build = build, .to_spec = to_spec, .aux_floats = train_op_wbits_aux,
    .scratch_floats = scratch_floats, .init = train_op_weights_init,
    .forward = forward, .backward = backward, .counts = train_op_weights_counts,
};
