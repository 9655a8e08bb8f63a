#include "trainer.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "optim.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

train_run_opts train_run_default_opts(void) {
    train_run_opts o = {NULL, 0, 0, 0, 0, NULL};
    return o;
}

static dnas_status load_split(const train_data_config *d, int test, train_dataset *ds, dnas_error *err) {
    const char *x = test ? d->test_x : d->train_x;
    const char *y = test ? d->test_y : d->train_y;
    int nfiles = test ? d->ntest_files : d->ntrain_files;
    const char(*files)[TRAIN_PATH_LEN] = test ? d->test_files : d->train_files;
    switch (d->format) {
    case TRAIN_DATA_IDX:
        return train_data_load_idx(ds, x, y[0] ? y : NULL, err);
    case TRAIN_DATA_NPY:
        return train_data_load_npy(ds, x, y[0] ? y : NULL, err);
    case TRAIN_DATA_CSV:
        return train_data_load_csv(ds, files[0], d->label_col, d->header, err);
    case TRAIN_DATA_HDF5: /* without a test file, /test of the train file */
        return train_data_load_hdf5(ds, nfiles ? files[0] : d->train_files[0], test ? "test" : "train", err);
    case TRAIN_DATA_CIFAR10: {
        const char *paths[TRAIN_MAX_FILES];
        for (int i = 0; i < nfiles; i++) paths[i] = files[i];
        return train_data_load_cifar10(ds, paths, nfiles, err);
    }
    }
    return dnas_fail(err, DNAS_ERR_CONFIG, "unknown data format");
}

/* Whether the config names a test split (HDF5: a test file, or a /test
 * group in the train file). */
static dnas_status has_test(const train_data_config *d, int *has, dnas_error *err) {
    *has = d->ntest_files > 0;
    if (d->format == TRAIN_DATA_IDX || d->format == TRAIN_DATA_NPY) *has = d->test_x[0] != 0;
    if (d->format == TRAIN_DATA_HDF5 && !*has)
        return train_data_hdf5_has_split(d->train_files[0], "test", has, err);
    return DNAS_OK;
}

static void truncate_ds(train_dataset *ds, int limit) {
    if (limit > 0 && limit < ds->count) ds->count = limit;
}

dnas_status train_data_prepare(const train_config *cfg, train_dataset *train, train_dataset *val,
                                train_dataset *test, dnas_error *err) {
    const train_data_config *d = &cfg->data;
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    memset(test, 0, sizeof *test);
    int with_test;
    dnas_status st = load_split(d, 0, train, err);
    if (st) return st;
    if ((st = has_test(d, &with_test, err)) || (with_test && (st = load_split(d, 1, test, err)))) goto fail;
    if (d->rows) {
        if ((st = train_data_to_rows(train, err))) goto fail;
        if (test->count && (st = train_data_to_rows(test, err))) goto fail;
    }
    truncate_ds(test, d->limit_test);
    if (d->val_split > 0) {
        if (d->val_split >= train->count) {
            st = dnas_fail(err, DNAS_ERR_CONFIG, "%s: val_split %d leaves no training data (%d samples)",
                            cfg->path, d->val_split, train->count);
            goto fail;
        }
        if ((st = train_data_split(train, val, d->val_split, cfg->seed, err))) goto fail;
    }
    truncate_ds(train, d->limit_train);
    if (d->normalize) {
        float *mean = dnas_xmalloc((size_t)train->c * sizeof(float));
        float *std = dnas_xmalloc((size_t)train->c * sizeof(float));
        train_data_channel_stats(train, mean, std);
        train_data_normalize(train, mean, std);
        if (val->count) train_data_normalize(val, mean, std);
        if (test->count) train_data_normalize(test, mean, std);
        free(mean);
        free(std);
    }
    return DNAS_OK;
fail:
    train_dataset_free(train);
    train_dataset_free(val);
    train_dataset_free(test);
    return st;
}

static void fmt_duration(char *buf, size_t len, double s) {
    if (s < 0 || !isfinite(s)) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
}

