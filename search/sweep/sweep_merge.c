/* campaign.h5 from the run files of a campaign folder (layout in
 * docs/sweep.md "campaign.h5"):
 *   1. root attributes (store.h: format, version, commit, ranks, start and
 *      end time, /config_yaml) plus campaign, runs, missing and, when the
 *      campaign names a search config file, /search_config_yaml (several:
 *      /search_config_yaml_<k> for each entry that is a file);
 *   2. run by run, in job order: /runs/<id> copied from runs/<id>.h5
 *      (H5Ocopy), its summary row read back and appended to /summary
 *      (chunked, extended a block of rows at a time), and its point added
 *      to every front;
 *   3. /pareto/<cost>_vs_<acc>: the front's {id, cost, accuracy} rows in
 *      cost order, attributes cost, accuracy, reference_point (the seed
 *      network's cost, accuracy 0), hypervolume and hypervolume_normalized
 *      (over the reference box, ref_cost·1).
 * Memory: one block of rows, the fronts and HDF5's caches of the file
 * (its metadata cache capped at MERGE_CACHE, no free-space records), about
 * 30 MB in all, growing by about 170 bytes a run (HDF5's index of /runs).
 * Written to campaign.h5.tmp and renamed. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "dnas_h5.h"
#include "store.h"
#include "sweep_internal.h"

#define BLOCK 64

typedef struct {
    hid_t ds, type;
    hsize_t n;
    int nbuf;
    search_sweep_row buf[BLOCK];
} summary;

static int summary_flush(summary *s) {
    if (!s->nbuf) return 1;
    hsize_t size[1] = {s->n + (hsize_t)s->nbuf}, start[1] = {s->n}, count[1] = {(hsize_t)s->nbuf};
    int ok = H5Dset_extent(s->ds, size) >= 0;
    hid_t fs = H5Dget_space(s->ds), ms = H5Screate_simple(1, count, NULL);
    ok &= H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
          H5Dwrite(s->ds, s->type, ms, fs, H5P_DEFAULT, s->buf) >= 0;
    H5Sclose(ms);
    H5Sclose(fs);
    s->n += (hsize_t)s->nbuf;
    s->nbuf = 0;
    return ok;
}

typedef struct {
    int slot;
    search_acc_kind acc;
    double ref;
    search_front f;
} front;

static int write_front(hid_t g, const front *fr) {
    char name[96];
    snprintf(name, sizeof name, "%s_vs_%s", search_config_cost_name(fr->slot), search_acc_name(fr->acc));
    hid_t idt = H5Tcopy(H5T_C_S1);
    H5Tset_size(idt, SEARCH_SWEEP_ID_LEN);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(search_front_point));
    H5Tinsert(t, "id", HOFFSET(search_front_point, id), idt);
    H5Tinsert(t, "cost", HOFFSET(search_front_point, cost), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "accuracy", HOFFSET(search_front_point, acc), H5T_NATIVE_DOUBLE);
    int ok = dnas_h5_write_table(g, name, t, fr->f.p, (size_t)fr->f.n);
    hid_t ds = ok ? H5Dopen2(g, name, H5P_DEFAULT) : -1;
    if (ds >= 0) {
        double hv = search_front_hypervolume(&fr->f, fr->ref, 0), refp[2] = {fr->ref, 0};
        ok &= dnas_h5_write_attr_str(ds, "cost", search_config_cost_name(fr->slot)) &&
              dnas_h5_write_attr_str(ds, "accuracy", search_acc_name(fr->acc)) &&
              dnas_h5_write_attr_nums(ds, "reference_point", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, refp, 2) &&
              dnas_h5_write_attr_f64(ds, "hypervolume", hv) &&
              dnas_h5_write_attr_f64(ds, "hypervolume_normalized", fr->ref > 0 ? hv / fr->ref : NAN);
        H5Dclose(ds);
    }
    H5Tclose(t);
    H5Tclose(idt);
    return ok;
}

/* Step 2 for one run file: 1 merged, 0 missing or unreadable, -1 a write failed. */
static int merge_run(const search_sweep_config *sc, int j, hid_t runs, summary *s, front *fr, int nfr) {
    char rel[64], path[TRAIN_PATH_LEN + 64], id[SEARCH_SWEEP_ID_LEN], src[64];
    snprintf(id, sizeof id, "%d", j);
    snprintf(rel, sizeof rel, "runs/%s.h5", id);
    snprintf(src, sizeof src, "runs/%s", id);
    search_sweep_path(sc, rel, path, sizeof path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 0;
    int ok = H5Ocopy(f, src, runs, id, H5P_DEFAULT, H5P_DEFAULT) >= 0;
    H5Fclose(f);
    if (!ok) return 0;
    hid_t r = H5Gopen2(runs, id, H5P_DEFAULT);
    search_sweep_row *row = &s->buf[s->nbuf];
    ok = r >= 0 && search_sweep_row_read(r, id, row);
    if (r >= 0) H5Gclose(r);
    if (!ok) return 0;
    for (int k = 0; k < nfr; k++) {
        if (!isfinite(fr[k].ref)) fr[k].ref = row->seed_cost[fr[k].slot];
        if (!strcmp(row->status, "ok"))
            search_front_add(&fr[k].f, id, row->cost[fr[k].slot], search_sweep_row_acc(row, fr[k].acc));
    }
    if (++s->nbuf == BLOCK && !summary_flush(s)) return -1;
    return 1;
}

static int merge_all(const search_sweep_config *sc, hid_t f, front *fr, int nfr, int *nruns, int *nmissing) {
    int with_target = search_sweep_with_target(sc, 0);
    hid_t strs[3];
    summary *s = dnas_xcalloc(1, sizeof *s);
    s->type = search_sweep_row_type(with_target, strs);
    hsize_t dims[1] = {0}, maxd[1] = {H5S_UNLIMITED}, chunk[1] = {BLOCK};
    hid_t space = H5Screate_simple(1, dims, maxd), pl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(pl, 1, chunk);
    s->ds = H5Dcreate2(f, "summary", s->type, space, H5P_DEFAULT, pl, H5P_DEFAULT);
    hid_t runs = H5Gcreate2(f, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = s->ds >= 0 && runs >= 0;
    for (int j = 0; ok && j < search_sweep_njobs(sc); j++) {
        int m = merge_run(sc, j, runs, s, fr, nfr);
        if (m < 0) ok = 0;
        *nruns += m == 1, *nmissing += m == 0;
    }
    ok &= summary_flush(s);
    if (runs >= 0) H5Gclose(runs);
    if (s->ds >= 0) H5Dclose(s->ds);
    H5Pclose(pl);
    H5Sclose(space);
    H5Tclose(s->type);
    for (int i = 0; i < 3; i++) H5Tclose(strs[i]);
    free(s);
    return ok;
}

/* campaign.h5's metadata cache (the /runs group's link index, the summary
 * chunks' index, ...) kept to MERGE_CACHE bytes: HDF5's default grows
 * with the file, up to 32 MB. */
#define MERGE_CACHE (4u << 20)
static void cap_cache(hid_t f) {
    H5AC_cache_config_t c;
    memset(&c, 0, sizeof c);
    c.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    if (H5Fget_mdc_config(f, &c) < 0) return;
    c.set_initial_size = 1;
    c.initial_size = MERGE_CACHE / 2;
    c.max_size = MERGE_CACHE;
    c.min_size = MERGE_CACHE / 4;
    H5Fset_mdc_config(f, &c);
}

/* campaign.h5.tmp as search_store_create makes it, without free-space
 * tracking: the space HDF5 frees while the file grows (the /runs index,
 * the /summary extents) is not reused, a few kB in all, and its records
 * (about 1 kB a run in memory) are not kept. */
static dnas_status create(const char *path, char *tmp, size_t tmp_len, hid_t *f, dnas_error *err) {
    if (snprintf(tmp, tmp_len, "%s.tmp", path) >= (int)tmp_len)
        return dnas_fail(err, DNAS_ERR_IO, "%s: path too long", path);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0) H5Pset_file_space_strategy(fcpl, H5F_FSPACE_STRATEGY_NONE, 0, 1);
    *f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl >= 0 ? fcpl : H5P_DEFAULT, H5P_DEFAULT);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (*f < 0)
        return dnas_fail(err, DNAS_ERR_IO,
                         "%s: cannot create the file (does the directory exist and is it writable?)", tmp);
    return DNAS_OK;
}

