/* Finding the qnet in a file: a `dnas quantize` file holds it at /qnet, a
 * run file of `dnas search` (or a campaign) at /runs/<id>/qnet. The group
 * may be given, or the run id, or neither (then /qnet, or the one run). */
#include <string.h>

#include "qnet_h5_internal.h"

typedef struct {
    int n;
    char first[256];
    char list[512];
} runs_seen;

static herr_t add_run(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)g, (void)info;
    runs_seen *r = data;
    if (r->n == 0) snprintf(r->first, sizeof r->first, "%s", name);
    size_t len = strlen(r->list);
    if (len < sizeof r->list - 8)
        snprintf(r->list + len, sizeof r->list - len, "%s%s", r->n ? ", " : "", name);
    else if (!strstr(r->list, "..."))
        snprintf(r->list + len, sizeof r->list - len, ", ...");
    r->n++;
    return 0;
}

static int exists(hid_t f, const char *path) {
    return H5Lexists(f, path, H5P_DEFAULT) > 0;
}

/* Which group to read, when the caller named none. */
static dnas_status pick(hid_t f, const char *path, const char *run, char *group, size_t glen,
                        char *run_id, size_t rlen, dnas_error *err) {
    runs_seen seen = {0};
    if (exists(f, "runs"))
        H5Literate_by_name(f, "runs", H5_INDEX_NAME, H5_ITER_INC, NULL, add_run, &seen,
                           H5P_DEFAULT);
    if (run) {
        if (!exists(f, "runs"))
            return dnas_fail(err, DNAS_ERR_FORMAT,
                             "%s: no /runs group, so no run '%s' (expected a run file of dnas "
                             "search or a campaign file)",
                             path, run);
        char rpath[512];
        snprintf(rpath, sizeof rpath, "runs/%s", run);
        if (strchr(run, '/') || !exists(f, rpath))
            return dnas_fail(err, DNAS_ERR_FORMAT, "%s: no run '%s' (the runs: %s)", path, run,
                             seen.n ? seen.list : "none");
        snprintf(group, glen, "/runs/%s/qnet", run);
        snprintf(run_id, rlen, "%s", run);
        return DNAS_OK;
    }
    if (exists(f, "qnet")) {
        snprintf(group, glen, "/qnet");
        return DNAS_OK;
    }
    if (seen.n == 1) {
        snprintf(group, glen, "/runs/%s/qnet", seen.first);
        snprintf(run_id, rlen, "%s", seen.first);
        return DNAS_OK;
    }
    if (seen.n > 1)
        return dnas_fail(err, DNAS_ERR_FORMAT, "%s: holds %d runs (%s): pass --run ID", path,
                         seen.n, seen.list);
    return dnas_fail(err, DNAS_ERR_FORMAT,
                     "%s: no integer network: expected a group /qnet (dnas quantize) or "
                     "/runs/<id>/qnet (dnas search)",
                     path);
}

dnas_status deploy_qnet_load_from(const char *path, const char *group, const char *run,
                                  deploy_qnet *q, char *used, size_t used_len, char *run_id,
                                  size_t run_len, dnas_error *err) {
    deploy_qnet_init(q, "");
    if (used_len) used[0] = 0;
    if (run_len) run_id[0] = 0;
    dnas_status st = DNAS_OK;
    hid_t f = deploy_qnet_h5_open(path, &st, err);
    if (f < 0) return st;
    dnas_h5_quiet quiet;
    dnas_h5_quiet_on(&quiet);
    if (group)
        snprintf(used, used_len, "%s", group);
    else
        st = pick(f, path, run, used, used_len, run_id, run_len, err);
    dnas_h5_quiet_off(&quiet);
    if (!st) st = deploy_qnet_read(f, used, q, path, err);
    dnas_h5_quiet_on(&quiet);
    H5Fclose(f);
    dnas_h5_quiet_off(&quiet);
    return st;
}
