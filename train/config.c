#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "yamldoc.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* dst = path relative to the config file's directory (absolute kept). */
static void resolve(char *dst, const char *cfg_path, const char *p) {
    if (p[0] == '/') {
        snprintf(dst, TRAIN_PATH_LEN, "%s", p);
        return;
    }
    const char *slash = strrchr(cfg_path, '/');
    if (!slash) {
        snprintf(dst, TRAIN_PATH_LEN, "%s", p);
        return;
    }
    snprintf(dst, TRAIN_PATH_LEN, "%.*s/%s", (int)(slash - cfg_path), cfg_path, p);
}

static char *slurp(const char *path, train_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        train_fail(err, TRAIN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = train_xmalloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len - 1 == 0) buf = realloc(buf, cap *= 2);
        TRAIN_ASSERT(buf);
    }
    buf[len] = 0;
    fclose(f);
    return buf;
}

typedef struct {
    train_yaml *y;
    train_config *cfg;
    train_error *err;
} ctx;

static train_status get_int(ctx *c, yaml_node_t *map, const char *key, int *out, int lo, int hi) {
    yaml_node_t *n = train_yaml_get(c->y, map, key);
    if (!n) return TRAIN_OK;
    long v = 0;
    train_status st = train_yaml_int(c->y, n, key, &v, c->err);
    if (st) return st;
    if (v < lo || v > hi)
        return train_fail(c->err, TRAIN_ERR_CONFIG, "%s:%d: %s: expected %d..%d, found %ld",
                          c->y->path, train_yaml_line(n), key, lo, hi, v);
    *out = (int)v;
    return TRAIN_OK;
}

static train_status get_float(ctx *c, yaml_node_t *map, const char *key, float *out, double lo, double hi) {
    yaml_node_t *n = train_yaml_get(c->y, map, key);
    if (!n) return TRAIN_OK;
    double v = 0;
    train_status st = train_yaml_float(c->y, n, key, &v, c->err);
    if (st) return st;
    if (v < lo || v > hi)
        return train_fail(c->err, TRAIN_ERR_CONFIG, "%s:%d: %s: expected %g..%g, found %g",
                          c->y->path, train_yaml_line(n), key, lo, hi, v);
    *out = (float)v;
    return TRAIN_OK;
}

static train_status get_path(ctx *c, yaml_node_t *map, const char *key, char *dst) {
    yaml_node_t *n = train_yaml_get(c->y, map, key);
    if (!n) return TRAIN_OK;
    const char *s = train_yaml_str(c->y, n, key, c->err);
    if (!s) return TRAIN_ERR_CONFIG;
    resolve(dst, c->cfg->path, s);
    return TRAIN_OK;
}

static train_status get_files(ctx *c, yaml_node_t *map, const char *key,
                              char files[][TRAIN_PATH_LEN], int *count) {
    yaml_node_t *n = train_yaml_get(c->y, map, key);
    if (!n) return TRAIN_OK;
    if (n->type == YAML_SCALAR_NODE) {
        *count = 1;
        resolve(files[0], c->cfg->path, (const char *)n->data.scalar.value);
        return TRAIN_OK;
    }
    int len = train_yaml_len(n);
    if (len < 1 || len > TRAIN_MAX_FILES)
        return train_fail(c->err, TRAIN_ERR_CONFIG, "%s:%d: %s: expected a file or a list of 1..%d files",
                          c->y->path, train_yaml_line(n), key, TRAIN_MAX_FILES);
    for (int i = 0; i < len; i++) {
        const char *s = train_yaml_str(c->y, train_yaml_item(c->y, n, i), key, c->err);
        if (!s) return TRAIN_ERR_CONFIG;
        resolve(files[i], c->cfg->path, s);
    }
    *count = len;
    return TRAIN_OK;
}

