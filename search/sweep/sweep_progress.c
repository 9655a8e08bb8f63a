/* The progress journal (logs/events.log: one line per event, appended with
 * one write so lines of different ranks do not mix) and rank 0's progress
 * thread, which reads it once a second and prints, on each event and at
 * least once a minute:
 *   sweep 1m23s: runs 3/12 (1 diverged) | rank 0: run 4 mu 1e-05 0m41s | rank 1: run 5 mu 3.2e-05
 *   0m12s | front params: 2 points, best 88.96% at 13,130 (run 2) | ETA 2m10s
 * The front is the campaign's first (its first cost against test
 * accuracy) over the runs finished by this job; the ETA is the mean run
 * time so far (from the journal) times the runs left, over the ranks. The
 * thread calls no MPI; it reads the finished runs' files for the front
 * only when HDF5 is built thread-safe (Debian's is), as rank 0's main
 * thread uses HDF5 meanwhile. */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dnas_h5.h"
#include "../run/run_internal.h" /* the run's ETA and cost formats */
#include "sweep_internal.h"

void search_sweep_event(const search_sweep_config *sc, int rank, const char *what, const char *id,
                        const char *status) {
    char path[TRAIN_PATH_LEN + 64], line[256];
    search_sweep_path(sc, "logs/events.log", path, sizeof path);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int n = snprintf(line, sizeof line, "%.3f %d %s %s %s\n", (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec, rank,
                     what, id, status);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd < 0) return; /* progress only */
    if (write(fd, line, (size_t)n) != n) { /* progress only */ }
    close(fd);
}

