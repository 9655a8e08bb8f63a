/* Reports of campaigns (search_report, `dnas report`), in memory
 * independent of the number of runs:
 *   1. each campaign's runs, streamed: from campaign.h5's /runs/<id>, or
 *      from the folder's runs/<id>.h5 when campaign.h5 is missing or older
 *      than one of them (a campaign still running or killed); each run's
 *      summary row (sweep_row.c) is read once, counted into the fronts and
 *      dropped (the plots' numbers go to a temporary file); then the rows
 *      and one-line architectures (/runs/<id>/arch) of the front points
 *      only are read again;
 *   2. the fronts: each cost (the options', else params, macs, memory and,
 *      when the runs have them, latency and energy) against test accuracy
 *      and, when runs have one, integer accuracy; hypervolume against the
 *      seed network's cost and accuracy 0, as in campaign.h5;
 *   3. a Markdown table per front (stdout and pareto.md), every front
 *      point in pareto.csv, and with gnuplot on PATH pareto_<front>.png:
 *      every ok run as a point and the front as a line, one colour per
 *      campaign. The files go to the first campaign's folder. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../run/run_internal.h" /* the run's cost format */
#include "dnas_h5.h"
#include "sweep.h"

typedef struct {
    search_sweep_row row;
    char arch[512];
} rrow;

typedef struct {
    int slot;
    search_acc_kind acc;
} front_kind;

/* What the plots need of an ok run (pass 1 appends one per run to a
 * temporary file; each plot reads it back). */
typedef struct {
    int32_t campaign;
    double cost[SEARCH_COST_COUNT_];
    double acc[SEARCH_ACC_COUNT_];
} plot_rec;

/* A campaign as the report keeps it: no state per run. Pass 1 reads each
 * run's row once and keeps which costs and accuracies are finite, each
 * cost's reference (the seed network's, from the lowest run id that has
 * it) and the front of every cost and accuracy; pass 2 reads again the
 * rows and architecture lines of the shown fronts' points. */
typedef struct {
    char dir[TRAIN_PATH_LEN], name[SEARCH_SWEEP_NAME_LEN], source[TRAIN_PATH_LEN + 128];
    char runs[TRAIN_PATH_LEN + 64];
    int index, n;
    hid_t file; /* campaign.h5 (-1: the run files) */
    FILE *plot_data; /* the plot file, shared by the campaigns (NULL: no plots) */
    unsigned char finite[SEARCH_COST_COUNT_][SEARCH_ACC_COUNT_], finite_acc[SEARCH_ACC_COUNT_];
    double ref[SEARCH_COST_COUNT_];
    char ref_id[SEARCH_COST_COUNT_][SEARCH_SWEEP_ID_LEN];
    search_front front[SEARCH_COST_COUNT_][SEARCH_ACC_COUNT_];
    int npoints, cap;
    rrow *points;
} campaign;

search_report_opts search_report_default_opts(void) {
    search_report_opts o;
    memset(&o, 0, sizeof o);
    o.plot = 1;
    return o;
}

/* "conv1:27/k4/d2 conv2:19/k8 ... fc:10": conv and linear layers' output
 * channels, kernel and dilation when above 1. */
typedef struct {
    char name[TRAIN_NAME_LEN];
    char op[16];
    int32_t cout, kernel_w, dilation_w;
} arch_cols;

