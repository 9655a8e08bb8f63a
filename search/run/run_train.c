/* Plain training phases of a run (warmup on the seed network, fine-tuning
 * of the exported one), evaluation, and the progress helpers. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "run_internal.h"

double search_run_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void search_run_fmt_eta(char *buf, size_t len, double s) {
    if (!(s >= 0) || !isfinite(s)) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
}

double search_run_eta(const run_ctx *c) {
    double el = search_run_now() - c->t0;
    if (c->samples_done <= 0) return 0;
    return el / (double)c->samples_done * (double)(c->samples_all - c->samples_done);
}

dnas_status search_run_evaluate(run_ctx *c, train_net *net, search_metrics *m, dnas_error *err) {
    dnas_status st;
    m->val_loss = m->val_acc = m->test_loss = m->test_acc = -1;
    if (c->val.count &&
        (st = train_evaluate(net, &c->val, c->cfg->batch, c->cfg->loss, &m->val_loss, &m->val_acc, err)))
        return st;
    if (c->test.count &&
        (st = train_evaluate(net, &c->test, c->cfg->batch, c->cfg->loss, &m->test_loss, &m->test_acc, err)))
        return st;
    return DNAS_OK;
}

void search_run_print_metrics(FILE *f, const search_metrics *m) {
    if (m->val_loss >= 0) {
        fprintf(f, " | val loss %.4f", m->val_loss);
        if (m->val_acc >= 0) fprintf(f, " acc %.2f%%", 100.0 * m->val_acc);
    }
    if (m->test_loss >= 0) {
        fprintf(f, " | test loss %.4f", m->test_loss);
        if (m->test_acc >= 0) fprintf(f, " acc %.2f%%", 100.0 * m->test_acc);
    }
}

dnas_status search_run_plain(run_ctx *c, train_net *net, const char *phase, int epochs, float *last_loss,
                      dnas_error *err) {
    const search_config *cfg = c->cfg;
    train_optim_params op = train_optim_default_params();
    op.kind = TRAIN_OPTIM_ADAM;
    op.lr = cfg->lr;
    op.weight_decay = cfg->weight_decay;
    train_optim opt;
    train_optim_init(&opt, &op, net->nparams);
    train_sched sched = {.kind = TRAIN_SCHED_CONSTANT, .base_lr = cfg->lr, .gamma = 1};
    train_stepper ws;
    train_batches tb;
    dnas_status st = train_stepper_init(&ws, net, &opt, &sched, cfg->loss, cfg->batch, err);
    if (st) {
        train_optim_free(&opt);
        return st;
    }
    train_batches_init(&tb, &c->train, cfg->batch, 1, cfg->seed);
    int log_every = cfg->log_every > 0 ? (int)((tb.nbatches + cfg->log_every - 1) / cfg->log_every) : 0;
    for (int e = 0; e < epochs; e++, c->epoch++) {
        train_batches_epoch(&tb, c->epoch);
        double t0 = search_run_now(), sum = 0;
        long correct = 0, seen = 0;
        for (long b = 0; train_batches_next(&tb); b++) {
            train_step_stats bs;
            if ((st = train_step(&ws, tb.x, tb.y, tb.n, &bs, err))) {
                char why[DNAS_ERROR_LEN];
                snprintf(why, sizeof why, "%s", err->msg);
                st = dnas_fail(err, st, "%s epoch %d, batch %ld: %s", phase, e + 1, b + 1, why);
                goto done;
            }
            sum += (double)bs.loss * bs.n;
            correct += bs.correct;
            seen += bs.n;
            c->samples_done += bs.n;
            if (c->log && log_every && (b + 1) % log_every == 0 && b + 1 < tb.nbatches) {
                char eta[32];
                search_run_fmt_eta(eta, sizeof eta, search_run_eta(c));
                fprintf(c->log, "%s %d/%d [%3d%%] loss %.4f", phase, e + 1, epochs,
                        (int)(100 * (b + 1) / tb.nbatches), sum / seen);
                if (cfg->loss == TRAIN_LOSS_XENT) fprintf(c->log, " acc %.2f%%", 100.0 * correct / seen);
                fprintf(c->log, " ETA %s\n", eta);
                fflush(c->log);
            }
        }
        *last_loss = (float)(sum / seen);
        if (c->log) {
            double dt = search_run_now() - t0; /* training only: evaluation after */
            search_metrics m;
            if ((st = search_run_evaluate(c, net, &m, err))) goto done;
            char eta[32];
            search_run_fmt_eta(eta, sizeof eta, search_run_eta(c));
            fprintf(c->log, "%s %d/%d done in %.2fs: loss %.4f", phase, e + 1, epochs, dt, *last_loss);
            if (cfg->loss == TRAIN_LOSS_XENT) fprintf(c->log, " acc %.2f%%", 100.0 * correct / seen);
            search_run_print_metrics(c->log, &m);
            fprintf(c->log, " | ETA %s\n", eta);
            fflush(c->log);
        }
    }
done:
    train_batches_free(&tb);
    train_stepper_free(&ws);
    train_optim_free(&opt);
    return st;
}
