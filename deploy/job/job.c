/* One deployment (job.h): read the qnet, load the target description,
 * compile, write the backend's files and the test vectors; and the
 * generated `make check` run as a child process. `dnas deploy` and the
 * sweep's deploy stage both go through here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job.h"
#include "dnas_build_info.h"
#include "train.h"

const char *deploy_target_path(const char *t, char *buf, size_t len) {
    if (strchr(t, '/') || strstr(t, ".yaml")) return t;
    const char *env = getenv("DNAS_SOURCE_DIR");
    const char *dirs[] = {".", env, DNAS_SOURCE_DIR};
    for (int i = 0; i < 3; i++) {
        if (!dirs[i]) continue;
        int n = snprintf(buf, len, "%s/configs/targets/%s.yaml", dirs[i], t);
        if (n < 0 || (size_t)n >= len) continue; /* longer than any path open() takes */
        if (access(buf, R_OK) == 0) return buf;
    }
    return NULL;
}

size_t deploy_ir_weight_values(const deploy_ir *ir) {
    size_t n = 0;
    for (int k = 0; k < ir->nops; k++) /* the ops of a split layer share its weights */
        if (!k || ir->ops[k - 1].qindex != ir->ops[k].qindex)
            n += dnas_rt_packed_bytes(ir->ops[k].wpack, ir->ops[k].q->wlen);
    return n;
}

double deploy_ir_layer_cycles(const deploy_ir *ir, int k, int *next) {
    double per[DEPLOY_IR_MAX_ENGINES] = {0}, most = 0;
    int j = k;
    for (; j < ir->nops && ir->ops[j].qindex == ir->ops[k].qindex; j++) {
        int e = ir->ops[j].engine >= 0 && ir->ops[j].engine < DEPLOY_IR_MAX_ENGINES
                    ? ir->ops[j].engine
                    : 0;
        per[e] += ir->ops[j].cycles;
        most = per[e] > most ? per[e] : most;
    }
    if (next) *next = j;
    return most;
}

double deploy_ir_model_cycles(const deploy_ir *ir) {
    double c = 0;
    for (int k = 0; k < ir->nops;)
        c += deploy_ir_layer_cycles(ir, k, &k);
    return c;
}

/* The target description of the job (or the backend's), or NULL. */
static dnas_status load_desc(const deploy_job *j, const deploy_backend *be, hwcost_target **t,
                             dnas_error *err) {
    const char *name = j->desc ? j->desc : be->target;
    *t = NULL;
    if (!name) return DNAS_OK;
    char buf[4096];
    const char *path = deploy_target_path(name, buf, sizeof buf);
    if (!path)
        return dnas_fail(err, DNAS_ERR_IO,
                         "target description '%s' not found (looked for configs/targets/%s.yaml "
                         "in ., $DNAS_SOURCE_DIR and %s)",
                         name, name, DNAS_SOURCE_DIR);
    *t = dnas_xmalloc(sizeof **t);
    dnas_status st = hwcost_target_load(*t, path, err);
    if (st) {
        free(*t);
        *t = NULL;
    }
    return st;
}

dnas_status deploy_job_compile(const deploy_job *j, deploy_job_result *r, dnas_error *err) {
    memset(r, 0, sizeof *r);
    r->be = deploy_backend_find(j->backend);
    if (!r->be) return dnas_fail(err, DNAS_ERR_INVALID, "unknown backend '%s'", j->backend);
    r->have_q = 1; /* initialized by the load, freed whatever it returns */
    dnas_status st = deploy_qnet_load_from(j->in, j->group, j->run, &r->q, r->group,
                                           sizeof r->group, r->run_id, sizeof r->run_id, err);
    if (!st) st = load_desc(j, r->be, &r->desc, err);
    deploy_compile_params p = deploy_backend_params(r->be);
    p.target = r->desc;
    p.dump_after = j->dump_after;
    p.l1_bytes = j->l1 > 0 ? (size_t)j->l1 : 0;
    r->tiles = p.tile;
    snprintf(r->where, sizeof r->where, "%s:%s", j->in, r->group);
    if (!st) st = deploy_compile(&r->ir, &r->q, r->where, &p, err);
    return st;
}

static dnas_status make_dir(const char *dir, dnas_error *err) {
    struct stat sb;
    if (stat(dir, &sb) == 0)
        return S_ISDIR(sb.st_mode)
                   ? DNAS_OK
                   : dnas_fail(err, DNAS_ERR_IO, "%s: exists and is not a directory", dir);
    if (mkdir(dir, 0777) != 0)
        return dnas_fail(err, DNAS_ERR_IO, "%s: cannot make the directory: %s", dir,
                         strerror(errno));
    return DNAS_OK;
}

static int ends_with(const char *s, const char *end) {
    size_t n = strlen(s), m = strlen(end);
    return n >= m && !strcmp(s + n - m, end);
}

/* j->vectors samples of j->images from j->from, as the network's input
 * bytes (in), as floats before the normalization (raw) and their labels
 * (y, when j->labels), preprocessed as q records it (deploy_qnet_input). */
