/* The sweep: one campaign of search runs (what `dnas sweep CONFIG.yaml`
 * runs under mpirun or as one process), its results store and its Pareto
 * fronts (docs/sweep.md).
 *
 * A campaign config names the search settings (a search config file or
 * its keys inline, or a list of them), a μ grid, constraint sets and seeds;
 * its jobs are their product, each one search_run. Ranks take jobs
 * dynamically from a counter in the campaign folder; the warmup of each
 * (seed, search settings) is trained once and every job of that pair
 * starts from its checkpoint; each finished run
 * is written at once to its own run file (runs/<id>.h5, renamed into
 * place), so a killed campaign resumes with only the missing runs; rank 0
 * merges the run files into campaign.h5 (root attributes, /runs/<id>,
 * /summary, /pareto/<cost>_vs_<accuracy>). */
#ifndef DNAS_SEARCH_SWEEP_H
#define DNAS_SEARCH_SWEEP_H

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>

#include "run.h"
#include "run_config.h"

#define SEARCH_SWEEP_MAX_MU 256
#define SEARCH_SWEEP_MAX_SEARCHES 8
#define SEARCH_SWEEP_MAX_SETS 32
#define SEARCH_SWEEP_MAX_SEEDS 64
#define SEARCH_SWEEP_MAX_FRONTS 16
#define SEARCH_SWEEP_NAME_LEN 64
#define SEARCH_SWEEP_ID_LEN 16
#define SEARCH_SWEEP_DESC_LEN 256

/* ---- campaign config (sweep_config.c) ------------------------------------ */

/* The deploy stage (docs/sweep.md "Deploy stage"): after the merge, the
 * selected runs compiled for each target, built and checked. */
#define SEARCH_SWEEP_MAX_DEPLOY 8
typedef enum { SEARCH_DEPLOY_NONE = 0, SEARCH_DEPLOY_FRONT, SEARCH_DEPLOY_BEST } search_deploy_select;

typedef struct {
    char backend[16];          /* a deploy backend: c, cortex-m, gap8, diana */
    char desc[TRAIN_PATH_LEN]; /* its target description file; "" the backend's (none for c) */
    char label[64];            /* backend[-<description name>][-l1_<l1>]: deploy/<run>_<label>/ */
    long l1;                   /* > 0: the tiled memory's size instead of the description's */
    double latency_ms;         /* best_within_budget: > 0 the latency budget (cost model) */
} search_sweep_deploy_target;

typedef struct {
    search_deploy_select select; /* NONE: no deploy: section */
    char front[96];              /* FRONT: the front's name, <cost>_vs_<accuracy> */
    int ntargets;
    search_sweep_deploy_target t[SEARCH_SWEEP_MAX_DEPLOY];
    long vectors; /* test samples per deployment */
    int images;   /* 1: they are the first test images of the search's data; 0: random */
} search_sweep_deploy;

/* One constraint set: constraints as the search config writes them. */
typedef struct {
    int n;
    search_constraint c[SEARCH_MAX_CONSTRAINTS];
    char desc[SEARCH_SWEEP_DESC_LEN]; /* "params<=20000,levels"; "none" */
} search_sweep_cset;

typedef struct {
    char path[TRAIN_PATH_LEN];        /* the campaign config */
    char *text;                       /* its text */
    char name[SEARCH_SWEEP_NAME_LEN]; /* campaign: (default: the file's stem) */
    char out[TRAIN_PATH_LEN];         /* the campaign folder (default results/<name>) */
    int nsearch;                      /* search settings: 1, or the entries of a `search:` list */
    search_config search[SEARCH_SWEEP_MAX_SEARCHES]; /* each one's; μ, constraints and seed are per job */
    int search_file[SEARCH_SWEEP_MAX_SEARCHES]; /* 1: the entry names a file (search[k].text is its text) */
    int nmu;
    double mu[SEARCH_SWEEP_MAX_MU];
    int nsets;
    search_sweep_cset sets[SEARCH_SWEEP_MAX_SETS];
    int nseeds;
    uint64_t seeds[SEARCH_SWEEP_MAX_SEEDS];
    int nfronts;
    int fronts[SEARCH_SWEEP_MAX_FRONTS]; /* cost slots of the fronts' x axes */
    int threads;                         /* per rank; 0: the node's cores / its ranks */
    search_sweep_deploy deploy;          /* deploy: (select NONE without it) */
} search_sweep_config;

