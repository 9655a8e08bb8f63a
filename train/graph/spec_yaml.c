/* Model YAML <-> spec. The reader checks what a spec cannot hold (the
 * document's structure, names, the form of op / input / inputs) and copies
 * every attribute as text with its line; train_net_build checks the rest.
 * The writer emits one flow mapping per layer. */
#include <string.h>

#include "graph_internal.h"

typedef struct {
    dnas_yaml *y;
    dnas_error *err;
    train_spec *s;
    size_t budget; /* values that may still be copied (aliases repeat them) */
    int line;      /* of the layer being read, for the budget's message */
} reader;

#define FAIL(node, ...) dnas_yaml_fail(rd->y, node, rd->err, __VA_ARGS__)

/* One more value copied; an error once the aliases have repeated too many. */
static dnas_status spend(reader *rd) {
    if (rd->budget) {
        rd->budget--;
        return DNAS_OK;
    }
    return dnas_fail(rd->err, DNAS_ERR_CONFIG,
                     "%s:%d: the aliases in this file repeat more values than it holds: expected at most "
                     "65536 more than its %zu nodes",
                     rd->y->path, rd->line, (size_t)(rd->y->doc.nodes.top - rd->y->doc.nodes.start));
}

/* Copies node n into v. The event scan bounded the file's nesting, but an
 * alias inside its own anchor's list makes a cycle: depth bounds it. */
static dnas_status copy_value(reader *rd, yaml_node_t *n, train_spec_value *v, int depth) {
    dnas_status st = spend(rd);
    if (st) return st;
    v->line = dnas_yaml_line(n);
    if (depth > DNAS_YAML_MAX_DEPTH)
        return FAIL(n, "nested deeper than %d levels (an alias inside its own anchor?)", DNAS_YAML_MAX_DEPTH);
    if (n->type == YAML_SCALAR_NODE) {
        v->kind = TRAIN_SPEC_SCALAR;
        v->text = train_spec_strdup((const char *)n->data.scalar.value);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        int k = dnas_yaml_len(n);
        v->kind = TRAIN_SPEC_LIST;
        v->items = dnas_xcalloc((size_t)(k ? k : 1), sizeof *v->items);
        for (int i = 0; i < k; i++) {
            st = copy_value(rd, dnas_yaml_item(rd->y, n, i), &v->items[i], depth + 1);
            v->nitems = i + 1; /* what is copied gets freed on failure */
            if (st) return st;
        }
    } else {
        v->kind = TRAIN_SPEC_MAP;
    }
    return DNAS_OK;
}

/* input: NAME or inputs: [A, B, ...] into l. */
static dnas_status read_inputs(reader *rd, yaml_node_t *map, train_spec_layer *l) {
    yaml_node_t *one = dnas_yaml_get(rd->y, map, "input");
    yaml_node_t *many = dnas_yaml_get(rd->y, map, "inputs");
    if (one && many) return FAIL(one, "layer '%s': give either input or inputs, not both", l->name);
    if (!one && !many) return DNAS_OK;
    int n = one ? 1 : dnas_yaml_len(many);
    if (many && (many->type != YAML_SEQUENCE_NODE || n < 1))
        return FAIL(many, "inputs: expected a list of layer names");
    l->inputs_line = dnas_yaml_line(one ? one : many);
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = one ? one : dnas_yaml_item(rd->y, many, i);
        const char *s = dnas_yaml_str(rd->y, item, "input", rd->err);
        if (!s) return DNAS_ERR_CONFIG;
        dnas_status st = spend(rd);
        if (st) return st;
        train_spec_add_input(l, s);
        l->input_lines[l->ninputs - 1] = dnas_yaml_line(item);
    }
    return DNAS_OK;
}

