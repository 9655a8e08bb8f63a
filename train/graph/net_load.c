/* Model YAML -> train_net: parse layers, resolve inputs, infer shapes and
 * lay out the flat parameter / state arrays. Format: docs/models.md. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "common.h"

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

/* YAML op names (several map to one engine op) and the keys each takes
 * besides name, op, input and inputs. */
typedef enum { K_CONV2D, K_CONV1D, K_DEPTHWISE, K_OTHER } conv_kind;
#define CONV_KEYS "out", "kernel", "stride", "dilation", "padding", "groups", "bias"
#define POOL_KEYS "kernel", "stride", "padding"
static const struct {
    const char *name;
    train_op op;
    conv_kind kind;
    float cap;
    const char *keys[8];
} OPS[] = {
    {"conv2d", TRAIN_OP_CONV, K_CONV2D, 0, {CONV_KEYS}},
    {"conv1d", TRAIN_OP_CONV, K_CONV1D, 0, {CONV_KEYS}},
    {"depthwise", TRAIN_OP_CONV, K_DEPTHWISE, 0, {"out", "kernel", "stride", "dilation", "padding", "bias"}},
    {"linear", TRAIN_OP_LINEAR, K_OTHER, 0, {"out", "bias"}},
    {"batchnorm", TRAIN_OP_BN, K_OTHER, 0, {"eps", "momentum"}},
    {"relu", TRAIN_OP_RELU, K_OTHER, 0, {0}},
    {"relu6", TRAIN_OP_RELU, K_OTHER, 6, {0}},
    {"maxpool", TRAIN_OP_MAXPOOL, K_OTHER, 0, {POOL_KEYS}},
    {"avgpool", TRAIN_OP_AVGPOOL, K_OTHER, 0, {POOL_KEYS}},
    {"global_avgpool", TRAIN_OP_GAVGPOOL, K_OTHER, 0, {0}},
    {"add", TRAIN_OP_ADD, K_OTHER, 0, {0}},
    {"concat", TRAIN_OP_CONCAT, K_OTHER, 0, {0}},
    {"flatten", TRAIN_OP_FLATTEN, K_OTHER, 0, {0}},
    {"dropout", TRAIN_OP_DROPOUT, K_OTHER, 0, {"p"}},
};
#define NOPS (int)(sizeof OPS / sizeof OPS[0])

static const char *const BASE_KEYS[] = {"name", "op", "input", "inputs"};

typedef struct {
    dnas_yaml *y;
    train_net *net;
    dnas_error *err;
    int *by_name; /* layer indices sorted by name (lookups in O(log n)) */
} loader;

#define FAIL(node, ...) fail_at(ld, node, __VA_ARGS__)
__attribute__((format(printf, 3, 4))) static dnas_status fail_at(loader *ld, yaml_node_t *node,
                                                                  const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dnas_fail(ld->err, DNAS_ERR_CONFIG, "%s:%d: %s", ld->y->path, dnas_yaml_line(node), msg);
}

