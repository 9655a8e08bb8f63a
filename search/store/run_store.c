/* The run file: root attributes and one run group (layout in
 * docs/search.md "The run file"; DESIGN.md "The HDF5 results store").
 * Written to PATH.tmp and renamed, so a killed writer leaves no half
 * file. HDF5's own error printing is off while writing (the message says
 * what failed). */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dnas_build_info.h"
#include "dnas_h5.h"
#include "store.h"

#define STORE_FORMAT "dnas-results-1"
#define NAME_FIELD 72

/* {name, offset, length} rows: a parameter table or the arch slices. */
typedef struct {
    char name[NAME_FIELD];
    uint64_t offset, length;
} slice_row;

static int slices(hid_t loc, const char *name, const slice_row *rows, size_t n) {
    hid_t s = H5Tcopy(H5T_C_S1);
    H5Tset_size(s, NAME_FIELD);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(slice_row));
    H5Tinsert(t, "name", HOFFSET(slice_row, name), s);
    H5Tinsert(t, "offset", HOFFSET(slice_row, offset), H5T_NATIVE_UINT64);
    H5Tinsert(t, "length", HOFFSET(slice_row, length), H5T_NATIVE_UINT64);
    int ok = dnas_h5_write_table(loc, name, t, rows, n);
    H5Tclose(t);
    H5Tclose(s);
    return ok;
}

static int metrics(hid_t g, const char *phase, const search_metrics *m) {
    char key[64];
    int ok = 1;
    const float v[4] = {m->val_loss, m->val_acc, m->test_loss, m->test_acc};
    const char *names[4] = {"val_loss", "val_acc", "test_loss", "test_acc"};
    for (int k = 0; k < 4; k++)
        if (v[k] >= 0) {
            snprintf(key, sizeof key, "%s_%s", phase, names[k]);
            ok &= dnas_h5_write_attr_f64(g, key, v[k]);
        }
    return ok;
}

/* One attribute per cost (latency, energy and levels only with a target). */
static int costs(hid_t loc, const char *name, const double *v, const search_result *res) {
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return 0;
    int ok = 1;
    for (int k = 0; k < SEARCH_COST_COUNT_; k++)
        if (res->target || k < SEARCH_COST_CYCLES) ok &= dnas_h5_write_attr_f64(g, search_cost_name((search_cost)k), v[k]);
    for (int m = 0; m < res->nmem && res->target; m++) {
        char key[64];
        snprintf(key, sizeof key, "level_%s", res->target->mem[m].name);
        ok &= dnas_h5_write_attr_f64(g, key, v[SEARCH_COST_LEVEL(m)]);
    }
    H5Gclose(g);
    return ok;
}

#include "store_internal.h"