dnas_status train_data_check(const train_net *net, const train_dataset *ds, const train_config *cfg,
                             dnas_error *err) {
    const train_layer *in = &net->layers[0];
    if (ds->c != in->c || ds->h != in->h || ds->w != in->w)
        return dnas_fail(err, DNAS_ERR_SHAPE,
                          "%s: data samples are (%d, %d, %d) but model %s expects input [%d, %d, %d]%s",
                          cfg->path, ds->c, ds->h, ds->w, net->path, in->c, in->h, in->w,
                          ds->h > 1 && in->h == 1 ? " (layout: rows gives image rows as a sequence)" : "");
    int k = train_net_output_size(net);
    if (cfg->loss == TRAIN_LOSS_XENT) {
        if (!ds->y)
            return dnas_fail(err, DNAS_ERR_CONFIG, "%s: loss cross_entropy needs labels, the data has none", cfg->path);
        if (ds->num_classes > k)
            return dnas_fail(err, DNAS_ERR_SHAPE, "%s: the data has %d classes but model %s outputs %d values",
                              cfg->path, ds->num_classes, net->path, k);
    } else if ((size_t)k != (size_t)ds->c * ds->h * ds->w) {
        return dnas_fail(err, DNAS_ERR_SHAPE, "%s: loss mse reconstructs the input (%d values) but model %s outputs %d",
                          cfg->path, ds->c * ds->h * ds->w, net->path, k);
    }
    return DNAS_OK;
}