static void arch_line(hid_t run, char *buf, size_t len) {
    buf[0] = 0;
    if (H5Lexists(run, "arch", H5P_DEFAULT) <= 0) return;
    hid_t ds = H5Dopen2(run, "arch", H5P_DEFAULT);
    if (ds < 0) return;
    hid_t nt = H5Tcopy(H5T_C_S1), ot = H5Tcopy(H5T_C_S1);
    H5Tset_size(nt, TRAIN_NAME_LEN);
    H5Tset_size(ot, 16);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(arch_cols));
    H5Tinsert(t, "name", HOFFSET(arch_cols, name), nt);
    H5Tinsert(t, "op", HOFFSET(arch_cols, op), ot);
    H5Tinsert(t, "cout", HOFFSET(arch_cols, cout), H5T_NATIVE_INT32);
    H5Tinsert(t, "kernel_w", HOFFSET(arch_cols, kernel_w), H5T_NATIVE_INT32);
    H5Tinsert(t, "dilation_w", HOFFSET(arch_cols, dilation_w), H5T_NATIVE_INT32);
    hid_t sp = H5Dget_space(ds);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    if (n > 0 && n < 100000) {
        arch_cols *a = dnas_xcalloc((size_t)n, sizeof *a);
        if (H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, a) >= 0) {
            for (hssize_t i = 0; i < n; i++) {
                if (strncmp(a[i].op, "conv", 4) && strcmp(a[i].op, "linear")) continue;
                size_t at = strlen(buf);
                int w = snprintf(buf + at, len - at, "%s%.*s:%d", at ? " " : "", 24, a[i].name, a[i].cout);
                if (w > 0 && a[i].kernel_w > 1) w += snprintf(buf + strlen(buf), len - strlen(buf), "/k%d", a[i].kernel_w);
                if (w > 0 && a[i].dilation_w > 1) snprintf(buf + strlen(buf), len - strlen(buf), "/d%d", a[i].dilation_w);
                if (strlen(buf) + 2 >= len) break;
            }
        }
        free(a);
    }
    H5Sclose(sp);
    H5Tclose(t), H5Tclose(nt), H5Tclose(ot);
    H5Dclose(ds);
}

/* /runs/<id> of the run file runs/<id>.h5 (*file gets the file, -1 when
 * it does not open). */
static hid_t open_run_file(const campaign *c, const char *id, hid_t *file) {
    char p[TRAIN_PATH_LEN + 400], g[64];
    snprintf(p, sizeof p, "%s/%s.h5", c->runs, id);
    snprintf(g, sizeof g, "runs/%s", id);
    *file = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    return *file >= 0 ? H5Gopen2(*file, g, H5P_DEFAULT) : -1;
}

static const rrow *find(const campaign *c, const char *id) {
    for (int j = 0; j < c->npoints; j++)
        if (!strcmp(c->points[j].row.id, id)) return &c->points[j];
    return NULL;
}

/* Run ids in order: by number, then by text. */
static int id_cmp(const char *a, const char *b) {
    long i = strtol(a, NULL, 10), j = strtol(b, NULL, 10);
    return i < j ? -1 : i > j ? 1 : strcmp(a, b);
}

/* search_front_add, except that of runs with the same cost and accuracy
 * the front keeps the lowest id whatever the order they come in (the
 * order of the group's index or of the folder's listing), as adding them
 * in id order would. */
static void front_add(search_front *f, const char *id, double cost, double acc) {
    if (!isfinite(cost) || !isfinite(acc)) return;
    int lo = 0, hi = f->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (f->p[mid].cost < cost) lo = mid + 1;
        else hi = mid;
    }
    if (lo < f->n && f->p[lo].cost == cost && f->p[lo].acc == acc) {
        if (id_cmp(id, f->p[lo].id) < 0) snprintf(f->p[lo].id, sizeof f->p[lo].id, "%s", id);
        return;
    }
    search_front_add(f, id, cost, acc);
}

/* Pass 1, one run: its row counted into the flags, the references and the
 * fronts, and, for the plots, its costs and accuracies appended to the
 * plot file; then the row is dropped. */
static void add_run(campaign *c, hid_t run, const char *id) {
    search_sweep_row r;
    if (!search_sweep_row_read(run, id, &r)) return;
    c->n++;
    int ok = !strcmp(r.status, "ok");
    for (int a = 0; a < SEARCH_ACC_COUNT_; a++) {
        double acc = search_sweep_row_acc(&r, (search_acc_kind)a);
        if (!isfinite(acc)) continue;
        c->finite_acc[a] = 1;
        for (int k = 0; k < SEARCH_COST_COUNT_; k++) {
            if (isfinite(r.cost[k])) c->finite[k][a] = 1;
            if (ok) front_add(&c->front[k][a], r.id, r.cost[k], acc);
        }
    }
    for (int k = 0; k < SEARCH_COST_COUNT_; k++)
        if (isfinite(r.seed_cost[k]) && (!isfinite(c->ref[k]) || id_cmp(r.id, c->ref_id[k]) < 0)) {
            c->ref[k] = r.seed_cost[k];
            snprintf(c->ref_id[k], sizeof c->ref_id[k], "%s", r.id);
        }
    if (ok && c->plot_data) {
        plot_rec p;
        memset(&p, 0, sizeof p); /* the padding too: it is written out */
        p.campaign = c->index;
        memcpy(p.cost, r.cost, sizeof p.cost);
        for (int a = 0; a < SEARCH_ACC_COUNT_; a++) p.acc[a] = search_sweep_row_acc(&r, (search_acc_kind)a);
        fwrite(&p, sizeof p, 1, c->plot_data); /* a short write: ferror, checked before plotting */
    }
}

