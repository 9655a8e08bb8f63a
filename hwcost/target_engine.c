/* One engine of a target file (docs/hwcost.md): its latency model, the
 * kinds and precisions it runs, its power, granularity, model constants
 * and MAC/cycle table, each checked for kind and range. A model's
 * constants are checked against the ranges in its registry entry
 * (hwcost_param_spec), so no file can make a model divide by zero, loop
 * without end or return a non-finite number. */
#include <stdio.h>
#include <string.h>

#include "target_load.h"

/* weight_bits / act_bits: 1..HWCOST_MAX_PREC distinct integers in
 * 1..HWCOST_MAX_BITS. 0 is not listed: a pruned (0-bit) weight costs
 * nothing and runs on every engine. */
static dnas_status bits_list(hwcost_tl *L, yaml_node_t *map, const char *key, const char *where, double *v,
                             int *count) {
    yaml_node_t *n;
    char what[256];
    int len;
    dnas_status st = hwcost_tl_need(L, map, key, where, 1, &n);
    if (st) return st;
    hwcost_tl_what(what, sizeof what, where, key);
    if ((st = dnas_yaml_seq(L->y, n, what, 1, HWCOST_MAX_PREC, &len, L->err))) return st;
    for (int i = 0; i < len; i++) {
        yaml_node_t *item = dnas_yaml_item(L->y, n, i);
        long b;
        if ((st = dnas_yaml_int(L->y, item, what, 1, HWCOST_MAX_BITS, &b, L->err))) return st;
        for (int j = 0; j < i; j++)
            if (v[j] == (double)b) return dnas_yaml_fail(L->y, item, L->err, "%s: %ld listed twice", what, b);
        v[i] = (double)b;
    }
    *count = len;
    return DNAS_OK;
}

/* ops: 1..HWCOST_KIND_COUNT_ distinct kind names. */
static dnas_status ops_list(hwcost_tl *L, yaml_node_t *map, const char *where, unsigned *ops) {
    const char *names[HWCOST_KIND_COUNT_];
    for (int k = 0; k < HWCOST_KIND_COUNT_; k++)
        names[k] = hwcost_kind_name((hwcost_kind)k);
    yaml_node_t *n;
    char what[256];
    int len;
    dnas_status st = hwcost_tl_need(L, map, "ops", where, 1, &n);
    if (st) return st;
    hwcost_tl_what(what, sizeof what, where, "ops");
    if ((st = dnas_yaml_seq(L->y, n, what, 1, HWCOST_KIND_COUNT_, &len, L->err))) return st;
    for (int i = 0; i < len; i++) {
        yaml_node_t *item = dnas_yaml_item(L->y, n, i);
        int k;
        if ((st = hwcost_tl_pick(L, item, what, names, HWCOST_KIND_COUNT_, &k))) return st;
        if (*ops & (1u << k))
            return dnas_yaml_fail(L->y, item, L->err, "%s: '%s' listed twice", what, names[k]);
        *ops |= 1u << k;
    }
    return DNAS_OK;
}

/* granularity: {name: integer in 1..HWCOST_MAX_GRAN} (the models divide
 * by it; deploy's tiler reads names the models do not). */
static dnas_status granularity(hwcost_tl *L, yaml_node_t *map, const char *where, hwcost_engine *e) {
    yaml_node_t *n = dnas_yaml_get(L->y, map, "granularity");
    char what[256];
    if (!n) return DNAS_OK;
    dnas_status st = dnas_yaml_map(L->y, n, hwcost_tl_what(what, sizeof what, where, "granularity"), L->err);
    if (st) return st;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        if (e->ngran == HWCOST_MAX_PARAMS)
            return dnas_yaml_fail(L->y, n, L->err, "%s: expected at most %d entries", what,
                                  HWCOST_MAX_PARAMS);
        hwcost_named *g = &e->gran[e->ngran++];
        if ((st = hwcost_tl_name(L, yaml_document_get_node(&L->y->doc, p->key), what, g->name))) return st;
        char vwhat[512];
        snprintf(vwhat, sizeof vwhat, "%s: %.64s", what, g->name);
        long v;
        if ((st = dnas_yaml_int(L->y, yaml_document_get_node(&L->y->doc, p->value), vwhat, 1, HWCOST_MAX_GRAN,
                                &v, L->err)))
            return st;
        g->value = (double)v;
    }
    return DNAS_OK;
}

/* params: exactly the constants of the engine's latency model, each in
 * the model's range. */