struct search_sweep_progress {
    const search_sweep_config *sc;
    FILE *out;
    int total, done, ranks, diverged, failed;
    long offset; /* of the journal read so far */
    double t0, secs, last;
    int nsecs;
    char (*running)[SEARCH_SWEEP_ID_LEN];
    double *since;
    search_front front;
    int h5_threads; /* HDF5 is thread-safe: read run files for the front */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static void add_result(search_sweep_progress *p, const char *id) {
    char rel[64], path[TRAIN_PATH_LEN + 64], g[64];
    snprintf(rel, sizeof rel, "runs/%s.h5", id);
    search_sweep_path(p->sc, rel, path, sizeof path);
    dnas_h5_quiet q;
    dnas_h5_quiet_on(&q);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    snprintf(g, sizeof g, "runs/%s", id);
    hid_t r = f >= 0 ? H5Gopen2(f, g, H5P_DEFAULT) : -1;
    search_sweep_row row;
    if (r >= 0 && search_sweep_row_read(r, id, &row) && !strcmp(row.status, "ok"))
        search_front_add(&p->front, id, row.cost[p->sc->fronts[0]], row.test_acc);
    if (r >= 0) H5Gclose(r);
    if (f >= 0) H5Fclose(f);
    dnas_h5_quiet_off(&q);
}

/* Reads the journal's new lines; 1 when there were any. */
static int read_events(search_sweep_progress *p) {
    char path[TRAIN_PATH_LEN + 64], line[256];
    search_sweep_path(p->sc, "logs/events.log", path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int any = 0;
    fseek(f, p->offset, SEEK_SET);
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (!len || line[len - 1] != '\n') break; /* a line being written: next time */
        p->offset += (long)len;
        double t;
        int rank;
        char what[16], id[SEARCH_SWEEP_ID_LEN], status[16] = "";
        if (sscanf(line, "%lf %d %15s %15s %15s", &t, &rank, what, id, status) < 4 || rank < 0 ||
            rank >= p->ranks)
            continue;
        any = 1;
        if (!strcmp(what, "start")) {
            snprintf(p->running[rank], SEARCH_SWEEP_ID_LEN, "%s", id);
            p->since[rank] = t;
        } else if (!strcmp(what, "done")) {
            if (p->running[rank][0] && !strcmp(p->running[rank], id)) p->secs += t - p->since[rank], p->nsecs++;
            p->running[rank][0] = 0;
            p->done++;
            p->diverged += !strcmp(status, "diverged");
            p->failed += !strcmp(status, "failed");
            if (p->h5_threads) add_result(p, id);
        }
    }
    fclose(f);
    return any;
}

static void print_line(search_sweep_progress *p) {
    char buf[64], eta[32];
    double now = (double)time(NULL);
    FILE *o = p->out;
    search_run_fmt_eta(buf, sizeof buf, now - p->t0);
    fprintf(o, "sweep %s: runs %d/%d", buf, p->done, p->total);
    if (p->diverged || p->failed) fprintf(o, " (%d diverged, %d failed)", p->diverged, p->failed);
    int nrun = 0;
    double running = 0;
    for (int r = 0; r < p->ranks; r++) {
        if (!p->running[r][0]) continue;
        search_sweep_job job;
        search_sweep_job_get(p->sc, atoi(p->running[r]), &job);
        search_run_fmt_eta(buf, sizeof buf, now - p->since[r]);
        if (p->sc->nsearch > 1) /* which search settings: their method */
            fprintf(o, " | rank %d: run %s %s mu %.3g %s", r, p->running[r],
                    search_method_name(p->sc->search[job.search].method), job.mu, buf);
        else
            fprintf(o, " | rank %d: run %s mu %.3g %s", r, p->running[r], job.mu, buf);
        nrun++, running += now - p->since[r];
    }
    if (p->front.n) {
        const search_front_point *b = &p->front.p[p->front.n - 1];
        char c[64];
        fprintf(o, " | front %s: %d point%s, best %.2f%% at %s (run %s)", search_config_cost_name(p->sc->fronts[0]),
                p->front.n, p->front.n > 1 ? "s" : "", 100 * b->acc, search_run_fmt_cost(b->cost, c, sizeof c),
                b->id);
    }
    if (p->nsecs) {
        double mean = p->secs / p->nsecs, left = (p->total - p->done) * mean / p->ranks;
        if (nrun) left -= running / nrun / p->ranks * nrun;
        search_run_fmt_eta(eta, sizeof eta, left > 0 ? left : 0);
        fprintf(o, " | ETA %s", eta);
    } else if (p->done < p->total)
        fprintf(o, " | ETA ?");
    fputc('\n', o);
    fflush(o);
    p->last = now;
}

static void *loop(void *arg) {
    search_sweep_progress *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        if (read_events(p) || (double)time(NULL) - p->last >= 60) print_line(p);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

search_sweep_progress *search_sweep_progress_start(const search_sweep_config *sc, FILE *out, int total,
                                                   int done_before, int ranks) {
    search_sweep_progress *p = dnas_xcalloc(1, sizeof *p);
    p->sc = sc, p->out = out, p->total = total, p->done = done_before, p->ranks = ranks;
    p->running = dnas_xcalloc((size_t)ranks, sizeof *p->running);
    p->since = dnas_xcalloc((size_t)ranks, sizeof *p->since);
    p->t0 = p->last = (double)time(NULL);
    search_front_init(&p->front);
    hbool_t ts = 0;
    p->h5_threads = H5is_library_threadsafe(&ts) >= 0 && ts;
    char path[TRAIN_PATH_LEN + 64];
    search_sweep_path(sc, "logs/events.log", path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f) { /* this job's events only */
        fseek(f, 0, SEEK_END);
        p->offset = ftell(f);
        fclose(f);
    }
    fprintf(out, "sweep %s: %d runs (%d done before), %d rank%s; logs in %s/logs/\n", sc->name, total, done_before,
            ranks, ranks > 1 ? "s" : "", sc->out);
    fflush(out);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->th, NULL, loop, p)) {
        free(p->running), free(p->since), free(p);
        return NULL;
    }
    return p;
}

void search_sweep_progress_stop(search_sweep_progress *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    if (read_events(p)) print_line(p);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    search_front_free(&p->front);
    free(p->running), free(p->since), free(p);
}

void search_sweep_interrupted(const search_sweep_config *sc, const unsigned char *done, FILE *out) {
    char path[TRAIN_PATH_LEN + 64], line[256];
    search_sweep_path(sc, "logs/events.log", path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) return;
    int njobs = search_sweep_njobs(sc);
    int *rank = dnas_xmalloc((size_t)njobs * sizeof *rank);
    double *since = dnas_xcalloc((size_t)njobs, sizeof *since);
    for (int j = 0; j < njobs; j++) rank[j] = -1;
    while (fgets(line, sizeof line, f)) {
        double t;
        int r, id;
        char what[16];
        if (sscanf(line, "%lf %d %15s %d", &t, &r, what, &id) != 4 || id < 0 || id >= njobs) continue;
        if (strcmp(what, "start") && strcmp(what, "done")) continue;
        rank[id] = !strcmp(what, "start") ? r : -1;
        since[id] = t;
    }
    fclose(f);
    for (int j = 0; j < njobs; j++)
        if (rank[j] >= 0 && !done[j]) {
            char when[32];
            time_t t = (time_t)since[j];
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&t));
            fprintf(out, "sweep %s: run %d (rank %d, started %s UTC) was interrupted; it runs again\n", sc->name, j,
                    rank[j], when);
        }
    free(rank);
    free(since);
}