static herr_t each_run(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    hid_t r = H5Gopen2(g, name, H5P_DEFAULT);
    if (r >= 0) add_run(data, r, name), H5Gclose(r);
    return 0;
}

/* campaign.h5 opened with its metadata cache (the /runs index, the run
 * groups' headers) kept to REPORT_CACHE bytes: HDF5's default grows with
 * the file, up to 32 MB. */
#define REPORT_CACHE (4u << 20)
static hid_t open_capped(const char *path) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5AC_cache_config_t c;
    memset(&c, 0, sizeof c);
    c.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    if (fapl >= 0 && H5Pget_mdc_config(fapl, &c) >= 0) {
        c.set_initial_size = 1;
        c.initial_size = REPORT_CACHE / 2;
        c.max_size = REPORT_CACHE;
        c.min_size = REPORT_CACHE / 4;
        H5Pset_mdc_config(fapl, &c);
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    if (fapl >= 0) H5Pclose(fapl);
    return f;
}

/* Pass 1 for one path (campaign.h5 or its folder). campaign.h5 stays open
 * for pass 2 (a merge that replaces it meanwhile does not change what the
 * report reads). */
static dnas_status load(campaign *c, const char *path, FILE *warn, dnas_error *err) {
    struct stat sb;
    char h5[TRAIN_PATH_LEN + 64];
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(c->dir, sizeof c->dir, "%s", path);
        snprintf(h5, sizeof h5, "%s/campaign.h5", path);
    } else {
        const char *slash = strrchr(path, '/');
        snprintf(c->dir, sizeof c->dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
        snprintf(h5, sizeof h5, "%s", path);
    }
    snprintf(c->runs, sizeof c->runs, "%s/runs", c->dir);
    const char *base = strrchr(c->dir, '/') ? strrchr(c->dir, '/') + 1 : c->dir;
    snprintf(c->name, sizeof c->name, "%.*s", (int)sizeof c->name - 1, base);
    struct stat hs;
    int have_h5 = stat(h5, &hs) == 0;
    /* the newest run file: campaign.h5 older than it is stale */
    double newest = -1;
    DIR *d = opendir(c->runs);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            char p[TRAIN_PATH_LEN + 400];
            snprintf(p, sizeof p, "%s/%s", c->runs, e->d_name);
            if (l > 3 && !strcmp(e->d_name + l - 3, ".h5") && stat(p, &sb) == 0 && sb.st_mtime > newest)
                newest = (double)sb.st_mtime;
        }
        closedir(d);
    }
    if (!have_h5 && newest < 0)
        return dnas_fail(err, DNAS_ERR_IO, "%s: no campaign file, and no run files in %s", h5, c->runs);
    if (have_h5 && (double)hs.st_mtime >= newest) {
        hid_t f = open_capped(h5);
        if (f < 0) return dnas_fail(err, DNAS_ERR_FORMAT, "%s: cannot open as HDF5", h5);
        c->file = f;
        char name[SEARCH_SWEEP_NAME_LEN];
        if (dnas_h5_read_attr_str(f, "campaign", name, sizeof name) == 1) snprintf(c->name, sizeof c->name, "%s", name);
        if (H5Lexists(f, "runs", H5P_DEFAULT) > 0) {
            hid_t g = H5Gopen2(f, "runs", H5P_DEFAULT);
            H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, each_run, c);
            H5Gclose(g);
        }
        snprintf(c->source, sizeof c->source, "%s", h5);
    } else {
        if (warn)
            fprintf(warn, "report: %s %s: reading the run files of %s\n", h5, have_h5 ? "is older than a run" : "is missing",
                    c->runs);
        d = opendir(c->runs);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l <= 3 || strcmp(e->d_name + l - 3, ".h5")) continue;
            char id[SEARCH_SWEEP_ID_LEN];
            snprintf(id, sizeof id, "%.*s", (int)(l - 3), e->d_name);
            hid_t f = -1, r = open_run_file(c, id, &f);
            if (r >= 0) {
                char name[SEARCH_SWEEP_NAME_LEN];
                if (dnas_h5_read_attr_str(r, "campaign", name, sizeof name) == 1)
                    snprintf(c->name, sizeof c->name, "%s", name);
                add_run(c, r, id);
                H5Gclose(r);
            }
            if (f >= 0) H5Fclose(f);
        }
        if (d) closedir(d);
        snprintf(c->source, sizeof c->source, "%s/*.h5", c->runs);
    }
    return DNAS_OK;
}