static dnas_status shape_fail(loader *ld, const train_layer *L, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static dnas_status shape_fail(loader *ld, const train_layer *L, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dnas_fail(ld->err, DNAS_ERR_SHAPE, "%s:%d: layer '%s' (%s): %s", ld->y->path, L->line,
                      L->name, train_op_name(L->op), msg);
}

/* Bounds of what a model may declare. Shape arithmetic is done in 64 bits
 * from these, then checked against them, so no int can overflow. */
#define DIM_MAX (1L << 24)   /* channels, features, height, width */
#define GEOM_MAX 65535L      /* kernel, stride, dilation, padding */
#define SAMPLE_MAX 0x7fffffffL /* values of one sample of one layer */
#define MAX_LAYERS 1000000

/* Optional int-or-pair attribute in [lo, hi]. */
static dnas_status opt_pair(loader *ld, yaml_node_t *map, const char *key, int *a, int *b, int dflt, long lo,
                            long hi) {
    yaml_node_t *n = dnas_yaml_get(ld->y, map, key);
    if (!n) {
        *a = *b = dflt;
        return DNAS_OK;
    }
    long va, vb;
    dnas_status st = dnas_yaml_pair(ld->y, n, key, lo, hi, &va, &vb, ld->err);
    if (st) return st;
    *a = (int)va;
    *b = (int)vb;
    return DNAS_OK;
}

static dnas_status opt_float(loader *ld, yaml_node_t *map, const char *key, float *out, float dflt, double lo,
                             double hi, int lo_open) {
    yaml_node_t *n = dnas_yaml_get(ld->y, map, key);
    *out = dflt;
    if (!n) return DNAS_OK;
    double v = 0;
    dnas_status st = dnas_yaml_float(ld->y, n, key, lo, hi, lo_open, &v, ld->err);
    if (!st) *out = (float)v;
    return st;
}

/* padding: same | valid | N | [h, w]. same_pad = 1 asks for TF same. */
static dnas_status parse_padding(loader *ld, yaml_node_t *map, int *ph, int *pw, int *same) {
    yaml_node_t *n = dnas_yaml_get(ld->y, map, "padding");
    *ph = *pw = 0;
    *same = 0;
    if (!n) return DNAS_OK;
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = (const char *)n->data.scalar.value;
        if (!strcmp(s, "same")) {
            *same = 1;
            return DNAS_OK;
        }
        if (!strcmp(s, "valid")) return DNAS_OK;
        long v;
        if (dnas_parse_long(s, -(long)(~0ul >> 1), (long)(~0ul >> 1), &v))
            return FAIL(n, "padding: expected same, valid, a number or [h, w], found '%s'", s);
    }
    return opt_pair(ld, map, "padding", ph, pw, 0, 0, GEOM_MAX);
}

/* Output size of a conv or pool along one axis, in 64 bits; 0 when the
 * window does not fit. */
static int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p) {
    int64_t span = d * (k - 1) + 1;
    if (in + 2 * p < span) return 0;
    return (in + 2 * p - span) / s + 1;
}

/* TF "same": out = ceil(in / s); *pad_before = half the total padding. */
static int64_t same_size(int64_t in, int64_t k, int64_t s, int64_t d, int *pad_before) {
    int64_t out = (in + s - 1) / s;
    int64_t total = (out - 1) * s + d * (k - 1) + 1 - in;
    if (total < 0) total = 0;
    *pad_before = (int)(total / 2);
    return out;
}

/* Checks a layer's inferred output shape against the bounds. */
static dnas_status check_shape(loader *ld, train_layer *L, int64_t c, int64_t h, int64_t w) {
    if (c > DIM_MAX || h > DIM_MAX || w > DIM_MAX)
        return shape_fail(ld, L, "output shape (%lld, %lld, %lld) exceeds %ld in some dimension", (long long)c,
                          (long long)h, (long long)w, DIM_MAX);
    if (c * h * w > SAMPLE_MAX)
        return shape_fail(ld, L, "output shape (%lld, %lld, %lld) holds %lld values per sample, more than %ld",
                          (long long)c, (long long)h, (long long)w, (long long)(c * h * w), SAMPLE_MAX);
    L->c = (int)c;
    L->h = (int)h;
    L->w = (int)w;
    return DNAS_OK;
}

