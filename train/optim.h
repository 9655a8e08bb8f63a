/* Optimizers over one flat parameter array, and learning-rate schedules.
 * One loop covers every parameter (they live in one allocation), so the
 * same code serves a single process and an MPI job after one allreduce of
 * the gradients. */
#ifndef DNAS_TRAIN_OPTIM_H
#define DNAS_TRAIN_OPTIM_H

#include <stddef.h>

typedef enum { TRAIN_OPTIM_SGD = 0, TRAIN_OPTIM_ADAM, TRAIN_OPTIM_ADAMW } train_optim_kind;
typedef enum { TRAIN_SCHED_CONSTANT = 0, TRAIN_SCHED_STEP, TRAIN_SCHED_COSINE } train_sched_kind;

typedef struct {
    train_optim_kind kind;
    float lr;
    float momentum;      /* SGD (0.9); 0 = plain SGD */
    int nesterov;        /* SGD */
    float beta1, beta2;  /* Adam (0.9, 0.999) */
    float eps;           /* Adam (1e-8) */
    float weight_decay;  /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
} train_optim_params;

train_optim_params train_optim_default_params(void);

typedef struct {
    train_optim_params p;
    size_t n;
    float *m;            /* SGD velocity / Adam first moment */
    float *v;            /* Adam second moment */
    long t;              /* steps taken */
} train_optim;

void train_optim_init(train_optim *o, const train_optim_params *p, size_t nparams);
void train_optim_free(train_optim *o);
/* One update of params from grads at learning rate lr (the schedule's). */
void train_optim_step(train_optim *o, float *params, const float *grads, float lr);

typedef struct {
    train_sched_kind kind;
    float base_lr;
    long total_steps;    /* cosine: decays to min_lr at total_steps */
    float min_lr;
    long step_size;      /* step: multiply by gamma every step_size steps */
    float gamma;
    long warmup_steps;   /* linear warmup from 0 (any kind) */
} train_sched;

float train_sched_lr(const train_sched *s, long step);

/* Names for configs and messages: "sgd", "adam", "adamw"; "constant",
 * "step", "cosine". Return -1 for an unknown name. */
int train_optim_kind_parse(const char *s);
const char *train_optim_kind_name(train_optim_kind k);
int train_sched_kind_parse(const char *s);

#endif