/* Pass 2: the rows and architecture lines of the points of the fronts
 * the report shows, each read once. */
static dnas_status load_points(campaign *c, const front_kind *ks, int nk, dnas_error *err) {
    for (int k = 0; k < nk; k++) {
        const search_front *f = &c->front[ks[k].slot][ks[k].acc];
        for (int p = 0; p < f->n; p++) {
            if (find(c, f->p[p].id)) continue;
            if (c->npoints == c->cap) {
                c->cap = c->cap ? 2 * c->cap : 16;
                c->points = dnas_xrealloc(c->points, (size_t)c->cap * sizeof *c->points);
            }
            rrow *r = &c->points[c->npoints];
            hid_t f5 = -1, g = -1;
            if (c->file >= 0) {
                char name[64];
                snprintf(name, sizeof name, "runs/%s", f->p[p].id);
                g = H5Gopen2(c->file, name, H5P_DEFAULT);
            } else {
                g = open_run_file(c, f->p[p].id, &f5);
            }
            int ok = g >= 0 && search_sweep_row_read(g, f->p[p].id, &r->row);
            if (ok) arch_line(g, r->arch, sizeof r->arch);
            if (g >= 0) H5Gclose(g);
            if (f5 >= 0) H5Fclose(f5);
            if (!ok)
                return dnas_fail(err, DNAS_ERR_IO, "%s: run %s is on a front but cannot be read again", c->source,
                                 f->p[p].id);
            c->npoints++;
        }
    }
    return DNAS_OK;
}

/* Whether a run of any campaign has a finite cost of the slot (any
 * cost: slot -1) and a finite accuracy of the kind. */
static int any_finite(const campaign *cs, int nc, int slot, search_acc_kind acc) {
    for (int i = 0; i < nc; i++)
        if (slot < 0 ? cs[i].finite_acc[acc] : cs[i].finite[slot][acc]) return 1;
    return 0;
}

static const int TABLE_COSTS[] = {SEARCH_COST_PARAMS, SEARCH_COST_MACS, SEARCH_COST_MEMORY, SEARCH_COST_SECONDS,
                                  SEARCH_COST_ENERGY};

static void pct(char *b, size_t n, double v) {
    if (isfinite(v)) snprintf(b, n, "%.2f%%", 100 * v);
    else snprintf(b, n, "-");
}