static dnas_status real_inputs(const deploy_job *j, const deploy_qnet *q, const char *where,
                               uint8_t *in, float *raw, int32_t *y, dnas_error *err) {
    const deploy_qnet_input *prep = &q->input;
    const deploy_qtensor *t = &q->tensors[0];
    if (!prep->recorded)
        return dnas_fail(err, DNAS_ERR_FORMAT,
                         "%s: the network records no input preprocessing (a file written before "
                         "qnets stored it): quantize it again, or leave out --images",
                         where);
    train_dataset ds = {0};
    int npy = ends_with(j->images, ".npy");
    dnas_status st = npy ? train_data_load_npy(&ds, j->images, j->labels, err)
                         : train_data_load_idx(&ds, j->images, j->labels, err);
    if (!st && prep->rows) st = train_data_to_rows(&ds, err);
    if (!st && (ds.c != t->c || ds.h != t->h || ds.w != t->w))
        st = dnas_fail(err, DNAS_ERR_SHAPE,
                       "%s: samples of (C, H, W) = (%d, %d, %d)%s, but the network's input is "
                       "(%d, %d, %d)",
                       j->images, ds.c, ds.h, ds.w, prep->rows ? " read as rows" : "", t->c, t->h,
                       t->w);
    if (!st && (long)ds.count < j->from + j->vectors)
        st = dnas_fail(err, DNAS_ERR_SHAPE, "%s: %d samples: samples %ld..%ld do not exist",
                       j->images, ds.count, j->from, j->from + j->vectors - 1);
    if (!st) {
        size_t per = deploy_qtensor_size(t);
        float *x = dnas_xmalloc((size_t)j->vectors * per * sizeof *x);
        memcpy(x, ds.x + (size_t)j->from * per, (size_t)j->vectors * per * sizeof *x);
        memcpy(raw, x, (size_t)j->vectors * per * sizeof *x); /* before the normalization */
        deploy_qnet_normalize(q, x, (int)j->vectors);
        deploy_qnet_input_bytes(q, x, (int)j->vectors, in);
        if (y && ds.y) memcpy(y, ds.y + j->from, (size_t)j->vectors * sizeof *y);
        free(x);
    }
    train_dataset_free(&ds);
    return st;
}

/* Samples of in (bytes of the input tensor) whose output argmax is y. */
static dnas_status count_correct(const deploy_qnet *q, const uint8_t *in, const int32_t *y, int n,
                                 long *correct, dnas_error *err) {
    deploy_qeval ev;
    dnas_status st = deploy_qeval_init(&ev, q, q->name, err);
    if (st) return st;
    const deploy_qtensor *o = &q->tensors[q->output];
    size_t isz = deploy_qtensor_size(&q->tensors[0]), osz = deploy_qtensor_size(o);
    int32_t *out = dnas_xmalloc(osz * sizeof *out);
    *correct = 0;
    for (int s = 0; s < n && !st; s++) {
        st = deploy_qeval_sample(&ev, out, in + (size_t)s * isz, err);
        if (!st) *correct += deploy_qnet_argmax(out, (int)osz) == y[s];
    }
    free(out);
    deploy_qeval_free(&ev);
    return st;
}

dnas_status deploy_job_emit(const deploy_job *j, deploy_job_result *r, dnas_error *err) {
    const deploy_qnet *q = &r->q;
    dnas_status st = make_dir(j->out, err);
    deploy_emit_info info = {j->command, r->where, r->run_id[0] ? r->run_id : NULL, NULL};
    char version[128];
    snprintf(version, sizeof version, "%s (commit %s)", DNAS_VERSION, DNAS_GIT_COMMIT);
    info.version = version;
    if (!st) st = r->be->emit(&r->ir, &info, j->out, err);
    if (st) return st;
    /* the inputs and the expected outputs are held at once */
    size_t isz = deploy_qtensor_size(&q->tensors[0]);
    size_t osz = deploy_qtensor_size(&q->tensors[q->output]);
    st = dnas_check_bytes((uint64_t)j->vectors * (isz + osz), "the test samples", err);
    if (!st && j->images)
        st = dnas_check_bytes((uint64_t)j->vectors * isz * 5, "the test images", err);
    if (st) return st;
    uint8_t *in = dnas_xmalloc((size_t)j->vectors * isz);
    float *raw = j->images ? dnas_xmalloc((size_t)j->vectors * isz * sizeof *raw) : NULL;
    int32_t *y = j->images && j->labels ? dnas_xmalloc((size_t)j->vectors * sizeof *y) : NULL;
    if (j->images)
        st = real_inputs(j, q, r->where, in, raw, y, err);
    else
        deploy_random_inputs(q, in, (int)j->vectors, 1);
    if (!st) st = deploy_emit_vectors(q, in, (int)j->vectors, j->out, err);
    if (!st && raw) st = deploy_emit_float_vectors(q, raw, (int)j->vectors, j->out, err);
    if (!st && y) st = count_correct(q, in, y, (int)j->vectors, &r->correct, err);
    free(raw);
    free(in);
    free(y);
    return st;
}

void deploy_job_free(deploy_job_result *r) {
    deploy_ir_free(&r->ir);
    if (r->have_q) deploy_qnet_free(&r->q);
    free(r->desc);
    memset(r, 0, sizeof *r);
}
