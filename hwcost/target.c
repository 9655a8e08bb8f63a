/* Target descriptions: configs/targets/<name>.yaml -> hwcost_target.
 * Format in docs/hwcost.md. Every error names the file and the line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "internal.h"

typedef struct {
    yaml_document_t doc;
    const char *path;
    dnas_error *err;
} ydoc;

static int line_of(const yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 0; }

static yaml_node_t *get(ydoc *y, yaml_node_t *map, const char *key) {
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return yaml_document_get_node(&y->doc, p->value);
    }
    return NULL;
}

static int seq_len(const yaml_node_t *n) {
    return n && n->type == YAML_SEQUENCE_NODE
               ? (int)(n->data.sequence.items.top - n->data.sequence.items.start)
               : 0;
}

static yaml_node_t *seq_item(ydoc *y, yaml_node_t *n, int i) {
    return yaml_document_get_node(&y->doc, n->data.sequence.items.start[i]);
}

/* "<file>:<line>: <message>" for node n, as DNAS_ERR_CONFIG. */
__attribute__((format(printf, 3, 4))) static dnas_status failn(ydoc *y, const yaml_node_t *n,
                                                                 const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return dnas_fail(y->err, DNAS_ERR_CONFIG, "%s:%d: %s", y->path, line_of(n), what);
}

/* A required (or optional when `opt`) key of a mapping. */
static dnas_status need(ydoc *y, yaml_node_t *map, const char *key, const char *where, yaml_node_t **out,
                          int opt) {
    *out = get(y, map, key);
    if (!*out && !opt) return failn(y, map, "%s: missing '%s'", where, key);
    return DNAS_OK;
}

static dnas_status str_of(ydoc *y, yaml_node_t *n, const char *what, const char **s) {
    *s = "";
    if (!n || n->type != YAML_SCALAR_NODE) return failn(y, n, "%s: expected a string", what);
    *s = (const char *)n->data.scalar.value;
    return DNAS_OK;
}

static dnas_status num_of(ydoc *y, yaml_node_t *n, const char *what, double *v) {
    const char *s = "";
    if (str_of(y, n, what, &s)) return failn(y, n, "%s: expected a number", what);
    char *end;
    *v = strtod(s, &end);
    if (end == s || *end) return failn(y, n, "%s: expected a number, got '%s'", what, s);
    return DNAS_OK;
}

static dnas_status name_of(ydoc *y, yaml_node_t *n, const char *what, char *dst) {
    const char *s = "";
    dnas_status st = str_of(y, n, what, &s);
    if (st) return st;
    if (strlen(s) >= HWCOST_NAME_LEN) return failn(y, n, "%s: name '%s' too long", what, s);
    strcpy(dst, s);
    return DNAS_OK;
}

static dnas_status check_keys(ydoc *y, yaml_node_t *map, const char *const *allowed, const char *where) {
    if (!map || map->type != YAML_MAPPING_NODE) return failn(y, map, "%s: expected a mapping", where);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
        const char *ks = k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?";
        int ok = 0;
        for (int i = 0; allowed[i]; i++) ok |= !strcmp(allowed[i], ks);
        if (!ok) return failn(y, k, "%s: unknown key '%s'", where, ks);
    }
    /* every section says where its constants come from */
    if (!get(y, map, "source"))
        return failn(y, map, "%s: missing 'source' (where the constants come from)", where);
    return DNAS_OK;
}

/* A sequence of numbers into v[0..max). */
static dnas_status num_list(ydoc *y, yaml_node_t *n, const char *what, double *v, int *count, int max) {
    int len = seq_len(n);
    if (len < 1 || len > max) return failn(y, n, "%s: expected a list of 1..%d numbers", what, max);
    for (int i = 0; i < len; i++)
        if (num_of(y, seq_item(y, n, i), what, &v[i])) return DNAS_ERR_CONFIG;
    *count = len;
    return DNAS_OK;
}

/* A mapping of name: number into named[]. */
static dnas_status named_map(ydoc *y, yaml_node_t *n, const char *what, hwcost_named *v, int *count) {
    *count = 0;
    if (!n) return DNAS_OK;
    if (n->type != YAML_MAPPING_NODE) return failn(y, n, "%s: expected a mapping of name: number", what);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        if (*count == HWCOST_MAX_PARAMS) return failn(y, n, "%s: too many entries", what);
        hwcost_named *e = &v[(*count)++];
        if (name_of(y, yaml_document_get_node(&y->doc, p->key), what, e->name)) return DNAS_ERR_CONFIG;
        if (num_of(y, yaml_document_get_node(&y->doc, p->value), what, &e->value)) return DNAS_ERR_CONFIG;
    }
    return DNAS_OK;
}

