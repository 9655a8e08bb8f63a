/* The model zoo (every YAML under configs/models/): every model loads, has
 * the expected input and output shape, and counts exactly the weights /
 * biases / BN parameters / MACs stated in its header comment (docs/models.md
 * rules: weights exclude biases, MACs = weights x output pixels).
 *
 * Each is also written back as YAML (train_net_write_yaml) and reloaded:
 * the same network.
 *
 * The MLPerf Tiny figures (dscnn, resnet8) and the benchmark variants
 * (resnet8_fmnist, tcn_fmnist) are the published figures; the others were
 * computed by hand from the YAMLs. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* opendir */
#endif
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net.h"
#include "common.h"
#include "net_test_util.h"

typedef struct {
    const char *name;          /* file stem under configs/models/ */
    int in_c, in_h, in_w;      /* input shape */
    int outputs;               /* classes (values per sample of the output) */
    int64_t weights, biases, bn, macs;
} zoo_model;

static const zoo_model ZOO[] = {
    /* MLPerf Tiny reference networks */
    {"dscnn", 1, 49, 10, 12, 22016, 12, 1152, 2656768},
    {"resnet8", 3, 32, 32, 10, 77360, 10, 672, 12501632},
    {"mobilenetv1_025", 3, 96, 96, 2, 208112, 2, 5472, 7489664},
    {"fc_autoencoder", 1, 1, 640, 640, 264192, 1672, 2064, 264192},
    {"tcn", 1, 1, 128, 10, 77008, 10, 672, 3353216},
    /* Fashion-MNIST variants (bench/torch_train.py defines the first two) */
    {"resnet8_fmnist", 1, 28, 28, 10, 77072, 10, 672, 9345920},
    {"tcn_fmnist", 28, 1, 28, 10, 73216, 10, 384, 1258624},
    {"dscnn_fmnist", 1, 28, 28, 10, 20928, 10, 1152, 3977088},
    {"mobilenetv1_025_fmnist", 1, 28, 28, 10, 210016, 10, 5472, 2895136},
    /* SuperNet: tcn_fmnist with kernel / dilation / skip choice blocks (every branch counted) */
    {"tcn_supernet_fmnist", 28, 1, 28, 10, 137728, 10, 1152, 2376832},
};
#define NZOO ((int)(sizeof ZOO / sizeof ZOO[0]))

static const char *source_dir(void) {
    const char *s = getenv("DNAS_SOURCE_DIR");
    if (s && *s) return s;
#ifdef DNAS_SOURCE_DIR
    return DNAS_SOURCE_DIR;
#else
    return ".";
#endif
}

static void model_path(char *buf, size_t len, const char *name) {
    int n = snprintf(buf, len, "%s/configs/models/%s.yaml", source_dir(), name);
    assert_true(n > 0 && (size_t)n < len);
}

static const zoo_model *find_model(const char *name) {
    for (int i = 0; i < NZOO; i++)
        if (strcmp(ZOO[i].name, name) == 0) return &ZOO[i];
    return NULL;
}

static train_net *load_model(const char *name) {
    char path[1024];
    model_path(path, sizeof path, name);
    train_net *net = NULL;
    dnas_error err;
    memset(&err, 0, sizeof err);
    dnas_status st = train_net_load(&net, path, &err);
    if (st != DNAS_OK) fprintf(stderr, "%s: %s (%s)\n", path, err.msg, dnas_status_name(st));
    assert_int_equal(st, DNAS_OK);
    assert_non_null(net);
    return net;
}

/* Loads the model named in *state and checks shapes and every count. */
static void test_model(void **state) {
    const zoo_model *m = (const zoo_model *)*state;
    train_net *net = load_model(m->name);

    assert_true(net->nlayers > 1);
    assert_int_equal(net->layers[0].op, TRAIN_OP_INPUT);
    assert_int_equal(net->layers[0].c, m->in_c);
    assert_int_equal(net->layers[0].h, m->in_h);
    assert_int_equal(net->layers[0].w, m->in_w);
    assert_int_equal(net->output, net->nlayers - 1);
    assert_int_equal(train_net_output_size(net), m->outputs);

    train_counts t = train_net_total_counts(net);
    if (t.weights != m->weights || t.macs != m->macs || t.biases != m->biases || t.bn != m->bn)
        fprintf(stderr,
                "%s: weights %lld (want %lld) biases %lld (want %lld) bn %lld (want %lld) "
                "macs %lld (want %lld)\n",
                m->name, (long long)t.weights, (long long)m->weights, (long long)t.biases,
                (long long)m->biases, (long long)t.bn, (long long)m->bn, (long long)t.macs,
                (long long)m->macs);
    assert_int_equal(t.weights, m->weights);
    assert_int_equal(t.macs, m->macs);
    assert_int_equal(t.biases, m->biases);
    assert_int_equal(t.bn, m->bn);

    /* Per-layer counts add up to the totals. */
    train_counts sum = {0, 0, 0, 0};
    for (int i = 0; i < net->nlayers; i++) {
        train_counts c = train_net_layer_counts(net, i);
        sum.weights += c.weights;
        sum.biases += c.biases;
        sum.bn += c.bn;
        sum.macs += c.macs;
    }
    assert_int_equal(sum.weights, t.weights);
    assert_int_equal(sum.biases, t.biases);
    assert_int_equal(sum.bn, t.bn);
    assert_int_equal(sum.macs, t.macs);

    /* Trainable parameters: weights + biases + BN gamma/beta. */
    assert_int_equal((int64_t)net->nparams, t.weights + t.biases + t.bn);

    /* Written as a model file and loaded back: the same network (layers,
     * shapes, counts, parameter layout). */
    train_net_free(write_and_reload(net));
    train_net_free(net);
}

