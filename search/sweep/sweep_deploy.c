/* The campaign's deploy stage (docs/sweep.md "Deploy stage"), rank 0 after
 * the merge, outside MPI (it starts make):
 *   1. the selection from campaign.h5: the points of one front
 *      (/pareto/<front>), or per target the most accurate ok run (integer
 *      accuracy when the campaign measures it) that compiles within the
 *      target description's memory (deploy_pass_plan's check) and, with
 *      latency_ms, whose cost-model cycles at the description's clock fit
 *      that budget;
 *   2. each (run, target) through the deploy library (deploy/job.h) into
 *      deploy/<run>_<target>/ and its `make check` as a child process
 *      (cortex-m only when arm-none-eabi-gcc and qemu-system-arm are on
 *      PATH, else skipped), its result written to result.txt there; a
 *      folder with a result.txt that is not a skip is read back, not redone
 *      (--resume);
 *   3. /deploy in campaign.h5: one row per deployment (rewritten whole).
 * A deployment that fails is a row with its reason; the stage goes on. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "deploy.h"
#include "dnas_h5.h"
#include "sweep_internal.h"

#define REASON_LEN 256

/* One /deploy row. */
typedef struct {
    char run[SEARCH_SWEEP_ID_LEN];
    char target[64]; /* the target's label: backend or backend-<description> */
    char backend[16];
    char desc[64];     /* the target description's name, "none" */
    char verified[16]; /* equal, differ, skipped, failed */
    char reason[REASON_LEN];
    int64_t flash, ram, arena, arena_lower_bound;
    double cycles;       /* cost model, one inference; NaN: no estimate */
    double tiled_cycles; /* cycles with the tiled layers' tiles instead of their whole layer; NaN */
    int64_t dma, dma_bound; /* bytes DMA moves per inference, its lower bound (0: nothing tiled) */
    int32_t tiled_layers, tiles; /* layers run in several tiles, their tiles together */
    double latency_ms;           /* cycles at the description's clock; NaN */
    int32_t samples;             /* samples compared by make check */
    double accuracy;             /* the evaluator's on the test images; NaN: random samples */
} dep_row;

static hid_t row_type(hid_t strs[5]) {
    static const size_t LEN[5] = {SEARCH_SWEEP_ID_LEN, 64, 16, 16, REASON_LEN};
    for (int i = 0; i < 5; i++) {
        strs[i] = H5Tcopy(H5T_C_S1);
        H5Tset_size(strs[i], LEN[i]);
    }
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(dep_row));
    H5Tinsert(t, "run", HOFFSET(dep_row, run), strs[0]);
    H5Tinsert(t, "target", HOFFSET(dep_row, target), strs[1]);
    H5Tinsert(t, "backend", HOFFSET(dep_row, backend), strs[2]);
    H5Tinsert(t, "target_desc", HOFFSET(dep_row, desc), strs[1]);
    H5Tinsert(t, "verified", HOFFSET(dep_row, verified), strs[3]);
    H5Tinsert(t, "reason", HOFFSET(dep_row, reason), strs[4]);
    H5Tinsert(t, "flash", HOFFSET(dep_row, flash), H5T_NATIVE_INT64);
    H5Tinsert(t, "ram", HOFFSET(dep_row, ram), H5T_NATIVE_INT64);
    H5Tinsert(t, "arena", HOFFSET(dep_row, arena), H5T_NATIVE_INT64);
    H5Tinsert(t, "arena_lower_bound", HOFFSET(dep_row, arena_lower_bound), H5T_NATIVE_INT64);
    H5Tinsert(t, "cycles", HOFFSET(dep_row, cycles), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "latency_ms", HOFFSET(dep_row, latency_ms), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "tiled_cycles", HOFFSET(dep_row, tiled_cycles), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "dma_bytes", HOFFSET(dep_row, dma), H5T_NATIVE_INT64);
    H5Tinsert(t, "dma_lower_bound", HOFFSET(dep_row, dma_bound), H5T_NATIVE_INT64);
    H5Tinsert(t, "tiled_layers", HOFFSET(dep_row, tiled_layers), H5T_NATIVE_INT32);
    H5Tinsert(t, "tiles", HOFFSET(dep_row, tiles), H5T_NATIVE_INT32);
    H5Tinsert(t, "samples", HOFFSET(dep_row, samples), H5T_NATIVE_INT32);
    H5Tinsert(t, "accuracy", HOFFSET(dep_row, accuracy), H5T_NATIVE_DOUBLE);
    return t;
}