dnas_status train_run(const train_config *cfg, const train_run_opts *opts_in, train_result *res,
                       dnas_error *err) {
    train_run_opts opts = opts_in ? *opts_in : train_run_default_opts();
    FILE *log = opts.log ? opts.log : stderr;
    memset(res, 0, sizeof *res);
    res->val_loss = res->val_acc = res->test_loss = res->test_acc = -1;
    /* the engine splits its own loops (samples, channels) across OpenMP
     * threads; BLAS then runs single-threaded inside each of them */
    omp_set_num_threads(cfg->threads > 0 ? cfg->threads : omp_get_num_procs());
    openblas_set_num_threads(1);

    train_net *net = NULL;
    train_dataset train, val, test;
    dnas_status st = train_net_load(&net, cfg->model, err);
    if (st) return st;
    if ((st = train_data_prepare(cfg, &train, &val, &test, err))) {
        train_net_free(net);
        return st;
    }
    if ((st = train_data_check(net, &train, cfg, err)) ||
        (val.count && (st = train_data_check(net, &val, cfg, err))) ||
        (test.count && (st = train_data_check(net, &test, cfg, err))))
        goto done;
    train_net_init(net, cfg->seed);
    train_batches batches;
    train_batches_init(&batches, &train, cfg->batch, 1, cfg->seed);
    int epochs = opts.epochs > 0 ? opts.epochs : cfg->epochs;
    long steps_per_epoch = batches.nbatches;
    train_sched sched = cfg->sched;
    sched.total_steps = steps_per_epoch * epochs;
    sched.warmup_steps = (long)(cfg->warmup_epochs * (float)steps_per_epoch);
    sched.step_size = (long)(cfg->step_epochs * (float)steps_per_epoch);
    train_optim opt;
    train_optim_init(&opt, &cfg->optim, net->nparams);
    train_stepper ws;
    if ((st = train_stepper_init(&ws, net, &opt, &sched, cfg->loss, cfg->batch, err))) goto done_opt;
    if (opts.profile) train_net_profile(net);
    train_ckpt_meta meta = {0, 0, net->rng, -1};
    if (opts.resume) {
        if ((st = train_ckpt_load(opts.resume, net, &opt, &meta, err))) goto done_step;
        net->rng = meta.rng;
        if (!opts.quiet)
            fprintf(log, "resuming from %s after epoch %d (step %ld)\n", opts.resume, meta.epoch, meta.step);
    }
    ws.step = meta.step;

    double t_train = 0;
    long samples_done = 0;
    int log_every = cfg->log_every > 0 ? (int)((steps_per_epoch + cfg->log_every - 1) / cfg->log_every) : 0;

    int last = opts.stop_after > 0 && opts.stop_after < epochs ? opts.stop_after : epochs;
    for (int epoch = meta.epoch; epoch < last; epoch++) {
        train_batches_epoch(&batches, epoch);
        double t0 = now_s(), loss_sum = 0;
        long correct = 0, seen = 0;
        for (long b = 0; train_batches_next(&batches); b++) {
            train_step_stats bs;
            if ((st = train_step(&ws, batches.x, batches.y, batches.n, &bs, err))) {
                char why[DNAS_ERROR_LEN], kept[TRAIN_PATH_LEN + 64] = "";
                snprintf(why, sizeof why, "%s", err->msg);
                if (cfg->checkpoint[0] && epoch > 0)
                    snprintf(kept, sizeof kept, "; the last good checkpoint is %s (epoch %d)",
                             cfg->checkpoint, epoch);
                st = dnas_fail(err, st, "epoch %d, batch %ld: %s; stopped%s", epoch + 1, b + 1,
                               why, kept);
                goto done_step;
            }
            loss_sum += (double)bs.loss * bs.n;
            correct += bs.correct;
            seen += bs.n;
            if (!opts.quiet && log_every && ((b + 1) % log_every == 0) && b + 1 < steps_per_epoch) {
                double el = now_s() - t0;
                double rate = seen / el;
                double left = (double)(train.count - seen) / rate +
                              (double)(epochs - epoch - 1) * train.count / rate;
                char eta[32];
                fmt_duration(eta, sizeof eta, left);
                fprintf(log, "epoch %d/%d [%3d%%] loss %.4f", epoch + 1, epochs,
                        (int)(100 * (b + 1) / steps_per_epoch), loss_sum / seen);
                if (cfg->loss == TRAIN_LOSS_XENT) fprintf(log, " acc %.2f%%", 100.0 * correct / seen);
                fprintf(log, " %.0f samples/s ETA %s\n", rate, eta);
                fflush(log);
            }
        }
        double el = now_s() - t0;
        t_train += el;
        samples_done += seen;
        res->train_loss = (float)(loss_sum / seen);
        if ((val.count && (st = train_evaluate(net, &val, cfg->batch, cfg->loss, &res->val_loss,
                                                &res->val_acc, err))) ||
            (test.count && (st = train_evaluate(net, &test, cfg->batch, cfg->loss, &res->test_loss,
                                                 &res->test_acc, err))))
            goto done_step;
        res->epochs_done = epoch + 1;
        if (!opts.quiet) {
            fprintf(log, "epoch %d/%d done in %.1fs: train loss %.4f", epoch + 1, epochs, el, res->train_loss);
            if (cfg->loss == TRAIN_LOSS_XENT) fprintf(log, " acc %.2f%%", 100.0 * correct / seen);
            if (val.count) {
                fprintf(log, " | val loss %.4f", res->val_loss);
                if (res->val_acc >= 0) fprintf(log, " acc %.2f%%", 100.0 * res->val_acc);
            }
            if (test.count) {
                fprintf(log, " | test loss %.4f", res->test_loss);
                if (res->test_acc >= 0) fprintf(log, " acc %.2f%%", 100.0 * res->test_acc);
            }
            fprintf(log, " | %.0f samples/s\n", seen / el);
            fflush(log);
        }
        if (cfg->checkpoint[0]) {
            meta.epoch = epoch + 1;
            meta.step = ws.step;
            meta.rng = net->rng;
            meta.test_acc = res->test_acc;
            if ((st = train_ckpt_save(cfg->checkpoint, net, &opt, &meta, cfg->text, err))) goto done_step;
        }
    }
    if (res->epochs_done == 0) {
        /* nothing left to train (resumed a finished run): still report */
        res->epochs_done = meta.epoch;
        if (test.count &&
            (st = train_evaluate(net, &test, cfg->batch, cfg->loss, &res->test_loss, &res->test_acc, err)))
            goto done_step;
    }
    if (opts.profile) train_net_profile_print(net, log);
    res->seconds = t_train;
    res->samples_per_s = t_train > 0 ? samples_done / t_train : 0;
done_step:
    train_stepper_free(&ws);
done_opt:
    train_optim_free(&opt);
    train_batches_free(&batches);
done:
    train_dataset_free(&train);
    train_dataset_free(&val);
    train_dataset_free(&test);
    train_net_free(net);
    return st;
}
