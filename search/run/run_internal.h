/* Private to the run (search/run/): what the phases share. */
#ifndef DNAS_SEARCH_RUN_INTERNAL_H
#define DNAS_SEARCH_RUN_INTERNAL_H

#include "run.h"
#include "trainer.h"

typedef struct {
    const search_config *cfg;
    FILE *log; /* NULL: quiet */
    search_result *res;
    train_config tcfg; /* the data, seed and loss as a training config (train_data_prepare) */
    train_dataset train, val, test;
    deploy_qnet_input prep; /* the data's preprocessing, recorded in the qnet */
    train_net *net; /* the supernet (res->seed) */
    search_bridge *bridge;
    search_arch *arch; /* the method */
    search_cost_params cp;
    search_cost_result cr;
    search_layer_state *state;
    search_layer_grad *acc;
    double strength[SEARCH_MAX_CONSTRAINTS]; /* full automatic strengths s (DUCCIO) */
    long arch_steps, ramp_steps;             /* arch steps taken, steps of the ramp */
    /* progress */
    double t0;        /* start of training */
    long samples_all; /* samples of every epoch of every phase */
    long samples_done;
    int epochs_all, epoch; /* global epoch index (batch orders) */
} run_ctx;

/* Seconds since an arbitrary start (monotonic). */
double search_run_now(void);
/* "1m20s" / "1h05m" into buf. */
void search_run_fmt_eta(char *buf, size_t len, double seconds);
/* ETA of the whole run from its progress. */
double search_run_eta(const run_ctx *c);

/* " | val loss L acc A | test loss L acc A" for what m has. */
void search_run_print_metrics(FILE *f, const search_metrics *m);
/* A cost's value as printed: thousands separated when >= 1000, else %.4g. */
const char *search_run_fmt_cost(double v, char *buf, size_t len);

/* Evaluates net on the validation and test splits into m. */
dnas_status search_run_evaluate(run_ctx *c, train_net *net, search_metrics *m, dnas_error *err);

/* Plain training for `epochs` epochs of net (warmup, fine-tune): a fresh
 * Adam at the config's lr and weight decay; *last_loss gets the mean loss
 * of the last epoch. DNAS_ERR_NAN when the loss is not finite. */
dnas_status search_run_plain(run_ctx *c, train_net *net, const char *phase, int epochs, float *last_loss,
                      dnas_error *err);

/* The regularizer at the masks' current state: costs through the bridge,
 * reg = μ·C + Σ_h λ_h·hinge_h; dalpha (or NULL) += its gradient. *cost
 * gets C. */
dnas_status search_run_regularizer(run_ctx *c, float *dalpha, double *cost, double *reg, dnas_error *err);
/* The config's cost of what the masks select now (kept channels and taps). */
dnas_status search_run_hard_cost(run_ctx *c, double *cost, dnas_error *err);
/* The automatic strengths from the task loss after warmup (run_loss.c). */
dnas_status search_run_strengths(run_ctx *c, float task_loss, dnas_error *err);

/* The warmup phase: cfg->warmup epochs of plain training of the seed, or
 * its checkpoint when ckpt names one that exists (saved there when not;
 * run_warmup.c). Fills res->warmup, res->task_loss_warmup and *loss. */
dnas_status search_run_warmup(run_ctx *c, const char *ckpt, float *loss, dnas_error *err);

/* The search phase: cfg->search epochs of weight and architecture steps. */
dnas_status search_run_search_phase(run_ctx *c, dnas_error *err);

#endif