static dnas_status params(hwcost_tl *L, yaml_node_t *map, const char *where, const hwcost_latency_model *lm,
                          hwcost_engine *e) {
    yaml_node_t *n = dnas_yaml_get(L->y, map, "params");
    const hwcost_param_spec *spec = lm->params;
    int nspec = 0;
    while (spec && spec[nspec].name)
        nspec++;
    char what[256], known[512] = "";
    for (int i = 0; i < nspec; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", spec[i].name);
    hwcost_tl_what(what, sizeof what, where, "params");
    if (n && !nspec)
        return dnas_yaml_fail(L->y, n, L->err, "%s: latency_model %s takes no params", what, lm->name);
    if (!n && nspec)
        return dnas_yaml_fail(L->y, map, L->err, "%s: missing 'params' (latency_model %s needs %s)", where,
                              lm->name, known);
    if (!n) return DNAS_OK;
    dnas_status st = dnas_yaml_map(L->y, n, what, L->err);
    if (st) return st;
    unsigned seen = 0;
    DNAS_ASSERT(nspec <= HWCOST_MAX_PARAMS);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *key = dnas_yaml_key(L->y, p);
        yaml_node_t *v = yaml_document_get_node(&L->y->doc, p->value);
        int s = 0;
        while (s < nspec && strcmp(spec[s].name, key))
            s++;
        if (s == nspec)
            return dnas_yaml_fail(L->y, yaml_document_get_node(&L->y->doc, p->key), L->err,
                                  "%s: '%.64s' is not a constant of latency_model %s (expected: %s)", what,
                                  key, lm->name, known);
        DNAS_ASSERT(e->nparams < HWCOST_MAX_PARAMS);
        seen |= 1u << s;
        hwcost_named *out = &e->params[e->nparams++];
        snprintf(out->name, sizeof out->name, "%s", key);
        char vwhat[512];
        snprintf(vwhat, sizeof vwhat, "%s: %.64s", what, key);
        if (spec[s].integer) {
            long x;
            DNAS_ASSERT(!spec[s].lo_open); /* integer ranges are closed */
            if ((st = dnas_yaml_int(L->y, v, vwhat, (long)spec[s].lo, (long)spec[s].hi, &x, L->err)))
                return st;
            out->value = (double)x;
        } else if ((st = dnas_yaml_float(L->y, v, vwhat, spec[s].lo, spec[s].hi, spec[s].lo_open, &out->value,
                                         L->err))) {
            return st;
        }
    }
    for (int s = 0; s < nspec; s++)
        if (!(seen & (1u << s)))
            return dnas_yaml_fail(L->y, n, L->err, "%s: missing '%s'", what, spec[s].name);
    return DNAS_OK;
}

/* macs_per_cycle: rows [a_bits, w_bits, MAC/cycle], one per (a, w), with a
 * row for every pair of act_bits x weight_bits, so that every precision
 * the engine claims has a latency. Only for models that read the table. */
