/* A campaign on every rank (search_sweep_run):
 *   1. rank 0 prepares the folder (sweep_folder.c) and finds the finished
 *      runs; every rank gets the list of jobs to do;
 *   2. the warmup of each (seed, search settings) with jobs to do is
 *      trained once, the k-th such pair by rank k mod ranks, into
 *      warmup/seed<S>.h5 (several search settings: warmup/seed<S>_s<k>.h5,
 *      as the warmup depends on the model and the method; a resumed campaign loads
 *      it, which checks the model and the data as a first run would); a
 *      failure there (a missing dataset) is reported once, by the first
 *      rank that met it;
 *   3. every rank, rank 0 included, takes the next job from the shared
 *      counter until none is left, runs it from its pair's warmup and
 *      writes its run file at once (runs/<id>.h5, renamed into place); a
 *      diverged or failed run is recorded as such; rank 0's progress
 *      thread prints from the journal (logs/events.log) meanwhile;
 *   4. rank 0 merges the run files into campaign.h5 (sweep_merge.c).
 * Each rank's search logs go to logs/rank<R>.log. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dnas_h5.h"
#include "store.h"
#include "sweep_internal.h"

search_sweep_opts search_sweep_default_opts(void) {
    search_sweep_opts o = {0, 0, 0, NULL};
    return o;
}

/* The node's cores shared among its ranks. */
static int default_threads(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long t = cores / search_sweep_local_ranks();
    return t < 1 ? 1 : t > TRAIN_MAX_THREADS ? TRAIN_MAX_THREADS : (int)t;
}

dnas_status search_sweep_write_run(const search_sweep_config *sc, const search_sweep_job *job,
                                   const search_config *cfg, const search_result *res, int rank,
                                   dnas_error *err) {
    char rel[64], path[TRAIN_PATH_LEN + 64], tmp[TRAIN_PATH_LEN + 80];
    snprintf(rel, sizeof rel, "runs/%s.h5", job->id);
    search_sweep_path(sc, rel, path, sizeof path);
    hid_t f = -1;
    dnas_h5_quiet q;
    dnas_h5_quiet_on(&q);
    dnas_status st = search_store_create(path, tmp, sizeof tmp, &f, err);
    if (!st) {
        int ok = search_store_root(f, cfg->text, res->start_time, res->end_time, search_sweep_ranks()) &&
                 search_store_run_group(f, job->id, cfg, res, rank);
        char g[64];
        snprintf(g, sizeof g, "runs/%s", job->id);
        hid_t r = ok ? H5Gopen2(f, g, H5P_DEFAULT) : -1;
        ok &= r >= 0 && dnas_h5_write_attr_i64(r, "constraint_set", job->set) &&
              dnas_h5_write_attr_str(r, "campaign", sc->name) &&
              dnas_h5_write_attr_i64(r, "search_index", job->search);
        if (!cfg->nconstraints) ok &= r >= 0 && dnas_h5_write_attr_str(r, "constraints", "none");
        if (r >= 0) H5Gclose(r);
        st = search_store_commit(path, tmp, f, ok, err);
    }
    dnas_h5_quiet_off(&q);
    return st;
}

/* The warmup's name: "<S>", several search settings "<S>_s<k>" (its events'
 * id and warmup/seed<name>.h5). */
static void warmup_name(const search_sweep_config *sc, const search_sweep_job *job, char *buf, size_t len) {
    if (sc->nsearch > 1)
        snprintf(buf, len, "%llu_s%d", (unsigned long long)job->seed, job->search);
    else
        snprintf(buf, len, "%llu", (unsigned long long)job->seed);
}

static void warmup_path(const search_sweep_config *sc, const search_sweep_job *job, char *buf, size_t len) {
    char name[48], rel[64];
    warmup_name(sc, job, name, sizeof name);
    snprintf(rel, sizeof rel, "warmup/seed%s.h5", name);
    search_sweep_path(sc, rel, buf, len);
}

/* The search config and run options of job `index`: its μ, constraints and
 * seed, the rank's threads and log, its seed's warmup checkpoint (ckpt,
 * TRAIN_PATH_LEN + 64). */
static void job_setup(const search_sweep_config *sc, int index, int threads, FILE *log, search_sweep_job *job,
                      search_config *cfg, char *ckpt, search_run_opts *o) {
    search_sweep_job_get(sc, index, job);
    search_sweep_job_config(sc, job, cfg);
    cfg->threads = threads;
    warmup_path(sc, job, ckpt, TRAIN_PATH_LEN + 64);
    *o = search_run_default_opts();
    o->log = log;
    o->warmup_ckpt = ckpt;
}

