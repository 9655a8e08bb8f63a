/* The campaign config reader (format in docs/sweep.md "Campaign config")
 * and the jobs it defines. The search settings go through the search
 * config's own parser (a file, or its keys inline under `search:`), each
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

/* `search:` a path (relative to the campaign file) or a mapping of search keys. */
static dnas_status parse_search(ctx *c, yaml_node_t *root) {
    search_sweep_config *sc = c->sc;
    yaml_node_t *n = dnas_yaml_get(c->y, root, "search");
    if (!n)
        return dnas_yaml_fail(c->y, root, c->err,
                              "missing 'search' (a search config file, or its keys: model, data, method...)");
    if (n->type == YAML_MAPPING_NODE) return search_config_parse_node(&sc->search, c->y, n, sc->path, c->err);
    const char *s = dnas_yaml_str(c->y, n, "search", c->err);
    if (!s) return DNAS_ERR_CONFIG;
    if (!s[0]) return dnas_yaml_fail(c->y, n, c->err, "search: expected a search config file or its keys");
    char p[TRAIN_PATH_LEN];
    const char *slash = strrchr(sc->path, '/');
    int len = s[0] == '/' || !slash ? snprintf(p, sizeof p, "%s", s)
                                    : snprintf(p, sizeof p, "%.*s/%s", (int)(slash - sc->path), sc->path, s);
    if (len >= (int)sizeof p) return dnas_yaml_fail(c->y, n, c->err, "search: path too long");
    sc->search_file = 1;
    dnas_status st = search_config_load(&sc->search, p, c->err);
    if (st == DNAS_ERR_IO) { /* the file itself: say where the campaign names it */
        char why[DNAS_ERROR_LEN];
        snprintf(why, sizeof why, "%s", c->err->msg);
        return dnas_yaml_fail(c->y, n, c->err, "search: %s", why);
    }
    return st;
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
    search_config *cfg = &sc->search;
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
        sc->seeds[0] = sc->search.seed;
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
        sc->nfronts = search_sweep_default_fronts(sc->search.target[0] != 0, sc->fronts);
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
        if (search_config_cost_needs_target(k) && !sc->search.target[0])
            return dnas_yaml_fail(c->y, it, c->err, "fronts: %s needs a target in the search settings", s);
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
    search_config_free(&sc->search);
}

int search_sweep_default_fronts(int with_target, int *slots) {
    static const int DEF[] = {SEARCH_COST_PARAMS, SEARCH_COST_MACS, SEARCH_COST_MEMORY, SEARCH_COST_SECONDS,
                              SEARCH_COST_ENERGY};
    int n = with_target ? 5 : 3;
    memcpy(slots, DEF, (size_t)n * sizeof *DEF);
    return n;
}

int search_sweep_njobs(const search_sweep_config *sc) {
    return sc->nmu * sc->nsets * sc->nseeds;
}

void search_sweep_job_get(const search_sweep_config *sc, int index, search_sweep_job *job) {
    DNAS_ASSERT(index >= 0 && index < search_sweep_njobs(sc));
    job->index = index;
    job->mu = sc->mu[index % sc->nmu];
    job->set = index / sc->nmu % sc->nsets;
    job->seed = sc->seeds[index / (sc->nmu * sc->nsets)];
    snprintf(job->id, sizeof job->id, "%d", index);
}

void search_sweep_job_config(const search_sweep_config *sc, const search_sweep_job *job, search_config *cfg) {
    *cfg = sc->search;
    if (!cfg->text) cfg->text = sc->text; /* inline: the campaign's text */
    cfg->mu = job->mu;
    cfg->seed = job->seed;
    cfg->nconstraints = sc->sets[job->set].n;
    memcpy(cfg->constraints, sc->sets[job->set].c, sizeof cfg->constraints);
    if (sc->threads > 0) cfg->threads = sc->threads;
}