/* Reads and checks a campaign config in full (the search settings too);
 * every error names the file and the line. Free with
 * search_sweep_config_free, also after a failure. */
dnas_status search_sweep_config_load(search_sweep_config *sc, const char *path, dnas_error *err);
void search_sweep_config_free(search_sweep_config *sc);

/* The default fronts' costs into slots: params, macs, memory and, with a
 * target, latency and energy; returns their number. */
int search_sweep_default_fronts(int with_target, int *slots);

/* Whether any (all = 0) or every (all = 1) search settings have a target. */
int search_sweep_with_target(const search_sweep_config *sc, int all);
/* The largest int_bits of the search settings (0: none exports). */
int search_sweep_int_bits(const search_sweep_config *sc);

/* One job: index in 0..njobs-1, seed-major, then search settings, then
 * constraint set, then μ (one search: the same ids as seed-major, then
 * constraint set, then μ). */
typedef struct {
    int index;
    double mu;
    int search; /* the index of its search settings in sc->search */
    int set;
    uint64_t seed;
    char id[SEARCH_SWEEP_ID_LEN]; /* its run id: the index in decimal */
} search_sweep_job;

int search_sweep_njobs(const search_sweep_config *sc);
void search_sweep_job_get(const search_sweep_config *sc, int index, search_sweep_job *job);
/* The search config of a job: its search settings with its μ, constraint
 * set and seed (cfg->text is shared with sc->search[k]: do not free it). */
void search_sweep_job_config(const search_sweep_config *sc, const search_sweep_job *job, search_config *cfg);

/* ---- running a campaign (sweep_run.c, sweep_mpi.c) ----------------------- */

/* MPI around the whole command: a singleton without mpirun. Without MPI
 * in the build, one rank. */
void search_sweep_mpi_init(int *argc, char ***argv);
void search_sweep_mpi_finalize(void);
int search_sweep_rank(void);
int search_sweep_ranks(void);

typedef struct {
    int resume;   /* run the jobs without a run file; else an existing campaign is an error */
    int threads;  /* > 0: overrides the config's */
    int quiet;    /* rank 0 prints no progress lines */
    FILE *progress; /* rank 0's progress lines (default stderr) */
} search_sweep_opts;

search_sweep_opts search_sweep_default_opts(void);

typedef struct {
    int total, done_before, done, ok, diverged, failed; /* runs of the campaign; done by this job */
    char campaign_h5[TRAIN_PATH_LEN + 16];              /* rank 0: the merged file */
} search_sweep_outcome;

/* Runs the campaign on every rank (collective). Every rank returns the same
 * status; the error message is filled on one rank only (the first that
 * failed), the others get an empty message: print it where it is not
 * empty. A run that diverges or fails is recorded and the campaign goes
 * on; a run file that cannot be written ends the job (MPI_Abort) with a
 * message naming the rank and the run. */
dnas_status search_sweep_run(const search_sweep_config *sc, const search_sweep_opts *opts,
                             search_sweep_outcome *out, dnas_error *err);

/* ---- summary rows and fronts (sweep_row.c, pareto.c) ---------------------- */

/* One /summary row: what a run group says about its run. Accuracies in
 * [0, 1]; NaN where not measured (or no export). */
typedef struct {
    char id[SEARCH_SWEEP_ID_LEN];
    char method[16];
    double mu;
    int32_t constraint_set; /* -1: not a sweep's run */
    char constraints[SEARCH_SWEEP_DESC_LEN];
    int64_t seed;
    char status[16];
    int32_t rank;
    double wall_seconds;
    double val_acc, test_acc, int_test_acc, search_test_acc; /* after fine-tuning; search: before */
    double cost[SEARCH_COST_COUNT_];                          /* the exported network's; NaN none */
    double seed_cost[SEARCH_COST_COUNT_];                     /* the seed network's */
} search_sweep_row;

/* Reads the row of run group `run` (e.g. /runs/3 of a run file or of
 * campaign.h5). 1 read, 0 not a run group. */
int search_sweep_row_read(hid_t run, const char *id, search_sweep_row *row);
/* The compound type of /summary rows: `with_target` adds cycles, latency and
 * energy. Close with H5Tclose; *str_types gets the string types to close
 * too (3). */
