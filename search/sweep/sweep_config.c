/* The campaign config reader (format in docs/sweep.md "Campaign config")
 * and the jobs it defines. The search settings go through the search
 * config's own parser (a file, or its keys inline under `search:`, or a
 * list of such entries), each
 * constraint set through its constraint parser, so they read and fail as a
 * search config does. */
#include <math.h>
#include <string.h>

#include "sweep_internal.h"

typedef struct {
    dnas_yaml *y;
    search_sweep_config *sc;
    dnas_error *err;
} ctx;

/* One search settings entry into sc->search[k]: a path (relative to the
 * campaign file) or a mapping of search keys. `what` names it in errors. */
static dnas_status parse_one_search(ctx *c, yaml_node_t *n, int k, const char *what) {
    search_sweep_config *sc = c->sc;
    if (n->type == YAML_MAPPING_NODE) return search_config_parse_node(&sc->search[k], c->y, n, sc->path, c->err);
    if (n->type != YAML_SCALAR_NODE)
        return dnas_yaml_fail(c->y, n, c->err, "%s: expected a search config file or a map of its keys", what);
    const char *s = dnas_yaml_str(c->y, n, what, c->err);
    if (!s) return DNAS_ERR_CONFIG;
    if (!s[0]) return dnas_yaml_fail(c->y, n, c->err, "%s: expected a search config file or its keys", what);
    char p[TRAIN_PATH_LEN];
    const char *slash = strrchr(sc->path, '/');
    int len = s[0] == '/' || !slash ? snprintf(p, sizeof p, "%s", s)
                                    : snprintf(p, sizeof p, "%.*s/%s", (int)(slash - sc->path), sc->path, s);
    if (len >= (int)sizeof p) return dnas_yaml_fail(c->y, n, c->err, "%s: path too long", what);
    sc->search_file[k] = 1;
    dnas_status st = search_config_load(&sc->search[k], p, c->err);
    /* the file itself (or, for a list entry, anything in it): say where the campaign names it */
    if (st == DNAS_ERR_IO || (st && sc->nsearch > 1)) {
        char why[DNAS_ERROR_LEN];
        snprintf(why, sizeof why, "%s", c->err->msg);
        dnas_yaml_fail(c->y, n, c->err, "%s: %s", what, why);
    }
    return st;
}

/* `search:` one entry, or a list of 1..SEARCH_SWEEP_MAX_SEARCHES entries. */
static dnas_status parse_search(ctx *c, yaml_node_t *root) {
    search_sweep_config *sc = c->sc;
    yaml_node_t *n = dnas_yaml_get(c->y, root, "search");
    if (!n)
        return dnas_yaml_fail(c->y, root, c->err,
                              "missing 'search' (a search config file, or its keys: model, data, method..., "
                              "or a list of them)");
    if (n->type != YAML_SEQUENCE_NODE) {
        sc->nsearch = 1;
        return parse_one_search(c, n, 0, "search");
    }
    dnas_status st = dnas_yaml_seq(c->y, n, "search", 1, SEARCH_SWEEP_MAX_SEARCHES, &sc->nsearch, c->err);
    for (int k = 0; k < sc->nsearch && !st; k++) {
        char what[32];
        snprintf(what, sizeof what, "search entry %d", k);
        st = parse_one_search(c, dnas_yaml_item(c->y, n, k), k, what);
    }
    if (st) return st;
    /* constraint sets, seeds and fronts are the campaign's: without a
     * constraints: key the searches' own constraints must agree */
    const search_config *a = &sc->search[0];
    for (int k = 1; k < sc->nsearch; k++) {
        const search_config *b = &sc->search[k];
        int same = a->nconstraints == b->nconstraints;
        for (int h = 0; same && h < a->nconstraints; h++)
            same = a->constraints[h].slot == b->constraints[h].slot && a->constraints[h].max == b->constraints[h].max;
        if (!same && !dnas_yaml_get(c->y, root, "constraints"))
            return dnas_yaml_fail(c->y, dnas_yaml_item(c->y, n, k), c->err,
                                  "search entry %d: its constraints differ from entry 0's; give the campaign's "
                                  "constraint sets (constraints:) instead",
                                  k);
    }
    return DNAS_OK;
}