static const train_net *sort_net; /* qsort has no context argument */
static int cmp_by_name(const void *a, const void *b) {
    const train_layer *x = &sort_net->layers[*(const int *)a], *y = &sort_net->layers[*(const int *)b];
    int c = strcmp(x->name, y->name);
    return c ? c : (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Index of the layer called name, or -1 (binary search over by_name). */
static int find_layer(loader *ld, const char *name) {
    int lo = 0, hi = ld->net->nlayers - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(ld->net->layers[ld->by_name[mid]].name, name);
        if (!c) return ld->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static dnas_status resolve_inputs(loader *ld, yaml_node_t *map, int idx) {
    train_layer *L = &ld->net->layers[idx];
    yaml_node_t *one = dnas_yaml_get(ld->y, map, "input");
    yaml_node_t *many = dnas_yaml_get(ld->y, map, "inputs");
    if (one && many) return FAIL(one, "layer '%s': give either input or inputs, not both", L->name);
    if (!one && !many) {
        L->ninputs = 1;
        L->inputs[0] = idx - 1;
        return DNAS_OK;
    }
    int n = one ? 1 : dnas_yaml_len(many);
    if (many && (many->type != YAML_SEQUENCE_NODE || n < 1))
        return FAIL(many, "inputs: expected a list of layer names");
    if (n > TRAIN_MAX_INPUTS) return FAIL(many, "inputs: at most %d inputs", TRAIN_MAX_INPUTS);
    L->ninputs = n;
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = one ? one : dnas_yaml_item(ld->y, many, i);
        const char *s = dnas_yaml_str(ld->y, item, "input", ld->err);
        if (!s) return DNAS_ERR_CONFIG;
        int j = find_layer(ld, s);
        if (j < 0) return FAIL(item, "layer '%s' reads '%s': no layer of that name (or 'input')", L->name, s);
        if (j == idx) return FAIL(item, "layer '%s' reads itself: expected an earlier layer", L->name);
        if (j > idx)
            return FAIL(item, "layer '%s' reads '%s', which is defined later (line %d): list layers after their inputs",
                        L->name, s, ld->net->layers[j].line);
        L->inputs[i] = j;
    }
    return DNAS_OK;
}

/* Checks the layer's keys against its op's (an unknown key names the op
 * and the keys it takes). */
static dnas_status check_op_keys(loader *ld, yaml_node_t *map, int k, const char *lname) {
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *key = dnas_yaml_key(ld->y, p);
        int ok = 0;
        for (size_t i = 0; i < sizeof BASE_KEYS / sizeof BASE_KEYS[0]; i++) ok |= !strcmp(BASE_KEYS[i], key);
        for (int i = 0; OPS[k].keys[i]; i++) ok |= !strcmp(OPS[k].keys[i], key);
        if (ok) continue;
        char list[256] = "name, op, input, inputs";
        for (int i = 0; OPS[k].keys[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), ", %s", OPS[k].keys[i]);
        return FAIL(yaml_document_get_node(&ld->y->doc, p->key), "layer '%s': op %s does not take '%s' (it takes: %s)",
                    lname, OPS[k].name, key, list);
    }
    return DNAS_OK;
}

/* Parse one layer's attributes and infer its output shape. */
static dnas_status parse_layer(loader *ld, yaml_node_t *map, int idx) {
    train_net *net = ld->net;
    train_layer *L = &net->layers[idx];
    dnas_yaml *y = ld->y;
    dnas_status st;

    yaml_node_t *opn = dnas_yaml_get(y, map, "op");
    if (!opn) return FAIL(map, "layer '%s': missing 'op'", L->name);
    const char *ops = dnas_yaml_str(y, opn, "op", ld->err);
    if (!ops) return DNAS_ERR_CONFIG;
    int k = 0;
    while (k < NOPS && strcmp(OPS[k].name, ops)) k++;
    if (k == NOPS)
        return FAIL(opn, "layer '%s': unknown op '%s' (expected conv2d, conv1d, depthwise, linear, batchnorm, relu, relu6, maxpool, avgpool, global_avgpool, add, concat, flatten or dropout)",
                    L->name, ops);
    L->op = OPS[k].op;
    L->cap = OPS[k].cap;
    if ((st = check_op_keys(ld, map, k, L->name))) return st;
    if ((st = resolve_inputs(ld, map, idx))) return st;

    const train_layer *in = &net->layers[L->inputs[0]];
    int multi = L->op == TRAIN_OP_ADD || L->op == TRAIN_OP_CONCAT;
    if (!multi && L->ninputs != 1)
        return shape_fail(ld, L, "takes one input, %d given", L->ninputs);
    if (multi && L->ninputs < 2) return shape_fail(ld, L, "needs at least two inputs");
    int64_t c = in->c, h = in->h, w = in->w;
    L->kh = L->kw = L->sh = L->sw = L->dh = L->dw = 1;
    L->groups = 1;

    switch (L->op) {
    case TRAIN_OP_CONV: {
        conv_kind kind = OPS[k].kind;
        yaml_node_t *outn = dnas_yaml_get(y, map, "out");
        long cout = in->c;
        if (outn) {
            if ((st = dnas_yaml_int(y, outn, "out", 1, DIM_MAX, &cout, ld->err))) return st;
        } else if (kind != K_DEPTHWISE) {
            return FAIL(map, "layer '%s': missing 'out' (output channels)", L->name);
        }
        if (!dnas_yaml_get(y, map, "kernel")) return FAIL(map, "layer '%s': missing 'kernel'", L->name);
        if ((st = opt_pair(ld, map, "kernel", &L->kh, &L->kw, 1, 1, GEOM_MAX)) ||
            (st = opt_pair(ld, map, "stride", &L->sh, &L->sw, 1, 1, GEOM_MAX)) ||
            (st = opt_pair(ld, map, "dilation", &L->dh, &L->dw, 1, 1, GEOM_MAX)))
            return st;
        int ph, pw, same;
        if ((st = parse_padding(ld, map, &ph, &pw, &same))) return st;
        long groups = 1;
        yaml_node_t *gn = dnas_yaml_get(y, map, "groups");
        if (gn && (st = dnas_yaml_int(y, gn, "groups", 1, DIM_MAX, &groups, ld->err))) return st;
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
        if (in->c % groups || cout % groups)
            return shape_fail(ld, L, "groups %ld must divide input channels %d and output channels %ld",
                              groups, in->c, cout);
        L->groups = (int)groups;
        L->has_bias = 1;
        yaml_node_t *bn = dnas_yaml_get(y, map, "bias");
        if (bn && (st = dnas_yaml_bool(y, bn, "bias", &L->has_bias, ld->err))) return st;
        c = cout;
        if (same) {
            h = same_size(in->h, L->kh, L->sh, L->dh, &L->pt);
            w = same_size(in->w, L->kw, L->sw, L->dw, &L->pl);
            if (kind == K_CONV1D) L->pt = 0, h = 1;
            /* total padding minus the leading part */
            int64_t pb = (h - 1) * L->sh + (int64_t)L->dh * (L->kh - 1) + 1 - in->h - L->pt;
            int64_t pr = (w - 1) * L->sw + (int64_t)L->dw * (L->kw - 1) + 1 - in->w - L->pl;
            L->pb = pb < 0 ? 0 : (int)pb;
            L->pr = pr < 0 ? 0 : (int)pr;
        } else {
            L->pt = L->pb = ph;
            L->pl = L->pr = pw;
            h = out_size(in->h, L->kh, L->sh, L->dh, ph);
            w = out_size(in->w, L->kw, L->sw, L->dw, pw);
        }
        if (h < 1 || w < 1)
            return shape_fail(ld, L, "kernel %dx%d (dilation %dx%d) does not fit input %dx%d with padding %d,%d",
                              L->kh, L->kw, L->dh, L->dw, in->h, in->w, ph, pw);
        if ((st = check_shape(ld, L, c, h, w))) return st;
        int64_t wl;
        if (dnas_mul64((int64_t)L->c * (in->c / L->groups), (int64_t)L->kh * L->kw, &wl) || wl > SAMPLE_MAX)
            return shape_fail(ld, L, "%d x %d x %dx%d weights: more than %ld", L->c, in->c / L->groups, L->kh,
                              L->kw, SAMPLE_MAX);
        L->w_len = (size_t)wl;
        L->b_len = L->has_bias ? (size_t)L->c : 0;
        break;
    }
    case TRAIN_OP_LINEAR: {
        yaml_node_t *outn = dnas_yaml_get(y, map, "out");
        if (!outn) return FAIL(map, "layer '%s': missing 'out' (output features)", L->name);
        long cout;
        if ((st = dnas_yaml_int(y, outn, "out", 1, DIM_MAX, &cout, ld->err))) return st;
        L->has_bias = 1;
        yaml_node_t *bn = dnas_yaml_get(y, map, "bias");
        if (bn && (st = dnas_yaml_bool(y, bn, "bias", &L->has_bias, ld->err))) return st;
        int64_t wl = (int64_t)cout * in->c * in->h * in->w; /* < 2^24 * 2^31 */
        if (wl > SAMPLE_MAX)
            return shape_fail(ld, L, "%ld x %d inputs = %lld weights: more than %ld", cout, in->c * in->h * in->w,
                              (long long)wl, SAMPLE_MAX);
        L->w_len = (size_t)wl;
        L->b_len = L->has_bias ? (size_t)cout : 0;
        c = cout;
        h = w = 1;
        break;
    }
    case TRAIN_OP_BN:
        if ((st = opt_float(ld, map, "eps", &L->eps, 1e-5f, 0, 1, 1)) ||
            (st = opt_float(ld, map, "momentum", &L->momentum, 0.1f, 0, 1, 0)))
            return st;
        L->w_len = L->b_len = (size_t)c;
        break;
    case TRAIN_OP_MAXPOOL:
    case TRAIN_OP_AVGPOOL: {
        if (!dnas_yaml_get(y, map, "kernel")) return FAIL(map, "layer '%s': missing 'kernel'", L->name);
        if ((st = opt_pair(ld, map, "kernel", &L->kh, &L->kw, 1, 1, GEOM_MAX))) return st;
        if ((st = opt_pair(ld, map, "stride", &L->sh, &L->sw, 0, 1, GEOM_MAX))) return st;
        if (!dnas_yaml_get(y, map, "stride")) L->sh = L->kh, L->sw = L->kw;
        int ph, pw, same;
        if ((st = parse_padding(ld, map, &ph, &pw, &same))) return st;
        if (same) {
            h = same_size(in->h, L->kh, L->sh, 1, &L->pt);
            w = same_size(in->w, L->kw, L->sw, 1, &L->pl);
        } else {
            L->pt = ph;
            L->pl = pw;
            h = out_size(in->h, L->kh, L->sh, 1, ph);
            w = out_size(in->w, L->kw, L->sw, 1, pw);
        }
        if (h < 1 || w < 1)
            return shape_fail(ld, L, "pool %dx%d does not fit input %dx%d", L->kh, L->kw, in->h, in->w);
        break;
    }
    case TRAIN_OP_GAVGPOOL:
        h = w = 1;
        break;
    case TRAIN_OP_FLATTEN:
        c = (int64_t)in->c * in->h * in->w;
        h = w = 1;
        break;
    case TRAIN_OP_DROPOUT:
        if ((st = opt_float(ld, map, "p", &L->p, 0.5f, 0, 1, 0))) return st;
        if (L->p >= 1) return FAIL(dnas_yaml_get(y, map, "p"), "p: expected 0 <= p < 1");
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
            c += o->c;
        }
        break;
    case TRAIN_OP_RELU:
    case TRAIN_OP_INPUT:
    case TRAIN_OP_COUNT_:
        break;
    }
    return check_shape(ld, L, c, h, w);
}