static const char *const HOLD_NAMES[] = {"network_weights", "network_activations", "layer_weights",
                                         "layer_activations", NULL};

static dnas_status parse_memory(ydoc *y, yaml_node_t *n, hwcost_memory *m, yaml_node_t **connects,
                                  yaml_node_t **engine) {
    static const char *const keys[] = {"name",   "bytes", "connects", "holds",
                                       "engine", "tiled", "source",   NULL};
    if (check_keys(y, n, keys, "memory level")) return DNAS_ERR_CONFIG;
    yaml_node_t *v;
    memset(m, 0, sizeof *m);
    m->line = line_of(n);
    m->engine = -1;
    if (need(y, n, "name", "memory level", &v, 0) || name_of(y, v, "memory name", m->name))
        return DNAS_ERR_CONFIG;
    if (need(y, n, "bytes", m->name, &v, 0) || num_of(y, v, "bytes", &m->bytes)) return DNAS_ERR_CONFIG;
    if (!(m->bytes > 0)) return failn(y, v, "memory '%s': bytes must be > 0", m->name);
    *connects = get(y, n, "connects");
    *engine = get(y, n, "engine");
    if ((v = get(y, n, "tiled"))) {
        const char *s = "";
        if (str_of(y, v, "tiled", &s)) return DNAS_ERR_CONFIG;
        m->tiled = !strcmp(s, "true");
    }
    yaml_node_t *h = get(y, n, "holds");
    for (int i = 0; i < seq_len(h); i++) {
        const char *s = "";
        if (str_of(y, seq_item(y, h, i), "holds", &s)) return DNAS_ERR_CONFIG;
        int b = -1;
        for (int j = 0; HOLD_NAMES[j]; j++)
            if (!strcmp(HOLD_NAMES[j], s)) b = j;
        if (b < 0)
            return failn(y, seq_item(y, h, i),
                         "memory '%s': holds '%s': expected network_weights, network_activations, "
                         "layer_weights or layer_activations",
                         m->name, s);
        m->holds |= 1u << b;
    }
    return DNAS_OK;
}

