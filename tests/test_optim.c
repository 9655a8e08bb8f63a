/* Optimizers and learning-rate schedules against hand-computed steps. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "optim.h"

static void test_sgd_momentum(void **state) {
    (void)state;
    train_optim_params p = train_optim_default_params();
    p.kind = TRAIN_OPTIM_SGD;
    p.momentum = 0.9f;
    train_optim o;
    train_optim_init(&o, &p, 1);
    float w = 1.0f, g = 0.5f;
    train_optim_step(&o, &w, &g, 0.1f); /* v = 0.5, w = 1 - 0.05 */
    assert_float_equal(w, 0.95f, 1e-6);
    train_optim_step(&o, &w, &g, 0.1f); /* v = 0.45 + 0.5 = 0.95, w = 0.95 - 0.095 */
    assert_float_equal(w, 0.855f, 1e-6);
    train_optim_free(&o);
}

static void test_adam_first_steps(void **state) {
    (void)state;
    train_optim_params p = train_optim_default_params();
    train_optim o;
    train_optim_init(&o, &p, 2);
    float w[2] = {1.0f, -2.0f}, g[2] = {0.3f, -4.0f};
    /* the first bias-corrected Adam step is lr·sign(g) (up to eps) */
    train_optim_step(&o, w, g, 0.01f);
    assert_float_equal(w[0], 0.99f, 1e-6);
    assert_float_equal(w[1], -1.99f, 1e-6);
    /* second step with g2: m = .9·.1·g1 + .1·g2 ... computed in double */
    float g2[2] = {0.1f, 1.0f};
    train_optim_step(&o, w, g2, 0.01f);
    for (int i = 0; i < 2; i++) {
        double g1 = i ? -4.0 : 0.3, gg = i ? 1.0 : 0.1;
        double m = 0.9 * 0.1 * g1 + 0.1 * gg, v = 0.999 * 0.001 * g1 * g1 + 0.001 * gg * gg;
        double mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999);
        double expect = (i ? -1.99 : 0.99) - 0.01 * mh / (sqrt(vh) + 1e-8);
        assert_float_equal(w[i], expect, 1e-5);
    }
    train_optim_free(&o);
}

static void test_adamw_decoupled_decay(void **state) {
    (void)state;
    train_optim_params p = train_optim_default_params();
    p.kind = TRAIN_OPTIM_ADAMW;
    p.weight_decay = 0.1f;
    train_optim o;
    train_optim_init(&o, &p, 1);
    float w = 2.0f, g = 0.0f;
    /* zero gradient: only the decay acts, w -= lr·wd·w */
    train_optim_step(&o, &w, &g, 0.5f);
    assert_float_equal(w, 2.0f - 0.5f * 0.1f * 2.0f, 1e-6);
    train_optim_free(&o);
    /* Adam's L2 decay goes through the moments instead: first step is lr·sign */
    p.kind = TRAIN_OPTIM_ADAM;
    train_optim_init(&o, &p, 1);
    w = 2.0f;
    train_optim_step(&o, &w, &g, 0.5f);
    assert_float_equal(w, 1.5f, 1e-5);
    train_optim_free(&o);
}

static void test_schedules(void **state) {
    (void)state;
    train_sched s = {.kind = TRAIN_SCHED_COSINE, .base_lr = 1.0f, .total_steps = 100, .min_lr = 0.0f};
    assert_float_equal(train_sched_lr(&s, 0), 1.0f, 1e-6);
    assert_float_equal(train_sched_lr(&s, 50), 0.5f, 1e-6);
    assert_float_equal(train_sched_lr(&s, 100), 0.0f, 1e-6);
    s.warmup_steps = 10;
    assert_float_equal(train_sched_lr(&s, 4), 0.5f, 1e-6);
    assert_float_equal(train_sched_lr(&s, 10), 1.0f, 1e-6);
    assert_float_equal(train_sched_lr(&s, 55), 0.5f, 1e-6);
    train_sched st = {.kind = TRAIN_SCHED_STEP, .base_lr = 1.0f, .step_size = 10, .gamma = 0.5f};
    assert_float_equal(train_sched_lr(&st, 9), 1.0f, 1e-6);
    assert_float_equal(train_sched_lr(&st, 10), 0.5f, 1e-6);
    assert_float_equal(train_sched_lr(&st, 25), 0.25f, 1e-6);
    assert_int_equal(train_optim_kind_parse("adamw"), TRAIN_OPTIM_ADAMW);
    assert_int_equal(train_optim_kind_parse("lion"), -1);
    assert_int_equal(train_sched_kind_parse("cosine"), TRAIN_SCHED_COSINE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_momentum),
        cmocka_unit_test(test_adam_first_steps),
        cmocka_unit_test(test_adamw_decoupled_decay),
        cmocka_unit_test(test_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
