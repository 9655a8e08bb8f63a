/* The campaign folder (docs/sweep.md "The campaign folder"):
 *   config.yaml, search.yaml  the texts the campaign runs (a resume checks them;
 *                             several search settings: search<k>.yaml)
 *   started                   the campaign's first start (Unix seconds)
 *   lock                      held (flock) by rank 0 of the job running the campaign
 *   jobs.counter              the next job to hand out (flock'd)
 *   warmup/seed<S>.h5         each seed's warmup checkpoint (several search
 *                             settings: warmup/seed<S>_s<k>.h5 per (seed, search))
 *   runs/<id>.h5              one run file per finished run
 *   logs/rank<R>.log, logs/events.log
 *   campaign.h5, pareto.*     the merge and the report
 * Every file that matters is written to .tmp and renamed, so a killed job
 * leaves whole files or none; prepare removes the .tmp leftovers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sweep_internal.h"

void search_sweep_path(const search_sweep_config *sc, const char *rel, char *buf, size_t len) {
    snprintf(buf, len, "%s/%s", sc->out, rel);
}

static dnas_status mkdirs(const char *path, dnas_error *err) {
    char p[TRAIN_PATH_LEN + 64];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1;; s++) {
        int end = *s == 0;
        if (*s == '/' || end) {
            *s = 0;
            if (mkdir(p, 0777) && errno != EEXIST)
                return dnas_fail(err, DNAS_ERR_IO, "%s: cannot create the folder: %s", p, strerror(errno));
            if (end) break;
            *s = '/';
        }
    }
    return DNAS_OK;
}

static dnas_status write_text(const char *path, const char *text, dnas_error *err) {
    char tmp[TRAIN_PATH_LEN + 80];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot create it: %s", tmp, strerror(errno));
    int ok = fputs(text, f) >= 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path))
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot write it: %s", path, strerror(errno));
    return DNAS_OK;
}

/* 0 same, 1 differs, -1 absent. */
static int differs(const char *path, const char *text) {
    char *old = NULL;
    dnas_error e;
    if (dnas_read_file(path, DNAS_YAML_MAX_BYTES, &old, NULL, &e)) return -1;
    int d = strcmp(old, text) != 0;
    free(old);
    return d;
}

/* Removes the .tmp files of dir; returns the number of *.h5 left. */
static int clean(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && !strcmp(e->d_name + len - 4, ".tmp")) {
            char p[TRAIN_PATH_LEN + 320];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            remove(p);
        } else if (len > 3 && !strcmp(e->d_name + len - 3, ".h5"))
            n++;
    }
    closedir(d);
    return n;
}

dnas_status search_sweep_folder_prepare(const search_sweep_config *sc, int resume, unsigned char *done,
                                        double *start_time, dnas_error *err) {
    char p[TRAIN_PATH_LEN + 64];
    dnas_status st;
    const char *subs[] = {"runs", "logs", "warmup"};
    for (int i = 0; i < 3; i++) {
        search_sweep_path(sc, subs[i], p, sizeof p);
        if ((st = mkdirs(p, err))) return st;
    }
    /* one job per campaign at a time: rank 0 holds this lock until it
     * exits (the kernel drops it when the process dies, even by kill -9) */
    search_sweep_path(sc, "lock", p, sizeof p);
    int fd = open(p, O_RDWR | O_CREAT, 0666);
    if (fd < 0) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot create it: %s", p, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        close(fd);
        return dnas_fail(err, DNAS_ERR_IO, e == EWOULDBLOCK ? "%s: another dnas sweep is running this campaign (%s)"
                                                            : "%s: cannot lock the campaign folder (%s)",
                         sc->out, e == EWOULDBLOCK ? "it holds the lock file 'lock'" : strerror(e));
    }
    search_sweep_path(sc, "runs", p, sizeof p);
    int nruns = clean(p);
    search_sweep_path(sc, "warmup", p, sizeof p);
    clean(p);
    clean(sc->out); /* a merge or a config copy cut short */
    search_sweep_path(sc, "campaign.h5", p, sizeof p);
    struct stat sb;
    int merged = stat(p, &sb) == 0;
    if (!resume && (nruns || merged))
        return dnas_fail(err, DNAS_ERR_IO,
                         "%s: the campaign folder has results already (%d run files%s): pass --resume to "
                         "finish that campaign, or remove the folder (or name another: campaign:, output:)",
                         sc->out, nruns, merged ? " and campaign.h5" : "");
    /* config.yaml; search.yaml, or search<k>.yaml for each file entry of a list */
    for (int i = 0; i <= sc->nsearch; i++) {
        const char *text = i ? (sc->search_file[i - 1] ? sc->search[i - 1].text : NULL) : sc->text;
        if (!text) continue;
        char name[32] = "config.yaml";
        if (i && sc->nsearch > 1)
            snprintf(name, sizeof name, "search%d.yaml", i - 1);
        else if (i)
            snprintf(name, sizeof name, "search.yaml");
        search_sweep_path(sc, name, p, sizeof p);
        if (resume && differs(p, text) == 1)
            return dnas_fail(err, DNAS_ERR_CONFIG,
                             "%s: the %s config differs from the one this campaign started with (%s): a "
                             "resumed campaign runs the same config; restore it, or start another campaign",
                             p, i ? "search" : "campaign", i ? sc->search[i - 1].path : sc->path);
        if ((st = write_text(p, text, err))) return st;
    }
    search_sweep_path(sc, "started", p, sizeof p);
    FILE *f = fopen(p, "r");
    double t0 = 0;
    if (!f || fscanf(f, "%lf", &t0) != 1 || !resume) {
        char buf[32];
        t0 = (double)time(NULL);
        snprintf(buf, sizeof buf, "%.0f\n", t0);
        if (f) fclose(f), f = NULL;
        if ((st = write_text(p, buf, err))) return st;
    }
    if (f) fclose(f);
    *start_time = t0;
    search_sweep_path(sc, "jobs.counter", p, sizeof p);
    if ((st = write_text(p, "0\n", err))) return st;
    int njobs = search_sweep_njobs(sc);
    for (int j = 0; j < njobs; j++) {
        char rel[64];
        snprintf(rel, sizeof rel, "runs/%d.h5", j);
        search_sweep_path(sc, rel, p, sizeof p);
        done[j] = stat(p, &sb) == 0;
    }
    return DNAS_OK;
}

dnas_status search_sweep_claim(const search_sweep_config *sc, int *next, dnas_error *err) {
    char p[TRAIN_PATH_LEN + 64];
    search_sweep_path(sc, "jobs.counter", p, sizeof p);
    int fd = open(p, O_RDWR);
    if (fd < 0) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot open the job counter: %s", p, strerror(errno));
    if (flock(fd, LOCK_EX)) {
        close(fd);
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot lock the job counter (flock: %s; the campaign folder "
                         "must be on a file system with locks)", p, strerror(errno));
    }
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    long v = n > 0 ? strtol(buf, NULL, 10) : 0;
    int len = snprintf(buf, sizeof buf, "%ld\n", v + 1);
    int ok = pwrite(fd, buf, (size_t)len, 0) == len && ftruncate(fd, len) == 0;
    flock(fd, LOCK_UN);
    close(fd);
    if (!ok) return dnas_fail(err, DNAS_ERR_IO, "%s: cannot update the job counter: %s", p, strerror(errno));
    *next = (int)v;
    return DNAS_OK;
}