/* Step 2: the warmups of this rank's (seed, search settings) pairs (those
 * with jobs to do). */
static dnas_status warmups(const search_sweep_config *sc, const int *pending, int npending, int threads, FILE *log,
                           dnas_error *err) {
    int rank = search_sweep_rank(), ranks = search_sweep_ranks(), k = 0;
    for (int s = 0; s < sc->nseeds * sc->nsearch; s++) {
        int first = -1;
        search_sweep_job job;
        for (int i = 0; i < npending && first < 0; i++) {
            search_sweep_job_get(sc, pending[i], &job);
            if (job.seed == sc->seeds[s / sc->nsearch] && job.search == s % sc->nsearch) first = pending[i];
        }
        if (first < 0 || k++ % ranks != rank) continue;
        search_config cfg;
        search_run_opts o;
        char ckpt[TRAIN_PATH_LEN + 64];
        job_setup(sc, first, threads, log, &job, &cfg, ckpt, &o);
        o.warmup_only = 1;
        fprintf(log, "== warmup of seed %llu, search %d (%s) -> %s\n", (unsigned long long)job.seed, job.search,
                search_method_name(cfg.method), ckpt);
        fflush(log);
        char seed[48];
        warmup_name(sc, &job, seed, sizeof seed);
        search_sweep_event(sc, rank, "warmup", seed, "");
        search_result *res = dnas_xcalloc(1, sizeof *res);
        dnas_status st = search_run(&cfg, &o, res, err);
        search_sweep_event(sc, rank, "warmed", seed, st ? "failed" : search_status_name(res->status));
        if (!st && res->status != SEARCH_STATUS_OK) /* its runs redo it and are recorded as it ended */
            fprintf(log, "warmup of seed %llu %s: %s\n", (unsigned long long)job.seed,
                    search_status_name(res->status), res->error);
        search_result_free(res);
        free(res);
        if (st) return st;
    }
    return DNAS_OK;
}

/* Step 3 for one job. A failure to write its run file ends the whole job. */
static void run_job(const search_sweep_config *sc, int index, int threads, FILE *log, search_sweep_outcome *out) {
    int rank = search_sweep_rank();
    search_sweep_job job;
    search_config cfg;
    search_run_opts o;
    char ckpt[TRAIN_PATH_LEN + 64];
    job_setup(sc, index, threads, log, &job, &cfg, ckpt, &o);
    char what[48] = ""; /* several search settings: which one */
    if (sc->nsearch > 1) snprintf(what, sizeof what, "search %d (%s), ", job.search, search_method_name(cfg.method));
    fprintf(log, "== run %s: %smu %g, constraints %s, seed %llu\n", job.id, what, job.mu, sc->sets[job.set].desc,
            (unsigned long long)job.seed);
    fflush(log);
    search_sweep_stop_running(index);
    search_sweep_event(sc, rank, "start", job.id, "");
    search_result *res = dnas_xcalloc(1, sizeof *res);
    dnas_error err;
    double t0 = (double)time(NULL);
    if (search_run(&cfg, &o, res, &err)) { /* before training: recorded as failed in setup */
        search_result_free(res);
        res->status = SEARCH_STATUS_FAILED;
        res->int_test_acc = -1;
        snprintf(res->error, sizeof res->error, "%s", err.msg);
        snprintf(res->phase, sizeof res->phase, "setup");
        res->start_time = t0, res->end_time = (double)time(NULL);
    }
    fprintf(log, "== run %s %s in %.1fs%s%s\n", job.id, search_status_name(res->status), res->seconds,
            res->status ? ": " : "", res->status ? res->error : "");
    fflush(log);
    if (search_sweep_write_run(sc, &job, &cfg, res, rank, &err)) {
        fprintf(stderr, "dnas sweep: rank %d, run %s: %s\n", rank, job.id, err.msg);
        search_sweep_abort(1);
    }
    search_sweep_event(sc, rank, "done", job.id, search_status_name(res->status));
    search_sweep_stop_running(-1);
    out->done++;
    out->ok += res->status == SEARCH_STATUS_OK;
    out->diverged += res->status == SEARCH_STATUS_DIVERGED;
    out->failed += res->status == SEARCH_STATUS_FAILED;
    search_result_free(res);
    free(res);
}

