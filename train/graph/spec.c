/* Model specs in memory: construction, attributes, freeing. */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

char *train_spec_strdup(const char *s) {
    DNAS_ASSERT(s); /* names, keys and texts are never NULL */
    size_t n = strlen(s) + 1;
    return memcpy(dnas_xmalloc(n), s, n);
}

train_spec *train_spec_new(const char *name, long c, long h, long w) {
    train_spec *s = dnas_xcalloc(1, sizeof *s);
    s->name = name ? train_spec_strdup(name) : NULL;
    s->c = c;
    s->h = h;
    s->w = w;
    return s;
}

static void free_value(train_spec_value *v) {
    free(v->text);
    for (int i = 0; i < v->nitems; i++) free_value(&v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

static void free_layer(train_spec_layer *l) {
    free(l->name);
    free(l->op);
    for (int i = 0; i < l->ninputs; i++) free(l->inputs[i]);
    free(l->inputs);
    free(l->input_lines);
    for (int i = 0; i < l->nattrs; i++) {
        free(l->attrs[i].key);
        free_value(&l->attrs[i].value);
    }
    free(l->attrs);
    free(l);
}

void train_spec_free(train_spec *s) {
    if (!s) return;
    for (int i = 0; i < s->nlayers; i++) free_layer(s->layers[i]);
    free(s->layers);
    free(s->name);
    free(s->description);
    free(s);
}

train_spec_layer *train_spec_add(train_spec *s, const char *name, const char *op) {
    if (s->nlayers == s->layers_cap) {
        s->layers_cap = s->layers_cap ? 2 * s->layers_cap : 8;
        s->layers = dnas_xrealloc(s->layers, (size_t)s->layers_cap * sizeof *s->layers);
    }
    train_spec_layer *l = dnas_xcalloc(1, sizeof *l);
    l->name = train_spec_strdup(name);
    l->op = op ? train_spec_strdup(op) : NULL;
    s->layers[s->nlayers++] = l;
    return l;
}

void train_spec_add_input(train_spec_layer *l, const char *name) {
    l->inputs = dnas_xrealloc(l->inputs, (size_t)(l->ninputs + 1) * sizeof *l->inputs);
    l->input_lines = dnas_xrealloc(l->input_lines, (size_t)(l->ninputs + 1) * sizeof *l->input_lines);
    l->inputs[l->ninputs] = train_spec_strdup(name);
    l->input_lines[l->ninputs++] = 0;
}

/* The value slot for key: the existing one emptied, or a new one. */
static train_spec_value *slot(train_spec_layer *l, const char *key) {
    for (int i = 0; i < l->nattrs; i++)
        if (!strcmp(l->attrs[i].key, key)) {
            free_value(&l->attrs[i].value);
            return &l->attrs[i].value;
        }
    l->attrs = dnas_xrealloc(l->attrs, (size_t)(l->nattrs + 1) * sizeof *l->attrs);
    train_spec_attr *a = &l->attrs[l->nattrs++];
    memset(a, 0, sizeof *a);
    a->key = train_spec_strdup(key);
    return &a->value;
}

void train_spec_set(train_spec_layer *l, const char *key, const char *text) {
    train_spec_value *v = slot(l, key);
    v->kind = TRAIN_SPEC_SCALAR;
    v->text = train_spec_strdup(text);
}

void train_spec_set_int(train_spec_layer *l, const char *key, long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    train_spec_set(l, key, buf);
}

void train_spec_set_ints(train_spec_layer *l, const char *key, const long *v, int n) {
    train_spec_value *out = slot(l, key);
    out->kind = TRAIN_SPEC_LIST;
    out->nitems = n;
    out->items = dnas_xcalloc((size_t)(n > 0 ? n : 1), sizeof *out->items);
    for (int i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%ld", v[i]);
        out->items[i].text = train_spec_strdup(buf);
    }
}

void train_spec_set_strs(train_spec_layer *l, const char *key, const char *const *v, int n) {
    train_spec_value *out = slot(l, key);
    out->kind = TRAIN_SPEC_LIST;
    out->nitems = n;
    out->items = dnas_xcalloc((size_t)(n > 0 ? n : 1), sizeof *out->items);
    for (int i = 0; i < n; i++)
        out->items[i].text = train_spec_strdup(v[i]);
}

void train_spec_set_pair(train_spec_layer *l, const char *key, long a, long b) {
    long v[2] = {a, b};
    train_spec_set_ints(l, key, v, 2);
}

void train_spec_set_float(train_spec_layer *l, const char *key, double v) {
    /* shortest %g that reads back (strtod, then to float, as the loader
     * does) as the same float: 1e-05 rather than 9.99999975e-06 */
    float f = (float)v;
    char buf[48];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        if ((float)strtod(buf, NULL) == f) break;
    }
    train_spec_set(l, key, buf);
}

void train_spec_set_bool(train_spec_layer *l, const char *key, int v) {
    train_spec_set(l, key, v ? "true" : "false");
}

const train_spec_value *train_spec_get(const train_spec_layer *l, const char *key) {
    for (int i = 0; i < l->nattrs; i++)
        if (!strcmp(l->attrs[i].key, key)) return &l->attrs[i].value;
    return NULL;
}

int train_spec_find(const train_spec *s, const char *name) {
    for (int i = 0; i < s->nlayers; i++)
        if (!strcmp(s->layers[i]->name, name)) return i;
    return -1;
}

void train_spec_name_inputs(train_spec *s) {
    for (int i = 0; i < s->nlayers; i++)
        if (s->layers[i]->ninputs == 0) train_spec_add_input(s->layers[i], i ? s->layers[i - 1]->name : "input");
}

void train_spec_rename_input(train_spec *s, const char *from, const char *to) {
    for (int i = 0; i < s->nlayers; i++) {
        train_spec_layer *l = s->layers[i];
        for (int j = 0; j < l->ninputs; j++)
            if (!strcmp(l->inputs[j], from)) {
                free(l->inputs[j]);
                l->inputs[j] = train_spec_strdup(to);
            }
    }
}

void train_spec_remove(train_spec *s, int i) {
    DNAS_ASSERT(i >= 0 && i < s->nlayers);
    free_layer(s->layers[i]);
    memmove(s->layers + i, s->layers + i + 1, (size_t)(s->nlayers - i - 1) * sizeof *s->layers);
    s->nlayers--;
}
