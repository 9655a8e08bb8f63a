/* The campaign config's `deploy:` section (docs/sweep.md "Deploy stage"),
 * checked in full with the rest of the config, before any training: the
 * backends exist, each target description loads, the front is one the
 * campaign makes, test images exist in the search's data. */
#include <string.h>
#include <unistd.h>

#include "deploy.h"
#include "sweep_internal.h"

/* A target description named in the config: a name of configs/targets/,
 * or a path relative to the campaign file. */
static dnas_status resolve_desc(const search_sweep_config *sc, dnas_yaml *y, yaml_node_t *n,
                                const char *s, char *out, dnas_error *err) {
    char buf[TRAIN_PATH_LEN];
    const char *path = s;
    const char *slash = strrchr(sc->path, '/');
    if ((strchr(s, '/') || strstr(s, ".yaml")) && s[0] != '/' && slash) {
        if (snprintf(buf, sizeof buf, "%.*s/%s", (int)(slash - sc->path), sc->path, s) >= (int)sizeof buf)
            return dnas_yaml_fail(y, n, err, "target: path too long");
        path = buf;
    } else if (!strchr(s, '/') && !strstr(s, ".yaml")) {
        path = deploy_target_path(s, buf, sizeof buf);
        if (!path)
            return dnas_yaml_fail(y, n, err,
                                  "target: no target description '%s' (configs/targets/%s.yaml in ., "
                                  "$DNAS_SOURCE_DIR and %s)",
                                  s, s, DNAS_SOURCE_DIR);
    }
    if (strlen(path) >= TRAIN_PATH_LEN) return dnas_yaml_fail(y, n, err, "target: path too long");
    hwcost_target *t = dnas_xmalloc(sizeof *t);
    dnas_error e2;
    dnas_status st = hwcost_target_load(t, path, &e2);
    free(t);
    if (st) return dnas_yaml_fail(y, n, err, "target: %s", e2.msg);
    snprintf(out, TRAIN_PATH_LEN, "%s", path);
    return DNAS_OK;
}