/* mu: [list] or {log_range: [lo, hi], count: N}. */
static dnas_status parse_mu(ctx *c, yaml_node_t *root) {
    search_sweep_config *sc = c->sc;
    yaml_node_t *n = dnas_yaml_get(c->y, root, "mu");
    dnas_status st;
    if (!n)
        return dnas_yaml_fail(c->y, root, c->err,
                              "missing 'mu' (a list, or {log_range: [lo, hi], count: N})");
    if (n->type == YAML_SEQUENCE_NODE) {
        if ((st = dnas_yaml_seq(c->y, n, "mu", 1, SEARCH_SWEEP_MAX_MU, &sc->nmu, c->err))) return st;
        for (int i = 0; i < sc->nmu; i++)
            if ((st = dnas_yaml_float(c->y, dnas_yaml_item(c->y, n, i), "mu", 0, 1e30, 0, &sc->mu[i], c->err)))
                return st;
        return DNAS_OK;
    }
    if (n->type != YAML_MAPPING_NODE)
        return dnas_yaml_fail(c->y, n, c->err, "mu: expected a list of numbers or {log_range: [lo, hi], count: N}");
    static const char *const KEYS[] = {"log_range", "count", NULL};
    if ((st = dnas_yaml_check_keys(c->y, n, KEYS, "mu", c->err))) return st;
    yaml_node_t *r = dnas_yaml_get(c->y, n, "log_range"), *k = dnas_yaml_get(c->y, n, "count");
    if (!r) return dnas_yaml_fail(c->y, n, c->err, "mu: missing 'log_range' ([lo, hi], both > 0)");
    if (!k) return dnas_yaml_fail(c->y, n, c->err, "mu: missing 'count' (values in the range, 2..%d)",
                                  SEARCH_SWEEP_MAX_MU);
    int len;
    double lo, hi;
    long count;
    if ((st = dnas_yaml_seq(c->y, r, "log_range", 2, 2, &len, c->err)) ||
        (st = dnas_yaml_float(c->y, dnas_yaml_item(c->y, r, 0), "log_range", 0, 1e30, 1, &lo, c->err)) ||
        (st = dnas_yaml_float(c->y, dnas_yaml_item(c->y, r, 1), "log_range", 0, 1e30, 1, &hi, c->err)) ||
        (st = dnas_yaml_int(c->y, k, "count", 2, SEARCH_SWEEP_MAX_MU, &count, c->err)))
        return st;
    if (!(hi > lo))
        return dnas_yaml_fail(c->y, r, c->err, "log_range: expected [lo, hi] with lo < hi, found [%g, %g]", lo, hi);
    sc->nmu = (int)count;
    for (int i = 0; i < sc->nmu; i++)
        sc->mu[i] = i == sc->nmu - 1 ? hi : exp(log(lo) + (log(hi) - log(lo)) * i / (sc->nmu - 1));
    return DNAS_OK;
}

static void describe(search_sweep_cset *s) {
    snprintf(s->desc, sizeof s->desc, "%s", s->n ? "" : "none");
    for (int h = 0; h < s->n; h++) {
        size_t at = strlen(s->desc);
        const search_constraint *k = &s->c[h];
        if (k->slot == SEARCH_SLOT_LEVELS)
            snprintf(s->desc + at, sizeof s->desc - at, "%slevels", h ? "," : "");
        else
            snprintf(s->desc + at, sizeof s->desc - at, "%s%s<=%g", h ? "," : "", search_config_cost_name(k->slot),
                     k->max);
    }
}

/* constraints: a list of constraint sets, each a list of constraints; absent:
 * one set, the search settings' own constraints. */
static dnas_status parse_sets(ctx *c, yaml_node_t *root) {
    search_sweep_config *sc = c->sc;
    search_config *cfg = &sc->search[0];
    yaml_node_t *n = dnas_yaml_get(c->y, root, "constraints");
    dnas_status st;
    if (!n) {
        sc->nsets = 1;
        sc->sets[0].n = cfg->nconstraints;
        memcpy(sc->sets[0].c, cfg->constraints, sizeof cfg->constraints);
        describe(&sc->sets[0]);
        return DNAS_OK;
    }
    if ((st = dnas_yaml_seq(c->y, n, "constraints", 1, SEARCH_SWEEP_MAX_SETS, &sc->nsets, c->err))) return st;
    int nown = cfg->nconstraints;
    search_constraint own[SEARCH_MAX_CONSTRAINTS];
    memcpy(own, cfg->constraints, sizeof own);
    for (int i = 0; i < sc->nsets && !st; i++) {
        yaml_node_t *set = dnas_yaml_item(c->y, n, i);
        if (set->type != YAML_SEQUENCE_NODE) {
            st = dnas_yaml_fail(c->y, set, c->err,
                                "constraints: expected a list of constraint sets, each a list such as "
                                "[{cost: params, max: 20000}] ([] for none)");
            break;
        }
        if ((st = search_config_parse_constraints(cfg, c->y, set, c->err))) break;
        /* checked against the first entry's target: every entry needs one */
        for (int h = 0; h < cfg->nconstraints && !st; h++)
            if (search_config_cost_needs_target(cfg->constraints[h].slot) && !search_sweep_with_target(sc, 1))
                st = dnas_yaml_fail(c->y, set, c->err, "constraints: %s needs a target in every search settings entry",
                                    cfg->constraints[h].slot == SEARCH_SLOT_LEVELS
                                        ? "levels"
                                        : search_config_cost_name(cfg->constraints[h].slot));
        if (st) break;
        sc->sets[i].n = cfg->nconstraints;
        memcpy(sc->sets[i].c, cfg->constraints, sizeof cfg->constraints);
        describe(&sc->sets[i]);
    }
    cfg->nconstraints = nown;
    memcpy(cfg->constraints, own, sizeof own);
    return st;
}

