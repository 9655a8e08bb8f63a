#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct {
    dnas_yaml *y;
    train_config *cfg;       /* NULL when only a data section is read */
    dnas_error *err;
    const char *base;        /* relative paths resolve against its directory ("": the current one) */
    train_data_config *data; /* what the data section fills */
} ctx;

/* dst = path p relative to the config file's directory (absolute kept);
 * a result longer than TRAIN_PATH_LEN is an error at node n. */
static dnas_status resolve(ctx *c, yaml_node_t *n, char *dst, const char *p) {
    const char *cfg_path = c->base, *slash = strrchr(cfg_path, '/');
    int len;
    if (p[0] == '/' || !slash)
        len = snprintf(dst, TRAIN_PATH_LEN, "%s", p);
    else
        len = snprintf(dst, TRAIN_PATH_LEN, "%.*s/%s", (int)(slash - cfg_path), cfg_path, p);
    if (len >= TRAIN_PATH_LEN)
        return dnas_yaml_fail(c->y, n, c->err, "path of %d characters: expected at most %d", len,
                              TRAIN_PATH_LEN - 1);
    return DNAS_OK;
}

static dnas_status get_int(ctx *c, yaml_node_t *map, const char *key, int *out, int lo, int hi) {
    yaml_node_t *n = dnas_yaml_get(c->y, map, key);
    if (!n) return DNAS_OK;
    long v = 0;
    dnas_status st = dnas_yaml_int(c->y, n, key, lo, hi, &v, c->err);
    if (!st) *out = (int)v;
    return st;
}

static dnas_status get_float(ctx *c, yaml_node_t *map, const char *key, float *out, double lo, double hi) {
    yaml_node_t *n = dnas_yaml_get(c->y, map, key);
    if (!n) return DNAS_OK;
    double v = 0;
    dnas_status st = dnas_yaml_float(c->y, n, key, lo, hi, 0, &v, c->err);
    if (!st) *out = (float)v;
    return st;
}

/* A path value: a non-empty string, resolved against the config's dir. */
static dnas_status path_value(ctx *c, yaml_node_t *n, const char *key, char *dst) {
    const char *s = dnas_yaml_str(c->y, n, key, c->err);
    if (!s) return DNAS_ERR_CONFIG;
    if (!s[0]) return dnas_yaml_fail(c->y, n, c->err, "%s: expected a file path, found an empty value", key);
    return resolve(c, n, dst, s);
}

static dnas_status get_path(ctx *c, yaml_node_t *map, const char *key, char *dst) {
    yaml_node_t *n = dnas_yaml_get(c->y, map, key);
    return n ? path_value(c, n, key, dst) : DNAS_OK;
}

/* A file or (max > 1) a list of 1..max files. */
static dnas_status get_files(ctx *c, yaml_node_t *map, const char *key, char files[][TRAIN_PATH_LEN],
                             int *count, int max) {
    yaml_node_t *n = dnas_yaml_get(c->y, map, key);
    if (!n) return DNAS_OK;
    if (n->type == YAML_SCALAR_NODE) {
        *count = 1;
        return path_value(c, n, key, files[0]);
    }
    int len = dnas_yaml_len(n);
    if (n->type != YAML_SEQUENCE_NODE || len < 1 || len > max) {
        if (max == 1) return dnas_yaml_fail(c->y, n, c->err, "%s: expected one file (a path)", key);
        return dnas_yaml_fail(c->y, n, c->err, "%s: expected a file or a list of 1..%d files", key, max);
    }
    for (int i = 0; i < len; i++) {
        dnas_status st = path_value(c, dnas_yaml_item(c->y, n, i), key, files[i]);
        if (st) return st;
    }
    *count = len;
    return DNAS_OK;
}

/* The data formats and the keys each takes besides DATA_COMMON. */
static const char *const DATA_COMMON[] = {"format", "layout", "normalize", "val_split", "limit_train",
                                          "limit_test", NULL};