static void md_front(FILE *o, const campaign *cs, int nc, front_kind k, int ncosts) {
    fprintf(o, "\n## %s vs %s\n\n", search_config_cost_name(k.slot), search_acc_name(k.acc));
    for (int i = 0; i < nc; i++) {
        const search_front *f = &cs[i].front[k.slot][k.acc];
        double ref = cs[i].ref[k.slot];
        char rb[64];
        fprintf(o, "%s (%s): %d point%s, hypervolume %.4g (normalized %.4f) against (%s, 0)\n\n", cs[i].name,
                cs[i].source, f->n, f->n == 1 ? "" : "s", search_front_hypervolume(f, ref, 0),
                ref > 0 ? search_front_hypervolume(f, ref, 0) / ref : NAN, search_run_fmt_cost(ref, rb, sizeof rb));
        fprintf(o, "| run | μ | constraints | method | seed | accuracy | int accuracy |");
        for (int q = 0; q < ncosts; q++) fprintf(o, " %s |", search_config_cost_name(TABLE_COSTS[q]));
        fprintf(o, " architecture |\n|---|---|---|---|---|---|---|");
        for (int q = 0; q < ncosts; q++) fprintf(o, "---|");
        fprintf(o, "---|\n");
        for (int p = 0; p < f->n; p++) {
            const rrow *r = find(&cs[i], f->p[p].id);
            char a[32], b[32];
            pct(a, sizeof a, r->row.test_acc), pct(b, sizeof b, r->row.int_test_acc);
            fprintf(o, "| %s | %.3g | %s | %s | %lld | %s | %s |", r->row.id, r->row.mu, r->row.constraints,
                    r->row.method, (long long)r->row.seed, a, b);
            for (int q = 0; q < ncosts; q++) {
                char cb[64];
                fprintf(o, " %s |", search_run_fmt_cost(r->row.cost[TABLE_COSTS[q]], cb, sizeof cb));
            }
            fprintf(o, " %s |\n", r->arch);
        }
        fputc('\n', o);
    }
}

static void csv_front(FILE *o, const campaign *cs, int nc, front_kind k, int ncosts) {
    for (int i = 0; i < nc; i++) {
        const search_front *f = &cs[i].front[k.slot][k.acc];
        for (int p = 0; p < f->n; p++) {
            const rrow *r = find(&cs[i], f->p[p].id);
            fprintf(o, "%s,%s_vs_%s,%s,%.6g,\"%s\",%s,%lld,%.6g,%.6g", cs[i].name, search_config_cost_name(k.slot),
                    search_acc_name(k.acc), r->row.id, r->row.mu, r->row.constraints, r->row.method,
                    (long long)r->row.seed, r->row.test_acc, r->row.int_test_acc);
            for (int q = 0; q < ncosts; q++) fprintf(o, ",%.9g", r->row.cost[TABLE_COSTS[q]]);
            fprintf(o, ",\"%s\"\n", r->arch);
        }
    }
}

static int on_path(const char *prog) {
    const char *path = getenv("PATH");
    if (!path) return 0;
    char buf[4096];
    for (const char *s = path; *s;) {
        size_t n = strcspn(s, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, s, prog);
        if (n && access(buf, X_OK) == 0) return 1;
        s += n + (s[n] == ':');
    }
    return 0;
}