dnas_status search_sweep_merge(const search_sweep_config *sc, int ranks, double start_time, int *nruns,
                               int *nmissing, dnas_error *err) {
    char path[TRAIN_PATH_LEN + 64], tmp[TRAIN_PATH_LEN + 80];
    search_sweep_path(sc, "campaign.h5", path, sizeof path);
    *nruns = *nmissing = 0;
    int nacc = search_sweep_int_bits(sc) ? 2 : 1, nfr = sc->nfronts * nacc;
    front *fr = dnas_xcalloc((size_t)nfr, sizeof *fr);
    for (int k = 0; k < nfr; k++) {
        fr[k].slot = sc->fronts[k / nacc], fr[k].acc = (search_acc_kind)(k % nacc), fr[k].ref = NAN;
        search_front_init(&fr[k].f);
    }
    hid_t f = -1;
    dnas_h5_quiet q;
    dnas_h5_quiet_on(&q);
    dnas_status st = create(path, tmp, sizeof tmp, &f, err);
    if (!st) {
        cap_cache(f);
        int ok = search_store_root(f, sc->text, start_time, (double)time(NULL), ranks) &&
                 dnas_h5_write_attr_str(f, "campaign", sc->name);
        for (int k = 0; k < sc->nsearch; k++) { /* search_config_yaml; several: search_config_yaml_<k> */
            char name[48] = "search_config_yaml";
            if (sc->nsearch > 1) snprintf(name, sizeof name, "search_config_yaml_%d", k);
            if (sc->search_file[k]) ok &= dnas_h5_write_text(f, name, sc->search[k].text);
        }
        ok &= merge_all(sc, f, fr, nfr, nruns, nmissing);
        ok &= dnas_h5_write_attr_i64(f, "runs", *nruns) && dnas_h5_write_attr_i64(f, "missing", *nmissing);
        hid_t g = ok ? H5Gcreate2(f, "pareto", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
        ok &= g >= 0;
        for (int k = 0; ok && k < nfr; k++) ok &= write_front(g, &fr[k]);
        if (g >= 0) H5Gclose(g);
        st = search_store_commit(path, tmp, f, ok, err);
    }
    dnas_h5_quiet_off(&q);
    for (int k = 0; k < nfr; k++) search_front_free(&fr[k].f);
    free(fr);
    return st;
}
