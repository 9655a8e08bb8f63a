/* Target descriptions: configs/targets/<name>.yaml -> hwcost_target.
 * Format and ranges in docs/hwcost.md.
 *
 * 1. The file is loaded by the common loader (regular file, size, UTF-8,
 *    depth, one document, no key given twice).
 * 2. Top level, memory levels, engines (target_engine.c) and parallel are
 *    read in that order; every section has only known keys and a
 *    `source:`; every value has the expected kind (a list where a list is
 *    expected, one value where one is expected) and range.
 * 3. Names are checked and unique per kind; then the names that sections
 *    give each other (connects, a level's engine, parallel engines) are
 *    resolved, each list without repeats.
 * Every error is "<file>:<line>: <section>: <key>: expected ...". */
#include <stdio.h>
#include <string.h>

#include "target_load.h"

static const char *const HOLD_NAMES[] = {"network_weights", "network_activations", "layer_weights",
                                         "layer_activations"};
#define NHOLDS 4

/* holds: 1..4 distinct entries of HOLD_NAMES (a level that holds nothing
 * would always "fit"). */
static dnas_status holds_list(hwcost_tl *L, yaml_node_t *map, const char *where, unsigned *holds) {
    yaml_node_t *n;
    char what[256];
    int len;
    dnas_status st = hwcost_tl_need(L, map, "holds", where, 1, &n);
    if (st) return st;
    hwcost_tl_what(what, sizeof what, where, "holds");
    if ((st = dnas_yaml_seq(L->y, n, what, 1, NHOLDS, &len, L->err))) return st;
    for (int i = 0; i < len; i++) {
        yaml_node_t *item = dnas_yaml_item(L->y, n, i);
        int b;
        if ((st = hwcost_tl_pick(L, item, what, HOLD_NAMES, NHOLDS, &b))) return st;
        if (*holds & (1u << b))
            return dnas_yaml_fail(L->y, item, L->err, "%s: '%s' listed twice", what, HOLD_NAMES[b]);
        *holds |= 1u << b;
    }
    return DNAS_OK;
}

static dnas_status parse_memory(hwcost_tl *L, yaml_node_t *n, hwcost_memory *m, yaml_node_t **connects,
                                yaml_node_t **engine) {
    static const char *const KEYS[] = {"name",   "bytes", "connects", "holds",
                                       "engine", "tiled", "source",   NULL};
    memset(m, 0, sizeof *m);
    m->line = dnas_yaml_line(n);
    m->engine = -1;
    yaml_node_t *v;
    char where[64];
    long bytes;
    dnas_status st = dnas_yaml_map(L->y, n, "memory level", L->err);
    if (st || (st = hwcost_tl_need(L, n, "name", "memory level", 1, &v)) ||
        (st = hwcost_tl_name(L, v, "memory level: name", m->name)))
        return st;
    snprintf(where, sizeof where, "memory '%s'", m->name);
    if ((st = hwcost_tl_section(L, n, KEYS, where)) ||
        (st = hwcost_tl_int(L, n, "bytes", where, 1, 1, HWCOST_MAX_BYTES, &bytes)) ||
        (st = hwcost_tl_bool(L, n, "tiled", where, &m->tiled)) || (st = holds_list(L, n, where, &m->holds)))
        return st;
    m->bytes = (double)bytes;
    *connects = dnas_yaml_get(L->y, n, "connects");
    *engine = dnas_yaml_get(L->y, n, "engine");
    return DNAS_OK;
}

/* A list of lo..max names of memory levels (memory) or engines, each
 * defined in the file, none twice and none `self`. */
static dnas_status resolve_names(hwcost_tl *L, yaml_node_t *list, const hwcost_target *t, int memory,
                                 int self, const char *what, int lo, int max, int *idx, int *count) {
    int len;
    dnas_status st = dnas_yaml_seq(L->y, list, what, lo, max, &len, L->err);
    if (st) return st;
    for (int i = 0; i < len; i++) {
        yaml_node_t *item = dnas_yaml_item(L->y, list, i);
        const char *s = dnas_yaml_str(L->y, item, what, L->err);
        if (!s) return DNAS_ERR_CONFIG;
        int k = memory ? hwcost_target_memory(t, s) : hwcost_target_engine(t, s);
        if (k < 0)
            return dnas_yaml_fail(L->y, item, L->err, "%s: %s '%.64s' not defined in this file", what,
                                  memory ? "memory level" : "engine", s);
        if (k == self)
            return dnas_yaml_fail(L->y, item, L->err, "%s: a level cannot connect to itself", what);
        for (int j = 0; j < i; j++)
            if (idx[j] == k) return dnas_yaml_fail(L->y, item, L->err, "%s: '%s' listed twice", what, s);
        idx[i] = k;
    }
    *count = len;
    return DNAS_OK;
}

static dnas_status parse_levels(hwcost_tl *L, yaml_node_t *root, hwcost_target *t, yaml_node_t **connects,
                                yaml_node_t **mengine) {
    yaml_node_t *mem;
    dnas_status st = hwcost_tl_need(L, root, "memory", "target", 1, &mem);
    if (st || (st = dnas_yaml_seq(L->y, mem, "memory", 1, HWCOST_MAX_MEM, &t->nmem, L->err))) return st;
    for (int i = 0; i < t->nmem; i++) {
        yaml_node_t *n = dnas_yaml_item(L->y, mem, i);
        if ((st = parse_memory(L, n, &t->mem[i], &connects[i], &mengine[i]))) return st;
        for (int j = 0; j < i; j++)
            if (!strcmp(t->mem[j].name, t->mem[i].name))
                return dnas_yaml_fail(L->y, dnas_yaml_get(L->y, n, "name"), L->err,
                                      "memory level name '%s' given twice (first at line %d)", t->mem[i].name,
                                      t->mem[j].line);
    }
    return DNAS_OK;
}