/* pareto_<front>.png: per campaign every ok run and its front. */
static int plot(const char *dir, const campaign *cs, int nc, front_kind k, FILE *warn) {
    char name[96], data[TRAIN_PATH_LEN + 160], gp[TRAIN_PATH_LEN + 160], png[TRAIN_PATH_LEN + 160];
    snprintf(name, sizeof name, "%s_vs_%s", search_config_cost_name(k.slot), search_acc_name(k.acc));
    snprintf(data, sizeof data, "%s/.pareto_%s.dat", dir, name);
    snprintf(gp, sizeof gp, "%s/.pareto_%s.gp", dir, name);
    snprintf(png, sizeof png, "%s/pareto_%s.png", dir, name);
    FILE *d = fopen(data, "w"), *g = fopen(gp, "w");
    if (!d || !g) {
        if (d) fclose(d);
        if (g) fclose(g);
        return 0;
    }
    /* gnuplot data blocks: 2i the runs of campaign i (from the plot file,
     * written campaign after campaign), 2i+1 its front */
    FILE *runs = cs[0].plot_data;
    rewind(runs);
    plot_rec r;
    int have = fread(&r, sizeof r, 1, runs) == 1;
    for (int i = 0; i < nc; i++) {
        for (; have && r.campaign == i; have = fread(&r, sizeof r, 1, runs) == 1)
            if (isfinite(r.cost[k.slot]) && isfinite(r.acc[k.acc]))
                fprintf(d, "%.9g %.6f\n", r.cost[k.slot], 100 * r.acc[k.acc]);
        fprintf(d, "\n\n");
        const search_front *f = &cs[i].front[k.slot][k.acc];
        for (int p = 0; p < f->n; p++) fprintf(d, "%.9g %.6f\n", f->p[p].cost, 100 * f->p[p].acc);
        fprintf(d, "\n\n");
    }
    fclose(d);
    fprintf(g, "set terminal pngcairo noenhanced size 900,600\nset output '%s'\n", png);
    fprintf(g, "set title '%s vs %s'\nset xlabel '%s'\nset ylabel '%s (%%)'\nset grid\nset key bottom right\n",
            search_config_cost_name(k.slot), search_acc_name(k.acc), search_config_cost_name(k.slot),
            search_acc_name(k.acc));
    fprintf(g, "set logscale x\nplot ");
    for (int i = 0; i < nc; i++)
        fprintf(g, "%s'%s' index %d with points pt 7 ps 0.8 lc %d title '%s runs', '%s' index %d with linespoints "
                   "lw 2 pt 7 lc %d title '%s front'",
                i ? ", " : "", data, 2 * i, i + 1, cs[i].name, data, 2 * i + 1, i + 1, cs[i].name);
    fprintf(g, "\n");
    fclose(g);
    char cmd[3 * TRAIN_PATH_LEN + 512];
    snprintf(cmd, sizeof cmd, "gnuplot '%s' > '%s.log' 2>&1", gp, gp);
    int rc = system(cmd);
    if (rc != 0 && warn) fprintf(warn, "report: gnuplot failed for %s (its output: %s.log)\n", png, gp);
    if (rc == 0) {
        char log[TRAIN_PATH_LEN + 200];
        snprintf(log, sizeof log, "%s.log", gp);
        remove(log), remove(gp), remove(data);
    }
    return rc == 0;
}

