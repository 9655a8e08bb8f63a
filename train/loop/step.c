/* One optimizer step in pieces (trainer.h), and evaluation, which shares
 * the loss. The order inside a step (forward, loss, NaN check, zero grads,
 * backward, update at the schedule's lr, step + 1) is the one checkpoints
 * of `dnas train` were written with: a resumed run repeats it bit for bit. */
#include "trainer.h"

#include <math.h>
#include <string.h>

/* Loss of one batch; fills dout (n, k) when non-NULL. MSE regresses the
 * input x (n, k values each). */
static float batch_loss(float *dout, int *correct, const float *out, const float *x,
                        const int32_t *y, int n, int k, train_loss_kind loss) {
    if (loss == TRAIN_LOSS_MSE) {
        if (correct) *correct = 0;
        return train_mse(dout, out, x, (size_t)n * k);
    }
    return train_softmax_xent(dout, correct, out, y, n, k);
}

dnas_status train_stepper_init(train_stepper *s, train_net *net, train_optim *opt,
                               const train_sched *sched, train_loss_kind loss, int max_batch,
                               dnas_error *err) {
    DNAS_ASSERT(max_batch > 0 && opt->n == net->nparams);
    memset(s, 0, sizeof *s);
    dnas_status st = train_net_reserve(net, max_batch, err);
    if (st) return st;
    s->net = net;
    s->opt = opt;
    s->sched = *sched;
    s->loss = loss;
    s->max_batch = max_batch;
    s->dlogits = dnas_xmalloc((size_t)max_batch * train_net_output_size(net) * sizeof(float));
    return DNAS_OK;
}

void train_stepper_free(train_stepper *s) {
    free(s->dlogits);
    memset(s, 0, sizeof *s);
}

float train_stepper_lr(const train_stepper *s) {
    return train_sched_lr(&s->sched, s->step);
}

dnas_status train_step_grads(train_stepper *s, const float *x, const int32_t *y, int n,
                             train_step_stats *stats, dnas_error *err) {
    DNAS_ASSERT(n > 0 && n <= s->max_batch);
    DNAS_ASSERT(s->loss == TRAIN_LOSS_MSE || y);
    train_net *net = s->net;
    const float *out = train_net_forward(net, x, n, 1);
    int correct = 0;
    float loss = batch_loss(s->dlogits, &correct, out, x, y, n, train_net_output_size(net), s->loss);
    if (stats) {
        stats->n = n;
        stats->loss = loss;
        stats->correct = correct;
    }
    if (!isfinite(loss))
        return dnas_fail(err, DNAS_ERR_NAN,
                         "the loss is %s (learning rate %g too high, or bad data?)",
                         isnan(loss) ? "NaN" : "infinite", (double)train_stepper_lr(s));
    memset(net->grads, 0, net->nparams * sizeof(float));
    train_net_backward(net, s->dlogits, n);
    return DNAS_OK;
}

void train_step_update(train_stepper *s) {
    train_optim_step(s->opt, s->net->params, s->net->grads, train_stepper_lr(s));
    s->step++;
}

dnas_status train_step(train_stepper *s, const float *x, const int32_t *y, int n,
                       train_step_stats *stats, dnas_error *err) {
    dnas_status st = train_step_grads(s, x, y, n, stats, err);
    if (!st) train_step_update(s);
    return st;
}

dnas_status train_evaluate(train_net *net, const train_dataset *ds, int batch, train_loss_kind loss,
                           float *mean_loss, float *acc, dnas_error *err) {
    int k = train_net_output_size(net);
    double total = 0;
    long correct = 0;
    dnas_status st = train_net_reserve(net, batch, err);
    if (st) return st;
    /* evaluation is not part of the training profile */
    double *pf = net->prof_fwd, *pb = net->prof_bwd;
    net->prof_fwd = net->prof_bwd = NULL;
    train_batches it;
    train_batches_init(&it, ds, batch, 0, 0);
    while (train_batches_next(&it)) {
        const float *out = train_net_forward(net, it.x, it.n, 0);
        int c = 0;
        total += (double)batch_loss(NULL, &c, out, it.x, it.y, it.n, k, loss) * it.n;
        correct += c;
    }
    train_batches_free(&it);
    net->prof_fwd = pf;
    net->prof_bwd = pb;
    *mean_loss = ds->count ? (float)(total / ds->count) : 0.0f;
    *acc = loss == TRAIN_LOSS_MSE ? -1.0f : ds->count ? (float)correct / (float)ds->count : 0.0f;
    return DNAS_OK;
}
