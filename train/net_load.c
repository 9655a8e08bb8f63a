/* Model YAML -> train_net: parse layers, resolve inputs, infer shapes and
 * lay out the flat parameter / state arrays. Format: docs/models.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "yamldoc.h"

static const char *const OP_NAMES[TRAIN_OP_COUNT_] = {
    [TRAIN_OP_INPUT] = "input",     [TRAIN_OP_CONV] = "conv2d",
    [TRAIN_OP_LINEAR] = "linear",   [TRAIN_OP_BN] = "batchnorm",
    [TRAIN_OP_RELU] = "relu",       [TRAIN_OP_MAXPOOL] = "maxpool",
    [TRAIN_OP_AVGPOOL] = "avgpool", [TRAIN_OP_GAVGPOOL] = "global_avgpool",
    [TRAIN_OP_ADD] = "add",         [TRAIN_OP_CONCAT] = "concat",
    [TRAIN_OP_FLATTEN] = "flatten", [TRAIN_OP_DROPOUT] = "dropout",
};

const char *train_op_name(train_op op) {
    return op >= 0 && op < TRAIN_OP_COUNT_ ? OP_NAMES[op] : "?";
}

/* YAML op names (several map to one engine op). */
typedef enum { K_CONV2D, K_CONV1D, K_DEPTHWISE, K_OTHER } conv_kind;
static const struct {
    const char *name;
    train_op op;
    conv_kind kind;
    float cap;
} OPS[] = {
    {"conv2d", TRAIN_OP_CONV, K_CONV2D, 0},      {"conv1d", TRAIN_OP_CONV, K_CONV1D, 0},
    {"depthwise", TRAIN_OP_CONV, K_DEPTHWISE, 0}, {"linear", TRAIN_OP_LINEAR, K_OTHER, 0},
    {"batchnorm", TRAIN_OP_BN, K_OTHER, 0},       {"relu", TRAIN_OP_RELU, K_OTHER, 0},
    {"relu6", TRAIN_OP_RELU, K_OTHER, 6},         {"maxpool", TRAIN_OP_MAXPOOL, K_OTHER, 0},
    {"avgpool", TRAIN_OP_AVGPOOL, K_OTHER, 0},    {"global_avgpool", TRAIN_OP_GAVGPOOL, K_OTHER, 0},
    {"add", TRAIN_OP_ADD, K_OTHER, 0},            {"concat", TRAIN_OP_CONCAT, K_OTHER, 0},
    {"flatten", TRAIN_OP_FLATTEN, K_OTHER, 0},    {"dropout", TRAIN_OP_DROPOUT, K_OTHER, 0},
};
#define NOPS (int)(sizeof OPS / sizeof OPS[0])

static const char *const LAYER_KEYS[] = {"name", "op", "input", "inputs", "out", "kernel",
                                         "stride", "dilation", "padding", "groups", "bias",
                                         "eps", "momentum", "p", NULL};

typedef struct {
    train_yaml *y;
    train_net *net;
    train_error *err;
} loader;

#define FAIL(node, ...) fail_at(ld, node, __VA_ARGS__)
__attribute__((format(printf, 3, 4))) static train_status fail_at(loader *ld, yaml_node_t *node,
                                                                  const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return train_fail(ld->err, TRAIN_ERR_CONFIG, "%s:%d: %s", ld->y->path, train_yaml_line(node), msg);
}