dnas_status search_report(const char *const *paths, int npaths, const search_report_opts *opts,
                          dnas_error *err) {
    campaign *cs = dnas_xcalloc((size_t)npaths, sizeof *cs);
    dnas_status st = DNAS_OK;
    /* the plots' data: only with gnuplot to draw them */
    int want_plot = opts->plot && on_path("gnuplot");
    FILE *plot_data = want_plot ? tmpfile() : NULL;
    for (int i = 0; i < npaths; i++) {
        cs[i].index = i;
        cs[i].file = -1;
        cs[i].plot_data = plot_data;
        for (int k = 0; k < SEARCH_COST_COUNT_; k++) cs[i].ref[k] = NAN;
    }
    dnas_h5_quiet q;
    dnas_h5_quiet_on(&q);
    for (int i = 0; i < npaths && !st; i++) st = load(&cs[i], paths[i], opts->warn, err);
    dnas_h5_quiet_off(&q);
    for (int i = 1; i < npaths && !st; i++) /* two of one name: told apart by their folders */
        for (int j = 0; j < i; j++)
            if (!strcmp(cs[i].name, cs[j].name)) {
                const char *b = strrchr(cs[i].dir, '/') ? strrchr(cs[i].dir, '/') + 1 : cs[i].dir;
                char n[SEARCH_SWEEP_NAME_LEN];
                snprintf(n, sizeof n, "%.40s@%.20s", cs[i].name, b);
                snprintf(cs[i].name, sizeof cs[i].name, "%s", n);
            }
    front_kind ks[2 * SEARCH_SWEEP_MAX_FRONTS];
    int nk = 0;
    int target = any_finite(cs, npaths, SEARCH_COST_SECONDS, SEARCH_ACC_TEST), def[SEARCH_SWEEP_MAX_FRONTS];
    const int *costs = opts->nfronts ? opts->fronts : def;
    int ncost = opts->nfronts ? opts->nfronts : search_sweep_default_fronts(target, def);
    int ncols = target ? 5 : 3;
    for (int a = 0; a < SEARCH_ACC_COUNT_ && !st; a++) {
        if (!any_finite(cs, npaths, -1, (search_acc_kind)a)) continue;
        for (int c = 0; c < ncost; c++)
            if (any_finite(cs, npaths, costs[c], (search_acc_kind)a)) ks[nk++] = (front_kind){costs[c], (search_acc_kind)a};
    }
    dnas_h5_quiet_on(&q);
    for (int i = 0; i < npaths && !st; i++) st = load_points(&cs[i], ks, nk, err);
    dnas_h5_quiet_off(&q);
    FILE *md = NULL, *csv = NULL;
    char p[TRAIN_PATH_LEN + 64];
    if (!st) {
        snprintf(p, sizeof p, "%s/pareto.md", cs[0].dir);
        if (!(md = fopen(p, "w"))) st = dnas_fail(err, DNAS_ERR_IO, "%s: cannot create it: %s", p, strerror(errno));
    }
    if (!st) {
        snprintf(p, sizeof p, "%s/pareto.csv", cs[0].dir);
        if (!(csv = fopen(p, "w"))) st = dnas_fail(err, DNAS_ERR_IO, "%s: cannot create it: %s", p, strerror(errno));
    }
    if (!st) {
        fprintf(md, "# Pareto fronts\n\nMade by `dnas report`");
        for (int i = 0; i < npaths; i++) fprintf(md, " %s", paths[i]);
        fprintf(md, ". Runs: ");
        for (int i = 0; i < npaths; i++) fprintf(md, "%s%s %d", i ? ", " : "", cs[i].name, cs[i].n);
        fprintf(md, ". Accuracy: test accuracy after fine-tuning (int: of the integer network).\n");
        fprintf(csv, "campaign,front,run,mu,constraints,method,seed,test_acc,int_test_acc");
        for (int q2 = 0; q2 < ncols; q2++) fprintf(csv, ",%s", search_config_cost_name(TABLE_COSTS[q2]));
        fprintf(csv, ",architecture\n");
        if (!nk && opts->warn) fprintf(opts->warn, "report: no finished run with an accuracy yet\n");
        for (int k = 0; k < nk; k++) {
            md_front(md, cs, npaths, ks[k], ncols);
            if (opts->out && (opts->ntables <= 0 || k < opts->ntables)) md_front(opts->out, cs, npaths, ks[k], ncols);
            csv_front(csv, cs, npaths, ks[k], ncols);
        }
        for (int i = 0; i < npaths; i++) { /* the deploy stage's rows, when campaign.h5 has them */
            search_sweep_deploy_md(md, cs[i].name, cs[i].source);
            if (opts->out) search_sweep_deploy_md(opts->out, cs[i].name, cs[i].source);
        }
        int ok = !ferror(md) && !ferror(csv);
        ok &= fclose(md) == 0, md = NULL;
        ok &= fclose(csv) == 0, csv = NULL;
        if (!ok) st = dnas_fail(err, DNAS_ERR_IO, "%s: writing pareto.md / pareto.csv failed (disk full?)", cs[0].dir);
        if (opts->warn) fprintf(opts->warn, "report: %s/pareto.md, pareto.csv", cs[0].dir);
        if (!st && want_plot && nk) {
            int nplot = 0;
            if (plot_data && !ferror(plot_data) && fflush(plot_data) == 0)
                for (int k = 0; k < nk; k++) nplot += plot(cs[0].dir, cs, npaths, ks[k], opts->warn);
            else if (opts->warn)
                fprintf(opts->warn, " (no plots: their data's temporary file could not be written)");
            if (opts->warn) fprintf(opts->warn, " and %d plots (pareto_<front>.png)", nplot);
        } else if (opts->warn && opts->plot)
            fprintf(opts->warn, " (no plots: gnuplot is not on PATH; Debian package gnuplot-nox)");
        if (opts->warn) fputc('\n', opts->warn);
    }
    if (md) fclose(md);
    if (csv) fclose(csv);
    if (plot_data) fclose(plot_data);
    for (int i = 0; i < npaths; i++) {
        if (cs[i].file >= 0) H5Fclose(cs[i].file);
        for (int k = 0; k < SEARCH_COST_COUNT_; k++)
            for (int a = 0; a < SEARCH_ACC_COUNT_; a++) search_front_free(&cs[i].front[k][a]);
        free(cs[i].points);
    }
    free(cs);
    return st;
}
