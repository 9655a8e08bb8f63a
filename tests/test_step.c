/* The training loop's parts (trainer.h): the batch iterator (every sample
 * once per epoch, the order a function of seed and epoch only, in-order
 * batches as views), and the step pieces (train_step = grads + update, the
 * same arithmetic as the loop written out by hand, a gradient added between
 * them reaches the update, a NaN loss stops before anything changes). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train.h"

/* count samples of 3 values: x[i] = (i, 10 i, 100 i), y[i] = i % 3. */
static train_dataset make_ds(int count, int labels) {
    train_dataset ds = {count, 1, 1, 3, NULL, NULL, labels ? 3 : 0};
    ds.x = malloc((size_t)count * 3 * sizeof(float));
    if (labels) ds.y = malloc((size_t)count * sizeof(int32_t));
    for (int i = 0; i < count; i++) {
        for (int j = 0; j < 3; j++)
            ds.x[i * 3 + j] = (float)i * powf(10.0f, (float)j);
        if (labels) ds.y[i] = i % 3;
    }
    return ds;
}

/* Sample indices of one epoch's batches, in order; checks each batch's
 * size, its labels against its samples, and returns the batch count. */
static int epoch_order(train_batches *it, int epoch, int *order) {
    train_batches_epoch(it, epoch);
    int nb = 0, seen = 0;
    while (train_batches_next(it)) {
        int want = it->ds->count - seen < it->batch ? it->ds->count - seen : it->batch;
        assert_int_equal(it->n, want);
        for (int i = 0; i < it->n; i++) {
            int s = (int)it->x[i * 3];
            assert_true(it->x[i * 3 + 2] == 100.0f * (float)s);
            if (it->ds->y) assert_int_equal(it->y[i], s % 3);
            order[seen++] = s;
        }
        nb++;
    }
    assert_int_equal(it->n, 0);
    assert_int_equal(train_batches_next(it), 0); /* stays done */
    assert_int_equal(seen, it->ds->count);
    return nb;
}

static void test_batches_shuffled(void **state) {
    (void)state;
    train_dataset ds = make_ds(10, 1);
    train_batches a, b;
    train_batches_init(&a, &ds, 4, 1, 42);
    train_batches_init(&b, &ds, 4, 1, 42);
    assert_int_equal(a.nbatches, 3);
    int e0[10], e1[10], again[10], direct[10];
    assert_int_equal(epoch_order(&a, 0, e0), 3); /* 4 + 4 + 2 */
    assert_int_equal(epoch_order(&a, 1, e1), 3);
    /* each epoch a permutation; epochs differ */
    for (int e = 0; e < 2; e++) {
        int hit[10] = {0};
        for (int i = 0; i < 10; i++) hit[(e ? e1 : e0)[i]]++;
        for (int i = 0; i < 10; i++) assert_int_equal(hit[i], 1);
    }
    assert_memory_not_equal(e0, e1, sizeof e0);
    /* the order of epoch 1 without having run epoch 0 (a resumed run), and
     * epoch 0 again after epoch 1: the same */
    epoch_order(&b, 1, direct);
    assert_memory_equal(direct, e1, sizeof e1);
    epoch_order(&a, 0, again);
    assert_memory_equal(again, e0, sizeof e0);
    /* another seed, another order; the order is not the identity */
    train_batches c;
    train_batches_init(&c, &ds, 4, 1, 43);
    epoch_order(&c, 0, again);
    assert_memory_not_equal(again, e0, sizeof e0);
    int ident = 1;
    for (int i = 0; i < 10; i++) ident &= e0[i] == i;
    assert_false(ident);
    /* a fresh iterator is at epoch 0 without train_batches_epoch */
    train_batches d;
    train_batches_init(&d, &ds, 4, 1, 42);
    assert_int_equal(train_batches_next(&d), 4);
    for (int i = 0; i < 4; i++) assert_int_equal((int)d.x[i * 3], e0[i]);
    train_batches_free(&a), train_batches_free(&b), train_batches_free(&c), train_batches_free(&d);
    train_dataset_free(&ds);
}