static void row_types_close(hid_t t, hid_t strs[5]) {
    H5Tclose(t);
    for (int i = 0; i < 5; i++)
        H5Tclose(strs[i]);
}

/* ---- result.txt: a finished deployment, read back on --resume ---- */

static const char RESULT_MAGIC[] = "dnas-deploy-result 1";

static int write_result(const char *dir, const dep_row *r) {
    char path[TRAIN_PATH_LEN + 200], tmp[TRAIN_PATH_LEN + 210];
    snprintf(path, sizeof path, "%s/result.txt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return 0;
    fprintf(f, "%s\nrun %s\ntarget %s\nbackend %s\ndesc %s\nverified %s\n", RESULT_MAGIC, r->run,
            r->target, r->backend, r->desc, r->verified);
    fprintf(f, "flash %lld\nram %lld\narena %lld\narena_lower_bound %lld\n", (long long)r->flash,
            (long long)r->ram, (long long)r->arena, (long long)r->arena_lower_bound);
    fprintf(f, "cycles %.17g\nlatency_ms %.17g\nsamples %d\naccuracy %.17g\nreason %s\n", r->cycles,
            r->latency_ms, (int)r->samples, r->accuracy, r->reason);
    fprintf(f, "tiled_cycles %.17g\ndma %lld\ndma_bound %lld\ntiled_layers %d\ntiles %d\n",
            r->tiled_cycles, (long long)r->dma, (long long)r->dma_bound, (int)r->tiled_layers,
            (int)r->tiles);
    int ok = !ferror(f);
    ok &= fclose(f) == 0;
    return ok && rename(tmp, path) == 0;
}

/* 1: dir/result.txt read into r, for this run and target. */
static int read_result(const char *dir, const char *run, const char *target, dep_row *r) {
    char path[TRAIN_PATH_LEN + 200], line[512];
    snprintf(path, sizeof path, "%s/result.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    memset(r, 0, sizeof *r);
    int ok = fgets(line, sizeof line, f) && !strncmp(line, RESULT_MAGIC, sizeof RESULT_MAGIC - 1),
        fields = 0;
    while (ok && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        *sp = 0;
        const char *k = line, *v = sp + 1;
        long long n = strtoll(v, NULL, 10);
        fields++;
        if (!strcmp(k, "run"))
            snprintf(r->run, sizeof r->run, "%s", v);
        else if (!strcmp(k, "target"))
            snprintf(r->target, sizeof r->target, "%s", v);
        else if (!strcmp(k, "backend"))
            snprintf(r->backend, sizeof r->backend, "%s", v);
        else if (!strcmp(k, "desc"))
            snprintf(r->desc, sizeof r->desc, "%s", v);
        else if (!strcmp(k, "verified"))
            snprintf(r->verified, sizeof r->verified, "%s", v);
        else if (!strcmp(k, "reason"))
            snprintf(r->reason, sizeof r->reason, "%s", v);
        else if (!strcmp(k, "flash"))
            r->flash = n;
        else if (!strcmp(k, "ram"))
            r->ram = n;
        else if (!strcmp(k, "arena"))
            r->arena = n;
        else if (!strcmp(k, "arena_lower_bound"))
            r->arena_lower_bound = n;
        else if (!strcmp(k, "samples"))
            r->samples = (int32_t)n;
        else if (!strcmp(k, "cycles"))
            r->cycles = strtod(v, NULL);
        else if (!strcmp(k, "latency_ms"))
            r->latency_ms = strtod(v, NULL);
        else if (!strcmp(k, "accuracy"))
            r->accuracy = strtod(v, NULL);
        else if (!strcmp(k, "tiled_cycles"))
            r->tiled_cycles = strtod(v, NULL);
        else if (!strcmp(k, "dma"))
            r->dma = n;
        else if (!strcmp(k, "dma_bound"))
            r->dma_bound = n;
        else if (!strcmp(k, "tiled_layers"))
            r->tiled_layers = (int32_t)n;
        else if (!strcmp(k, "tiles"))
            r->tiles = (int32_t)n;
        else
            fields--;
    }
    fclose(f);
    return ok && fields == 19 && !strcmp(r->run, run) && !strcmp(r->target, target) &&
           strcmp(r->verified, "skipped") != 0;
}

/* ---- the selection ---- */

typedef struct {
    char id[SEARCH_SWEEP_ID_LEN];
    double acc;
} cand;

/* The ids of front `name` (cost order). */
static dnas_status front_ids(hid_t f, const char *h5, const char *name, cand **out, int *n,
                             dnas_error *err) {
    char path[128];
    snprintf(path, sizeof path, "pareto/%s", name);
    *out = NULL, *n = 0;
    hid_t ds = H5Lexists(f, "pareto", H5P_DEFAULT) > 0 && H5Lexists(f, path, H5P_DEFAULT) > 0
                   ? H5Dopen2(f, path, H5P_DEFAULT)
                   : -1;
    if (ds < 0) return dnas_fail(err, DNAS_ERR_FORMAT, "%s: no front /%s to deploy", h5, path);
    hid_t idt = H5Tcopy(H5T_C_S1);
    H5Tset_size(idt, SEARCH_SWEEP_ID_LEN);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(cand));
    H5Tinsert(t, "id", HOFFSET(cand, id), idt);
    H5Tinsert(t, "accuracy", HOFFSET(cand, acc), H5T_NATIVE_DOUBLE);
    hid_t sp = H5Dget_space(ds);
    hssize_t m = H5Sget_simple_extent_npoints(sp);
    dnas_status st = DNAS_OK;
    if (m > 0) {
        *out = dnas_xcalloc((size_t)m, sizeof **out);
        if (H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
            st = dnas_fail(err, DNAS_ERR_FORMAT, "%s: cannot read /%s", h5, path);
        else
            *n = (int)m;
    }
    H5Sclose(sp);
    H5Tclose(t);
    H5Tclose(idt);
    H5Dclose(ds);
    return st;
}

static int by_acc(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->acc != y->acc) return x->acc > y->acc ? -1 : 1;
    long i = strtol(x->id, NULL, 10), j = strtol(y->id, NULL, 10);
    return i < j ? -1 : i > j;
}

/* Every ok run with an accuracy, most accurate first. */
static void ranked_runs(const search_sweep_config *sc, hid_t f, cand **out, int *n) {
    int nj = search_sweep_njobs(sc);
    *out = dnas_xcalloc((size_t)nj, sizeof **out);
    *n = 0;
    for (int j = 0; j < nj; j++) {
        char g[64], id[SEARCH_SWEEP_ID_LEN];
        snprintf(id, sizeof id, "%d", j);
        snprintf(g, sizeof g, "runs/%s", id);
        if (H5Lexists(f, "runs", H5P_DEFAULT) <= 0 || H5Lexists(f, g, H5P_DEFAULT) <= 0) continue;
        hid_t r = H5Gopen2(f, g, H5P_DEFAULT);
        search_sweep_row row;
        if (r >= 0 && search_sweep_row_read(r, id, &row) && !strcmp(row.status, "ok")) {
            double a = search_sweep_row_acc(&row, SEARCH_ACC_INT);
            if (!isfinite(a)) a = search_sweep_row_acc(&row, SEARCH_ACC_TEST);
            if (isfinite(a)) {
                snprintf((*out)[*n].id, sizeof(*out)[*n].id, "%s", id);
                (*out)[(*n)++].acc = a;
            }
        }
        if (r >= 0) H5Gclose(r);
    }
    qsort(*out, (size_t)*n, sizeof **out, by_acc);
}

/* ---- one deployment ---- */

typedef struct {
    const search_sweep_config *sc;
    char h5[TRAIN_PATH_LEN + 64];
    char command[TRAIN_PATH_LEN + 64];
    FILE *progress;
    int done, total;
    dep_row *rows;
    int nrows, cap;
} stage;

static void job_of(const stage *s, const search_sweep_deploy_target *t, const char *run,
                   const char *dir, deploy_job *j) {
    const search_sweep_deploy *d = &s->sc->deploy;
    const train_data_config *dc = &s->sc->search[0].data; /* the deploy stage reads the first search's data */
    *j = (deploy_job){.in = s->h5,
                      .run = run,
                      .backend = t->backend,
                      .desc = t->desc[0] ? t->desc : NULL,
                      .l1 = t->l1,
                      .out = dir,
                      .vectors = d->vectors,
                      .command = s->command};
    if (d->images) j->images = dc->test_x, j->labels = dc->test_y[0] ? dc->test_y : NULL;
}

/* The compiled network's figures into r. */
static void figures(const deploy_job_result *jr, dep_row *r) {
    const deploy_ir *ir = &jr->ir;
    r->flash = (int64_t)ir->weight_bytes;
    r->ram = (int64_t)(ir->arena + ir->scratch);
    r->arena = (int64_t)ir->arena, r->arena_lower_bound = (int64_t)ir->arena_bound;
    double c = deploy_ir_model_cycles(ir);
    r->cycles = jr->desc && c > 0 ? c : NAN;
    r->latency_ms =
        jr->desc && c > 0 && jr->desc->clock_hz > 0 ? 1e3 * c / jr->desc->clock_hz : NAN;
    /* the tiling overhead: each tiled op's tiles' cycles instead of its whole-op cycles */
    double over = 0;
    r->tiled_layers = r->tiles = 0;
    for (int k = 0; k < ir->nops; k++) {
        const deploy_tile *tl = &ir->ops[k].tile;
        if (!tl->tiled) continue;
        int n = tl->nh * tl->nw * tl->nc;
        if (n > 1) r->tiled_layers++;
        r->tiles += n;
        if (tl->tile_cycles > 0) over += tl->tile_cycles - ir->ops[k].cycles;
    }
    r->tiled_cycles = isfinite(r->cycles) ? r->cycles + over : NAN;
    r->dma = (int64_t)ir->dma_bytes, r->dma_bound = (int64_t)ir->dma_bound;
}

/* msg as the row's reason (cut to its length). */
static void reason(dep_row *r, const char *msg) {
    snprintf(r->reason, sizeof r->reason, "%.*s", (int)sizeof r->reason - 1, msg);
}

/* Emits (jr compiled, or NULL: compiles first), runs make check, writes
 * result.txt; the row in r. jr is freed. */
static void deploy_one(stage *s, const search_sweep_deploy_target *t, const char *run,
                       deploy_job_result *jr, dep_row *r) {
    char dir[TRAIN_PATH_LEN + 160], rel[160];
    snprintf(rel, sizeof rel, "deploy/%s_%s", run, t->label);
    search_sweep_path(s->sc, rel, dir, sizeof dir);
    if (read_result(dir, run, t->label, r)) {
        if (jr) deploy_job_free(jr);
        if (s->progress)
            fprintf(s->progress,
                    "deploy %d/%d: run %s on %s: %s (recorded before, in %s/result.txt)\n",
                    s->done + 1, s->total, run, t->label, r->verified, dir);
        return;
    }
    memset(r, 0, sizeof *r);
    snprintf(r->run, sizeof r->run, "%s", run);
    snprintf(r->target, sizeof r->target, "%s", t->label);
    snprintf(r->backend, sizeof r->backend, "%s", t->backend);
    r->cycles = r->latency_ms = r->accuracy = r->tiled_cycles = NAN;
    double t0 = (double)time(NULL);
    deploy_job j;
    job_of(s, t, run, dir, &j);
    deploy_job_result own;
    dnas_error err;
    dnas_status st = DNAS_OK;
    if (!jr) st = deploy_job_compile(&j, jr = &own, &err);
    snprintf(r->desc, sizeof r->desc, "%s", jr->desc ? jr->desc->name : "none");
    if (!st) {
        figures(jr, r);
        st = deploy_job_emit(&j, jr, &err);
    }
    if (!st && j.labels) r->accuracy = (double)jr->correct / (double)j.vectors;
    if (st) {
        snprintf(r->verified, sizeof r->verified, "failed");
        reason(r, err.msg);
    } else if (!strcmp(t->backend, "cortex-m") &&
               (!deploy_on_path("arm-none-eabi-gcc") || !deploy_on_path("qemu-system-arm"))) {
        snprintf(r->verified, sizeof r->verified, "skipped");
        snprintf(r->reason, sizeof r->reason,
                 "%s not on PATH (Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi, "
                 "qemu-system-arm)",
                 deploy_on_path("arm-none-eabi-gcc") ? "qemu-system-arm" : "arm-none-eabi-gcc");
    } else {
        deploy_check_result c;
        deploy_check_run(dir, &c);
        snprintf(r->verified, sizeof r->verified, "%s", deploy_check_name(c.status));
        r->samples = (int32_t)c.samples;
        reason(r, c.reason);
    }
    deploy_job_free(jr);
    /* the folder exists once the emit began; a compile failure leaves none */
    struct stat sb;
    if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && !write_result(dir, r) && s->progress)
        fprintf(s->progress, "deploy: warning: cannot write %s/result.txt: %s\n", dir,
                strerror(errno));
    if (s->progress) {
        char cyc[64] = "no cycle estimate", acc[48] = "";
        if (isfinite(r->cycles))
            snprintf(cyc, sizeof cyc, "%.0f cycles (%.3g ms)", r->cycles, r->latency_ms);
        if (isfinite(r->accuracy))
            snprintf(acc, sizeof acc, ", accuracy %.2f%%", 100 * r->accuracy);
        fprintf(s->progress, "deploy %d/%d: run %s on %s: %s", s->done + 1, s->total, run, t->label,
                r->verified);
        if (!strcmp(r->verified, "equal") || !strcmp(r->verified, "differ"))
            fprintf(s->progress, " (%d samples%s)", (int)r->samples, acc);
        if (r->reason[0]) fprintf(s->progress, ": %s", r->reason);
        if (strcmp(r->verified, "failed") || r->arena)
            fprintf(s->progress, "; flash %lld B, RAM %lld B (arena %lld, lower bound %lld), %s",
                    (long long)r->flash, (long long)r->ram, (long long)r->arena,
                    (long long)r->arena_lower_bound, cyc);
        if (r->tiled_layers)
            fprintf(s->progress, "; %d layers in %d tiles, DMA %lld B (lower bound %lld)",
                    (int)r->tiled_layers, (int)r->tiles, (long long)r->dma,
                    (long long)r->dma_bound);
        fprintf(s->progress, " [%.0fs] -> %s\n", (double)time(NULL) - t0, dir);
    }
}