static train_status shape_fail(loader *ld, const train_layer *L, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static train_status shape_fail(loader *ld, const train_layer *L, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return train_fail(ld->err, TRAIN_ERR_SHAPE, "%s:%d: layer '%s' (%s): %s", ld->y->path, L->line,
                      L->name, train_op_name(L->op), msg);
}

/* Optional int-or-pair attribute. */
static train_status opt_pair(loader *ld, yaml_node_t *map, const char *key, int *a, int *b, int dflt) {
    yaml_node_t *n = train_yaml_get(ld->y, map, key);
    if (!n) {
        *a = *b = dflt;
        return TRAIN_OK;
    }
    train_status st = train_yaml_pair(ld->y, n, key, a, b, ld->err);
    if (st) return st;
    if (*a < 1 || *b < 1) return FAIL(n, "%s: expected a positive value", key);
    return TRAIN_OK;
}

static train_status opt_float(loader *ld, yaml_node_t *map, const char *key, float *out, float dflt) {
    yaml_node_t *n = train_yaml_get(ld->y, map, key);
    *out = dflt;
    if (!n) return TRAIN_OK;
    double v = 0;
    train_status st = train_yaml_float(ld->y, n, key, &v, ld->err);
    if (!st) *out = (float)v;
    return st;
}

/* padding: same | valid | N | [h, w]. same_pad = 1 asks for TF same. */
static train_status parse_padding(loader *ld, yaml_node_t *map, int *ph, int *pw, int *same) {
    yaml_node_t *n = train_yaml_get(ld->y, map, "padding");
    *ph = *pw = 0;
    *same = 0;
    if (!n) return TRAIN_OK;
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = (const char *)n->data.scalar.value;
        if (!strcmp(s, "same")) {
            *same = 1;
            return TRAIN_OK;
        }
        if (!strcmp(s, "valid")) return TRAIN_OK;
    }
    train_status st = train_yaml_pair(ld->y, n, "padding", ph, pw, ld->err);
    if (st) return FAIL(n, "padding: expected same, valid, a number or [h, w]");
    if (*ph < 0 || *pw < 0) return FAIL(n, "padding: expected a non-negative value");
    return TRAIN_OK;
}

static train_status resolve_inputs(loader *ld, yaml_node_t *map, int idx) {
    train_layer *L = &ld->net->layers[idx];
    yaml_node_t *one = train_yaml_get(ld->y, map, "input");
    yaml_node_t *many = train_yaml_get(ld->y, map, "inputs");
    if (one && many) return FAIL(one, "layer '%s': give either input or inputs, not both", L->name);
    if (!one && !many) {
        L->ninputs = 1;
        L->inputs[0] = idx - 1;
        return TRAIN_OK;
    }
    int n = one ? 1 : train_yaml_len(many);
    if (many && (many->type != YAML_SEQUENCE_NODE || n < 1))
        return FAIL(many, "inputs: expected a list of layer names");
    if (n > TRAIN_MAX_INPUTS) return FAIL(many, "inputs: at most %d inputs", TRAIN_MAX_INPUTS);
    L->ninputs = n;
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = one ? one : train_yaml_item(ld->y, many, i);
        const char *s = train_yaml_str(ld->y, item, "input", ld->err);
        if (!s) return TRAIN_ERR_CONFIG;
        int j = -1;
        for (int k = 0; k < idx; k++)
            if (!strcmp(ld->net->layers[k].name, s)) j = k;
        if (j < 0) {
            for (int k = idx + 1; k < ld->net->nlayers; k++)
                if (!strcmp(ld->net->layers[k].name, s))
                    return FAIL(item, "layer '%s' reads '%s', which is defined later: list layers after their inputs",
                                L->name, s);
            return FAIL(item, "layer '%s' reads '%s': no layer of that name (or 'input')", L->name, s);
        }
        L->inputs[i] = j;
    }
    return TRAIN_OK;
}