static dnas_status read_layer(reader *rd, yaml_node_t *map, int i) {
    dnas_yaml *y = rd->y;
    dnas_status st;
    if ((st = dnas_yaml_map(y, map, "layer", rd->err))) return st;
    rd->line = dnas_yaml_line(map);
    if ((st = spend(rd))) return st;
    yaml_node_t *name = dnas_yaml_get(y, map, "name");
    if (!name) return FAIL(map, "layer %d: missing 'name'", i + 1);
    const char *s = dnas_yaml_str(y, name, "name", rd->err);
    if (!s) return DNAS_ERR_CONFIG;
    if (strlen(s) >= TRAIN_NAME_LEN || !s[0])
        return FAIL(name, "name '%.*s': expected 1..%d characters", TRAIN_NAME_LEN, s, TRAIN_NAME_LEN - 1);
    yaml_node_t *opn = dnas_yaml_get(y, map, "op");
    const char *op = NULL;
    if (opn && !(op = dnas_yaml_str(y, opn, "op", rd->err))) return DNAS_ERR_CONFIG;
    train_spec_layer *l = train_spec_add(rd->s, s, op);
    l->line = rd->line;
    l->name_line = dnas_yaml_line(name);
    l->op_line = dnas_yaml_line(opn);
    if ((st = read_inputs(rd, map, l))) return st;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *key = dnas_yaml_key(y, p);
        if (!strcmp(key, "name") || !strcmp(key, "op") || !strcmp(key, "input") || !strcmp(key, "inputs"))
            continue;
        l->attrs = dnas_xrealloc(l->attrs, (size_t)(l->nattrs + 1) * sizeof *l->attrs);
        train_spec_attr *a = &l->attrs[l->nattrs++];
        memset(a, 0, sizeof *a);
        a->key = train_spec_strdup(key);
        a->line = dnas_yaml_line(yaml_document_get_node(&y->doc, p->key));
        if ((st = copy_value(rd, yaml_document_get_node(&y->doc, p->value), &a->value, 1))) return st;
    }
    return DNAS_OK;
}

static dnas_status read_doc(reader *rd) {
    dnas_yaml *y = rd->y;
    dnas_status st;
    yaml_node_t *root = dnas_yaml_root(y);
    static const char *const TOP_KEYS[] = {"name", "input", "layers", "description", NULL};
    if ((st = dnas_yaml_check_keys(y, root, TOP_KEYS, "model", rd->err))) return st;
    train_spec *s = rd->s;
    yaml_node_t *nn = dnas_yaml_get(y, root, "name");
    if (nn) {
        const char *name = dnas_yaml_str(y, nn, "name", rd->err);
        if (!name) return DNAS_ERR_CONFIG;
        if (strlen(name) >= TRAIN_NAME_LEN)
            return FAIL(nn, "name: expected at most %d characters", TRAIN_NAME_LEN - 1);
        s->name = train_spec_strdup(name);
        s->name_line = dnas_yaml_line(nn);
    }
    yaml_node_t *dn = dnas_yaml_get(y, root, "description");
    if (dn && dn->type == YAML_SCALAR_NODE) s->description = train_spec_strdup((const char *)dn->data.scalar.value);

    yaml_node_t *inn = dnas_yaml_get(y, root, "input");
    if (!inn) return FAIL(root, "missing 'input' (the sample shape [C, H, W])");
    if ((st = dnas_yaml_seq(y, inn, "input", 3, 3, NULL, rd->err))) return st;
    long shape[3];
    for (int i = 0; i < 3; i++)
        if ((st = dnas_yaml_int(y, dnas_yaml_item(y, inn, i), "input", 1, DIM_MAX, &shape[i], rd->err)))
            return st;
    s->c = shape[0];
    s->h = shape[1];
    s->w = shape[2];
    s->input_line = dnas_yaml_line(inn);
    yaml_node_t *layers = dnas_yaml_get(y, root, "layers");
    int n = 0;
    if (!layers) return FAIL(root, "missing 'layers' (a list of layers)");
    if ((st = dnas_yaml_seq(y, layers, "layers", 1, MAX_LAYERS, &n, rd->err))) return st;
    for (int i = 0; i < n; i++)
        if ((st = read_layer(rd, dnas_yaml_item(y, layers, i), i))) return st;
    return DNAS_OK;
}