/* One entry of targets: a backend name, or {backend, target, l1, latency_ms}. */
static dnas_status parse_target(search_sweep_config *sc, dnas_yaml *y, yaml_node_t *n,
                                search_sweep_deploy_target *t, dnas_error *err) {
    static const char *const KEYS[] = {"backend", "target", "l1", "latency_ms", NULL};
    yaml_node_t *b = n, *d = NULL, *l1 = NULL, *lat = NULL;
    dnas_status st;
    memset(t, 0, sizeof *t);
    if (n->type == YAML_MAPPING_NODE) {
        if ((st = dnas_yaml_check_keys(y, n, KEYS, "deploy target", err))) return st;
        b = dnas_yaml_get(y, n, "backend");
        d = dnas_yaml_get(y, n, "target"), l1 = dnas_yaml_get(y, n, "l1"), lat = dnas_yaml_get(y, n, "latency_ms");
        if (!b) return dnas_yaml_fail(y, n, err, "deploy target: missing 'backend' (c, cortex-m, gap8 or diana)");
    }
    const char *s = dnas_yaml_str(y, b, "backend", err);
    if (!s) return DNAS_ERR_CONFIG;
    const deploy_backend *be = deploy_backend_find(s);
    if (!be) {
        char list[256] = "";
        for (int i = 0; deploy_backends[i].name; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", deploy_backends[i].name);
        return dnas_yaml_fail(y, b, err, "backend: expected one of %s, found '%s'", list, s);
    }
    snprintf(t->backend, sizeof t->backend, "%s", be->name);
    snprintf(t->label, sizeof t->label, "%s", be->name);
    if (d) {
        const char *ds = dnas_yaml_str(y, d, "target", err);
        if (!ds) return DNAS_ERR_CONFIG;
        if (!ds[0]) return dnas_yaml_fail(y, d, err, "target: expected a target description name or file");
        if ((st = resolve_desc(sc, y, d, ds, t->desc, err))) return st;
        const char *base = strrchr(ds, '/') ? strrchr(ds, '/') + 1 : ds;
        int stem = (int)strcspn(base, ".");
        snprintf(t->label, sizeof t->label, "%s-%.*s", be->name, stem < 40 ? stem : 40, base);
    } else if (be->target) {
        char buf[TRAIN_PATH_LEN];
        if ((st = resolve_desc(sc, y, b, be->target, buf, err))) return st; /* the backend's own */
    }
    if (l1 && (st = dnas_yaml_int(y, l1, "l1", 1, 1L << 30, &t->l1, err))) return st;
    if (l1) snprintf(t->label + strlen(t->label), sizeof t->label - strlen(t->label), "-l1_%ld", t->l1);
    if (l1 && !be->target && !d)
        return dnas_yaml_fail(y, l1, err, "l1: backend %s has no tiled memory (give a target description)", be->name);
    if (lat && (st = dnas_yaml_float(y, lat, "latency_ms", 0, 1e12, 1, &t->latency_ms, err))) return st;
    if (lat && !be->target && !d)
        return dnas_yaml_fail(y, lat, err,
                              "latency_ms: backend %s has no target description to estimate latency with "
                              "(give target: NAME)",
                              be->name);
    return DNAS_OK;
}

/* The front's name: <cost>_vs_<accuracy>, a front the campaign makes. */
static dnas_status parse_front(search_sweep_config *sc, dnas_yaml *y, yaml_node_t *n, dnas_error *err) {
    search_sweep_deploy *d = &sc->deploy;
    int nacc = search_sweep_int_bits(sc) ? 2 : 1;
    if (!n) { /* the first front, of integer accuracy when there is one */
        snprintf(d->front, sizeof d->front, "%s_vs_%s", search_config_cost_name(sc->fronts[0]),
                 search_acc_name(nacc == 2 ? SEARCH_ACC_INT : SEARCH_ACC_TEST));
        return DNAS_OK;
    }
    const char *s = dnas_yaml_str(y, n, "front", err);
    if (!s) return DNAS_ERR_CONFIG;
    char names[1024] = "";
    for (int k = 0; k < sc->nfronts * nacc; k++) {
        char name[96];
        snprintf(name, sizeof name, "%s_vs_%s", search_config_cost_name(sc->fronts[k / nacc]),
                 search_acc_name((search_acc_kind)(k % nacc)));
        if (!strcmp(name, s)) {
            snprintf(d->front, sizeof d->front, "%s", s);
            return DNAS_OK;
        }
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", name);
    }
    return dnas_yaml_fail(y, n, err, "front: expected a front of the campaign (%s), found '%s'", names, s);
}

dnas_status search_sweep_deploy_parse(search_sweep_config *sc, dnas_yaml *y, yaml_node_t *n, dnas_error *err) {
    static const char *const KEYS[] = {"select", "front", "targets", "vectors", "images", NULL};
    search_sweep_deploy *d = &sc->deploy;
    dnas_status st = dnas_yaml_check_keys(y, n, KEYS, "deploy", err);
    if (st) return st;
    yaml_node_t *sel = dnas_yaml_get(y, n, "select"), *fr = dnas_yaml_get(y, n, "front");
    yaml_node_t *ts = dnas_yaml_get(y, n, "targets"), *v = dnas_yaml_get(y, n, "vectors");
    yaml_node_t *im = dnas_yaml_get(y, n, "images");
    const char *s = sel ? dnas_yaml_str(y, sel, "select", err) : "front";
    if (!s) return DNAS_ERR_CONFIG;
    if (!strcmp(s, "front"))
        d->select = SEARCH_DEPLOY_FRONT;
    else if (!strcmp(s, "best_within_budget"))
        d->select = SEARCH_DEPLOY_BEST;
    else
        return dnas_yaml_fail(y, sel, err, "select: expected front or best_within_budget, found '%s'", s);
    if (fr && d->select != SEARCH_DEPLOY_FRONT)
        return dnas_yaml_fail(y, fr, err, "front: only with select: front");
    if (d->select == SEARCH_DEPLOY_FRONT && (st = parse_front(sc, y, fr, err))) return st;
    if (!ts) return dnas_yaml_fail(y, n, err, "deploy: missing 'targets' (backends: c, cortex-m, gap8, diana)");
    if ((st = dnas_yaml_seq(y, ts, "targets", 1, SEARCH_SWEEP_MAX_DEPLOY, &d->ntargets, err))) return st;
    for (int i = 0; i < d->ntargets; i++) {
        yaml_node_t *it = dnas_yaml_item(y, ts, i);
        if ((st = parse_target(sc, y, it, &d->t[i], err))) return st;
        for (int k = 0; k < i; k++)
            if (!strcmp(d->t[k].label, d->t[i].label))
                return dnas_yaml_fail(y, it, err, "targets: %s is given twice", d->t[i].label);
        if (d->t[i].latency_ms > 0 && d->select != SEARCH_DEPLOY_BEST)
            return dnas_yaml_fail(y, it, err, "latency_ms: a budget for select: best_within_budget only");
    }
    if (v && im) return dnas_yaml_fail(y, im, err, "deploy: give vectors (random samples) or images, not both");
    d->vectors = 8;
    if (v && (st = dnas_yaml_int(y, v, "vectors", 1, 100000, &d->vectors, err))) return st;
    if (im) {
        if ((st = dnas_yaml_int(y, im, "images", 1, 100000, &d->vectors, err))) return st;
        const train_data_config *dc = &sc->search[0].data;
        if ((dc->format != TRAIN_DATA_IDX && dc->format != TRAIN_DATA_NPY) || !dc->test_x[0])
            return dnas_yaml_fail(y, im, err,
                                  "images: the search's data has no test images the deploy stage reads "
                                  "(format idx, fashion-mnist or npy with test_x): use vectors");
        if (access(dc->test_x, R_OK) != 0)
            return dnas_yaml_fail(y, im, err, "images: %s: cannot read it", dc->test_x);
        d->images = 1;
    }
    return DNAS_OK;
}