hid_t search_sweep_row_type(int with_target, hid_t str_types[3]);
/* The summary's accuracy kinds (the y axes of fronts). */
typedef enum { SEARCH_ACC_TEST = 0, SEARCH_ACC_INT, SEARCH_ACC_COUNT_ } search_acc_kind;
const char *search_acc_name(search_acc_kind a); /* test_acc, int_test_acc */
double search_sweep_row_acc(const search_sweep_row *row, search_acc_kind a);

/* A Pareto front of (cost, accuracy) points: lower cost and higher
 * accuracy are better. Kept sorted by cost ascending (so accuracy strictly
 * ascending); memory is the front's size, not the number of points added. */
typedef struct {
    char id[SEARCH_SWEEP_ID_LEN];
    double cost, acc;
} search_front_point;

typedef struct {
    int n, cap;
    search_front_point *p;
} search_front;

void search_front_init(search_front *f);
void search_front_free(search_front *f);
/* Adds a point: kept when no point of the front is at most as costly and at
 * least as accurate (a tie keeps the first); the points it dominates are
 * removed. Non-finite costs or accuracies are ignored. 1 kept, 0 not. */
int search_front_add(search_front *f, const char *id, double cost, double acc);
/* The area dominated by the front and bounded by the reference point
 * (ref_cost, ref_acc): Σ_i (ref_cost − c_i)·(a_i − max(ref_acc, a_{i−1}))
 * over the points with c_i < ref_cost and a_i > ref_acc, in cost order. */
double search_front_hypervolume(const search_front *f, double ref_cost, double ref_acc);

/* ---- the campaign file (sweep_merge.c) ------------------------------------ */

/* Merges the run files of the campaign folder into <out>/campaign.h5
 * (written to .tmp and renamed): root attributes, /runs/<id> copied from
 * each run file, /summary, /pareto/<cost>_vs_<acc> with each front's
 * hypervolume and reference point (the seed network's cost, accuracy 0).
 * Streams run by run: memory is the fronts', not the runs'. Missing runs
 * are skipped (counted in *nmissing). */
dnas_status search_sweep_merge(const search_sweep_config *sc, int ranks, double start_time, int *nruns,
                               int *nmissing, dnas_error *err);

/* ---- the deploy stage (sweep_deploy.c) ------------------------------------- */

typedef struct {
    int total, equal, differ, skipped, failed; /* deployments (rows of /deploy) */
} search_sweep_deploy_outcome;

/* The config's deploy stage on <out>/campaign.h5 (rank 0, after the merge;
 * it starts make as a child process, so outside MPI): the selected runs
 * compiled for each target into <out>/deploy/<run>_<target>/, built and
 * compared (`make check`), and one row each in /deploy. A deployment that
 * fails is a row with its reason, not an error; one with a result.txt from
 * before is read back, not redone. Progress lines to `progress` (NULL:
 * none). Nothing without a deploy: section. */
dnas_status search_sweep_deploy_run(const search_sweep_config *sc, FILE *progress,
                                    search_sweep_deploy_outcome *out, dnas_error *err);
/* The report's section: campaign.h5's /deploy (of campaign `name`) as a
 * Markdown table; nothing when the file has none. */
void search_sweep_deploy_md(FILE *o, const char *name, const char *h5);

/* ---- reports (report.c) ---------------------------------------------------- */

typedef struct {
    int nfronts;                         /* 0: params, macs, memory (+ latency, energy with a target) */
    int fronts[SEARCH_SWEEP_MAX_FRONTS]; /* cost slots */
    int plot;                            /* PNGs through gnuplot when it is on PATH */
    FILE *out;                           /* the tables (NULL: none) */
    int ntables;                         /* > 0: only the first ntables fronts to out (the files get all) */
    FILE *warn;                          /* notes and warnings */
} search_report_opts;

search_report_opts search_report_default_opts(void);

/* Reads each campaign (campaign.h5, or a campaign folder; the folder's
 * run files when campaign.h5 is missing or older than one of them), prints
 * a Markdown table per front and writes pareto.md, pareto.csv and (opts.plot,
 * gnuplot on PATH) pareto_<front>.png into the first campaign's folder,
 * several campaigns side by side. Streams the runs: its memory does not
 * grow with their number. */
dnas_status search_report(const char *const *paths, int npaths, const search_report_opts *opts,
                          dnas_error *err);

#endif
