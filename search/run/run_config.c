/* The search config reader (format in docs/search.md "Search config"). The
 * data section goes through train's parser (train_config_parse_data), so
 * it reads and fails exactly as a training config's. */
#include "run_config.h"

#include <stdio.h>
#include <string.h>

#include "common.h"

static const char *METHODS[SEARCH_METHOD_COUNT_] = {"pit", "supernet", "mixprec", "odimo"};

const char *search_method_name(search_method m) {
    return (unsigned)m < SEARCH_METHOD_COUNT_ ? METHODS[m] : "?";
}

/* Config names of the costs (search_cost order) and their aliases. */
static const struct {
    const char *name;
    int slot;
} COSTS[] = {
    {"params", SEARCH_COST_PARAMS},
    {"params_no_bias", SEARCH_COST_PARAMS_NO_BIAS},
    {"macs", SEARCH_COST_MACS},
    {"macs_no_bias", SEARCH_COST_MACS_NO_BIAS},
    {"bit_params", SEARCH_COST_BIT_PARAMS},
    {"bitops", SEARCH_COST_BIT_OPS},
    {"weight_bytes", SEARCH_COST_WEIGHT_BYTES},
    {"peak_act_bytes", SEARCH_COST_PEAK_ACT},
    {"memory", SEARCH_COST_MEMORY},
    {"cycles", SEARCH_COST_CYCLES},
    {"latency", SEARCH_COST_SECONDS},
    {"energy", SEARCH_COST_ENERGY},
    {"levels", SEARCH_SLOT_LEVELS},
    {"bit_ops", SEARCH_COST_BIT_OPS},
    {"seconds", SEARCH_COST_SECONDS},
};
#define NCOSTS (int)(sizeof COSTS / sizeof COSTS[0])
#define COST_LIST                                                                                            \
    "params, params_no_bias, macs, macs_no_bias, bit_params, bitops, weight_bytes, "                         \
    "peak_act_bytes, memory, cycles, latency or energy"

const char *search_config_cost_name(int slot) {
    for (int i = 0; i < NCOSTS; i++)
        if (COSTS[i].slot == slot) return COSTS[i].name;
    return "?";
}

int search_config_cost_parse(const char *name) {
    for (int i = 0; i < NCOSTS; i++)
        if (!strcmp(COSTS[i].name, name)) return COSTS[i].slot;
    return -2;
}

int search_config_cost_needs_target(int slot) {
    return slot == SEARCH_COST_CYCLES || slot == SEARCH_COST_SECONDS || slot == SEARCH_COST_ENERGY ||
           slot == SEARCH_SLOT_LEVELS;
}

typedef struct {
    dnas_yaml *y;
    search_config *cfg;
    dnas_error *err;
} ctx;

static dnas_status get_int(ctx *c, yaml_node_t *map, const char *key, int *out, long lo, long hi) {
    yaml_node_t *n = dnas_yaml_get(c->y, map, key);
    long v;
    if (!n) return DNAS_OK;
    dnas_status st = dnas_yaml_int(c->y, n, key, lo, hi, &v, c->err);
    if (!st) *out = (int)v;
    return st;
}

static dnas_status get_float(ctx *c, yaml_node_t *map, const char *key, float *out, double lo, double hi,
                             int lo_open) {
    yaml_node_t *n = dnas_yaml_get(c->y, map, key);
    double v;
    if (!n) return DNAS_OK;
    dnas_status st = dnas_yaml_float(c->y, n, key, lo, hi, lo_open, &v, c->err);
    if (!st) *out = (float)v;
    return st;
}

/* dst = p relative to the config's directory (absolute kept). */
static dnas_status resolve(ctx *c, yaml_node_t *n, char *dst, const char *p) {
    const char *slash = strrchr(c->cfg->path, '/');
    int len = p[0] == '/' || !slash
                  ? snprintf(dst, TRAIN_PATH_LEN, "%s", p)
                  : snprintf(dst, TRAIN_PATH_LEN, "%.*s/%s", (int)(slash - c->cfg->path), c->cfg->path, p);
    if (len >= TRAIN_PATH_LEN)
        return dnas_yaml_fail(c->y, n, c->err, "path of %d characters: expected at most %d", len,
                              TRAIN_PATH_LEN - 1);
    return DNAS_OK;
}

static dnas_status get_path(ctx *c, yaml_node_t *map, const char *key, char *dst, int required) {
    yaml_node_t *n = dnas_yaml_get(c->y, map, key);
    if (!n) {
        if (!required) return DNAS_OK;
        return dnas_yaml_fail(c->y, map, c->err, "missing '%s' (a file path)", key);
    }
    const char *s = dnas_yaml_str(c->y, n, key, c->err);
    if (!s) return DNAS_ERR_CONFIG;
    if (!s[0]) return dnas_yaml_fail(c->y, n, c->err, "%s: expected a file path, found an empty value", key);
    return resolve(c, n, dst, s);
}

