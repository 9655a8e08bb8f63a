/* Integer networks for the compiler tests: a zoo model (configs/models/)
 * with seeded random weights and BN statistics away from 0 and 1
 * (ntu_perturb), quantized by search_quant_export on the calibration
 * samples given (or on N(0, 1) samples). */
#ifndef DNAS_DEPLOY_TEST_UTIL_H
#define DNAS_DEPLOY_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "net_test_util.h"
#include "search.h"
#include "train.h"

/* configs/models/<name>.yaml in the source tree. */
static __attribute__((unused)) void dtu_model_path(char *buf, size_t len, const char *name) {
    const char *src = getenv("DNAS_SOURCE_DIR");
    snprintf(buf, len, "%s/configs/models/%s.yaml", src ? src : DNAS_SOURCE_DIR, name);
}

/* The network of a model file with seeded, perturbed weights. */
static train_net *dtu_net(const char *path, uint64_t seed) {
    train_net *net;
    dnas_error err;
    if (train_net_load(&net, path, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    ntu_perturb(net, seed);
    return net;
}

/* The qnet of net calibrated on ds (8 bits, 2 batches of 32). */
static __attribute__((unused)) void dtu_export(deploy_qnet *q, train_net *net,
                                               const train_dataset *ds) {
    search_quant_params p = search_quant_default_params();
    p.calib_batches = 2;
    p.batch = 32;
    dnas_error err;
    if (search_quant_export(q, net, ds, &p, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
}

/* count samples of the network's input shape, N(0, 1). */
static __attribute__((unused)) train_dataset dtu_random_data(const train_net *net, int count,
                                                             uint64_t seed) {
    const train_layer *in = &net->layers[0];
    train_dataset ds = {.count = count, .c = in->c, .h = in->h, .w = in->w, .num_classes = 2};
    size_t n = (size_t)count * in->c * in->h * in->w;
    ds.x = malloc(n * sizeof *ds.x);
    ds.y = calloc((size_t)count, sizeof *ds.y);
    for (size_t i = 0; i < n; i++)
        ds.x[i] = train_rng_normal(&seed);
    return ds;
}

/* The zoo model `name` quantized on 64 random samples. */
static __attribute__((unused)) void dtu_zoo_qnet(deploy_qnet *q, const char *name) {
    char path[4200];
    dtu_model_path(path, sizeof path, name);
    train_net *net = dtu_net(path, 7);
    train_dataset ds = dtu_random_data(net, 64, 11);
    dtu_export(q, net, &ds);
    train_dataset_free(&ds);
    train_net_free(net);
}

#endif
