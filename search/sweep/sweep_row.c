/* /summary rows: what a run group says about its run, read back from its
 * attributes (a run file's /runs/<id> or campaign.h5's: the same layout),
 * and their compound type. The costs are named as configs name them
 * (params, macs, bitops, memory, latency, ...). */
#include <math.h>
#include <string.h>

#include "dnas_h5.h"
#include "sweep.h"

static const char *ACC_NAMES[SEARCH_ACC_COUNT_] = {"test_acc", "int_test_acc"};

const char *search_acc_name(search_acc_kind a) {
    return (unsigned)a < SEARCH_ACC_COUNT_ ? ACC_NAMES[a] : "?";
}

double search_sweep_row_acc(const search_sweep_row *row, search_acc_kind a) {
    return a == SEARCH_ACC_INT ? row->int_test_acc : row->test_acc;
}

static double num(hid_t loc, const char *name) {
    double v;
    return dnas_h5_read_attr_f64(loc, name, &v) == 1 ? v : NAN;
}

static void costs(hid_t run, const char *group, double *v) {
    for (int k = 0; k < SEARCH_COST_COUNT_; k++) v[k] = NAN;
    if (H5Lexists(run, group, H5P_DEFAULT) <= 0) return;
    hid_t g = H5Gopen2(run, group, H5P_DEFAULT);
    if (g < 0) return;
    for (int k = 0; k < SEARCH_COST_COUNT_; k++) v[k] = num(g, search_cost_name((search_cost)k));
    H5Gclose(g);
}

int search_sweep_row_read(hid_t run, const char *id, search_sweep_row *row) {
    memset(row, 0, sizeof *row);
    snprintf(row->id, sizeof row->id, "%s", id);
    if (dnas_h5_read_attr_str(run, "status", row->status, sizeof row->status) != 1) return 0;
    dnas_h5_read_attr_str(run, "method", row->method, sizeof row->method);
    if (dnas_h5_read_attr_str(run, "constraints", row->constraints, sizeof row->constraints) != 1)
        snprintf(row->constraints, sizeof row->constraints, "none");
    row->mu = num(run, "mu");
    double v = num(run, "seed");
    row->seed = isfinite(v) ? (int64_t)v : -1;
    v = num(run, "rank");
    row->rank = isfinite(v) ? (int32_t)v : -1;
    v = num(run, "constraint_set");
    row->constraint_set = isfinite(v) ? (int32_t)v : -1;
    row->wall_seconds = num(run, "wall_seconds");
    row->val_acc = row->test_acc = row->int_test_acc = row->search_test_acc = NAN;
    if (H5Lexists(run, "metrics", H5P_DEFAULT) > 0) {
        hid_t m = H5Gopen2(run, "metrics", H5P_DEFAULT);
        if (m >= 0) {
            row->val_acc = num(m, "finetune_val_acc");
            row->test_acc = num(m, "finetune_test_acc");
            row->int_test_acc = num(m, "int_test_acc");
            row->search_test_acc = num(m, "search_test_acc");
            H5Gclose(m);
        }
    }
    costs(run, "cost", row->cost);
    costs(run, "cost_seed", row->seed_cost);
    return 1;
}

static hid_t str_type(size_t n) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    return t;
}

hid_t search_sweep_row_type(int with_target, hid_t str_types[3]) {
    str_types[0] = str_type(SEARCH_SWEEP_ID_LEN);
    str_types[1] = str_type(16);
    str_types[2] = str_type(SEARCH_SWEEP_DESC_LEN);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(search_sweep_row));
#define F(name, field, type) H5Tinsert(t, name, HOFFSET(search_sweep_row, field), type)
    F("id", id, str_types[0]);
    F("method", method, str_types[1]);
    F("mu", mu, H5T_NATIVE_DOUBLE);
    F("constraint_set", constraint_set, H5T_NATIVE_INT32);
    F("constraints", constraints, str_types[2]);
    F("seed", seed, H5T_NATIVE_INT64);
    F("status", status, str_types[1]);
    F("rank", rank, H5T_NATIVE_INT32);
    F("wall_seconds", wall_seconds, H5T_NATIVE_DOUBLE);
    F("val_acc", val_acc, H5T_NATIVE_DOUBLE);
    F("test_acc", test_acc, H5T_NATIVE_DOUBLE);
    F("int_test_acc", int_test_acc, H5T_NATIVE_DOUBLE);
    F("search_test_acc", search_test_acc, H5T_NATIVE_DOUBLE);
#undef F
    int n = with_target ? SEARCH_COST_COUNT_ : SEARCH_COST_CYCLES;
    for (int k = 0; k < n; k++)
        H5Tinsert(t, search_config_cost_name(k), HOFFSET(search_sweep_row, cost) + (size_t)k * sizeof(double),
                  H5T_NATIVE_DOUBLE);
    return t;
}