/* A target name (targets/NAME.yaml beside the config, else in the source
 * tree's configs/targets/) or a path (with '/' or ending in .yaml). */
static dnas_status get_target(ctx *c, yaml_node_t *root) {
    yaml_node_t *n = dnas_yaml_get(c->y, root, "target");
    if (!n) return DNAS_OK;
    const char *s = dnas_yaml_str(c->y, n, "target", c->err);
    if (!s) return DNAS_ERR_CONFIG;
    size_t len = strlen(s);
    if (!len)
        return dnas_yaml_fail(c->y, n, c->err,
                              "target: expected a target name or path, found an empty value");
    if (strchr(s, '/') || (len > 5 && !strcmp(s + len - 5, ".yaml"))) return resolve(c, n, c->cfg->target, s);
    char rel[TRAIN_PATH_LEN + 32];
    snprintf(rel, sizeof rel, "targets/%.*s.yaml", TRAIN_PATH_LEN - 1, s);
    dnas_status st = resolve(c, n, c->cfg->target, rel);
    if (st) return st;
    FILE *f = fopen(c->cfg->target, "r");
    if (f) {
        fclose(f);
        return DNAS_OK;
    }
    int w = snprintf(c->cfg->target, TRAIN_PATH_LEN, "%s/configs/targets/%s.yaml", DNAS_SOURCE_DIR, s);
    if (w >= TRAIN_PATH_LEN) return dnas_yaml_fail(c->y, n, c->err, "target: name too long");
    return DNAS_OK;
}

static dnas_status get_cost(ctx *c, yaml_node_t *n, int *slot, int levels_ok) {
    const char *s = dnas_yaml_str(c->y, n, "cost", c->err);
    if (!s) return DNAS_ERR_CONFIG;
    int k = search_config_cost_parse(s);
    if (k < -1 || (k == SEARCH_SLOT_LEVELS && !levels_ok))
        return dnas_yaml_fail(c->y, n, c->err, "cost: expected %s%s, found '%s'", COST_LIST,
                              levels_ok ? " (or levels: the target's memory levels)" : "", s);
    if (search_config_cost_needs_target(k) && !c->cfg->target[0])
        return dnas_yaml_fail(c->y, n, c->err, "cost: %s needs a target (target: NAME or PATH)", s);
    *slot = k;
    return DNAS_OK;
}

static dnas_status parse_constraints(ctx *c, yaml_node_t *list) {
    static const char *const KEYS[] = {"cost", "max", "strength", NULL};
    int n;
    dnas_status st = dnas_yaml_seq(c->y, list, "constraints", 0, SEARCH_MAX_CONSTRAINTS, &n, c->err);
    if (st) return st;
    for (int i = 0; i < n; i++) {
        yaml_node_t *m = dnas_yaml_item(c->y, list, i);
        search_constraint *k = &c->cfg->constraints[i];
        if ((st = dnas_yaml_check_keys(c->y, m, KEYS, "constraint", c->err))) return st;
        k->line = dnas_yaml_line(m);
        k->strength = -1;
        yaml_node_t *cn = dnas_yaml_get(c->y, m, "cost"), *mn = dnas_yaml_get(c->y, m, "max");
        yaml_node_t *sn = dnas_yaml_get(c->y, m, "strength");
        if (!cn)
            return dnas_yaml_fail(c->y, m, c->err,
                                  "constraint: missing 'cost' (e.g. {cost: latency, max: 0.002})");
        if ((st = get_cost(c, cn, &k->slot, 1))) return st;
        if (k->slot == SEARCH_SLOT_LEVELS && mn)
            return dnas_yaml_fail(c->y, mn, c->err, "max: levels are bounded by the target's own bytes");
        if (k->slot != SEARCH_SLOT_LEVELS) {
            if (!mn) return dnas_yaml_fail(c->y, m, c->err, "constraint: missing 'max' (the budget)");
            if ((st = dnas_yaml_float(c->y, mn, "max", 0, 1e300, 1, &k->max, c->err))) return st;
        }
        if (sn) {
            const char *s = sn->type == YAML_SCALAR_NODE ? (const char *)sn->data.scalar.value : NULL;
            if (!s || strcmp(s, "auto"))
                if ((st = dnas_yaml_float(c->y, sn, "strength", 0, 1e30, 0, &k->strength, c->err))) return st;
        }
    }
    c->cfg->nconstraints = n;
    return DNAS_OK;
}