/* Parse one layer's attributes and infer its output shape. */
static train_status parse_layer(loader *ld, yaml_node_t *map, int idx) {
    train_net *net = ld->net;
    train_layer *L = &net->layers[idx];
    train_yaml *y = ld->y;
    train_status st;

    yaml_node_t *opn = train_yaml_get(y, map, "op");
    if (!opn) return FAIL(map, "layer '%s': missing 'op'", L->name);
    const char *ops = train_yaml_str(y, opn, "op", ld->err);
    if (!ops) return TRAIN_ERR_CONFIG;
    int k = 0;
    while (k < NOPS && strcmp(OPS[k].name, ops)) k++;
    if (k == NOPS)
        return FAIL(opn, "layer '%s': unknown op '%s' (expected conv2d, conv1d, depthwise, linear, batchnorm, relu, relu6, maxpool, avgpool, global_avgpool, add, concat, flatten or dropout)",
                    L->name, ops);
    L->op = OPS[k].op;
    L->cap = OPS[k].cap;
    if ((st = resolve_inputs(ld, map, idx))) return st;

    const train_layer *in = &net->layers[L->inputs[0]];
    int multi = L->op == TRAIN_OP_ADD || L->op == TRAIN_OP_CONCAT;
    if (!multi && L->ninputs != 1)
        return shape_fail(ld, L, "takes one input, %d given", L->ninputs);
    if (multi && L->ninputs < 2) return shape_fail(ld, L, "needs at least two inputs");
    L->c = in->c;
    L->h = in->h;
    L->w = in->w;
    L->kh = L->kw = L->sh = L->sw = L->dh = L->dw = 1;
    L->groups = 1;

    switch (L->op) {
    case TRAIN_OP_CONV: {
        conv_kind kind = OPS[k].kind;
        yaml_node_t *outn = train_yaml_get(y, map, "out");
        long cout = in->c;
        if (outn) {
            if ((st = train_yaml_int(y, outn, "out", &cout, ld->err))) return st;
        } else if (kind != K_DEPTHWISE) {
            return FAIL(map, "layer '%s': missing 'out' (output channels)", L->name);
        }
        if (cout < 1) return FAIL(outn, "out: expected a positive channel count");
        yaml_node_t *kn = train_yaml_get(y, map, "kernel");
        if (!kn) return FAIL(map, "layer '%s': missing 'kernel'", L->name);
        if ((st = opt_pair(ld, map, "kernel", &L->kh, &L->kw, 1))) return st;
        if ((st = opt_pair(ld, map, "stride", &L->sh, &L->sw, 1))) return st;
        if ((st = opt_pair(ld, map, "dilation", &L->dh, &L->dw, 1))) return st;
        int ph, pw, same;
        if ((st = parse_padding(ld, map, &ph, &pw, &same))) return st;
        long groups = 1;
        yaml_node_t *gn = train_yaml_get(y, map, "groups");
        if (gn && (st = train_yaml_int(y, gn, "groups", &groups, ld->err))) return st;
        if (kind == K_DEPTHWISE) {
            if (cout != in->c)
                return shape_fail(ld, L, "depthwise: out must equal the input channels (%d), got %ld", in->c, cout);
            groups = in->c;
        }
        if (kind == K_CONV1D) {
            if (in->h != 1)
                return shape_fail(ld, L, "conv1d expects an input of height 1 (C, 1, T), got (%d, %d, %d)",
                                  in->c, in->h, in->w);
            if (L->kh != L->kw || L->sh != L->sw || L->dh != L->dw || ph != pw)
                return FAIL(map, "layer '%s': conv1d takes scalar kernel, stride, dilation and padding", L->name);
            L->kh = L->sh = L->dh = 1;
            ph = 0;
        }
        if (groups < 1 || in->c % groups || cout % groups)
            return shape_fail(ld, L, "groups %ld must divide input channels %d and output channels %ld",
                              groups, in->c, cout);
        L->groups = (int)groups;
        L->has_bias = 1;
        yaml_node_t *bn = train_yaml_get(y, map, "bias");
        if (bn && (st = train_yaml_bool(y, bn, "bias", &L->has_bias, ld->err))) return st;
        L->c = (int)cout;
        if (same) {
            L->h = train_conv_same(in->h, L->kh, L->sh, L->dh, &L->pt);
            L->w = train_conv_same(in->w, L->kw, L->sw, L->dw, &L->pl);
            if (kind == K_CONV1D) L->pt = 0, L->h = 1;
            /* total padding minus the leading part */
            L->pb = (L->h - 1) * L->sh + L->dh * (L->kh - 1) + 1 - in->h - L->pt;
            L->pr = (L->w - 1) * L->sw + L->dw * (L->kw - 1) + 1 - in->w - L->pl;
            if (L->pb < 0) L->pb = 0;
            if (L->pr < 0) L->pr = 0;
        } else {
            L->pt = L->pb = ph;
            L->pl = L->pr = pw;
            L->h = train_conv_out_size(in->h, L->kh, L->sh, L->dh, ph);
            L->w = train_conv_out_size(in->w, L->kw, L->sw, L->dw, pw);
        }
        if (L->h < 1 || L->w < 1)
            return shape_fail(ld, L, "kernel %dx%d (dilation %dx%d) does not fit input %dx%d with padding %d,%d",
                              L->kh, L->kw, L->dh, L->dw, in->h, in->w, ph, pw);
        L->w_len = (size_t)L->c * (in->c / L->groups) * L->kh * L->kw;
        L->b_len = L->has_bias ? (size_t)L->c : 0;
        break;
    }
    case TRAIN_OP_LINEAR: {
        yaml_node_t *outn = train_yaml_get(y, map, "out");
        if (!outn) return FAIL(map, "layer '%s': missing 'out' (output features)", L->name);
        long cout;
        if ((st = train_yaml_int(y, outn, "out", &cout, ld->err))) return st;
        if (cout < 1) return FAIL(outn, "out: expected a positive feature count");
        L->has_bias = 1;
        yaml_node_t *bn = train_yaml_get(y, map, "bias");
        if (bn && (st = train_yaml_bool(y, bn, "bias", &L->has_bias, ld->err))) return st;
        L->w_len = (size_t)cout * in->c * in->h * in->w;
        L->b_len = L->has_bias ? (size_t)cout : 0;
        L->c = (int)cout;
        L->h = L->w = 1;
        break;
    }
    case TRAIN_OP_BN:
        if ((st = opt_float(ld, map, "eps", &L->eps, 1e-5f))) return st;
        if ((st = opt_float(ld, map, "momentum", &L->momentum, 0.1f))) return st;
        L->w_len = L->b_len = (size_t)L->c;
        break;
    case TRAIN_OP_MAXPOOL:
    case TRAIN_OP_AVGPOOL: {
        if (!train_yaml_get(y, map, "kernel")) return FAIL(map, "layer '%s': missing 'kernel'", L->name);
        if ((st = opt_pair(ld, map, "kernel", &L->kh, &L->kw, 1))) return st;
        if ((st = opt_pair(ld, map, "stride", &L->sh, &L->sw, 0))) return st;
        if (!train_yaml_get(y, map, "stride")) L->sh = L->kh, L->sw = L->kw;
        int ph, pw, same;
        if ((st = parse_padding(ld, map, &ph, &pw, &same))) return st;
        if (same) {
            L->h = train_conv_same(in->h, L->kh, L->sh, 1, &L->pt);
            L->w = train_conv_same(in->w, L->kw, L->sw, 1, &L->pl);
        } else {
            L->pt = ph;
            L->pl = pw;
            L->h = train_conv_out_size(in->h, L->kh, L->sh, 1, ph);
            L->w = train_conv_out_size(in->w, L->kw, L->sw, 1, pw);
        }
        if (L->h < 1 || L->w < 1)
            return shape_fail(ld, L, "pool %dx%d does not fit input %dx%d", L->kh, L->kw, in->h, in->w);
        break;
    }
    case TRAIN_OP_GAVGPOOL:
        L->h = L->w = 1;
        break;
    case TRAIN_OP_FLATTEN:
        L->c = in->c * in->h * in->w;
        L->h = L->w = 1;
        break;
    case TRAIN_OP_DROPOUT:
        if ((st = opt_float(ld, map, "p", &L->p, 0.5f))) return st;
        if (L->p < 0 || L->p >= 1) return FAIL(train_yaml_get(y, map, "p"), "p: expected 0 <= p < 1");
        break;
    case TRAIN_OP_ADD:
        for (int i = 1; i < L->ninputs; i++) {
            const train_layer *o = &net->layers[L->inputs[i]];
            if (o->c != in->c || o->h != in->h || o->w != in->w)
                return shape_fail(ld, L, "inputs must have equal shapes: '%s' is (%d, %d, %d) but '%s' is (%d, %d, %d)",
                                  in->name, in->c, in->h, in->w, o->name, o->c, o->h, o->w);
        }
        break;
    case TRAIN_OP_CONCAT:
        for (int i = 1; i < L->ninputs; i++) {
            const train_layer *o = &net->layers[L->inputs[i]];
            if (o->h != in->h || o->w != in->w)
                return shape_fail(ld, L, "inputs must have equal height and width: '%s' is %dx%d but '%s' is %dx%d",
                                  in->name, in->h, in->w, o->name, o->h, o->w);
            L->c += o->c;
        }
        break;
    case TRAIN_OP_RELU:
    case TRAIN_OP_INPUT:
    case TRAIN_OP_COUNT_:
        break;
    }
    return TRAIN_OK;
}