static void test_batches_in_order(void **state) {
    (void)state;
    train_dataset ds = make_ds(7, 0);
    train_batches it;
    train_batches_init(&it, &ds, 3, 0, 0);
    int order[7];
    assert_int_equal(epoch_order(&it, 5, order), 3); /* 3 + 3 + 1 */
    for (int i = 0; i < 7; i++) assert_int_equal(order[i], i);
    /* views into the dataset, no labels */
    train_batches_epoch(&it, 0);
    train_batches_next(&it);
    train_batches_next(&it);
    assert_ptr_equal(it.x, ds.x + 9);
    assert_null(it.y);
    assert_null(it.xbuf);
    train_batches_free(&it);
    /* a batch larger than the dataset: one short batch */
    train_batches_init(&it, &ds, 64, 1, 1);
    assert_int_equal(it.nbatches, 1);
    assert_int_equal(train_batches_next(&it), 7);
    assert_null(it.y);
    assert_int_equal(train_batches_next(&it), 0);
    train_batches_free(&it);
    train_dataset_free(&ds);
}

static train_net *tiny_net(uint64_t seed) {
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net,
                              "input: [1, 1, 3]\nlayers:\n"
                              "  - {name: fc1, op: linear, out: 5}\n"
                              "  - {name: bn, op: batchnorm}\n"
                              "  - {name: r, op: relu}\n"
                              "  - {name: fc2, op: linear, out: 3}\n",
                              "tiny.yaml", &err))
        fail_msg("%s", err.msg);
    train_net_init(net, seed);
    return net;
}

/* A network, its optimizer and a stepper (SGD with momentum 0 unless adam;
 * a cosine schedule with warmup, so the lr changes every step). */
typedef struct {
    train_net *net;
    train_optim opt;
    train_stepper s;
} rig;

static void rig_init(rig *r, int adam) {
    r->net = tiny_net(11);
    train_optim_params p = train_optim_default_params();
    if (!adam) {
        p.kind = TRAIN_OPTIM_SGD;
        p.momentum = 0;
        p.lr = 0.1f;
    }
    train_optim_init(&r->opt, &p, r->net->nparams);
    train_sched sched = {TRAIN_SCHED_COSINE, p.lr, 20, 1e-4f, 0, 0, 3};
    dnas_error err;
    if (train_stepper_init(&r->s, r->net, &r->opt, &sched, TRAIN_LOSS_XENT, 4, &err))
        fail_msg("%s", err.msg);
}

static void rig_free(rig *r) {
    train_stepper_free(&r->s);
    train_optim_free(&r->opt);
    train_net_free(r->net);
}

/* train_step is train_step_grads + train_step_update, and both are the
 * loop's arithmetic written out: forward, cross-entropy, zeroed grads,
 * backward, the optimizer at the schedule's lr of this step. */
static void test_step_pieces(void **state) {
    (void)state;
    train_dataset ds = make_ds(10, 1);
    for (int i = 0; i < 30; i++) ds.x[i] = sinf((float)i); /* well-scaled inputs */
    rig a, b, c;
    rig_init(&a, 1), rig_init(&b, 1), rig_init(&c, 1);
    float *dl = malloc(4 * 3 * sizeof(float));
    dnas_error err;
    train_batches it;
    train_batches_init(&it, &ds, 4, 1, 3);
    for (int epoch = 0; epoch < 2; epoch++) {
        train_batches_epoch(&it, epoch);
        while (train_batches_next(&it)) {
            train_step_stats sa, sb;
            if (train_step(&a.s, it.x, it.y, it.n, &sa, &err)) fail_msg("%s", err.msg);
            if (train_step_grads(&b.s, it.x, it.y, it.n, &sb, &err)) fail_msg("%s", err.msg);
            train_step_update(&b.s);
            /* by hand */
            int correct;
            const float *out = train_net_forward(c.net, it.x, it.n, 1);
            float loss = train_softmax_xent(dl, &correct, out, it.y, it.n, 3);
            memset(c.net->grads, 0, c.net->nparams * sizeof(float));
            train_net_backward(c.net, dl, it.n);
            train_optim_step(&c.opt, c.net->params, c.net->grads, train_sched_lr(&c.s.sched, c.s.step));
            c.s.step++;
            assert_int_equal(sa.n, it.n);
            assert_true(sa.loss == loss && sb.loss == loss);
            assert_int_equal(sa.correct, correct);
            assert_memory_equal(a.net->params, c.net->params, c.net->nparams * sizeof(float));
            assert_memory_equal(b.net->params, c.net->params, c.net->nparams * sizeof(float));
            assert_memory_equal(b.net->state, c.net->state, c.net->nstate * sizeof(float));
        }
    }
    assert_int_equal(a.s.step, 6);
    assert_int_equal(b.s.step, 6);
    assert_int_equal(a.opt.t, 6);
    /* the lr follows the step: warmup (3 steps), then cosine */
    assert_true(train_stepper_lr(&a.s) == train_sched_lr(&a.s.sched, 6));
    a.s.step = 1;
    assert_true(train_stepper_lr(&a.s) == 2 * 1e-3f / 3);
    free(dl);
    train_batches_free(&it);
    rig_free(&a), rig_free(&b), rig_free(&c);
    train_dataset_free(&ds);
}

