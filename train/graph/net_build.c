/* Spec -> train_net: resolve names and inputs, check each layer against
 * its op's descriptor (names, keys, input count), let the op parse its
 * attributes and infer its shape, then fuse and lay out the flat
 * parameter / state arrays. Model YAML goes through train_spec_load first.
 * Format: docs/models.md.
 *
 * Steps:
 * 1. the network: path, name, input shape, layer count;
 * 2. layer names (1..63 characters, unique, "input" reserved), sorted so a
 *    lookup is O(log n);
 * 3. per layer in order: op and variant, keys, inputs (earlier layers
 *    only), input count, then the op's build (attributes, shape, weights);
 * 4. BN -> ReLU fusion (train_net_fuse) and the parameter layout, after a memory
 *    check of parameters and gradients. */
#include <stdarg.h>
#include <string.h>

#include "graph_internal.h"

typedef struct {
    const train_spec *spec;
    const char *path;
    train_net *net;
    dnas_error *err;
    int *by_name; /* layer indices sorted by name (lookups in O(log n)) */
} builder;

static dnas_status fail(const builder *bd, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static dnas_status fail(const builder *bd, int line, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0) return dnas_fail(bd->err, DNAS_ERR_CONFIG, "%s:%d: %s", bd->path, line, msg);
    return dnas_fail(bd->err, DNAS_ERR_CONFIG, "%s: %s", bd->path, msg);
}