static void add_row(stage *s, const dep_row *r) {
    if (s->nrows == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->rows = dnas_xrealloc(s->rows, (size_t)s->cap * sizeof *s->rows);
    }
    s->rows[s->nrows++] = *r;
    s->done++;
}

/* best_within_budget for target t: the first of the ranked runs that
 * compiles within its memory and meets its latency budget, deployed. */
static void deploy_best(stage *s, const search_sweep_deploy_target *t, const cand *c, int n) {
    dep_row r;
    char why[REASON_LEN] = "";
    int tried = 0;
    for (int i = 0; i < n; i++) {
        char dir[TRAIN_PATH_LEN + 160], rel[160];
        snprintf(rel, sizeof rel, "deploy/%s_%s", c[i].id, t->label);
        search_sweep_path(s->sc, rel, dir, sizeof dir);
        if (read_result(dir, c[i].id, t->label, &r)) { /* selected and deployed before */
            deploy_one(s, t, c[i].id, NULL, &r);
            add_row(s, &r);
            return;
        }
        deploy_job j;
        deploy_job_result jr;
        dnas_error err;
        job_of(s, t, c[i].id, dir, &j);
        dnas_status st = deploy_job_compile(&j, &jr, &err);
        tried++;
        if (st == DNAS_ERR_UNSUPPORTED) { /* over the memory of the description */
            if (!why[0])
                snprintf(why, sizeof why, "run %s: %.*s", c[i].id, (int)sizeof why - 40, err.msg);
            deploy_job_free(&jr);
            continue;
        }
        if (!st && t->latency_ms > 0) {
            figures(&jr, &r);
            if (!(r.latency_ms <= t->latency_ms)) {
                if (!why[0])
                    snprintf(why, sizeof why,
                             "run %s: %.4g ms by the cost model, over the budget of %g ms", c[i].id,
                             r.latency_ms, t->latency_ms);
                deploy_job_free(&jr);
                continue;
            }
        }
        if (s->progress)
            fprintf(
                s->progress,
                "deploy: %s: run %s, accuracy %.2f%%, the most accurate within the budget (%d more "
                "accurate do not fit%s%s)\n",
                t->label, c[i].id, 100 * c[i].acc, tried - 1, why[0] ? "; first: " : "", why);
        if (st) { /* another failure: recorded for this run */
            deploy_job_free(&jr);
            deploy_one(s, t, c[i].id, NULL, &r);
        } else {
            deploy_one(s, t, c[i].id, &jr, &r);
        }
        add_row(s, &r);
        return;
    }
    memset(&r, 0, sizeof r);
    snprintf(r.run, sizeof r.run, "-");
    snprintf(r.target, sizeof r.target, "%s", t->label);
    snprintf(r.backend, sizeof r.backend, "%s", t->backend);
    snprintf(r.desc, sizeof r.desc, "-");
    snprintf(r.verified, sizeof r.verified, "skipped");
    r.cycles = r.latency_ms = r.accuracy = r.tiled_cycles = NAN;
    snprintf(r.reason, sizeof r.reason, "no run fits: %d ok runs tried%s%.200s", tried,
             why[0] ? "; first: " : "", why);
    if (s->progress)
        fprintf(s->progress, "deploy %d/%d: %s: %s\n", s->done + 1, s->total, t->label, r.reason);
    add_row(s, &r);
}