static train_status parse_data(ctx *c, yaml_node_t *map) {
    static const char *const KEYS[] = {"format", "train_x", "train_y", "test_x", "test_y",
                                       "train", "test", "label_col", "layout", "normalize",
                                       "val_split", "limit_train", "limit_test", NULL};
    train_data_config *d = &c->cfg->data;
    train_status st = train_yaml_check_keys(c->y, map, KEYS, "data", c->err);
    if (st) return st;
    yaml_node_t *fn = train_yaml_get(c->y, map, "format");
    const char *fmt = fn ? train_yaml_str(c->y, fn, "format", c->err) : "fashion-mnist";
    if (!fmt) return TRAIN_ERR_CONFIG;
    if (!strcmp(fmt, "fashion-mnist")) {
        d->format = TRAIN_DATA_IDX;
        snprintf(d->train_x, TRAIN_PATH_LEN, "%s/train-images-idx3-ubyte.gz", FMNIST_DIR);
        snprintf(d->train_y, TRAIN_PATH_LEN, "%s/train-labels-idx1-ubyte.gz", FMNIST_DIR);
        snprintf(d->test_x, TRAIN_PATH_LEN, "%s/t10k-images-idx3-ubyte.gz", FMNIST_DIR);
        snprintf(d->test_y, TRAIN_PATH_LEN, "%s/t10k-labels-idx1-ubyte.gz", FMNIST_DIR);
    } else if (!strcmp(fmt, "idx")) {
        d->format = TRAIN_DATA_IDX;
    } else if (!strcmp(fmt, "npy")) {
        d->format = TRAIN_DATA_NPY;
    } else if (!strcmp(fmt, "csv")) {
        d->format = TRAIN_DATA_CSV;
    } else if (!strcmp(fmt, "hdf5")) {
        d->format = TRAIN_DATA_HDF5;
    } else if (!strcmp(fmt, "cifar10")) {
        d->format = TRAIN_DATA_CIFAR10;
    } else {
        return train_fail(c->err, TRAIN_ERR_CONFIG,
                          "%s:%d: format: expected fashion-mnist, idx, npy, csv, hdf5 or cifar10, found '%s'",
                          c->y->path, train_yaml_line(fn), fmt);
    }
    if ((st = get_path(c, map, "train_x", d->train_x)) || (st = get_path(c, map, "train_y", d->train_y)) ||
        (st = get_path(c, map, "test_x", d->test_x)) || (st = get_path(c, map, "test_y", d->test_y)) ||
        (st = get_files(c, map, "train", d->train_files, &d->ntrain_files)) ||
        (st = get_files(c, map, "test", d->test_files, &d->ntest_files)))
        return st;
    /* hdf5 and csv take one file per split through train/test */
    if ((d->format == TRAIN_DATA_HDF5 || d->format == TRAIN_DATA_CIFAR10 || d->format == TRAIN_DATA_CSV) &&
        d->ntrain_files == 0)
        return train_fail(c->err, TRAIN_ERR_CONFIG, "%s:%d: data: format %s needs 'train:' (file%s)",
                          c->y->path, train_yaml_line(map), fmt,
                          d->format == TRAIN_DATA_CIFAR10 ? "s" : "");
    if ((d->format == TRAIN_DATA_IDX || d->format == TRAIN_DATA_NPY) && !d->train_x[0])
        return train_fail(c->err, TRAIN_ERR_CONFIG, "%s:%d: data: format %s needs train_x (and train_y, test_x, test_y)",
                          c->y->path, train_yaml_line(map), fmt);
    d->label_col = -1;
    if ((st = get_int(c, map, "label_col", &d->label_col, -100000, 100000))) return st;
    yaml_node_t *ln = train_yaml_get(c->y, map, "layout");
    if (ln) {
        const char *s = train_yaml_str(c->y, ln, "layout", c->err);
        if (!s) return TRAIN_ERR_CONFIG;
        if (!strcmp(s, "rows"))
            d->rows = 1;
        else if (strcmp(s, "image"))
            return train_fail(c->err, TRAIN_ERR_CONFIG, "%s:%d: layout: expected image or rows, found '%s'",
                              c->y->path, train_yaml_line(ln), s);
    }
    d->normalize = 1;
    yaml_node_t *nn = train_yaml_get(c->y, map, "normalize");
    if (nn && (st = train_yaml_bool(c->y, nn, "normalize", &d->normalize, c->err))) return st;
    if ((st = get_int(c, map, "val_split", &d->val_split, 0, 1 << 30)) ||
        (st = get_int(c, map, "limit_train", &d->limit_train, 0, 1 << 30)) ||
        (st = get_int(c, map, "limit_test", &d->limit_test, 0, 1 << 30)))
        return st;
    return TRAIN_OK;
}

