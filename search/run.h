/* One search run (what `dnas search` and each job of a sweep run): warmup
 * (plain training) -> search (weights and architecture together, loss =
 * task + hinges + μ·cost) -> export -> fine-tune -> evaluate, and the run
 * group it leaves in an HDF5 results file. The phases are described in
 * docs/search.md "The run"; the file layout in "The run file".
 *
 * Reproducible from the config and its seed on the same thread count:
 * every batch order is a function of (seed, epoch, pass), initialization
 * of the seed, a method's noise (SuperNet's Gumbel modes) of a generator
 * seeded by the seed, and nothing else draws random numbers. */
#ifndef DNAS_SEARCH_RUN_H
#define DNAS_SEARCH_RUN_H

#include <stdio.h>

#include "bridge.h"
#include "data.h"
#include "deploy.h"
#include "method.h"
#include "net.h"
#include "pit.h"
#include "run_config.h"

typedef enum { SEARCH_STATUS_OK = 0, SEARCH_STATUS_DIVERGED, SEARCH_STATUS_FAILED } search_status;

const char *search_status_name(search_status s);

/* Accuracy in [0, 1] (-1 for mse), mean losses; all -1 when not measured. */
typedef struct {
    float val_loss, val_acc, test_loss, test_acc;
} search_metrics;

typedef struct search_result search_result;

typedef struct {
    int quiet; /* no progress lines */
    FILE *log; /* progress output (default stderr) */
    /* Called after fine-tuning and the integer evaluation with the
     * exported network (eval-ready) and the test split; it may set
     * res->int_test_acc. NULL: none. A failure fails the run. */
    dnas_status (*after_finetune)(void *ctx, train_net *exported, const train_dataset *test,
                                  search_result *res, dnas_error *err);
    void *ctx;
    /* A campaign's shared warmup (docs/sweep.md): when this checkpoint
     * exists, the seed's weights and BN state after the warmup, its
     * metrics and last task loss are loaded from it and the warmup epochs
     * skipped (the run is then the same as one that trains them); when it
     * does not, the warmup is trained and saved there. NULL: none. */
    const char *warmup_ckpt;
    int warmup_only; /* stop after the warmup (and its checkpoint): status ok */
} search_run_opts;

search_run_opts search_run_default_opts(void);

struct search_result {
    search_status status;
    char error[DNAS_ERROR_LEN];              /* why, when not ok */
    char phase[16];                          /* the phase it stopped in (when not ok) */
    double seconds;                          /* wall time of the run */
    double start_time, end_time;             /* Unix seconds */
    search_metrics warmup, search, finetune; /* after each phase (search: the exported net) */
    float int_test_acc;                      /* integer network's test accuracy; -1: not evaluated */
    deploy_qnet *qnet;                       /* the integer network (int_bits); NULL: none */
    float task_loss_warmup;                  /* mean training loss of the last warmup epoch (DUCCIO) */
    double lambda[SEARCH_MAX_CONSTRAINTS];   /* each constraint's strength at the end */
    double seed_cost[SEARCH_COST_SLOTS];     /* the seed network's costs (levels after the costs) */
    double cost[SEARCH_COST_SLOTS];          /* the exported network's */
    int has_unsplit;                         /* 1: the exported network records channel engines (ODiMO) */
    double cost_unsplit[SEARCH_COST_SLOTS];  /* ... and its costs with every layer unsplit at the config's
                                                bits (on DIANA: all digital), for comparison */
    int nmem;                                /* levels in the slots (the target's, else 0) */
    hwcost_target *target;                   /* loaded target, or NULL */
    train_net *seed;                         /* the seed network (its weights after the search) */
    train_net *exported;                     /* the found network, fine-tuned; NULL when not reached */
    size_t nalpha;
    float *alpha; /* architecture parameters at the end of the search */
    int nslices;
    search_arch_slice *slices;
    int nchoices;                /* the method's discrete choices at the end of the search (SuperNet) */
    search_arch_choice *choices;
};

/* Runs the config. Problems found before training (the model, target or
 * data cannot be read or do not fit) are returned as errors with nothing
 * in res to keep. Once training has started, the return is DNAS_OK and
 * res->status says how the run ended: ok, diverged (a NaN or infinite
 * loss) or failed (res->error says why); res holds what was reached.
 * Free res with search_result_free in every case. */
dnas_status search_run(const search_config *cfg, const search_run_opts *opts, search_result *res,
                       dnas_error *err);
void search_result_free(search_result *res);

/* Writes the run file: root attributes and the run group /runs/<id>
 * (docs/search.md "The run file"). Written to PATH.tmp and renamed. */
dnas_status search_store_write(const char *path, const char *id, const search_config *cfg,
                               const search_result *res, dnas_error *err);

#endif
