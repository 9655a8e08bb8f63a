/* The search phase: weights and architecture parameters trained together
 * (the method's hooks: search/method.h).
 *
 * Per training batch (arch_split: val):
 *   1. architecture and current weights onto the network (apply);
 *   2. weight step: forward / backward on the training batch, gradients
 *      mapped back to the raw weights (dW = dW_eff·masks), Adam update of
 *      the weights (the regularizer does not depend on them);
 *   3. view again (the weights moved); architecture step on the next
 *      validation batch (their order restarts when they run out): the task
 *      gradient through the masks' straight-through chain, plus the
 *      regularizer's (run_loss.c) through the cost bridge, and an Adam
 *      update of alpha of its own (lr arch_lr, no weight decay).
 * arch_split: train takes both gradients from the one forward / backward
 * of step 2 and updates weights and alpha together.
 * Batch orders: training (seed, global epoch); validation (seed + 1,
 * epoch·1000 + pass). The weights' Adam starts fresh.
 * Progress lines print the task loss, the loss with the regularizer, and
 * the cost of what the masks select (kept channels and taps; the
 * regularizer's soft K_eff is not what the network would cost). */
#include <math.h>
#include <string.h>

#include "run_internal.h"

const char *search_run_fmt_cost(double v, char *buf, size_t len) {
    if (fabs(v) >= 1000) return dnas_fmt_thousands(v, buf, len);
    snprintf(buf, len, "%.4g", v);
    return buf;
}

typedef struct {
    train_stepper ws;
    train_optim wopt, aopt;
    train_batches tb, vb;
    float *dalpha;
    int vpass;
} search_state;

/* The architecture gradient of the batch now in net->grads, plus the
 * regularizer's, and one update of alpha. */
static dnas_status arch_step(run_ctx *c, search_state *s, double *cost, double *reg, dnas_error *err) {
    search_arch *p = c->arch;
    memset(s->dalpha, 0, p->nalpha * sizeof *s->dalpha);
    p->backward(p, c->net, s->dalpha, 0);
    dnas_status st = search_run_regularizer(c, s->dalpha, cost, reg, err);
    if (st) return st;
    train_optim_step(&s->aopt, p->alpha, s->dalpha, c->cfg->arch_lr);
    c->arch_steps++;
    for (size_t k = 0; k < p->nalpha; k++)
        if (!isfinite(p->alpha[k]))
            return dnas_fail(err, DNAS_ERR_NAN,
                             "the architecture parameters are not finite (arch_lr %g or mu "
                             "too high?)",
                             (double)c->cfg->arch_lr);
    p->forward(p);
    return DNAS_OK;
}

/* Weight (and, arch_split train, architecture) step on training batch b. */
static dnas_status batch_step(run_ctx *c, search_state *s, train_step_stats *bs, double *cost, double *reg,
                              dnas_error *err) {
    search_arch *p = c->arch;
    train_net *net = c->net;
    p->apply(p, net);
    dnas_status st = train_step_grads(&s->ws, s->tb.x, s->tb.y, s->tb.n, bs, err);
    if (st) return st;
    if (c->cfg->split == SEARCH_SPLIT_TRAIN) {
        memset(s->dalpha, 0, p->nalpha * sizeof *s->dalpha);
        p->backward(p, net, s->dalpha, 0);
        p->backward(p, net, NULL, 1);
        train_step_update(&s->ws);
        // the task gradient is in dalpha: arch_step adds the regularizer's and updates
        if ((st = search_run_regularizer(c, s->dalpha, cost, reg, err))) return st;
        train_optim_step(&s->aopt, p->alpha, s->dalpha, c->cfg->arch_lr);
        c->arch_steps++;
        p->forward(p);
        return DNAS_OK;
    }
    p->backward(p, net, NULL, 1);
    train_step_update(&s->ws);
    if (!train_batches_next(&s->vb)) {
        train_batches_epoch(&s->vb, c->epoch * 1000 + s->vpass++);
        train_batches_next(&s->vb);
    }
    p->apply(p, net);
    train_step_stats vs;
    if ((st = train_step_grads(&s->ws, s->vb.x, s->vb.y, s->vb.n, &vs, err))) return st;
    return arch_step(c, s, cost, reg, err);
}

static void print_progress(run_ctx *c, int e, long b, long nb, double loss, double task, double cost,
                           long correct, long seen) {
    char eta[32], cb[64];
    search_run_fmt_eta(eta, sizeof eta, search_run_eta(c));
    fprintf(c->log, "search %d/%d [%3d%%] loss %.4f task %.4f %s %s", e + 1, c->cfg->search,
            (int)(100 * (b + 1) / nb), loss, task, search_config_cost_name(c->cfg->cost),
            search_run_fmt_cost(cost, cb, sizeof cb));
    if (c->cfg->loss == TRAIN_LOSS_XENT) fprintf(c->log, " acc %.2f%%", 100.0 * correct / seen);
    fprintf(c->log, " ETA %s\n", eta);
    fflush(c->log);
}