static train_status parse_train(ctx *c, yaml_node_t *map) {
    static const char *const KEYS[] = {"epochs", "batch", "seed", "threads", "loss", "optimizer",
                                       "schedule", "log_every", NULL};
    train_config *cfg = c->cfg;
    train_status st = train_yaml_check_keys(c->y, map, KEYS, "train", c->err);
    if (st) return st;
    int seed = (int)cfg->seed;
    if ((st = get_int(c, map, "epochs", &cfg->epochs, 0, 100000)) ||
        (st = get_int(c, map, "batch", &cfg->batch, 1, 1 << 16)) ||
        (st = get_int(c, map, "seed", &seed, 0, 0x7fffffff)) ||
        (st = get_int(c, map, "threads", &cfg->threads, 0, 1024)) ||
        (st = get_int(c, map, "log_every", &cfg->log_every, 0, 1000)))
        return st;
    cfg->seed = (uint64_t)seed;
    yaml_node_t *ln = train_yaml_get(c->y, map, "loss");
    if (ln) {
        const char *s = train_yaml_str(c->y, ln, "loss", c->err);
        if (!s) return TRAIN_ERR_CONFIG;
        if (!strcmp(s, "cross_entropy"))
            cfg->loss = TRAIN_LOSS_XENT;
        else if (!strcmp(s, "mse"))
            cfg->loss = TRAIN_LOSS_MSE;
        else
            return train_fail(c->err, TRAIN_ERR_CONFIG, "%s:%d: loss: expected cross_entropy or mse, found '%s'",
                              c->y->path, train_yaml_line(ln), s);
    }
    yaml_node_t *on = train_yaml_get(c->y, map, "optimizer");
    if (on) {
        static const char *const OKEYS[] = {"name", "lr", "momentum", "nesterov", "beta1", "beta2",
                                            "eps", "weight_decay", NULL};
        if ((st = train_yaml_check_keys(c->y, on, OKEYS, "optimizer", c->err))) return st;
        yaml_node_t *nn = train_yaml_get(c->y, on, "name");
        if (nn) {
            const char *s = train_yaml_str(c->y, nn, "name", c->err);
            if (!s) return TRAIN_ERR_CONFIG;
            int k = train_optim_kind_parse(s);
            if (k < 0)
                return train_fail(c->err, TRAIN_ERR_CONFIG, "%s:%d: optimizer name: expected sgd, adam or adamw, found '%s'",
                                  c->y->path, train_yaml_line(nn), s);
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
        yaml_node_t *nv = train_yaml_get(c->y, on, "nesterov");
        if (nv && (st = train_yaml_bool(c->y, nv, "nesterov", &o->nesterov, c->err))) return st;
    }
    yaml_node_t *sn = train_yaml_get(c->y, map, "schedule");
    if (sn) {
        static const char *const SKEYS[] = {"name", "warmup_epochs", "min_lr", "step_epochs", "gamma", NULL};
        if ((st = train_yaml_check_keys(c->y, sn, SKEYS, "schedule", c->err))) return st;
        yaml_node_t *nn = train_yaml_get(c->y, sn, "name");
        if (nn) {
            const char *s = train_yaml_str(c->y, nn, "name", c->err);
            if (!s) return TRAIN_ERR_CONFIG;
            int k = train_sched_kind_parse(s);
            if (k < 0)
                return train_fail(c->err, TRAIN_ERR_CONFIG, "%s:%d: schedule name: expected constant, step or cosine, found '%s'",
                                  c->y->path, train_yaml_line(nn), s);
            cfg->sched.kind = (train_sched_kind)k;
        }
        if ((st = get_float(c, sn, "warmup_epochs", &cfg->warmup_epochs, 0, 1e6)) ||
            (st = get_float(c, sn, "min_lr", &cfg->sched.min_lr, 0, 10)) ||
            (st = get_float(c, sn, "step_epochs", &cfg->step_epochs, 0, 1e6)) ||
            (st = get_float(c, sn, "gamma", &cfg->sched.gamma, 0, 1)))
            return st;
    }
    return TRAIN_OK;
}

train_status train_config_load(train_config *cfg, const char *path, train_error *err) {
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

    cfg->text = slurp(path, err);
    if (!cfg->text) return TRAIN_ERR_IO;
    train_yaml y;
    train_status st = train_yaml_load_string(&y, cfg->text, path, err);
    if (st) return st;
    ctx c = {&y, cfg, err};
    yaml_node_t *root = train_yaml_root(&y);
    static const char *const KEYS[] = {"model", "data", "train", "checkpoint", "description", NULL};
    if ((st = train_yaml_check_keys(&y, root, KEYS, "config", err))) goto done;
    yaml_node_t *mn = train_yaml_get(&y, root, "model");
    if (!mn) {
        st = train_fail(err, TRAIN_ERR_CONFIG, "%s:%d: missing 'model' (path to a model YAML)", path,
                        train_yaml_line(root));
        goto done;
    }
    if ((st = get_path(&c, root, "model", cfg->model))) goto done;
    yaml_node_t *dn = train_yaml_get(&y, root, "data");
    if (dn) {
        if ((st = parse_data(&c, dn))) goto done;
    } else {
        st = train_fail(err, TRAIN_ERR_CONFIG, "%s:%d: missing 'data' (e.g. data: {format: fashion-mnist})",
                        path, train_yaml_line(root));
        goto done;
    }
    yaml_node_t *tn = train_yaml_get(&y, root, "train");
    if (tn && (st = parse_train(&c, tn))) goto done;
    yaml_node_t *cn = train_yaml_get(&y, root, "checkpoint");
    if (cn) {
        const char *s = train_yaml_str(&y, cn, "checkpoint", err);
        if (!s) {
            st = TRAIN_ERR_CONFIG;
            goto done;
        }
        snprintf(cfg->checkpoint, sizeof cfg->checkpoint, "%s", s);
    }
    cfg->sched.base_lr = cfg->optim.lr;
done:
    train_yaml_free(&y);
    return st;
}

void train_config_free(train_config *cfg) {
    free(cfg->text);
    cfg->text = NULL;
}