/* ---- /deploy ---- */

static dnas_status write_rows(const stage *s, dnas_error *err) {
    hid_t f = H5Fopen(s->h5, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open it to write /deploy", s->h5);
    if (H5Lexists(f, "deploy", H5P_DEFAULT) > 0) H5Ldelete(f, "deploy", H5P_DEFAULT);
    hid_t strs[5], t = row_type(strs);
    int ok = dnas_h5_write_table(f, "deploy", t, s->rows, (size_t)s->nrows);
    hid_t ds = ok ? H5Dopen2(f, "deploy", H5P_DEFAULT) : -1;
    if (ds >= 0) {
        const search_sweep_deploy *d = &s->sc->deploy;
        ok &= dnas_h5_write_attr_str(
            ds, "select", d->select == SEARCH_DEPLOY_FRONT ? "front" : "best_within_budget");
        if (d->select == SEARCH_DEPLOY_FRONT) ok &= dnas_h5_write_attr_str(ds, "front", d->front);
        ok &= dnas_h5_write_attr_str(ds, "samples", d->images ? "test images" : "random");
        H5Dclose(ds);
    }
    row_types_close(t, strs);
    ok &= H5Fclose(f) >= 0;
    return ok ? DNAS_OK
              : dnas_fail(err, DNAS_ERR_IO, "%s: writing /deploy failed (disk full?)", s->h5);
}

dnas_status search_sweep_deploy_run(const search_sweep_config *sc, FILE *progress,
                                    search_sweep_deploy_outcome *out, dnas_error *err) {
    memset(out, 0, sizeof *out);
    const search_sweep_deploy *d = &sc->deploy;
    if (d->select == SEARCH_DEPLOY_NONE) return DNAS_OK;
    stage s = {.sc = sc, .progress = progress};
    search_sweep_path(sc, "campaign.h5", s.h5, sizeof s.h5);
    snprintf(s.command, sizeof s.command, "dnas sweep %s (deploy stage)", sc->path);
    char dir[TRAIN_PATH_LEN + 64];
    search_sweep_path(sc, "deploy", dir, sizeof dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot make the directory: %s", dir,
                         strerror(errno));
    dnas_h5_quiet q;
    dnas_h5_quiet_on(&q);
    hid_t f = H5Fopen(s.h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    cand *c = NULL;
    int n = 0;
    dnas_status st =
        f < 0 ? dnas_fail(err, DNAS_ERR_IO, "%s: cannot open it to deploy its runs", s.h5)
              : DNAS_OK;
    if (!st && d->select == SEARCH_DEPLOY_FRONT)
        st = front_ids(f, s.h5, d->front, &c, &n, err);
    else if (!st)
        ranked_runs(sc, f, &c, &n);
    if (f >= 0) H5Fclose(f);
    if (!st) {
        s.total = d->select == SEARCH_DEPLOY_FRONT ? n * d->ntargets : d->ntargets;
        if (progress) {
            if (d->select == SEARCH_DEPLOY_FRONT)
                fprintf(progress,
                        "deploy: %d deployments (front %s: %d runs x %d targets) -> %s/\n", s.total,
                        d->front, n, d->ntargets, dir);
            else
                fprintf(progress,
                        "deploy: the most accurate of %d ok runs within each of %d targets' budget "
                        "-> %s/\n",
                        n, d->ntargets, dir);
        }
        for (int k = 0; d->select == SEARCH_DEPLOY_BEST && k < d->ntargets; k++)
            deploy_best(&s, &d->t[k], c, n);
        for (int i = 0; d->select == SEARCH_DEPLOY_FRONT && i < n;
             i++) /* each point on every target */
            for (int k = 0; k < d->ntargets; k++) {
                dep_row r;
                deploy_one(&s, &d->t[k], c[i].id, NULL, &r);
                add_row(&s, &r);
            }
        st = write_rows(&s, err);
    }
    dnas_h5_quiet_off(&q);
    for (int i = 0; i < s.nrows; i++) {
        const char *v = s.rows[i].verified;
        out->total++;
        out->equal += !strcmp(v, "equal"), out->differ += !strcmp(v, "differ");
        out->skipped += !strcmp(v, "skipped"), out->failed += !strcmp(v, "failed");
    }
    free(c);
    free(s.rows);
    return st;
}

/* ---- the report's section ---- */

static void fmt_num(char *b, size_t n, double v, const char *f) {
    if (isfinite(v))
        snprintf(b, n, f, v);
    else
        snprintf(b, n, "-");
}

void search_sweep_deploy_md(FILE *o, const char *name, const char *h5) {
    dnas_h5_quiet q;
    dnas_h5_quiet_on(&q);
    hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds =
        f >= 0 && H5Lexists(f, "deploy", H5P_DEFAULT) > 0 ? H5Dopen2(f, "deploy", H5P_DEFAULT) : -1;
    hid_t strs[5], t = row_type(strs), sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    dep_row *r = n > 0 && n < 1000000 ? dnas_xcalloc((size_t)n, sizeof *r) : NULL;
    if (r && H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, r) >= 0) {
        char sel[128] = "", front[96] = "";
        dnas_h5_read_attr_str(ds, "select", sel, sizeof sel);
        if (dnas_h5_read_attr_str(ds, "front", front, sizeof front) == 1)
            snprintf(sel + strlen(sel), sizeof sel - strlen(sel), " %s", front);
        int eq = 0;
        for (hssize_t i = 0; i < n; i++)
            eq += !strcmp(r[i].verified, "equal");
        fprintf(
            o,
            "\n## Deployments\n\n%s (%s /deploy, select %s): %d of %d verified equal to the "
            "integer "
            "evaluator; flash: constants (weights, biases, multipliers); RAM: the arena and the "
            "kernels' scratch; cycles: the target description's cost model, whole layers and with "
            "the tiled layers' tiles; DMA: bytes moved per inference against the lower bound (each "
            "tiled layer's weights and activations moved once)\n\n",
            name, h5, sel, eq, (int)n);
        fprintf(
            o, "| run | target | verified | samples | evaluator accuracy | flash B | RAM B | arena "
               "B (lower bound) | cycles "
               "| latency ms | tiled layers (tiles) | cycles tiled | DMA B (lower bound) | note |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (hssize_t i = 0; i < n; i++) {
            char acc[32], cyc[32], lat[32], tcyc[32];
            fmt_num(acc, sizeof acc, 100 * r[i].accuracy, "%.2f%%");
            fmt_num(cyc, sizeof cyc, r[i].cycles, "%.0f");
            fmt_num(lat, sizeof lat, r[i].latency_ms, "%.4g");
            fmt_num(tcyc, sizeof tcyc, r[i].tiled_cycles, "%.0f");
            fprintf(o,
                    "| %s | %s | %s | %d | %s | %lld | %lld | %lld (%lld) | %s | %s | %d (%d) | %s "
                    "| %lld (%lld) | %s |\n",
                    r[i].run, r[i].target, r[i].verified, (int)r[i].samples, acc,
                    (long long)r[i].flash, (long long)r[i].ram, (long long)r[i].arena,
                    (long long)r[i].arena_lower_bound, cyc, lat, (int)r[i].tiled_layers,
                    (int)r[i].tiles, tcyc, (long long)r[i].dma, (long long)r[i].dma_bound,
                    r[i].reason);
        }
    }
    free(r);
    if (sp >= 0) H5Sclose(sp);
    row_types_close(t, strs);
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
    dnas_h5_quiet_off(&q);
}