static dnas_status parse_engine(ydoc *y, yaml_node_t *n, hwcost_engine *e) {
    static const char *const keys[] = {
        "name",    "latency_model",       "ops",         "grouped", "weight_bits",    "act_bits",
        "power_w", "peak_macs_per_cycle", "granularity", "params",  "macs_per_cycle", "source",
        NULL};
    if (check_keys(y, n, keys, "engine")) return DNAS_ERR_CONFIG;
    yaml_node_t *v;
    memset(e, 0, sizeof *e);
    e->line = line_of(n);
    if (need(y, n, "name", "engine", &v, 0) || name_of(y, v, "engine name", e->name))
        return DNAS_ERR_CONFIG;
    const char *model = "";
    if (need(y, n, "latency_model", e->name, &v, 0) || str_of(y, v, "latency_model", &model))
        return DNAS_ERR_CONFIG;
    e->model = -1;
    for (int i = 0; i < HWCOST_NLATENCY_MODELS; i++)
        if (!strcmp(HWCOST_LATENCY_MODELS[i]->name, model)) e->model = i;
    if (e->model < 0) {
        char known[256] = "";
        for (int i = 0; i < HWCOST_NLATENCY_MODELS; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     HWCOST_LATENCY_MODELS[i]->name);
        return failn(y, v, "latency_model '%s' unknown (registered: %s)", model, known);
    }
    if (need(y, n, "ops", e->name, &v, 0)) return DNAS_ERR_CONFIG;
    for (int i = 0; i < seq_len(v); i++) {
        const char *s = "";
        if (str_of(y, seq_item(y, v, i), "ops", &s)) return DNAS_ERR_CONFIG;
        int k = -1;
        for (int j = 0; j < HWCOST_KIND_COUNT_; j++)
            if (!strcmp(hwcost_kind_name((hwcost_kind)j), s)) k = j;
        if (k < 0)
            return failn(y, seq_item(y, v, i), "ops: '%s' unknown (conv, depthwise, linear, add, pool)", s);
        e->ops |= 1u << k;
    }
    if (!e->ops) return failn(y, v, "engine '%s': ops: expected a non-empty list", e->name);
    const char *g = "true";
    if ((v = get(y, n, "grouped")) && str_of(y, v, "grouped", &g)) return DNAS_ERR_CONFIG;
    e->grouped = strcmp(g, "false") != 0;
    if (need(y, n, "weight_bits", e->name, &v, 0) ||
        num_list(y, v, "weight_bits", e->wbits, &e->nwbits, HWCOST_MAX_PREC))
        return DNAS_ERR_CONFIG;
    if (need(y, n, "act_bits", e->name, &v, 0) ||
        num_list(y, v, "act_bits", e->abits, &e->nabits, HWCOST_MAX_PREC))
        return DNAS_ERR_CONFIG;
    if (need(y, n, "power_w", e->name, &v, 0) || num_of(y, v, "power_w", &e->power_w))
        return DNAS_ERR_CONFIG;
    if ((v = get(y, n, "peak_macs_per_cycle")) &&
        num_of(y, v, "peak_macs_per_cycle", &e->peak_macs_per_cycle))
        return DNAS_ERR_CONFIG;
    if (named_map(y, get(y, n, "granularity"), "granularity", e->gran, &e->ngran)) return DNAS_ERR_CONFIG;
    if (named_map(y, get(y, n, "params"), "params", e->params, &e->nparams)) return DNAS_ERR_CONFIG;
    if ((v = get(y, n, "macs_per_cycle"))) {
        int len = seq_len(v);
        if (len < 1 || len > HWCOST_MAX_TABLE)
            return failn(y, v, "macs_per_cycle: expected a list of [a_bits, w_bits, MAC/cycle]");
        for (int i = 0; i < len; i++) {
            yaml_node_t *row = seq_item(y, v, i);
            double r[3];
            int cnt = 0;
            if (seq_len(row) != 3 || num_list(y, row, "macs_per_cycle row", r, &cnt, 3))
                return failn(y, row, "macs_per_cycle: expected [a_bits, w_bits, MAC/cycle]");
            if (!(r[2] > 0)) return failn(y, row, "macs_per_cycle: MAC/cycle must be > 0");
            e->mpc[i] = (hwcost_mpc){r[0], r[1], r[2]};
        }
        e->nmpc = len;
    }
    const hwcost_latency_model *lm = HWCOST_LATENCY_MODELS[e->model];
    if (lm->needs_table && !e->nmpc)
        return failn(y, n, "engine '%s': latency_model %s needs a macs_per_cycle table", e->name, lm->name);
    for (int i = 0; lm->params && lm->params[i]; i++) {
        int found = 0;
        for (int j = 0; j < e->nparams; j++) found |= !strcmp(e->params[j].name, lm->params[i]);
        if (!found) return failn(y, n, "engine '%s': params: missing '%s'", e->name, lm->params[i]);
    }
    return DNAS_OK;
}

static dnas_status resolve_names(ydoc *y, yaml_node_t *list, const hwcost_target *t, int memory, int *idx,
                                   int *count, int max) {
    *count = 0;
    if (!list) return DNAS_OK;
    int len = seq_len(list);
    if (len > max || list->type != YAML_SEQUENCE_NODE) return failn(y, list, "expected a list of names");
    for (int i = 0; i < len; i++) {
        const char *s = "";
        if (str_of(y, seq_item(y, list, i), "name", &s)) return DNAS_ERR_CONFIG;
        int k = memory ? hwcost_target_memory(t, s) : hwcost_target_engine(t, s);
        if (k < 0)
            return failn(y, seq_item(y, list, i), "%s '%s' not defined in this file",
                         memory ? "memory level" : "engine", s);
        idx[(*count)++] = k;
    }
    return DNAS_OK;
}