static int weights(hid_t run, const train_net *net) {
    hid_t g = H5Gcreate2(run, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return 0;
    int ok = dnas_h5_write_floats(g, "params", net->params, net->nparams) && dnas_h5_write_floats(g, "state", net->state, net->nstate);
    slice_row *rows = dnas_xcalloc((size_t)net->nparam_table + 1, sizeof *rows);
    for (int i = 0; i < net->nparam_table; i++) {
        snprintf(rows[i].name, NAME_FIELD, "%s", net->param_table[i].name);
        rows[i].offset = net->param_table[i].off;
        rows[i].length = net->param_table[i].len;
    }
    ok &= slices(g, "param_table", rows, (size_t)net->nparam_table);
    ok &= dnas_h5_write_attr_str(g, "model", net->name);
    free(rows);
    H5Gclose(g);
    return ok;
}

static int arch_params(hid_t run, const search_result *res) {
    hid_t g = H5Gcreate2(run, "arch_params", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return 0;
    int ok = dnas_h5_write_floats(g, "alpha", res->alpha, res->nalpha);
    slice_row *rows = dnas_xcalloc((size_t)res->nslices + 1, sizeof *rows);
    for (int i = 0; i < res->nslices; i++) {
        snprintf(rows[i].name, NAME_FIELD, "%s", res->slices[i].name);
        rows[i].offset = res->slices[i].off;
        rows[i].length = res->slices[i].len;
    }
    ok &= slices(g, "table", rows, (size_t)res->nslices);
    if (res->nchoices) ok &= search_store_choices(g, res);
    free(rows);
    H5Gclose(g);
    return ok;
}

int search_store_run_group(hid_t f, const char *id, const search_config *cfg, const search_result *res, int rank) {
    hid_t runs = H5Lexists(f, "runs", H5P_DEFAULT) > 0 ? H5Gopen2(f, "runs", H5P_DEFAULT)
                                                      : H5Gcreate2(f, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (runs < 0) return 0;
    hid_t r = H5Gcreate2(runs, id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = r >= 0;
    if (ok) {
        ok &= dnas_h5_write_attr_str(r, "method", search_method_name(cfg->method));
        ok &= dnas_h5_write_attr_f64(r, "mu", cfg->mu);
        ok &= dnas_h5_write_attr_str(r, "cost", search_config_cost_name(cfg->cost));
        ok &= dnas_h5_write_attr_str(r, "targets", res->target ? res->target->name : "");
        ok &= dnas_h5_write_attr_i64(r, "seed", (long)cfg->seed);
        ok &= dnas_h5_write_attr_str(r, "status", search_status_name(res->status));
        if (res->status != SEARCH_STATUS_OK)
            ok &= dnas_h5_write_attr_str(r, "error", res->error) && dnas_h5_write_attr_str(r, "phase", res->phase);
        ok &= dnas_h5_write_attr_i64(r, "rank", rank);
        ok &= dnas_h5_write_attr_f64(r, "wall_seconds", res->seconds);
        ok &= dnas_h5_write_attr_str(r, "version", DNAS_VERSION) && dnas_h5_write_attr_str(r, "commit", DNAS_GIT_COMMIT);
        ok &= dnas_h5_write_attr_str(r, "model", cfg->model);
        ok &= dnas_h5_write_attr_str(r, "arch_split", cfg->split == SEARCH_SPLIT_VAL ? "val" : "train");
        const long ep[3] = {cfg->warmup, cfg->search, cfg->finetune};
        ok &= dnas_h5_write_attr_nums(r, "epochs", H5T_STD_I64LE, H5T_NATIVE_LONG, ep, 3);
        ok &= dnas_h5_write_attr_f64(r, "task_loss_warmup", res->task_loss_warmup);
        if (cfg->nconstraints) {
            char desc[1024] = "";
            for (int h = 0; h < cfg->nconstraints; h++) {
                size_t at = strlen(desc);
                const search_constraint *k = &cfg->constraints[h];
                if (k->slot == SEARCH_SLOT_LEVELS)
                    snprintf(desc + at, sizeof desc - at, "%slevels", h ? "," : "");
                else
                    snprintf(desc + at, sizeof desc - at, "%s%s<=%g", h ? "," : "",
                             search_config_cost_name(k->slot), k->max);
            }
            ok &= dnas_h5_write_attr_str(r, "constraints", desc);
            ok &= dnas_h5_write_attr_nums(r, "lambda", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, res->lambda,
                           (size_t)cfg->nconstraints);
        }
        hid_t m = H5Gcreate2(r, "metrics", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        ok &= m >= 0 && metrics(m, "warmup", &res->warmup) && metrics(m, "search", &res->search) &&
              metrics(m, "finetune", &res->finetune);
        if (m >= 0 && res->int_test_acc >= 0) ok &= dnas_h5_write_attr_f64(m, "int_test_acc", res->int_test_acc);
        if (m >= 0) H5Gclose(m);
        if (res->seed) ok &= costs(r, "cost_seed", res->seed_cost, res);
        if (res->alpha) ok &= arch_params(r, res);
        if (res->exported) {
            ok &= costs(r, "cost", res->cost, res);
            if (res->has_unsplit) ok &= costs(r, "cost_unsplit", res->cost_unsplit, res);
            ok &= search_store_arch_table(r, res);
            ok &= search_store_channel_engines(r, res);
            train_spec *spec = train_net_spec(res->exported);
            char *yaml = train_spec_to_yaml(spec);
            ok &= yaml && dnas_h5_write_text(r, "model_yaml", yaml);
            free(yaml);
            train_spec_free(spec);
            ok &= weights(r, res->exported);
        }
        if (res->qnet) {
            dnas_error qerr;
            ok &= deploy_qnet_write(r, "qnet", res->qnet, "run file", &qerr) == DNAS_OK;
        }
        H5Gclose(r);
    }
    H5Gclose(runs);
    return ok;
}

int search_store_root(hid_t f, const char *config_text, double start_time, double end_time, int ranks) {
    char when[64];
    time_t t0 = (time_t)start_time, t1 = (time_t)end_time;
    int ok = dnas_h5_write_attr_str(f, "format", STORE_FORMAT) && dnas_h5_write_attr_str(f, "version", DNAS_VERSION) &&
             dnas_h5_write_attr_str(f, "commit", DNAS_GIT_COMMIT) && dnas_h5_write_attr_i64(f, "ranks", ranks) &&
             dnas_h5_write_text(f, "config_yaml", config_text ? config_text : "");
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t0));
    ok &= dnas_h5_write_attr_str(f, "start_time", when);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t1));
    ok &= dnas_h5_write_attr_str(f, "end_time", when);
    return ok;
}

dnas_status search_store_create(const char *path, char *tmp, size_t tmp_len, hid_t *f, dnas_error *err) {
    if (snprintf(tmp, tmp_len, "%s.tmp", path) >= (int)tmp_len)
        return dnas_fail(err, DNAS_ERR_IO, "%s: path too long", path);
    *f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (*f < 0)
        return dnas_fail(err, DNAS_ERR_IO,
                         "%s: cannot create the file (does the directory exist and is it writable?)", tmp);
    return DNAS_OK;
}

dnas_status search_store_commit(const char *path, const char *tmp, hid_t f, int ok, dnas_error *err) {
    ok &= H5Fclose(f) >= 0;
    if (!ok) {
        remove(tmp);
        return dnas_fail(err, DNAS_ERR_IO, "%s: writing the file failed (disk full?)", tmp);
    }
    if (rename(tmp, path))
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    return DNAS_OK;
}

dnas_status search_store_write(const char *path, const char *id, const search_config *cfg,
                               const search_result *res, dnas_error *err) {
    char tmp[TRAIN_PATH_LEN + 8];
    hid_t f = -1;
    dnas_h5_quiet q;
    dnas_h5_quiet_on(&q);
    dnas_status st = search_store_create(path, tmp, sizeof tmp, &f, err);
    if (!st) {
        int ok = search_store_root(f, cfg->text, res->start_time, res->end_time, 1) &&
                 search_store_run_group(f, id, cfg, res, 0);
        st = search_store_commit(path, tmp, f, ok, err);
    }
    dnas_h5_quiet_off(&q);
    return st;
}