static dnas_status parse_engines(hwcost_tl *L, yaml_node_t *root, hwcost_target *t) {
    yaml_node_t *eng;
    dnas_status st = hwcost_tl_need(L, root, "engines", "target", 1, &eng);
    if (st || (st = dnas_yaml_seq(L->y, eng, "engines", 1, HWCOST_MAX_ENGINES, &t->nengines, L->err)))
        return st;
    for (int i = 0; i < t->nengines; i++) {
        yaml_node_t *n = dnas_yaml_item(L->y, eng, i);
        if ((st = hwcost_tl_engine(L, n, &t->engines[i]))) return st;
        for (int j = 0; j < i; j++)
            if (!strcmp(t->engines[j].name, t->engines[i].name))
                return dnas_yaml_fail(L->y, dnas_yaml_get(L->y, n, "name"), L->err,
                                      "engine name '%s' given twice (first at line %d)", t->engines[i].name,
                                      t->engines[j].line);
    }
    return DNAS_OK;
}

static dnas_status parse_parallel(hwcost_tl *L, yaml_node_t *par, hwcost_target *t) {
    static const char *const KEYS[] = {"engines", "power_w", "smooth_max_tau_cycles", "source", NULL};
    yaml_node_t *v;
    dnas_status st = hwcost_tl_section(L, par, KEYS, "parallel");
    if (st || (st = hwcost_tl_need(L, par, "engines", "parallel", 1, &v)) ||
        (st = resolve_names(L, v, t, 0, -1, "parallel: engines", 2, HWCOST_MAX_ENGINES, t->parallel,
                            &t->nparallel)))
        return st;
    if ((st = hwcost_tl_real(L, par, "power_w", "parallel", 1, 0, HWCOST_MAX_POWER_W, 0,
                             &t->parallel_power_w)))
        return st;
    /* τ divides cycle differences inside exp() and in the gradient */
    return hwcost_tl_real(L, par, "smooth_max_tau_cycles", "parallel", 0, 1e-3, 1e12, 0, &t->smooth_max_tau);
}

static dnas_status parse_target(hwcost_tl *L, hwcost_target *t) {
    static const char *const KEYS[] = {"name",    "description", "clock_hz", "memory",
                                       "engines", "parallel",    "source",   NULL};
    yaml_node_t *root = dnas_yaml_root(L->y), *v;
    yaml_node_t *connects[HWCOST_MAX_MEM], *mengine[HWCOST_MAX_MEM];
    dnas_status st = hwcost_tl_section(L, root, KEYS, "target");
    if (st || (st = hwcost_tl_need(L, root, "name", "target", 1, &v)) ||
        (st = hwcost_tl_name(L, v, "target: name", t->name)))
        return st;
    if ((v = dnas_yaml_get(L->y, root, "description")) &&
        !dnas_yaml_str(L->y, v, "target: description", L->err))
        return DNAS_ERR_CONFIG;
    if ((st = hwcost_tl_real(L, root, "clock_hz", "target", 1, HWCOST_MIN_CLOCK_HZ, HWCOST_MAX_CLOCK_HZ, 0,
                              &t->clock_hz)) ||
        (st = parse_levels(L, root, t, connects, mengine)) || (st = parse_engines(L, root, t)))
        return st;
    for (int i = 0; i < t->nmem; i++) {
        hwcost_memory *m = &t->mem[i];
        char what[256];
        snprintf(what, sizeof what, "memory '%s': connects", m->name);
        if (connects[i] && (st = resolve_names(L, connects[i], t, 1, i, what, 0, HWCOST_MAX_MEM, m->connects,
                                               &m->nconnects)))
            return st;
        if (!mengine[i]) continue;
        snprintf(what, sizeof what, "memory '%s': engine", m->name);
        const char *s = dnas_yaml_str(L->y, mengine[i], what, L->err);
        if (!s) return DNAS_ERR_CONFIG;
        if ((m->engine = hwcost_target_engine(t, s)) < 0)
            return dnas_yaml_fail(L->y, mengine[i], L->err, "%s: engine '%.64s' not defined in this file",
                                  what, s);
    }
    t->smooth_max_tau = 1;
    if ((v = dnas_yaml_get(L->y, root, "parallel"))) return parse_parallel(L, v, t);
    return DNAS_OK;
}

static dnas_status parse_loaded(hwcost_target *t, dnas_yaml *y, dnas_error *err) {
    hwcost_tl L = {y, err};
    dnas_status st = parse_target(&L, t);
    dnas_yaml_free(y);
    if (st) { /* nothing half-read is left for a caller that ignores the status */
        char path[sizeof t->path];
        memcpy(path, t->path, sizeof path);
        memset(t, 0, sizeof *t);
        memcpy(t->path, path, sizeof path);
    }
    return st;
}

dnas_status hwcost_target_load_string(hwcost_target *t, const char *yaml, const char *path, dnas_error *err) {
    dnas_yaml y;
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    dnas_status st = dnas_yaml_load_string(&y, yaml, path, err);
    return st ? st : parse_loaded(t, &y, err);
}

dnas_status hwcost_target_load(hwcost_target *t, const char *path, dnas_error *err) {
    dnas_yaml y;
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    dnas_status st = dnas_yaml_load_file(&y, path, err);
    return st ? st : parse_loaded(t, &y, err);
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