static dnas_status parse_target(ydoc *y, hwcost_target *t) {
    static const char *const keys[] = {"name",    "description", "clock_hz", "memory",
                                       "engines", "parallel",    "source",   NULL};
    yaml_node_t *root = yaml_document_get_root_node(&y->doc), *v;
    if (!root) return failn(y, NULL, "empty target file");
    if (check_keys(y, root, keys, "target")) return DNAS_ERR_CONFIG;
    if (need(y, root, "name", "target", &v, 0) || name_of(y, v, "target name", t->name))
        return DNAS_ERR_CONFIG;
    if (need(y, root, "clock_hz", "target", &v, 0) || num_of(y, v, "clock_hz", &t->clock_hz))
        return DNAS_ERR_CONFIG;
    if (!(t->clock_hz > 0)) return failn(y, v, "clock_hz must be > 0");

    yaml_node_t *mem, *eng;
    if (need(y, root, "memory", "target", &mem, 0) || need(y, root, "engines", "target", &eng, 0))
        return DNAS_ERR_CONFIG;
    t->nmem = seq_len(mem);
    t->nengines = seq_len(eng);
    if (t->nmem < 1 || t->nmem > HWCOST_MAX_MEM)
        return failn(y, mem, "memory: expected a list of 1..8 levels");
    yaml_node_t *connects[HWCOST_MAX_MEM], *mengine[HWCOST_MAX_MEM];
    for (int i = 0; i < t->nmem; i++)
        if (parse_memory(y, seq_item(y, mem, i), &t->mem[i], &connects[i], &mengine[i]))
            return DNAS_ERR_CONFIG;
    if (t->nengines < 1 || t->nengines > HWCOST_MAX_ENGINES)
        return failn(y, eng, "engines: expected a list of 1..4 engines");
    for (int i = 0; i < t->nengines; i++)
        if (parse_engine(y, seq_item(y, eng, i), &t->engines[i])) return DNAS_ERR_CONFIG;
    for (int i = 0; i < t->nmem; i++) {
        if (resolve_names(y, connects[i], t, 1, t->mem[i].connects, &t->mem[i].nconnects, HWCOST_MAX_MEM))
            return DNAS_ERR_CONFIG;
        if (mengine[i]) {
            const char *s = "";
            if (str_of(y, mengine[i], "engine", &s)) return DNAS_ERR_CONFIG;
            if ((t->mem[i].engine = hwcost_target_engine(t, s)) < 0)
                return failn(y, mengine[i], "engine '%s' not defined in this file", s);
        }
    }
    yaml_node_t *par = get(y, root, "parallel");
    t->smooth_max_tau = 1;
    if (par) {
        static const char *const pkeys[] = {"engines", "power_w", "smooth_max_tau_cycles", "source", NULL};
        if (check_keys(y, par, pkeys, "parallel")) return DNAS_ERR_CONFIG;
        if (need(y, par, "engines", "parallel", &v, 0) ||
            resolve_names(y, v, t, 0, t->parallel, &t->nparallel, HWCOST_MAX_ENGINES))
            return DNAS_ERR_CONFIG;
        if (t->nparallel < 2) return failn(y, v, "parallel: expected at least two engines");
        if (need(y, par, "power_w", "parallel", &v, 0) || num_of(y, v, "power_w", &t->parallel_power_w))
            return DNAS_ERR_CONFIG;
        if ((v = get(y, par, "smooth_max_tau_cycles")) &&
            num_of(y, v, "smooth_max_tau_cycles", &t->smooth_max_tau))
            return DNAS_ERR_CONFIG;
        if (!(t->smooth_max_tau > 0)) return failn(y, v, "smooth_max_tau_cycles must be > 0");
    }
    return DNAS_OK;
}

static dnas_status load(hwcost_target *t, yaml_parser_t *parser, const char *path, dnas_error *err) {
    ydoc y;
    y.path = path;
    y.err = err;
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    if (!yaml_parser_load(parser, &y.doc))
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s:%d:%d: YAML syntax error: %s", path,
                           (int)parser->problem_mark.line + 1, (int)parser->problem_mark.column + 1,
                           parser->problem ? parser->problem : "?");
    dnas_status st = parse_target(&y, t);
    yaml_document_delete(&y.doc);
    return st;
}

dnas_status hwcost_target_load_string(hwcost_target *t, const char *yaml, const char *path,
                                        dnas_error *err) {
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, strlen(yaml));
    dnas_status st = load(t, &parser, path, err);
    yaml_parser_delete(&parser);
    return st;
}

dnas_status hwcost_target_load(hwcost_target *t, const char *path, dnas_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open target file", path);
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    dnas_status st = load(t, &parser, path, err);
    yaml_parser_delete(&parser);
    fclose(f);
    return st;
}

int hwcost_target_engine(const hwcost_target *t, const char *name) {
    for (int i = 0; i < t->nengines; i++)
        if (!strcmp(t->engines[i].name, name)) return i;
    return -1;
}

int hwcost_target_memory(const hwcost_target *t, const char *name) {
    for (int i = 0; i < t->nmem; i++)
        if (!strcmp(t->mem[i].name, name)) return i;
    return -1;
}

static double named_get(const hwcost_named *v, int n, const char *name, double dflt) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].name, name)) return v[i].value;
    return dflt;
}

double hwcost_engine_param(const hwcost_engine *e, const char *name, double dflt) {
    return named_get(e->params, e->nparams, name, dflt);
}

double hwcost_engine_gran(const hwcost_engine *e, const char *name, double dflt) {
    return named_get(e->gran, e->ngran, name, dflt);
}