static dnas_status parse_schedule(ctx *c, yaml_node_t *map) {
    static const char *const KEYS[] = {"warmup",       "search",  "finetune",   "batch",     "threads", "lr",
                                       "weight_decay", "arch_lr", "arch_split", "log_every", NULL};
    search_config *cfg = c->cfg;
    dnas_status st = dnas_yaml_check_keys(c->y, map, KEYS, "schedule", c->err);
    if (st || (st = get_int(c, map, "warmup", &cfg->warmup, 0, TRAIN_MAX_EPOCHS)) ||
        (st = get_int(c, map, "search", &cfg->search, 0, TRAIN_MAX_EPOCHS)) ||
        (st = get_int(c, map, "finetune", &cfg->finetune, 0, TRAIN_MAX_EPOCHS)) ||
        (st = get_int(c, map, "batch", &cfg->batch, 1, 1 << 16)) ||
        (st = get_int(c, map, "threads", &cfg->threads, 0, TRAIN_MAX_THREADS)) ||
        (st = get_int(c, map, "log_every", &cfg->log_every, 0, 1000)) ||
        (st = get_float(c, map, "lr", &cfg->lr, 0, 3e38, 1)) ||
        (st = get_float(c, map, "weight_decay", &cfg->weight_decay, 0, 1, 0)) ||
        (st = get_float(c, map, "arch_lr", &cfg->arch_lr, 0, 3e38, 1)))
        return st;
    yaml_node_t *n = dnas_yaml_get(c->y, map, "arch_split");
    if (n) {
        const char *s = dnas_yaml_str(c->y, n, "arch_split", c->err);
        if (!s) return DNAS_ERR_CONFIG;
        if (!strcmp(s, "val"))
            cfg->split = SEARCH_SPLIT_VAL;
        else if (!strcmp(s, "train"))
            cfg->split = SEARCH_SPLIT_TRAIN;
        else
            return dnas_yaml_fail(c->y, n, c->err, "arch_split: expected val or train, found '%s'", s);
    }
    return DNAS_OK;
}

static dnas_status parse(ctx *c, yaml_node_t *root) {
    static const char *const KEYS[] = {"description", "model",    "data",   "loss",        "method",
                                       "cost",        "mu",       "target", "constraints", "schedule",
                                       "bits",        "seed",     "output", "int_bits",    "mixprec",
                                       "supernet",    "odimo",    NULL};
    search_config *cfg = c->cfg;
    dnas_status st = dnas_yaml_check_keys(c->y, root, KEYS, "search config", c->err);
    if (st || (st = get_path(c, root, "model", cfg->model, 1)) || (st = get_target(c, root))) return st;
    yaml_node_t *n = dnas_yaml_get(c->y, root, "data");
    if (!n) return dnas_yaml_fail(c->y, root, c->err, "missing 'data' (e.g. data: {format: fashion-mnist})");
    if ((st = train_config_parse_data(c->y, n, cfg->path, &cfg->data, c->err))) return st;
    if ((n = dnas_yaml_get(c->y, root, "loss"))) {
        const char *s = dnas_yaml_str(c->y, n, "loss", c->err);
        if (!s) return DNAS_ERR_CONFIG;
        if (!strcmp(s, "mse"))
            cfg->loss = TRAIN_LOSS_MSE;
        else if (strcmp(s, "cross_entropy"))
            return dnas_yaml_fail(c->y, n, c->err, "loss: expected cross_entropy or mse, found '%s'", s);
    }
    if (!(n = dnas_yaml_get(c->y, root, "method")))
        return dnas_yaml_fail(c->y, root, c->err, "missing 'method' (pit, supernet, mixprec or odimo)");
    const char *m = dnas_yaml_str(c->y, n, "method", c->err);
    if (!m) return DNAS_ERR_CONFIG;
    int k = 0;
    while (k < SEARCH_METHOD_COUNT_ && strcmp(m, METHODS[k]))
        k++;
    if (k == SEARCH_METHOD_COUNT_)
        return dnas_yaml_fail(c->y, n, c->err, "method: expected pit, supernet, mixprec or odimo, found '%s'",
                              m);
    cfg->method = (search_method)k;
    if ((st = search_mixprec_config_parse(c->y, dnas_yaml_get(c->y, root, "mixprec"), k == SEARCH_METHOD_MIXPREC,
                                          &cfg->mixprec, c->err)))
        return st;
    if ((st = search_supernet_config_read(c->y, root, k == SEARCH_METHOD_SUPERNET, &cfg->supernet, c->err))) return st;
    if ((st = search_odimo_config_parse(c->y, root, k == SEARCH_METHOD_ODIMO, &cfg->odimo, c->err))) return st;
    if ((n = dnas_yaml_get(c->y, root, "cost")) && (st = get_cost(c, n, &cfg->cost, 0))) return st;
    if ((n = dnas_yaml_get(c->y, root, "mu")) &&
        (st = dnas_yaml_float(c->y, n, "mu", 0, 1e30, 0, &cfg->mu, c->err)))
        return st;
    if ((n = dnas_yaml_get(c->y, root, "constraints")) && (st = parse_constraints(c, n))) return st;
    yaml_node_t *sn = dnas_yaml_get(c->y, root, "schedule");
    if (sn && (st = parse_schedule(c, sn))) return st;
    if (cfg->split == SEARCH_SPLIT_VAL && cfg->search > 0 && cfg->data.val_split == 0) {
        yaml_node_t *an = sn ? dnas_yaml_get(c->y, sn, "arch_split") : NULL;
        return dnas_yaml_fail(c->y,
                              an   ? an
                              : sn ? sn
                                   : root,
                              c->err,
                              "arch_split: val needs a validation split (data: val_split: N), or use "
                              "arch_split: train");
    }
    if ((st = get_float(c, root, "bits", &cfg->bits, 1, 32, 0))) return st;
    if ((st = get_int(c, root, "int_bits", &cfg->int_bits, 0, 8))) return st;
    if (cfg->int_bits == 1)
        return dnas_yaml_fail(c->y, dnas_yaml_get(c->y, root, "int_bits"), c->err,
                              "int_bits: expected 2..8 (0: no integer export), found 1");
    int seed = (int)cfg->seed;
    if ((st = get_int(c, root, "seed", &seed, 0, 0x7fffffff))) return st;
    cfg->seed = (uint64_t)seed;
    if ((n = dnas_yaml_get(c->y, root, "output"))) {
        const char *s = dnas_yaml_str(c->y, n, "output", c->err);
        if (!s) return DNAS_ERR_CONFIG;
        if (!s[0] || strlen(s) >= sizeof cfg->output)
            return dnas_yaml_fail(c->y, n, c->err, "output: expected a path of 1..%d characters",
                                  (int)sizeof cfg->output - 1);
        snprintf(cfg->output, sizeof cfg->output, "%s", s);
    }
    return DNAS_OK;
}

