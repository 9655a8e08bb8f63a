/* The warmup phase of a run, and the checkpoint a campaign shares it
 * through (search_run_opts.warmup_ckpt): the seed's weights and BN state
 * after `warmup` epochs (train_ckpt_save; epoch = warmup, rng the
 * network's) and, as the extra tensor "warmup/metrics", the warmup's
 * {val loss, val acc, test loss, test acc, last task loss}. A run that
 * loads it continues exactly as if it had trained the warmup itself: batch
 * orders are a function of (seed, global epoch), which moves on by
 * `warmup`, and the search's optimizers start fresh either way. */
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "run_internal.h"

#define WARMUP_EXTRA "warmup/metrics"

static dnas_status load(run_ctx *c, const char *path, float *loss, dnas_error *err) {
    const search_config *cfg = c->cfg;
    search_result *res = c->res;
    float m[5];
    train_ckpt_tensor t = {WARMUP_EXTRA, m, 5};
    train_ckpt_meta meta;
    dnas_status st = train_ckpt_load_extra(path, c->net, NULL, &meta, &t, 1, err);
    if (st) return st;
    if (meta.epoch != cfg->warmup)
        return dnas_fail(err, DNAS_ERR_INVALID, "%s: a warmup of %d epochs, the config asks for %d", path,
                         meta.epoch, cfg->warmup);
    c->net->rng = meta.rng;
    res->warmup.val_loss = m[0], res->warmup.val_acc = m[1];
    res->warmup.test_loss = m[2], res->warmup.test_acc = m[3];
    *loss = res->task_loss_warmup = m[4];
    c->epoch += cfg->warmup;
    c->samples_all -= (long)c->train.count * cfg->warmup;
    if (c->log) {
        fprintf(c->log, "warmup %d/%d loaded from %s: loss %.4f", cfg->warmup, cfg->warmup, path, *loss);
        search_run_print_metrics(c->log, &res->warmup);
        fputc('\n', c->log);
        fflush(c->log);
    }
    return DNAS_OK;
}

static dnas_status save(run_ctx *c, const char *path, dnas_error *err) {
    const search_result *res = c->res;
    float m[5] = {res->warmup.val_loss, res->warmup.val_acc, res->warmup.test_loss, res->warmup.test_acc,
                  res->task_loss_warmup};
    train_ckpt_tensor t = {WARMUP_EXTRA, m, 5};
    train_ckpt_meta meta = {c->cfg->warmup, 0, c->net->rng, res->warmup.test_acc};
    return train_ckpt_save_extra(path, c->net, NULL, &meta, c->cfg->text, &t, 1, err);
}

dnas_status search_run_warmup(run_ctx *c, const char *ckpt, float *loss, dnas_error *err) {
    const search_config *cfg = c->cfg;
    struct stat sb;
    if (ckpt && stat(ckpt, &sb) == 0) return load(c, ckpt, loss, err);
    float acc;
    dnas_status st = search_run_plain(c, c->net, "warmup", cfg->warmup, loss, err);
    if (st || (cfg->warmup == 0 && (st = train_evaluate(c->net, &c->train, cfg->batch, cfg->loss, loss, &acc, err))))
        return st;
    c->res->task_loss_warmup = *loss;
    if ((st = search_run_evaluate(c, c->net, &c->res->warmup, err))) return st;
    return ckpt ? save(c, ckpt, err) : DNAS_OK;
}