/* Spot checks of inferred shapes that the totals alone would not pin down. */
static void expect_shape(const train_net *net, const char *layer, int c, int h, int w) {
    int i = train_net_find(net, layer);
    if (i < 0) fprintf(stderr, "%s: no layer '%s'\n", net->name, layer);
    assert_true(i > 0);
    assert_int_equal(net->layers[i].c, c);
    assert_int_equal(net->layers[i].h, h);
    assert_int_equal(net->layers[i].w, w);
}

static void test_shapes(void **state) {
    (void)state;
    train_net *net = load_model("dscnn");
    expect_shape(net, "conv1", 64, 25, 5);
    expect_shape(net, "pw4", 64, 25, 5);
    train_net_free(net);

    net = load_model("resnet8");
    expect_shape(net, "s1_relu", 16, 32, 32);
    expect_shape(net, "s2_short", 32, 16, 16);
    expect_shape(net, "s3_relu", 64, 8, 8);
    train_net_free(net);

    net = load_model("resnet8_fmnist");
    expect_shape(net, "s1_relu", 16, 28, 28);
    expect_shape(net, "s2_relu", 32, 14, 14);
    expect_shape(net, "s3_short", 64, 7, 7);
    expect_shape(net, "s3_relu", 64, 7, 7);
    train_net_free(net);

    net = load_model("tcn_fmnist");
    expect_shape(net, "conv2", 32, 1, 28);
    expect_shape(net, "conv3", 64, 1, 14);
    expect_shape(net, "conv4", 64, 1, 14);
    train_net_free(net);

    net = load_model("mobilenetv1_025");
    expect_shape(net, "conv1", 8, 48, 48);
    expect_shape(net, "pw13", 256, 3, 3);
    train_net_free(net);

    net = load_model("tcn");
    expect_shape(net, "b1_relu", 16, 1, 128);
    expect_shape(net, "b2_relu", 32, 1, 64);
    expect_shape(net, "b3_relu", 64, 1, 32);
    train_net_free(net);

    net = load_model("fc_autoencoder");
    expect_shape(net, "bottleneck", 8, 1, 1);
    train_net_free(net);
}

/* Every .yaml file under configs/models/ is covered by the table above. */
static void test_zoo_complete(void **state) {
    (void)state;
    char dir[1024];
    int n = snprintf(dir, sizeof dir, "%s/configs/models", source_dir());
    assert_true(n > 0 && (size_t)n < sizeof dir);
    DIR *d = opendir(dir);
    if (!d) fprintf(stderr, "cannot open %s\n", dir);
    assert_non_null(d);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        char stem[256];
        assert_true(len - 5 < sizeof stem);
        memcpy(stem, e->d_name, len - 5);
        stem[len - 5] = '\0';
        if (!find_model(stem)) fprintf(stderr, "%s/%s is not in the zoo table\n", dir, e->d_name);
        assert_non_null(find_model(stem));
        found++;
    }
    closedir(d);
    assert_int_equal(found, NZOO);
}

int main(void) {
    struct CMUnitTest tests[NZOO + 2];
    for (int i = 0; i < NZOO; i++) {
        struct CMUnitTest t = {ZOO[i].name, test_model, NULL, NULL, (void *)&ZOO[i]};
        tests[i] = t;
    }
    struct CMUnitTest shapes = cmocka_unit_test(test_shapes);
    struct CMUnitTest complete = cmocka_unit_test(test_zoo_complete);
    tests[NZOO] = shapes;
    tests[NZOO + 1] = complete;
    return _cmocka_run_group_tests("zoo", tests, NZOO + 2, NULL, NULL);
}