static void add_param(train_net *net, int layer, const char *suffix, size_t off, size_t len) {
    train_param *p = &net->param_table[net->nparam_table++];
    snprintf(p->name, sizeof p->name, "%s.%s", net->layers[layer].name, suffix);
    p->layer = layer;
    p->off = off;
    p->len = len;
}

/* Carve params / grads / state out of single allocations, after checking
 * that parameters and gradients fit in memory (naming the largest layer). */
static dnas_status layout(loader *ld) {
    train_net *net = ld->net;
    size_t off = 0, soff = 0, big = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        off += L->w_len + L->b_len;
        if (L->w_len + L->b_len > net->layers[big].w_len + net->layers[big].b_len) big = (size_t)i;
    }
    char what[sizeof ld->y->path + TRAIN_NAME_LEN + 128];
    snprintf(what, sizeof what, "%s: the parameters and gradients (largest layer '%s')", ld->y->path,
             net->layers[big].name);
    dnas_status st = dnas_check_bytes((uint64_t)off * 2 * sizeof(float), what, ld->err);
    if (st) return st;
    off = 0;
    net->param_table = dnas_xcalloc((size_t)net->nlayers * 2, sizeof *net->param_table);
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
    net->params = dnas_xcalloc(off, sizeof(float));
    net->grads = dnas_xcalloc(off, sizeof(float));
    net->nstate = soff;
    net->state = dnas_xcalloc(soff, sizeof(float));
    return DNAS_OK;
}