static dnas_status parse_seeds(ctx *c, yaml_node_t *root) {
    search_sweep_config *sc = c->sc;
    yaml_node_t *n = dnas_yaml_get(c->y, root, "seeds");
    dnas_status st;
    if (!n) {
        sc->nseeds = 1;
        sc->seeds[0] = sc->search[0].seed; /* the first search settings' */
        return DNAS_OK;
    }
    if ((st = dnas_yaml_seq(c->y, n, "seeds", 1, SEARCH_SWEEP_MAX_SEEDS, &sc->nseeds, c->err))) return st;
    for (int i = 0; i < sc->nseeds; i++) {
        long v;
        yaml_node_t *it = dnas_yaml_item(c->y, n, i);
        if ((st = dnas_yaml_int(c->y, it, "seeds", 0, 0x7fffffff, &v, c->err))) return st;
        for (int j = 0; j < i; j++)
            if (sc->seeds[j] == (uint64_t)v) return dnas_yaml_fail(c->y, it, c->err, "seeds: %ld is given twice", v);
        sc->seeds[i] = (uint64_t)v;
    }
    return DNAS_OK;
}

/* fronts: cost names (the x axes); default params, macs, memory and, with
 * a target, latency and energy. */
static dnas_status parse_fronts(ctx *c, yaml_node_t *root) {
    search_sweep_config *sc = c->sc;
    yaml_node_t *n = dnas_yaml_get(c->y, root, "fronts");
    dnas_status st;
    if (!n) {
        sc->nfronts = search_sweep_default_fronts(search_sweep_with_target(sc, 1), sc->fronts);
        return DNAS_OK;
    }
    if ((st = dnas_yaml_seq(c->y, n, "fronts", 1, SEARCH_SWEEP_MAX_FRONTS, &sc->nfronts, c->err))) return st;
    for (int i = 0; i < sc->nfronts; i++) {
        yaml_node_t *it = dnas_yaml_item(c->y, n, i);
        const char *s = dnas_yaml_str(c->y, it, "fronts", c->err);
        if (!s) return DNAS_ERR_CONFIG;
        int k = search_config_cost_parse(s);
        if (k < 0)
            return dnas_yaml_fail(c->y, it, c->err,
                                  "fronts: expected cost names (params, macs, bitops, memory, latency, "
                                  "energy, ...), found '%s'",
                                  s);
        if (search_config_cost_needs_target(k) && !search_sweep_with_target(sc, 1))
            return dnas_yaml_fail(c->y, it, c->err, "fronts: %s needs a target in %s", s,
                                  sc->nsearch > 1 ? "every search settings entry" : "the search settings");
        sc->fronts[i] = k;
    }
    return DNAS_OK;
}