static const struct {
    const char *name;
    train_data_format format;
    const char *takes;  /* for messages */
    const char *const keys[5];
    int files;          /* files `train` and `test` may list (0: keys train_x ...) */
} DATA_FORMATS[] = {
    {"fashion-mnist", TRAIN_DATA_IDX, "it reads the files in " FMNIST_DIR "; format idx reads others",
     {NULL}, 0},
    {"idx", TRAIN_DATA_IDX, "it takes train_x, train_y, test_x, test_y",
     {"train_x", "train_y", "test_x", "test_y"}, 0},
    {"npy", TRAIN_DATA_NPY, "it takes train_x, train_y, test_x, test_y",
     {"train_x", "train_y", "test_x", "test_y"}, 0},
    {"csv", TRAIN_DATA_CSV, "it takes train, test, label_col, header",
     {"train", "test", "label_col", "header"}, 1},
    {"hdf5", TRAIN_DATA_HDF5, "it takes train, test", {"train", "test"}, 1},
    {"cifar10", TRAIN_DATA_CIFAR10, "it takes train, test", {"train", "test"}, TRAIN_MAX_FILES},
};

/* key is in the NULL-terminated list */
static int in_list(const char *const *list, const char *key) {
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], key)) return 1;
    return 0;
}

/* Every key known, and taken by format f. */
static dnas_status data_keys(ctx *c, yaml_node_t *map, int f) {
    static const char *const ALL[] = {"format", "layout", "normalize", "val_split", "limit_train",
                                      "limit_test", "train_x", "train_y", "test_x", "test_y", "train",
                                      "test", "label_col", "header", NULL};
    dnas_status st = dnas_yaml_check_keys(c->y, map, ALL, "data", c->err);
    if (st) return st;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *key = dnas_yaml_key(c->y, p);
        if (in_list(DATA_COMMON, key) || in_list(DATA_FORMATS[f].keys, key)) continue;
        return dnas_yaml_fail(c->y, yaml_document_get_node(&c->y->doc, p->key), c->err,
                              "data: format %s does not take '%s' (%s)", DATA_FORMATS[f].name, key,
                              DATA_FORMATS[f].takes);
    }
    return DNAS_OK;
}

/* The files the format needs, and labels for both splits or for neither. */
static dnas_status data_files(ctx *c, yaml_node_t *map, int f) {
    train_data_config *d = c->data;
    const char *fmt = DATA_FORMATS[f].name;
    dnas_status st;
    if (DATA_FORMATS[f].files) {
        int max = DATA_FORMATS[f].files;
        if ((st = get_files(c, map, "train", d->train_files, &d->ntrain_files, max)) ||
            (st = get_files(c, map, "test", d->test_files, &d->ntest_files, max)))
            return st;
        if (!d->ntrain_files)
            return dnas_yaml_fail(c->y, map, c->err, "data: format %s needs 'train:' (%s)", fmt,
                                  max > 1 ? "a file or a list of files" : "a file");
        return DNAS_OK;
    }
    if (!strcmp(fmt, "fashion-mnist")) return DNAS_OK;
    if ((st = get_path(c, map, "train_x", d->train_x)) || (st = get_path(c, map, "train_y", d->train_y)) ||
        (st = get_path(c, map, "test_x", d->test_x)) || (st = get_path(c, map, "test_y", d->test_y)))
        return st;
    if (!d->train_x[0])
        return dnas_yaml_fail(c->y, map, c->err,
                              "data: format %s needs train_x (and train_y, test_x, test_y)", fmt);
    yaml_node_t *ty = dnas_yaml_get(c->y, map, "test_y");
    if (ty && !d->test_x[0])
        return dnas_yaml_fail(c->y, ty, c->err, "test_y: labels for no test set: give test_x too");
    if (d->test_x[0] && !d->train_y[0] != !d->test_y[0])
        return dnas_yaml_fail(c->y, ty ? ty : dnas_yaml_get(c->y, map, "train_y"), c->err,
                              "data: %s without %s: give labels for both splits or for neither",
                              d->train_y[0] ? "train_y" : "test_y", d->train_y[0] ? "test_y" : "train_y");
    return DNAS_OK;
}