static FILE *open_log(const search_sweep_config *sc, int rank, dnas_error *err) {
    char rel[64], path[TRAIN_PATH_LEN + 64];
    snprintf(rel, sizeof rel, "logs/rank%d.log", rank);
    search_sweep_path(sc, rel, path, sizeof path);
    FILE *f = fopen(path, "a");
    if (!f) dnas_fail(err, DNAS_ERR_IO, "%s: cannot open the rank's log: %s", path, strerror(errno));
    return f;
}

dnas_status search_sweep_run(const search_sweep_config *sc, const search_sweep_opts *opts_in,
                             search_sweep_outcome *out, dnas_error *err) {
    search_sweep_opts opts = opts_in ? *opts_in : search_sweep_default_opts();
    int rank = search_sweep_rank(), ranks = search_sweep_ranks(), njobs = search_sweep_njobs(sc);
    memset(out, 0, sizeof *out);
    err->msg[0] = 0;
    out->total = njobs;
    unsigned char *done = dnas_xcalloc((size_t)njobs, 1);
    int *pending = dnas_xcalloc((size_t)njobs, sizeof *pending);
    double start = 0;
    FILE *log = NULL;
    dnas_status st = rank == 0 ? search_sweep_folder_prepare(sc, opts.resume, done, &start, err) : DNAS_OK;
    if ((st = search_sweep_agree(st, err))) goto end;
    if (rank == 0 && opts.resume && !opts.quiet) search_sweep_interrupted(sc, done, opts.progress ? opts.progress : stderr);
    /* this job's part of the journal starts here: what a stop names */
    double journal = 0;
    if (rank == 0) {
        char jp[TRAIN_PATH_LEN + 64];
        struct stat sb;
        search_sweep_path(sc, "logs/events.log", jp, sizeof jp);
        journal = stat(jp, &sb) == 0 ? (double)sb.st_size : 0;
    }
    search_sweep_bcast_doubles(&journal, 1, 0);
    search_sweep_stop_arm(sc, (long)journal);
    search_sweep_bcast_doubles(&start, 1, 0);
    for (int j = 0; j < njobs; j++) pending[j] = done[j];
    search_sweep_bcast_ints(pending, njobs, 0);
    int npending = 0;
    for (int j = 0; j < njobs; j++)
        if (!pending[j]) pending[npending++] = j;
    out->done_before = njobs - npending;
    int threads = opts.threads > 0 ? opts.threads : sc->threads > 0 ? sc->threads : default_threads();
    log = open_log(sc, rank, err);
    st = search_sweep_agree(log ? DNAS_OK : DNAS_ERR_IO, err);
    if (!st && log) {
        fprintf(log, "== dnas sweep %s: rank %d of %d, %d threads, %d of %d runs to do\n", sc->name, rank, ranks,
                threads, npending, njobs);
        fflush(log);
        st = warmups(sc, pending, npending, threads, log, err);
    }
    if ((st = search_sweep_agree(st, err))) goto end;
    search_sweep_progress *prog = NULL;
    if (rank == 0 && !opts.quiet)
        prog = search_sweep_progress_start(sc, opts.progress ? opts.progress : stderr, njobs, out->done_before,
                                           ranks);
    for (;;) {
        int n;
        if ((st = search_sweep_claim(sc, &n, err))) {
            fprintf(stderr, "dnas sweep: rank %d: %s\n", rank, err->msg);
            search_sweep_abort(1);
        }
        if (n >= npending) break;
        run_job(sc, pending[n], threads, log, out);
    }
    search_sweep_barrier();
    search_sweep_stop_disarm();
    search_sweep_progress_stop(prog);
    out->done = search_sweep_sum(out->done), out->ok = search_sweep_sum(out->ok);
    out->diverged = search_sweep_sum(out->diverged), out->failed = search_sweep_sum(out->failed);
    if (rank == 0) {
        int nruns, nmissing;
        st = search_sweep_merge(sc, ranks, start, &nruns, &nmissing, err);
        search_sweep_path(sc, "campaign.h5", out->campaign_h5, sizeof out->campaign_h5);
        if (!st && nmissing)
            st = dnas_fail(err, DNAS_ERR_IO, "%s: %d of %d runs have no run file (see logs/)", sc->out, nmissing,
                           njobs);
    }
    st = search_sweep_agree(st, err);
end:
    search_sweep_stop_disarm();
    if (log) fclose(log);
    free(done);
    free(pending);
    return st;
}