static dnas_status load_doc(train_net **out, dnas_yaml *y, const char *path, dnas_error *err) {
    train_net *net = dnas_xcalloc(1, sizeof *net);
    loader ldv = {y, net, err, NULL}, *ld = &ldv;
    dnas_status st;
    if (strlen(path) >= sizeof net->path) {
        st = dnas_fail(err, DNAS_ERR_IO, "%s: path longer than %d characters", path,
                       (int)sizeof net->path - 1);
        goto fail;
    }
    snprintf(net->path, sizeof net->path, "%s", path);
    yaml_node_t *root = dnas_yaml_root(y);
    static const char *const TOP_KEYS[] = {"name", "input", "layers", "description", NULL};
    if ((st = dnas_yaml_check_keys(y, root, TOP_KEYS, "model", err))) goto fail;

    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(net->name, sizeof net->name, "%.*s", (int)strcspn(base, "."), base);
    yaml_node_t *nn = dnas_yaml_get(y, root, "name");
    if (nn) {
        const char *s = dnas_yaml_str(y, nn, "name", err);
        if (!s) { st = DNAS_ERR_CONFIG; goto fail; }
        if (strlen(s) >= sizeof net->name) {
            st = FAIL(nn, "name: expected at most %d characters", (int)sizeof net->name - 1);
            goto fail;
        }
        snprintf(net->name, sizeof net->name, "%s", s);
    }

    yaml_node_t *inn = dnas_yaml_get(y, root, "input");
    if (!inn) {
        st = FAIL(root, "missing 'input' (the sample shape [C, H, W])");
        goto fail;
    }
    if ((st = dnas_yaml_seq(y, inn, "input", 3, 3, NULL, err))) goto fail;
    long shape[3];
    for (int i = 0; i < 3; i++)
        if ((st = dnas_yaml_int(y, dnas_yaml_item(y, inn, i), "input", 1, DIM_MAX, &shape[i], err))) goto fail;
    yaml_node_t *layers = dnas_yaml_get(y, root, "layers");
    int n = 0;
    if (!layers) {
        st = FAIL(root, "missing 'layers' (a list of layers)");
        goto fail;
    }
    if ((st = dnas_yaml_seq(y, layers, "layers", 1, MAX_LAYERS, &n, err))) goto fail;
    net->nlayers = n + 1;
    net->layers = dnas_xcalloc((size_t)n + 1, sizeof *net->layers);
    train_layer *in = &net->layers[0];
    snprintf(in->name, sizeof in->name, "input");
    in->op = TRAIN_OP_INPUT;
    in->line = dnas_yaml_line(inn);
    if ((st = check_shape(ld, in, shape[0], shape[1], shape[2]))) goto fail;

    /* names first, so inputs can name any earlier layer */
    for (int i = 0; i < n; i++) {
        yaml_node_t *map = dnas_yaml_item(y, layers, i);
        train_layer *L = &net->layers[i + 1];
        if ((st = dnas_yaml_map(y, map, "layer", err))) goto fail;
        L->line = dnas_yaml_line(map);
        yaml_node_t *name = dnas_yaml_get(y, map, "name");
        if (!name) {
            st = FAIL(map, "layer %d: missing 'name'", i + 1);
            goto fail;
        }
        const char *s = dnas_yaml_str(y, name, "name", err);
        if (!s) { st = DNAS_ERR_CONFIG; goto fail; }
        if (strlen(s) >= TRAIN_NAME_LEN || !s[0]) {
            st = FAIL(name, "name '%.*s': expected 1..%d characters", TRAIN_NAME_LEN, s, TRAIN_NAME_LEN - 1);
            goto fail;
        }
        snprintf(L->name, sizeof L->name, "%s", s);
    }
    /* sorted by name: equal names are adjacent, in file order */
    ld->by_name = dnas_xmalloc((size_t)(n + 1) * sizeof *ld->by_name);
    for (int i = 0; i <= n; i++) ld->by_name[i] = i;
    sort_net = net;
    qsort(ld->by_name, (size_t)n + 1, sizeof *ld->by_name, cmp_by_name);
    int dup = 0;
    for (int i = 1; i <= n; i++) {
        const train_layer *a = &net->layers[ld->by_name[i - 1]], *b = &net->layers[ld->by_name[i]];
        if (!strcmp(a->name, b->name) && (!dup || b->line < net->layers[dup].line)) dup = ld->by_name[i];
    }
    if (dup) {
        int first = ld->by_name[0];
        for (int i = 0; i <= n; i++)
            if (!strcmp(net->layers[ld->by_name[i]].name, net->layers[dup].name)) {
                first = ld->by_name[i];
                break;
            }
        yaml_node_t *at = dnas_yaml_get(y, dnas_yaml_item(y, layers, dup - 1), "name");
        if (first == 0)
            st = FAIL(at, "layer name '%s' is reserved for the network input", net->layers[dup].name);
        else
            st = FAIL(at, "duplicate layer name '%s' (first at line %d)", net->layers[dup].name,
                      net->layers[first].line);
        goto fail;
    }
    for (int i = 0; i < n; i++)
        if ((st = parse_layer(ld, dnas_yaml_item(y, layers, i), i + 1))) goto fail;
    net->output = n;
    /* fuse BN -> ReLU pairs where the ReLU is the BN's only reader */
    int *readers = dnas_xcalloc((size_t)n + 1, sizeof *readers);
    for (int j = 1; j <= n; j++)
        for (int k = 0; k < net->layers[j].ninputs; k++) readers[net->layers[j].inputs[k]]++;
    for (int i = 1; i <= n; i++) {
        train_layer *L = &net->layers[i];
        if (L->op != TRAIN_OP_RELU || net->layers[L->inputs[0]].op != TRAIN_OP_BN) continue;
        int bn = L->inputs[0];
        if (readers[bn] == 1 && bn != net->output) {
            net->layers[bn].relu_next = i;
            L->bn_prev = bn;
        }
    }
    free(readers);
    if ((st = layout(ld))) goto fail;
    free(ld->by_name);
    *out = net;
    return DNAS_OK;
fail:
    free(ld->by_name);
    train_net_free(net);
    *out = NULL;
    return st;
}

dnas_status train_net_load(train_net **net, const char *path, dnas_error *err) {
    char *text;
    size_t len;
    *net = NULL;
    dnas_status st = dnas_read_file(path, DNAS_YAML_MAX_BYTES, &text, &len, err);
    if (st) return st;
    if (strlen(text) != len) /* a NUL byte: let the loader name its line */
        st = dnas_yaml_load_file(&(dnas_yaml){0}, path, err);
    else
        st = train_net_load_string(net, text, path, err);
    free(text);
    return st;
}

dnas_status train_net_load_string(train_net **net, const char *yaml, const char *path,
                                   dnas_error *err) {
    dnas_yaml y;
    *net = NULL;
    dnas_status st = dnas_yaml_load_string(&y, yaml, path, err);
    if (st) return st;
    st = load_doc(net, &y, path, err);
    dnas_yaml_free(&y);
    if (!st) {
        size_t n = strlen(yaml) + 1;
        (*net)->text = memcpy(dnas_xmalloc(n), yaml, n);
    }
    return st;
}