static dnas_status parse_data(ctx *c, yaml_node_t *map) {
    train_data_config *d = c->data;
    dnas_status st = dnas_yaml_map(c->y, map, "data", c->err);
    if (st) return st;
    yaml_node_t *fn = dnas_yaml_get(c->y, map, "format");
    const char *fmt = fn ? dnas_yaml_str(c->y, fn, "format", c->err) : "fashion-mnist";
    if (!fmt) return DNAS_ERR_CONFIG;
    int f = -1;
    for (int i = 0; i < (int)(sizeof DATA_FORMATS / sizeof DATA_FORMATS[0]); i++)
        if (!strcmp(fmt, DATA_FORMATS[i].name)) f = i;
    if (f < 0)
        return dnas_fail(c->err, DNAS_ERR_CONFIG,
                         "%s:%d: format: expected fashion-mnist, idx, npy, csv, hdf5 or cifar10, found '%s'",
                         c->y->path, dnas_yaml_line(fn), fmt);
    d->format = DATA_FORMATS[f].format;
    if (!strcmp(fmt, "fashion-mnist")) {
        snprintf(d->train_x, TRAIN_PATH_LEN, "%s/train-images-idx3-ubyte.gz", FMNIST_DIR);
        snprintf(d->train_y, TRAIN_PATH_LEN, "%s/train-labels-idx1-ubyte.gz", FMNIST_DIR);
        snprintf(d->test_x, TRAIN_PATH_LEN, "%s/t10k-images-idx3-ubyte.gz", FMNIST_DIR);
        snprintf(d->test_y, TRAIN_PATH_LEN, "%s/t10k-labels-idx1-ubyte.gz", FMNIST_DIR);
    }
    if ((st = data_keys(c, map, f)) || (st = data_files(c, map, f))) return st;
    d->label_col = -1;
    if ((st = get_int(c, map, "label_col", &d->label_col, -100000, 100000))) return st;
    yaml_node_t *hn = dnas_yaml_get(c->y, map, "header");
    if (hn && (st = dnas_yaml_bool(c->y, hn, "header", &d->header, c->err))) return st;
    yaml_node_t *ln = dnas_yaml_get(c->y, map, "layout");
    if (ln) {
        const char *s = dnas_yaml_str(c->y, ln, "layout", c->err);
        if (!s) return DNAS_ERR_CONFIG;
        if (!strcmp(s, "rows"))
            d->rows = 1;
        else if (strcmp(s, "image"))
            return dnas_fail(c->err, DNAS_ERR_CONFIG, "%s:%d: layout: expected image or rows, found '%s'",
                              c->y->path, dnas_yaml_line(ln), s);
    }
    d->normalize = 1;
    yaml_node_t *nn = dnas_yaml_get(c->y, map, "normalize");
    if (nn && (st = dnas_yaml_bool(c->y, nn, "normalize", &d->normalize, c->err))) return st;
    if ((st = get_int(c, map, "val_split", &d->val_split, 0, 1 << 30)) ||
        (st = get_int(c, map, "limit_train", &d->limit_train, 0, 1 << 30)) ||
        (st = get_int(c, map, "limit_test", &d->limit_test, 0, 1 << 30)))
        return st;
    return DNAS_OK;
}