static dnas_status parse_name(ctx *c, yaml_node_t *root) {
    search_sweep_config *sc = c->sc;
    yaml_node_t *n = dnas_yaml_get(c->y, root, "campaign");
    if (n) {
        const char *s = dnas_yaml_str(c->y, n, "campaign", c->err);
        if (!s) return DNAS_ERR_CONFIG;
        size_t len = strlen(s);
        if (!len || len >= sizeof sc->name || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789_.-") != len || s[0] == '.')
            return dnas_yaml_fail(c->y, n, c->err,
                                  "campaign: expected a name of 1..%d letters, digits, '_', '.' or '-' "
                                  "(not starting with '.'), found '%s'",
                                  (int)sizeof sc->name - 1, s);
        snprintf(sc->name, sizeof sc->name, "%s", s);
    }
    if ((n = dnas_yaml_get(c->y, root, "output"))) {
        const char *s = dnas_yaml_str(c->y, n, "output", c->err);
        if (!s) return DNAS_ERR_CONFIG;
        if (!s[0] || strlen(s) >= sizeof sc->out - 32)
            return dnas_yaml_fail(c->y, n, c->err, "output: expected a folder path of 1..%d characters",
                                  (int)sizeof sc->out - 33);
        snprintf(sc->out, sizeof sc->out, "%s", s);
    } else {
        snprintf(sc->out, sizeof sc->out, "results/%s", sc->name);
    }
    return DNAS_OK;
}

static dnas_status parse(ctx *c, yaml_node_t *root) {
    static const char *const KEYS[] = {"description", "campaign", "output", "search",  "mu",
                                       "constraints", "seeds",    "fronts", "threads", "deploy", NULL};
    dnas_status st = dnas_yaml_check_keys(c->y, root, KEYS, "campaign config", c->err);
    if (st || (st = parse_name(c, root)) || (st = parse_search(c, root)) || (st = parse_mu(c, root)) ||
        (st = parse_sets(c, root)) || (st = parse_seeds(c, root)) || (st = parse_fronts(c, root)))
        return st;
    yaml_node_t *n = dnas_yaml_get(c->y, root, "threads");
    long t = 0;
    if (n && (st = dnas_yaml_int(c->y, n, "threads", 0, TRAIN_MAX_THREADS, &t, c->err))) return st;
    c->sc->threads = (int)t;
    if ((n = dnas_yaml_get(c->y, root, "deploy"))) return search_sweep_deploy_parse(c->sc, c->y, n, c->err);
    return DNAS_OK;
}

dnas_status search_sweep_config_load(search_sweep_config *sc, const char *path, dnas_error *err) {
    memset(sc, 0, sizeof *sc);
    if (strlen(path) >= sizeof sc->path)
        return dnas_fail(err, DNAS_ERR_IO, "%s: path longer than %d characters", path, (int)sizeof sc->path - 1);
    snprintf(sc->path, sizeof sc->path, "%s", path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int stem = (int)strcspn(base, ".");
    snprintf(sc->name, sizeof sc->name, "%.*s", stem ? (stem < 60 ? stem : 60) : 8, stem ? base : "campaign");
    dnas_status st = dnas_read_text(path, DNAS_YAML_MAX_BYTES, &sc->text, err);
    if (st) return st;
    dnas_yaml y;
    if ((st = dnas_yaml_load_string(&y, sc->text, path, err))) return st;
    ctx c = {&y, sc, err};
    st = parse(&c, dnas_yaml_root(&y));
    dnas_yaml_free(&y);
    return st;
}

void search_sweep_config_free(search_sweep_config *sc) {
    free(sc->text);
    sc->text = NULL;
    for (int k = 0; k < SEARCH_SWEEP_MAX_SEARCHES; k++) search_config_free(&sc->search[k]);
}

int search_sweep_with_target(const search_sweep_config *sc, int all) {
    int n = 0;
    for (int k = 0; k < sc->nsearch; k++) n += sc->search[k].target[0] != 0;
    return all ? n == sc->nsearch && n > 0 : n > 0;
}

int search_sweep_int_bits(const search_sweep_config *sc) {
    int b = 0;
    for (int k = 0; k < sc->nsearch; k++)
        if (sc->search[k].int_bits > b) b = sc->search[k].int_bits;
    return b;
}

int search_sweep_default_fronts(int with_target, int *slots) {
    static const int DEF[] = {SEARCH_COST_PARAMS, SEARCH_COST_MACS, SEARCH_COST_MEMORY, SEARCH_COST_SECONDS,
                              SEARCH_COST_ENERGY};
    int n = with_target ? 5 : 3;
    memcpy(slots, DEF, (size_t)n * sizeof *DEF);
    return n;
}

int search_sweep_njobs(const search_sweep_config *sc) {
    return sc->nmu * sc->nsets * sc->nsearch * sc->nseeds;
}

void search_sweep_job_get(const search_sweep_config *sc, int index, search_sweep_job *job) {
    DNAS_ASSERT(index >= 0 && index < search_sweep_njobs(sc));
    job->index = index;
    job->mu = sc->mu[index % sc->nmu];
    job->set = index / sc->nmu % sc->nsets;
    job->search = index / (sc->nmu * sc->nsets) % sc->nsearch;
    job->seed = sc->seeds[index / (sc->nmu * sc->nsets * sc->nsearch)];
    snprintf(job->id, sizeof job->id, "%d", index);
}

void search_sweep_job_config(const search_sweep_config *sc, const search_sweep_job *job, search_config *cfg) {
    *cfg = sc->search[job->search];
    if (!cfg->text) cfg->text = sc->text; /* inline: the campaign's text */
    cfg->mu = job->mu;
    cfg->seed = job->seed;
    cfg->nconstraints = sc->sets[job->set].n;
    memcpy(cfg->constraints, sc->sets[job->set].c, sizeof cfg->constraints);
    if (sc->threads > 0) cfg->threads = sc->threads;
}
