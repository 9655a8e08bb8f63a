/* One deployment as `dnas deploy` makes it and the sweep's deploy stage
 * repeats it (deploy/job/): the qnet of a file compiled for a backend and a
 * target description, the generated sources and test vectors written to a
 * folder, and `make -C DIR check` run on them as a child process. */
#ifndef DNAS_DEPLOY_JOB_H
#define DNAS_DEPLOY_JOB_H

#include "compiler.h"
#include "qnet.h"

/* What to deploy. */
typedef struct {
    const char *in;         /* the file with the qnet */
    const char *group;      /* its HDF5 group, or NULL */
    const char *run;        /* or the run's id (/runs/ID/qnet), or NULL */
    const char *backend;    /* a name of deploy_backends */
    const char *desc;       /* the target description: a name (configs/targets/T.yaml) or a
                               YAML path; NULL: the backend's (none for c) */
    long l1;                /* > 0: the tiled memory's size instead of the target's */
    const char *dump_after; /* a pass name to dump the IR after, or NULL */
    const char *out;        /* the output folder (made when missing) */
    long vectors;           /* test samples, >= 1 */
    const char *images;     /* NULL: random inputs; else samples from..from+vectors-1 of this
                               data file (IDX, .gz or not, or .npy) */
    const char *labels;     /* their labels (IDX or .npy), or NULL */
    long from;
    const char *command;    /* the command line the generated files name */
} deploy_job;

/* What it made (deploy_job_free). */
typedef struct {
    const deploy_backend *be;
    deploy_qnet q;
    deploy_ir ir;
    hwcost_target *desc; /* NULL: none */
    int tiles;           /* 1: the backend runs layers in tiles (gap8) */
    char group[1100], run_id[256], where[4200];
    int have_q;
    long correct; /* with labels: samples whose output argmax is the label */
} deploy_job_result;

/* The qnet read and compiled (no files): fills r->q, r->ir, r->desc. A
 * network that does not fit the target description's memory fails with
 * DNAS_ERR_UNSUPPORTED (deploy_pass_plan). Free r with deploy_job_free,
 * also after a failure. */
dnas_status deploy_job_compile(const deploy_job *j, deploy_job_result *r, dnas_error *err);
/* After deploy_job_compile: the folder, the backend's files and the test
 * vectors (and r->correct with labels). */
dnas_status deploy_job_emit(const deploy_job *j, deploy_job_result *r, dnas_error *err);
void deploy_job_free(deploy_job_result *r);

/* The target description file of a name (configs/targets/NAME.yaml in ., in
 * $DNAS_SOURCE_DIR, then in the source tree) or the name itself when it is
 * a path (has a '/' or ends in .yaml); NULL when no such file exists. */
const char *deploy_target_path(const char *name, char *buf, size_t len);

/* Bytes of the weights as stored (int4 / int2 layers packed). */
size_t deploy_ir_weight_values(const deploy_ir *ir);
/* The cost model's cycles of the layer whose first op is ops[k]: the ops
 * of one layer (a split layer's parts) on one engine run one after the
 * other, the engines at once, so the slowest engine's sum; *next (if not
 * NULL) gets the index of the next layer's first op. */
double deploy_ir_layer_cycles(const deploy_ir *ir, int k, int *next);
/* The cost model's cycles of one inference: the layers' cycles
 * (deploy_ir_layer_cycles) summed in order (0 when there is no estimate). */
double deploy_ir_model_cycles(const deploy_ir *ir);

/* `make -s -C dir check` as a child process (its output to dir/check.log):
 * what it printed about the samples. */
typedef enum {
    DEPLOY_CHECK_EQUAL = 0, /* "N samples: equal (0 values differ)", exit 0 */
    DEPLOY_CHECK_DIFFER,    /* the outputs differ from the evaluator's */
    DEPLOY_CHECK_FAILED,    /* it did not build or run (reason says how) */
} deploy_check_status;

typedef struct {
    deploy_check_status status;
    long samples;     /* samples compared (0: none) */
    long differ;      /* values that differ */
    char reason[256]; /* failed: what went wrong; else "" */
} deploy_check_result;

void deploy_check_run(const char *dir, deploy_check_result *r);
const char *deploy_check_name(deploy_check_status s); /* equal, differ, failed */

/* 1 when prog is an executable file in a PATH folder. */
int deploy_on_path(const char *prog);

#endif