static dnas_status parse_train(ctx *c, yaml_node_t *map) {
    static const char *const KEYS[] = {"epochs", "batch", "seed", "threads", "loss", "optimizer",
                                       "schedule", "log_every", NULL};
    train_config *cfg = c->cfg;
    dnas_status st = dnas_yaml_check_keys(c->y, map, KEYS, "train", c->err);
    if (st) return st;
    int seed = (int)cfg->seed;
    if ((st = get_int(c, map, "epochs", &cfg->epochs, 0, TRAIN_MAX_EPOCHS)) ||
        (st = get_int(c, map, "batch", &cfg->batch, 1, 1 << 16)) ||
        (st = get_int(c, map, "seed", &seed, 0, 0x7fffffff)) ||
        (st = get_int(c, map, "threads", &cfg->threads, 0, TRAIN_MAX_THREADS)) ||
        (st = get_int(c, map, "log_every", &cfg->log_every, 0, 1000)))
        return st;
    cfg->seed = (uint64_t)seed;
    yaml_node_t *ln = dnas_yaml_get(c->y, map, "loss");
    if (ln) {
        const char *s = dnas_yaml_str(c->y, ln, "loss", c->err);
        if (!s) return DNAS_ERR_CONFIG;
        if (!strcmp(s, "cross_entropy"))
            cfg->loss = TRAIN_LOSS_XENT;
        else if (!strcmp(s, "mse"))
            cfg->loss = TRAIN_LOSS_MSE;
        else
            return dnas_fail(c->err, DNAS_ERR_CONFIG, "%s:%d: loss: expected cross_entropy or mse, found '%s'",
                              c->y->path, dnas_yaml_line(ln), s);
    }
    yaml_node_t *on = dnas_yaml_get(c->y, map, "optimizer");
    if (on) {
        static const char *const OKEYS[] = {"name", "lr", "momentum", "nesterov", "beta1", "beta2",
                                            "eps", "weight_decay", NULL};
        if ((st = dnas_yaml_check_keys(c->y, on, OKEYS, "optimizer", c->err))) return st;
        yaml_node_t *nn = dnas_yaml_get(c->y, on, "name");
        if (nn) {
            const char *s = dnas_yaml_str(c->y, nn, "name", c->err);
            if (!s) return DNAS_ERR_CONFIG;
            int k = train_optim_kind_parse(s);
            if (k < 0)
                return dnas_fail(c->err, DNAS_ERR_CONFIG, "%s:%d: optimizer name: expected sgd, adam or adamw, found '%s'",
                                  c->y->path, dnas_yaml_line(nn), s);
            cfg->optim.kind = (train_optim_kind)k;
        }
        train_optim_params *o = &cfg->optim;
        if ((st = get_float(c, on, "lr", &o->lr, 0, 3e38)) ||
            (st = get_float(c, on, "momentum", &o->momentum, 0, 1)) ||
            (st = get_float(c, on, "beta1", &o->beta1, 0, 1)) ||
            (st = get_float(c, on, "beta2", &o->beta2, 0, 1)) ||
            (st = get_float(c, on, "eps", &o->eps, 0, 1)) ||
            (st = get_float(c, on, "weight_decay", &o->weight_decay, 0, 1)))
            return st;
        yaml_node_t *nv = dnas_yaml_get(c->y, on, "nesterov");
        if (nv && (st = dnas_yaml_bool(c->y, nv, "nesterov", &o->nesterov, c->err))) return st;
    }
    yaml_node_t *sn = dnas_yaml_get(c->y, map, "schedule");
    if (sn) {
        static const char *const SKEYS[] = {"name", "warmup_epochs", "min_lr", "step_epochs", "gamma", NULL};
        if ((st = dnas_yaml_check_keys(c->y, sn, SKEYS, "schedule", c->err))) return st;
        yaml_node_t *nn = dnas_yaml_get(c->y, sn, "name");
        if (nn) {
            const char *s = dnas_yaml_str(c->y, nn, "name", c->err);
            if (!s) return DNAS_ERR_CONFIG;
            int k = train_sched_kind_parse(s);
            if (k < 0)
                return dnas_fail(c->err, DNAS_ERR_CONFIG, "%s:%d: schedule name: expected constant, step or cosine, found '%s'",
                                  c->y->path, dnas_yaml_line(nn), s);
            cfg->sched.kind = (train_sched_kind)k;
        }
        if ((st = get_float(c, sn, "warmup_epochs", &cfg->warmup_epochs, 0, 1e6)) ||
            (st = get_float(c, sn, "min_lr", &cfg->sched.min_lr, 0, 10)) ||
            (st = get_float(c, sn, "step_epochs", &cfg->step_epochs, 0, 1e6)) ||
            (st = get_float(c, sn, "gamma", &cfg->sched.gamma, 0, 1)))
            return st;
    }
    return DNAS_OK;
}

dnas_status train_config_parse_data(dnas_yaml *y, yaml_node_t *map, const char *cfg_path,
                                    train_data_config *d, dnas_error *err) {
    memset(d, 0, sizeof *d);
    d->format = TRAIN_DATA_IDX;
    d->normalize = 1;
    ctx c = {y, NULL, err, cfg_path, d};
    return parse_data(&c, map);
}