dnas_status train_spec_load_string(train_spec **out, const char *yaml, const char *path, dnas_error *err) {
    dnas_yaml y;
    *out = NULL;
    dnas_status st = dnas_yaml_load_string(&y, yaml, path, err);
    if (st) return st;
    reader rd = {&y, err, train_spec_new(NULL, 0, 0, 0), 0, 0};
    rd.budget = (size_t)(y.doc.nodes.top - y.doc.nodes.start) + 65536;
    st = read_doc(&rd);
    dnas_yaml_free(&y);
    if (st)
        train_spec_free(rd.s);
    else
        *out = rd.s;
    return st;
}

dnas_status train_spec_load(train_spec **out, const char *path, dnas_error *err) {
    char *text;
    *out = NULL;
    dnas_status st = dnas_read_text(path, DNAS_YAML_MAX_BYTES, &text, err);
    if (st) return st;
    st = train_spec_load_string(out, text, path, err);
    free(text);
    return st;
}

/* ---- writer ------------------------------------------------------------------ */

/* A scalar YAML reads back as the same text without quotes: letters,
 * digits, '_', '.', and '+' / '-' after the first character or before a
 * digit or '.' (numbers). Anything else is double-quoted. */
static int plain_ok(const char *s) {
    if (!*s) return 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        int sign = c == '+' || c == '-';
        if (p == s && (sign || c == '.')) {
            unsigned char d = (unsigned char)p[1];
            if (!((d >= '0' && d <= '9') || (d == '.' && c != '.'))) return 0;
        } else if (!word && !sign && c != '.') {
            return 0;
        }
    }
    return 1;
}

static void put_scalar(FILE *f, const char *s) {
    if (plain_ok(s)) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f); /* UTF-8 bytes as they are */
    }
    fputc('"', f);
}

static void put_value(FILE *f, const train_spec_value *v) {
    if (v->kind == TRAIN_SPEC_SCALAR) {
        put_scalar(f, v->text);
    } else if (v->kind == TRAIN_SPEC_LIST) {
        fputc('[', f);
        for (int i = 0; i < v->nitems; i++) {
            if (i) fputs(", ", f);
            put_value(f, &v->items[i]);
        }
        fputc(']', f);
    } else {
        fputs("{}", f);
    }
}

int train_spec_write_yaml(FILE *f, const train_spec *s) {
    if (s->name) {
        fputs("name: ", f);
        put_scalar(f, s->name);
        fputc('\n', f);
    }
    if (s->description) {
        fputs("description: ", f);
        put_scalar(f, s->description);
        fputc('\n', f);
    }
    fprintf(f, "input: [%ld, %ld, %ld]\nlayers:\n", s->c, s->h, s->w);
    for (int i = 0; i < s->nlayers; i++) {
        const train_spec_layer *l = s->layers[i];
        fputs("  - {name: ", f);
        put_scalar(f, l->name);
        if (l->op) {
            fputs(", op: ", f);
            put_scalar(f, l->op);
        }
        if (l->ninputs == 1) {
            fputs(", input: ", f);
            put_scalar(f, l->inputs[0]);
        } else if (l->ninputs > 1) {
            fputs(", inputs: [", f);
            for (int k = 0; k < l->ninputs; k++) {
                if (k) fputs(", ", f);
                put_scalar(f, l->inputs[k]);
            }
            fputc(']', f);
        }
        for (int k = 0; k < l->nattrs; k++) {
            fputs(", ", f);
            put_scalar(f, l->attrs[k].key);
            fputs(": ", f);
            put_value(f, &l->attrs[k].value);
        }
        fputs("}\n", f);
    }
    return ferror(f) ? -1 : 0;
}

char *train_spec_to_yaml(const train_spec *s) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    DNAS_ASSERT(f);
    int bad = train_spec_write_yaml(f, s);
    bad |= fclose(f);
    DNAS_ASSERT(!bad && buf);
    return buf;
}