static void add_param(train_net *net, int layer, const char *suffix, size_t off, size_t len) {
    train_param *p = &net->param_table[net->nparam_table++];
    snprintf(p->name, sizeof p->name, "%s.%s", net->layers[layer].name, suffix);
    p->layer = layer;
    p->off = off;
    p->len = len;
}

/* Carve params / grads / state out of single allocations. */
static void layout(train_net *net) {
    size_t off = 0, soff = 0;
    net->param_table = train_xcalloc((size_t)net->nlayers * 2, sizeof *net->param_table);
    for (int i = 0; i < net->nlayers; i++) {
        train_layer *L = &net->layers[i];
        int bn = L->op == TRAIN_OP_BN;
        if (L->w_len) {
            L->w_off = off;
            add_param(net, i, bn ? "gamma" : "weight", off, L->w_len);
            off += L->w_len;
        }
        if (L->b_len) {
            L->b_off = off;
            add_param(net, i, bn ? "beta" : "bias", off, L->b_len);
            off += L->b_len;
        }
        if (bn) {
            L->state_off = soff;
            soff += 2 * (size_t)L->c;
        }
    }
    net->nparams = off;
    net->params = train_xcalloc(off, sizeof(float));
    net->grads = train_xcalloc(off, sizeof(float));
    net->nstate = soff;
    net->state = train_xcalloc(soff, sizeof(float));
}