static void defaults(train_config *cfg, const char *path) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->path, sizeof cfg->path, "%s", path);
    cfg->epochs = 10;
    cfg->batch = 128;
    cfg->threads = 0; /* all cores */
    cfg->seed = 1;
    cfg->log_every = 10;
    cfg->optim = train_optim_default_params();
    cfg->sched.kind = TRAIN_SCHED_CONSTANT;
    cfg->sched.gamma = 0.1f;
    cfg->data.format = TRAIN_DATA_IDX;
    cfg->data.normalize = 1;
}

/* The YAML text cfg->text (named path in messages) over the defaults, its
 * relative paths resolved against base's directory. */
static dnas_status parse(train_config *cfg, const char *path, const char *base, dnas_error *err) {
    dnas_yaml y;
    dnas_status st = dnas_yaml_load_string(&y, cfg->text, path, err);
    if (st) return st;
    ctx c = {&y, cfg, err, base, &cfg->data};
    yaml_node_t *root = dnas_yaml_root(&y);
    static const char *const KEYS[] = {"model", "data", "train", "checkpoint", "description", NULL};
    if ((st = dnas_yaml_check_keys(&y, root, KEYS, "config", err))) goto done;
    yaml_node_t *mn = dnas_yaml_get(&y, root, "model");
    if (!mn) {
        st = dnas_fail(err, DNAS_ERR_CONFIG, "%s:%d: missing 'model' (path to a model YAML)", path,
                        dnas_yaml_line(root));
        goto done;
    }
    if ((st = get_path(&c, root, "model", cfg->model))) goto done;
    yaml_node_t *dn = dnas_yaml_get(&y, root, "data");
    if (dn) {
        if ((st = parse_data(&c, dn))) goto done;
    } else {
        st = dnas_fail(err, DNAS_ERR_CONFIG, "%s:%d: missing 'data' (e.g. data: {format: fashion-mnist})",
                        path, dnas_yaml_line(root));
        goto done;
    }
    yaml_node_t *tn = dnas_yaml_get(&y, root, "train");
    if (tn && (st = parse_train(&c, tn))) goto done;
    yaml_node_t *cn = dnas_yaml_get(&y, root, "checkpoint");
    if (cn) {
        const char *s = dnas_yaml_str(&y, cn, "checkpoint", err);
        if (!s) {
            st = DNAS_ERR_CONFIG;
            goto done;
        }
        if (strlen(s) >= sizeof cfg->checkpoint) {
            st = dnas_yaml_fail(&y, cn, err, "checkpoint: path of %zu characters: expected at most %d",
                                strlen(s), (int)sizeof cfg->checkpoint - 1);
            goto done;
        }
        snprintf(cfg->checkpoint, sizeof cfg->checkpoint, "%s", s);
    }
    cfg->sched.base_lr = cfg->optim.lr;
done:
    dnas_yaml_free(&y);
    return st;
}

dnas_status train_config_load(train_config *cfg, const char *path, dnas_error *err) {
    defaults(cfg, path);
    if (strlen(path) >= sizeof cfg->path)
        return dnas_fail(err, DNAS_ERR_IO, "%s: path longer than %d characters", path, (int)sizeof cfg->path - 1);
    dnas_status st = dnas_read_text(path, DNAS_YAML_MAX_BYTES, &cfg->text, err);
    if (st) return st;
    return parse(cfg, path, path, err);
}

dnas_status train_config_load_text(train_config *cfg, const char *text, const char *name, dnas_error *err) {
    defaults(cfg, name);
    size_t n = strlen(text);
    if (n > DNAS_YAML_MAX_BYTES)
        return dnas_fail(err, DNAS_ERR_CONFIG, "%s: %zu bytes: expected at most %u", name, n,
                         DNAS_YAML_MAX_BYTES);
    cfg->text = dnas_xmalloc(n + 1);
    memcpy(cfg->text, text, n + 1);
    return parse(cfg, name, "", err);
}

void train_config_free(train_config *cfg) {
    free(cfg->text);
    cfg->text = NULL;
}