static dnas_status epochs(run_ctx *c, search_state *s, dnas_error *err) {
    const search_config *cfg = c->cfg;
    int log_every = cfg->log_every > 0 ? (int)((s->tb.nbatches + cfg->log_every - 1) / cfg->log_every) : 0;
    dnas_status st = DNAS_OK;
    for (int e = 0; e < cfg->search; e++, c->epoch++) {
        if (c->arch->epoch) c->arch->epoch(c->arch, e, cfg->search);
        train_batches_epoch(&s->tb, c->epoch);
        if (cfg->split == SEARCH_SPLIT_VAL)
            s->vpass = 0, train_batches_epoch(&s->vb, c->epoch * 1000 + s->vpass++);
        double t0 = search_run_now(), task = 0, regsum = 0, cost = 0, reg = 0;
        long correct = 0, seen = 0;
        for (long b = 0; train_batches_next(&s->tb); b++) {
            train_step_stats bs;
            if ((st = batch_step(c, s, &bs, &cost, &reg, err))) {
                char why[DNAS_ERROR_LEN];
                snprintf(why, sizeof why, "%s", err->msg);
                return dnas_fail(err, st, "search epoch %d, batch %ld: %s", e + 1, b + 1, why);
            }
            task += (double)bs.loss * bs.n;
            regsum += reg * bs.n;
            correct += bs.correct;
            seen += bs.n;
            c->samples_done += bs.n;
            if (c->log && log_every && (b + 1) % log_every == 0 && b + 1 < s->tb.nbatches) {
                double hard;
                if ((st = search_run_hard_cost(c, &hard, err))) return st;
                print_progress(c, e, b, s->tb.nbatches, (task + regsum) / seen, task / seen, hard, correct,
                               seen);
            }
        }
        if (!c->log) continue;
        double dt = search_run_now() - t0; /* training only: evaluation after */
        search_metrics m;
        c->arch->apply(c->arch, c->net);
        if ((st = search_run_evaluate(c, c->net, &m, err)) || (st = search_run_hard_cost(c, &cost, err))) return st;
        char eta[32], cb[64], sb[64];
        search_run_fmt_eta(eta, sizeof eta, search_run_eta(c));
        fprintf(c->log, "search %d/%d done in %.2fs: loss %.4f task %.4f %s %s (seed %s)", e + 1, cfg->search,
                dt, (task + regsum) / seen, task / seen, search_config_cost_name(cfg->cost),
                search_run_fmt_cost(cost, cb, sizeof cb), search_run_fmt_cost(c->res->seed_cost[cfg->cost], sb, sizeof sb));
        if (cfg->loss == TRAIN_LOSS_XENT) fprintf(c->log, " acc %.2f%%", 100.0 * correct / seen);
        search_run_print_metrics(c->log, &m);
        fprintf(c->log, " | ETA %s\n", eta);
        fflush(c->log);
    }
    return st;
}

dnas_status search_run_search_phase(run_ctx *c, dnas_error *err) {
    const search_config *cfg = c->cfg;
    search_state s;
    memset(&s, 0, sizeof s);
    train_optim_params wp = train_optim_default_params(), ap = train_optim_default_params();
    wp.kind = ap.kind = TRAIN_OPTIM_ADAM;
    wp.lr = cfg->lr;
    wp.weight_decay = cfg->weight_decay;
    ap.lr = cfg->arch_lr;
    ap.weight_decay = 0;
    train_optim_init(&s.wopt, &wp, c->net->nparams);
    train_optim_init(&s.aopt, &ap, c->arch->nalpha);
    train_sched sched = {.kind = TRAIN_SCHED_CONSTANT, .base_lr = cfg->lr, .gamma = 1};
    dnas_status st = train_stepper_init(&s.ws, c->net, &s.wopt, &sched, cfg->loss, cfg->batch, err);
    if (!st) {
        s.dalpha = dnas_xcalloc(c->arch->nalpha + 1, sizeof *s.dalpha);
        train_batches_init(&s.tb, &c->train, cfg->batch, 1, cfg->seed);
        if (cfg->split == SEARCH_SPLIT_VAL) train_batches_init(&s.vb, &c->val, cfg->batch, 1, cfg->seed + 1);
        long steps = (long)cfg->search * s.tb.nbatches;
        c->ramp_steps = steps / 2 > 0 ? steps / 2 : 1;
        c->arch_steps = 0;
        st = epochs(c, &s, err);
        train_batches_free(&s.tb);
        if (cfg->split == SEARCH_SPLIT_VAL) train_batches_free(&s.vb);
        free(s.dalpha);
        train_stepper_free(&s.ws);
    }
    train_optim_free(&s.wopt);
    train_optim_free(&s.aopt);
    return st;
}