static train_status load_doc(train_net **out, train_yaml *y, const char *path, train_error *err) {
    train_net *net = train_xcalloc(1, sizeof *net);
    loader ldv = {y, net, err}, *ld = &ldv;
    train_status st;
    snprintf(net->path, sizeof net->path, "%s", path);
    yaml_node_t *root = train_yaml_root(y);
    static const char *const TOP_KEYS[] = {"name", "input", "layers", "description", NULL};
    if ((st = train_yaml_check_keys(y, root, TOP_KEYS, "model", err))) goto fail;

    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(net->name, sizeof net->name, "%.*s", (int)strcspn(base, "."), base);
    yaml_node_t *nn = train_yaml_get(y, root, "name");
    if (nn) {
        const char *s = train_yaml_str(y, nn, "name", err);
        if (!s) { st = TRAIN_ERR_CONFIG; goto fail; }
        snprintf(net->name, sizeof net->name, "%s", s);
    }

    yaml_node_t *inn = train_yaml_get(y, root, "input");
    if (!inn || train_yaml_len(inn) != 3) {
        st = FAIL(inn ? inn : root, "input: expected the sample shape [C, H, W]");
        goto fail;
    }
    int shape[3];
    for (int i = 0; i < 3; i++) {
        long v = 0;
        if ((st = train_yaml_int(y, train_yaml_item(y, inn, i), "input", &v, err))) goto fail;
        if (v < 1 || v > (1 << 20)) {
            st = FAIL(inn, "input: expected positive dimensions [C, H, W]");
            goto fail;
        }
        shape[i] = (int)v;
    }
    yaml_node_t *layers = train_yaml_get(y, root, "layers");
    int n = train_yaml_len(layers);
    if (n < 1) {
        st = FAIL(layers ? layers : root, "layers: expected a non-empty list of layers");
        goto fail;
    }
    net->nlayers = n + 1;
    net->layers = train_xcalloc((size_t)n + 1, sizeof *net->layers);
    train_layer *in = &net->layers[0];
    snprintf(in->name, sizeof in->name, "input");
    in->op = TRAIN_OP_INPUT;
    in->line = train_yaml_line(inn);
    in->c = shape[0], in->h = shape[1], in->w = shape[2];

    /* names first, so inputs can name any earlier layer */
    for (int i = 0; i < n; i++) {
        yaml_node_t *map = train_yaml_item(y, layers, i);
        train_layer *L = &net->layers[i + 1];
        if ((st = train_yaml_check_keys(y, map, LAYER_KEYS, "layer", err))) goto fail;
        L->line = train_yaml_line(map);
        yaml_node_t *name = train_yaml_get(y, map, "name");
        if (!name) {
            st = FAIL(map, "layer %d: missing 'name'", i + 1);
            goto fail;
        }
        const char *s = train_yaml_str(y, name, "name", err);
        if (!s) { st = TRAIN_ERR_CONFIG; goto fail; }
        if (strlen(s) >= TRAIN_NAME_LEN) {
            st = FAIL(name, "name '%s' is longer than %d characters", s, TRAIN_NAME_LEN - 1);
            goto fail;
        }
        for (int j = 0; j <= i; j++)
            if (!strcmp(net->layers[j].name, s)) {
                st = FAIL(name, "duplicate layer name '%s' (first at line %d)", s, net->layers[j].line);
                goto fail;
            }
        snprintf(L->name, sizeof L->name, "%s", s);
    }
    for (int i = 0; i < n; i++)
        if ((st = parse_layer(ld, train_yaml_item(y, layers, i), i + 1))) goto fail;
    net->output = n;
    /* fuse BN -> ReLU pairs where the ReLU is the BN's only reader */
    for (int i = 1; i <= n; i++) {
        train_layer *L = &net->layers[i];
        if (L->op != TRAIN_OP_RELU || net->layers[L->inputs[0]].op != TRAIN_OP_BN) continue;
        int bn = L->inputs[0], readers = 0;
        for (int j = 1; j <= n; j++)
            for (int k = 0; k < net->layers[j].ninputs; k++) readers += net->layers[j].inputs[k] == bn;
        if (readers == 1 && bn != net->output) {
            net->layers[bn].relu_next = i;
            L->bn_prev = bn;
        }
    }
    layout(net);
    *out = net;
    return TRAIN_OK;
fail:
    train_net_free(net);
    *out = NULL;
    return st;
}

train_status train_net_load(train_net **net, const char *path, train_error *err) {
    train_yaml y;
    *net = NULL;
    train_status st = train_yaml_load_file(&y, path, err);
    if (st) return st;
    st = load_doc(net, &y, path, err);
    train_yaml_free(&y);
    return st;
}

train_status train_net_load_string(train_net **net, const char *yaml, const char *path,
                                   train_error *err) {
    train_yaml y;
    *net = NULL;
    train_status st = train_yaml_load_string(&y, yaml, path, err);
    if (st) return st;
    st = load_doc(net, &y, path, err);
    train_yaml_free(&y);
    return st;
}