static dnas_status mpc_table(hwcost_tl *L, yaml_node_t *map, const char *where,
                             const hwcost_latency_model *lm, hwcost_engine *e) {
    yaml_node_t *n = dnas_yaml_get(L->y, map, "macs_per_cycle");
    char what[256];
    hwcost_tl_what(what, sizeof what, where, "macs_per_cycle");
    if (n && !lm->needs_table)
        return dnas_yaml_fail(L->y, n, L->err, "%s: latency_model %s does not read a MAC/cycle table", what,
                              lm->name);
    if (!n && lm->needs_table)
        return dnas_yaml_fail(L->y, map, L->err, "%s: latency_model %s needs a macs_per_cycle table", where,
                              lm->name);
    if (!n) return DNAS_OK;
    int len;
    dnas_status st = dnas_yaml_seq(L->y, n, what, 1, HWCOST_MAX_TABLE, &len, L->err);
    if (st) return st;
    int line[HWCOST_MAX_TABLE];
    char rwhat[320], awhat[320], wwhat[320], mwhat[320];
    snprintf(rwhat, sizeof rwhat, "%s: row [a_bits, w_bits, MAC/cycle]", what);
    snprintf(awhat, sizeof awhat, "%s: a_bits", what);
    snprintf(wwhat, sizeof wwhat, "%s: w_bits", what);
    snprintf(mwhat, sizeof mwhat, "%s: MAC/cycle", what);
    for (int i = 0; i < len; i++) {
        yaml_node_t *row = dnas_yaml_item(L->y, n, i);
        long a, w;
        double m;
        if ((st = dnas_yaml_seq(L->y, row, rwhat, 3, 3, NULL, L->err)) ||
            (st = dnas_yaml_int(L->y, dnas_yaml_item(L->y, row, 0), awhat, 1, HWCOST_MAX_BITS, &a, L->err)) ||
            (st = dnas_yaml_int(L->y, dnas_yaml_item(L->y, row, 1), wwhat, 1, HWCOST_MAX_BITS, &w, L->err)) ||
            (st = dnas_yaml_float(L->y, dnas_yaml_item(L->y, row, 2), mwhat, HWCOST_MIN_MPC, HWCOST_MAX_MPC,
                                  0, &m, L->err)))
            return st;
        for (int j = 0; j < i; j++)
            if (e->mpc[j].a_bits == (double)a && e->mpc[j].w_bits == (double)w)
                return dnas_yaml_fail(L->y, row, L->err, "%s: a second row for a%ld w%ld (first at line %d)",
                                      what, a, w, line[j]);
        e->mpc[i] = (hwcost_mpc){(double)a, (double)w, m};
        line[i] = dnas_yaml_line(row);
    }
    e->nmpc = len;
    for (int i = 0; i < e->nabits; i++)
        for (int j = 0; j < e->nwbits; j++) {
            int found = 0;
            for (int r = 0; r < e->nmpc && !found; r++)
                found = e->mpc[r].a_bits == e->abits[i] && e->mpc[r].w_bits == e->wbits[j];
            if (!found)
                return dnas_yaml_fail(L->y, n, L->err,
                                      "%s: no row for %g-bit activations x %g-bit weights (expected one for "
                                      "every act_bits x weight_bits)",
                                      what, e->abits[i], e->wbits[j]);
        }
    return DNAS_OK;
}

dnas_status hwcost_tl_engine(hwcost_tl *L, yaml_node_t *n, hwcost_engine *e) {
    static const char *const KEYS[] = {
        "name",    "latency_model",       "ops",         "grouped", "weight_bits",    "act_bits",
        "power_w", "peak_macs_per_cycle", "granularity", "params",  "macs_per_cycle", "source",
        "input_bits", NULL};
    const char *models[16];
    DNAS_ASSERT(HWCOST_NLATENCY_MODELS <= 16);
    for (int i = 0; i < HWCOST_NLATENCY_MODELS; i++)
        models[i] = HWCOST_LATENCY_MODELS[i]->name;
    memset(e, 0, sizeof *e);
    e->line = dnas_yaml_line(n);
    e->grouped = 1;
    yaml_node_t *v;
    char where[64], what[256];
    dnas_status st = dnas_yaml_map(L->y, n, "engine", L->err);
    if (st || (st = hwcost_tl_need(L, n, "name", "engine", 1, &v)) ||
        (st = hwcost_tl_name(L, v, "engine: name", e->name)))
        return st;
    snprintf(where, sizeof where, "engine '%s'", e->name);
    if ((st = hwcost_tl_section(L, n, KEYS, where))) return st;
    if ((st = hwcost_tl_need(L, n, "latency_model", where, 1, &v)) ||
        (st = hwcost_tl_pick(L, v, hwcost_tl_what(what, sizeof what, where, "latency_model"), models,
                             HWCOST_NLATENCY_MODELS, &e->model)))
        return st;
    const hwcost_latency_model *lm = HWCOST_LATENCY_MODELS[e->model];
    if ((st = ops_list(L, n, where, &e->ops)) || (st = hwcost_tl_bool(L, n, "grouped", where, &e->grouped)) ||
        (st = bits_list(L, n, "weight_bits", where, e->wbits, &e->nwbits)) ||
        (st = bits_list(L, n, "act_bits", where, e->abits, &e->nabits)) ||
        (st = hwcost_tl_real(L, n, "power_w", where, 1, 0, HWCOST_MAX_POWER_W, 0, &e->power_w)) ||
        (st = hwcost_tl_real(L, n, "peak_macs_per_cycle", where, 0, HWCOST_MIN_MPC, HWCOST_MAX_MPC, 0,
                             &e->peak_macs_per_cycle)) ||
        (st = granularity(L, n, where, e)) || (st = params(L, n, where, lm, e)))
        return st;
    long ib = 0;
    if ((st = hwcost_tl_int(L, n, "input_bits", where, 0, 2, 8, &ib))) return st;
    e->input_bits = (int)ib;
    return mpc_table(L, n, where, lm, e);
}