static const train_net *sort_net; /* qsort has no context argument */
static int cmp_by_name(const void *a, const void *b) {
    const train_layer *x = &sort_net->layers[*(const int *)a], *y = &sort_net->layers[*(const int *)b];
    int c = strcmp(x->name, y->name);
    return c ? c : (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* Index of the layer called name, or -1 (binary search over by_name). */
static int find_layer(const builder *bd, const char *name) {
    int lo = 0, hi = bd->net->nlayers - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(bd->net->layers[bd->by_name[mid]].name, name);
        if (!c) return bd->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Step 2: names checked, copied and sorted; duplicates named at the later one. */
static dnas_status names(builder *bd) {
    train_net *net = bd->net;
    int n = net->nlayers - 1;
    for (int i = 1; i <= n; i++) {
        const train_spec_layer *s = bd->spec->layers[i - 1];
        if (strlen(s->name) >= TRAIN_NAME_LEN || !s->name[0])
            return fail(bd, s->name_line, "name '%.*s': expected 1..%d characters", TRAIN_NAME_LEN, s->name,
                        TRAIN_NAME_LEN - 1);
        snprintf(net->layers[i].name, TRAIN_NAME_LEN, "%s", s->name);
        net->layers[i].line = s->line;
    }
    bd->by_name = dnas_xmalloc((size_t)(n + 1) * sizeof *bd->by_name);
    for (int i = 0; i <= n; i++) bd->by_name[i] = i;
    sort_net = net;
    qsort(bd->by_name, (size_t)n + 1, sizeof *bd->by_name, cmp_by_name);
    /* equal names are adjacent, in file order: the first repeat by line */
    int dup = 0;
    for (int i = 1; i <= n; i++) {
        const train_layer *a = &net->layers[bd->by_name[i - 1]], *b = &net->layers[bd->by_name[i]];
        if (!strcmp(a->name, b->name) && (!dup || bd->by_name[i] < dup)) dup = bd->by_name[i];
    }
    if (!dup) return DNAS_OK;
    const char *name = net->layers[dup].name;
    int first = dup;
    for (int i = 0; i <= n && first == dup; i++)
        if (!strcmp(net->layers[bd->by_name[i]].name, name)) first = bd->by_name[i];
    int at = bd->spec->layers[dup - 1]->name_line;
    if (first == 0) return fail(bd, at, "layer name '%s' is reserved for the network input", name);
    if (net->layers[first].line > 0)
        return fail(bd, at, "duplicate layer name '%s' (first at line %d)", name, net->layers[first].line);
    return fail(bd, at, "duplicate layer name '%s' (first is layer %d)", name, first);
}

/* Step 3a: the op's descriptor and variant; keys checked against the
 * variant's (an unknown key names the op and the keys it takes). */
static dnas_status find_op(builder *bd, const train_spec_layer *s, train_layer *L, int *variant) {
    if (!s->op) return fail(bd, s->line, "layer '%s': missing 'op'", L->name);
    for (int op = 1; op < TRAIN_OP_COUNT_; op++)
        for (int v = 0; v < TRAIN_OP_TABLE[op]->nvariants; v++)
            if (!strcmp(TRAIN_OP_TABLE[op]->variants[v].name, s->op)) {
                L->op = (train_op)op;
                L->variant = *variant = v;
                const char *const *keys = TRAIN_OP_TABLE[op]->variants[v].keys;
                for (int a = 0; a < s->nattrs; a++) {
                    int ok = 0;
                    for (int k = 0; keys[k] && !ok; k++) ok = !strcmp(keys[k], s->attrs[a].key);
                    if (ok) continue;
                    char list[256] = "name, op, input, inputs";
                    for (int k = 0; keys[k]; k++)
                        snprintf(list + strlen(list), sizeof list - strlen(list), ", %s", keys[k]);
                    return fail(bd, s->attrs[a].line, "layer '%s': op %s does not take '%s' (it takes: %s)",
                                L->name, s->op, s->attrs[a].key, list);
                }
                return DNAS_OK;
            }
    char list[512] = "";
    for (int op = 1; op < TRAIN_OP_COUNT_; op++)
        for (int v = 0; v < TRAIN_OP_TABLE[op]->nvariants; v++) {
            int last = op == TRAIN_OP_COUNT_ - 1 && v == TRAIN_OP_TABLE[op]->nvariants - 1;
            const char *sep = list[0] ? (last ? " or " : ", ") : "", *name = TRAIN_OP_TABLE[op]->variants[v].name;
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", sep, name);
        }
    return fail(bd, s->op_line, "layer '%s': unknown op '%s' (expected %s)", L->name, s->op, list);
}

/* Step 3b: input names to earlier layers; none given reads the layer before. */
static dnas_status resolve_inputs(builder *bd, const train_spec_layer *s, int idx) {
    train_layer *L = &bd->net->layers[idx];
    if (!s->ninputs) {
        L->ninputs = 1;
        L->inputs[0] = idx - 1;
        return DNAS_OK;
    }
    if (s->ninputs > TRAIN_MAX_INPUTS)
        return fail(bd, s->inputs_line, "inputs: at most %d inputs", TRAIN_MAX_INPUTS);
    L->ninputs = s->ninputs;
    for (int i = 0; i < s->ninputs; i++) {
        int j = find_layer(bd, s->inputs[i]), line = s->input_lines[i];
        if (j < 0)
            return fail(bd, line, "layer '%s' reads '%s': no layer of that name (or 'input')", L->name,
                        s->inputs[i]);
        if (j == idx) return fail(bd, line, "layer '%s' reads itself: expected an earlier layer", L->name);
        if (j > idx)
            return fail(bd, line,
                        "layer '%s' reads '%s', which is defined later (line %d): "
                        "list layers after their inputs",
                        L->name, s->inputs[i], bd->net->layers[j].line);
        L->inputs[i] = j;
    }
    return DNAS_OK;
}

static dnas_status build_layer(builder *bd, int idx) {
    const train_spec_layer *s = bd->spec->layers[idx - 1];
    train_layer *L = &bd->net->layers[idx];
    op_build b = {bd->path, bd->err, bd->net, s, 0};
    dnas_status st;
    if ((st = find_op(bd, s, L, &b.variant)) || (st = resolve_inputs(bd, s, idx))) return st;
    const op_desc *d = TRAIN_OP_TABLE[L->op];
    if (d->max_inputs == 1 && L->ninputs != 1)
        return train_op_shape_fail(&b, L, "takes one input, %d given", L->ninputs);
    if (L->ninputs < d->min_inputs) return train_op_shape_fail(&b, L, "needs at least two inputs");
    L->kh = L->kw = L->sh = L->sw = L->dh = L->dw = 1;
    L->groups = 1;
    return d->build(&b, L);
}

static void add_param(train_net *net, int layer, const char *suffix, size_t off, size_t len) {
    train_param *p = &net->param_table[net->nparam_table++];
    snprintf(p->name, sizeof p->name, "%s.%s", net->layers[layer].name, suffix);
    p->layer = layer;
    p->off = off;
    p->len = len;
}

/* Step 4: carve params / grads / state out of single allocations, after
 * checking that parameters and gradients fit in memory (naming the
 * largest layer). */
static dnas_status layout(builder *bd) {
    train_net *net = bd->net;
    size_t off = 0, soff = 0, big = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const train_layer *L = &net->layers[i];
        off += L->w_len + L->b_len;
        if (L->w_len + L->b_len > net->layers[big].w_len + net->layers[big].b_len) big = (size_t)i;
    }
    char what[4096 + TRAIN_NAME_LEN + 128];
    snprintf(what, sizeof what, "%s: the parameters and gradients (largest layer '%s')", bd->path,
             net->layers[big].name);
    dnas_status st = dnas_check_bytes((uint64_t)off * 2 * sizeof(float), what, bd->err);
    if (st) return st;
    off = 0;
    net->param_table = dnas_xcalloc((size_t)net->nlayers * 2, sizeof *net->param_table);
    for (int i = 0; i < net->nlayers; i++) {
        train_layer *L = &net->layers[i];
        const op_desc *d = TRAIN_OP_TABLE[L->op];
        if (L->w_len) {
            L->w_off = off;
            add_param(net, i, d->param_names[0], off, L->w_len);
            off += L->w_len;
        }
        if (L->b_len) {
            L->b_off = off;
            add_param(net, i, d->param_names[1], off, L->b_len);
            off += L->b_len;
        }
        if (d->state_floats) {
            L->state_off = soff;
            soff += d->state_floats(L);
        }
    }
    net->nparams = off;
    net->params = dnas_xcalloc(off, sizeof(float));
    net->grads = dnas_xcalloc(off, sizeof(float));
    net->nstate = soff;
    net->state = dnas_xcalloc(soff, sizeof(float));
    return DNAS_OK;
}

/* Step 1: path, name and input shape. */
static dnas_status network(builder *bd) {
    const train_spec *s = bd->spec;
    train_net *net = bd->net;
    if (strlen(bd->path) >= sizeof net->path)
        return dnas_fail(bd->err, DNAS_ERR_IO, "%s: path longer than %d characters", bd->path,
                         (int)sizeof net->path - 1);
    snprintf(net->path, sizeof net->path, "%s", bd->path);
    if (s->name) {
        if (strlen(s->name) >= sizeof net->name)
            return fail(bd, s->name_line, "name: expected at most %d characters", (int)sizeof net->name - 1);
        snprintf(net->name, sizeof net->name, "%s", s->name);
    } else {
        const char *base = strrchr(bd->path, '/');
        base = base ? base + 1 : bd->path;
        snprintf(net->name, sizeof net->name, "%.*s", (int)strcspn(base, "."), base);
    }
    if (s->c < 1 || s->h < 1 || s->w < 1 || s->c > DIM_MAX || s->h > DIM_MAX || s->w > DIM_MAX)
        return fail(bd, s->input_line, "input: expected C, H, W in 1..%ld, found (%ld, %ld, %ld)", DIM_MAX,
                    s->c, s->h, s->w);
    if (s->nlayers < 1 || s->nlayers > MAX_LAYERS)
        return fail(bd, 0, "layers: expected a list of 1..%d items, found %d", MAX_LAYERS, s->nlayers);
    net->nlayers = s->nlayers + 1;
    net->layers = dnas_xcalloc((size_t)net->nlayers, sizeof *net->layers);
    train_layer *in = &net->layers[0];
    snprintf(in->name, sizeof in->name, "input");
    in->op = TRAIN_OP_INPUT;
    in->line = s->input_line;
    op_build b = {bd->path, bd->err, net, NULL, 0};
    return train_op_set_shape(&b, in, s->c, s->h, s->w);
}

static dnas_status build(train_net **out, const train_spec *spec, const char *path, dnas_error *err) {
    builder bd = {spec, path, dnas_xcalloc(1, sizeof(train_net)), err, NULL};
    dnas_status st = network(&bd);
    if (!st) st = names(&bd);
    for (int i = 1; !st && i < bd.net->nlayers; i++) st = build_layer(&bd, i);
    if (!st) {
        bd.net->output = bd.net->nlayers - 1;
        train_net_fuse(bd.net);
        st = layout(&bd);
    }
    free(bd.by_name);
    if (st) {
        train_net_free(bd.net);
        bd.net = NULL;
    }
    *out = bd.net;
    return st;
}

dnas_status train_net_build(train_net **net, const train_spec *spec, const char *path, dnas_error *err) {
    dnas_status st = build(net, spec, path, err);
    if (!st) (*net)->text = train_spec_to_yaml(spec);
    return st;
}

dnas_status train_net_load(train_net **net, const char *path, dnas_error *err) {
    char *text;
    *net = NULL;
    dnas_status st = dnas_read_text(path, DNAS_YAML_MAX_BYTES, &text, err);
    if (st) return st;
    st = train_net_load_string(net, text, path, err);
    free(text);
    return st;
}

dnas_status train_net_load_string(train_net **net, const char *yaml, const char *path, dnas_error *err) {
    train_spec *spec;
    *net = NULL;
    dnas_status st = train_spec_load_string(&spec, yaml, path, err);
    if (st) return st;
    st = build(net, spec, path, err);
    train_spec_free(spec);
    if (!st) {
        size_t n = strlen(yaml) + 1;
        (*net)->text = memcpy(dnas_xmalloc(n), yaml, n);
    }
    return st;
}