/* What a caller adds to net->grads between the pieces is in the update:
 * with plain SGD (no momentum), w' = w - lr (g + extra). train_step_grads alone leaves
 * the parameters as they were. */
static void test_step_added_gradient(void **state) {
    (void)state;
    train_dataset ds = make_ds(4, 1);
    for (int i = 0; i < 12; i++) ds.x[i] = cosf((float)i);
    rig a;
    rig_init(&a, 0);
    size_t n = a.net->nparams;
    float *w0 = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float));
    memcpy(w0, a.net->params, n * sizeof(float));
    dnas_error err;
    if (train_step_grads(&a.s, ds.x, ds.y, 4, NULL, &err)) fail_msg("%s", err.msg);
    assert_memory_equal(a.net->params, w0, n * sizeof(float));
    int nonzero = 0;
    for (size_t i = 0; i < n; i++) nonzero += a.net->grads[i] != 0;
    assert_true(nonzero > (int)n / 2);
    for (size_t i = 0; i < n; i++) {
        a.net->grads[i] += 0.5f * (float)(i % 3); /* e.g. a regularizer's gradient */
        g[i] = a.net->grads[i];
    }
    float lr = train_stepper_lr(&a.s);
    train_step_update(&a.s);
    for (size_t i = 0; i < n; i++) /* within rounding: the update may be a fused multiply-add */
        assert_float_equal(a.net->params[i], w0[i] - lr * g[i], 1e-6 * (1 + fabsf(w0[i])));
    /* grads are zeroed by the next step, not accumulated */
    memcpy(w0, a.net->grads, n * sizeof(float));
    if (train_step_grads(&a.s, ds.x, ds.y, 4, NULL, &err)) fail_msg("%s", err.msg);
    int changed = 0;
    for (size_t i = 0; i < n; i++) changed += a.net->grads[i] != w0[i];
    assert_true(changed > (int)n / 2);
    free(w0), free(g);
    rig_free(&a);
    train_dataset_free(&ds);
}

/* A NaN output bias gives a NaN loss (a NaN input would not: the ReLU
 * maps it to 0): DNAS_ERR_NAN with a message, nothing changed (params,
 * grads, optimizer, step). */
static void test_step_nan(void **state) {
    (void)state;
    train_dataset ds = make_ds(4, 1);
    rig a;
    rig_init(&a, 1);
    size_t n = a.net->nparams;
    a.net->params[a.net->layers[train_net_find(a.net, "fc2")].b_off + 1] = NAN;
    float *w0 = malloc(n * sizeof(float));
    memcpy(w0, a.net->params, n * sizeof(float));
    for (size_t i = 0; i < n; i++) a.net->grads[i] = 3.0f;
    train_step_stats st;
    dnas_error err;
    assert_int_equal(train_step(&a.s, ds.x, ds.y, 4, &st, &err), DNAS_ERR_NAN);
    if (!strstr(err.msg, "the loss is NaN (learning rate 0.000333333 too high, or bad data?)"))
        fail_msg("%s", err.msg);
    assert_true(isnan(st.loss));
    assert_int_equal(st.n, 4);
    assert_memory_equal(a.net->params, w0, n * sizeof(float));
    for (size_t i = 0; i < n; i++) assert_true(a.net->grads[i] == 3.0f && a.opt.m[i] == 0);
    assert_int_equal(a.s.step, 0);
    assert_int_equal(a.opt.t, 0);
    free(w0);
    rig_free(&a);
    train_dataset_free(&ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_shuffled),
        cmocka_unit_test(test_batches_in_order),
        cmocka_unit_test(test_step_pieces),
        cmocka_unit_test(test_step_added_gradient),
        cmocka_unit_test(test_step_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