static void defaults(search_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->loss = TRAIN_LOSS_XENT;
    cfg->cost = SEARCH_COST_PARAMS;
    cfg->warmup = 5, cfg->search = 10, cfg->finetune = 5;
    cfg->batch = 128;
    cfg->lr = 1e-3f, cfg->weight_decay = 1e-4f, cfg->arch_lr = 5e-4f;
    cfg->split = SEARCH_SPLIT_VAL;
    cfg->bits = 8;
    cfg->int_bits = 8;
    cfg->log_every = 10;
    cfg->seed = 1;
    search_mixprec_config_default(&cfg->mixprec);
    cfg->supernet = search_supernet_default_params();
}

static dnas_status set_path(search_config *cfg, const char *path, dnas_error *err) {
    if (strlen(path) >= sizeof cfg->path)
        return dnas_fail(err, DNAS_ERR_IO, "%s: path longer than %d characters", path,
                         (int)sizeof cfg->path - 1);
    snprintf(cfg->path, sizeof cfg->path, "%s", path);
    // default output: the config's file name with .h5, in the working directory
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int stem = (int)strcspn(base, ".");
    snprintf(cfg->output, sizeof cfg->output, "%.*s.h5", stem ? stem : 6, stem ? base : "search");
    return DNAS_OK;
}

dnas_status search_config_load(search_config *cfg, const char *path, dnas_error *err) {
    defaults(cfg);
    dnas_status st = set_path(cfg, path, err);
    if (st || (st = dnas_read_file(path, DNAS_YAML_MAX_BYTES, &cfg->text, NULL, err))) return st;
    dnas_yaml y;
    if ((st = dnas_yaml_load_string(&y, cfg->text, path, err))) return st;
    ctx c = {&y, cfg, err};
    st = parse(&c, dnas_yaml_root(&y));
    dnas_yaml_free(&y);
    return st;
}

dnas_status search_config_parse_node(search_config *cfg, dnas_yaml *y, yaml_node_t *map, const char *path,
                                     dnas_error *err) {
    defaults(cfg);
    dnas_status st = set_path(cfg, path, err);
    if (st || (st = dnas_yaml_map(y, map, "search", err))) return st;
    ctx c = {y, cfg, err};
    return parse(&c, map);
}

dnas_status search_config_parse_constraints(search_config *cfg, dnas_yaml *y, yaml_node_t *list,
                                            dnas_error *err) {
    ctx c = {y, cfg, err};
    return parse_constraints(&c, list);
}

void search_config_free(search_config *cfg) {
    free(cfg->text);
    cfg->text = NULL;
}
