/* The search config reader (search/run_config.h): defaults, every key, the
 * data section through train's parser, targets by name or path, and
 * errors naming the line and what was expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "search.h"
#include "search_config_test_util.h"

#define HEAD "model: m.yaml\ndata: {format: fashion-mnist, val_split: 100}\nmethod: pit\n"

static void test_defaults(void **state) {
    (void)state;
    search_config c;
    load_ok(&c, HEAD);
    assert_int_equal(c.method, SEARCH_METHOD_PIT);
    assert_int_equal(c.cost, SEARCH_COST_PARAMS);
    assert_true(c.mu == 0 && c.nconstraints == 0 && !c.target[0]);
    assert_true(c.warmup == 5 && c.search == 10 && c.finetune == 5 && c.batch == 128);
    assert_true(c.lr == 1e-3f && c.weight_decay == 1e-4f && c.arch_lr == 5e-4f);
    assert_int_equal(c.split, SEARCH_SPLIT_VAL);
    assert_int_equal(c.seed, 1);
    assert_string_equal(c.output, "ok.h5");
    char want[300];
    snprintf(want, sizeof want, "%s/m.yaml", dir);
    assert_string_equal(c.model, want);
    assert_int_equal(c.data.val_split, 100);
    assert_int_equal(c.data.normalize, 1);
    search_config_free(&c);
}

static void test_every_key(void **state) {
    (void)state;
    search_config c;
    write_cfg("t.yaml", "x");
    load_ok(&c, "description: d\nmodel: /abs/m.yaml\n"
                "data: {format: fashion-mnist, layout: rows, limit_train: 10}\n"
                "loss: cross_entropy\nmethod: pit\ncost: latency\nmu: 1.5e-7\ntarget: t.yaml\n"
                "constraints:\n"
                "  - {cost: levels}\n"
                "  - {cost: params, max: 5000, strength: 0.25}\n"
                "  - {cost: latency, max: 0.002, strength: auto}\n"
                "schedule: {warmup: 0, search: 3, finetune: 2, batch: 16, threads: 1, lr: 0.01,\n"
                "           weight_decay: 0, arch_lr: 0.1, arch_split: train, log_every: 2}\n"
                "bits: 4\nseed: 9\noutput: out/run.h5\n");
    assert_string_equal(c.model, "/abs/m.yaml");
    assert_int_equal(c.data.rows, 1);
    assert_int_equal(c.data.limit_train, 10);
    assert_int_equal(c.cost, SEARCH_COST_SECONDS);
    assert_true(c.mu == 1.5e-7);
    assert_non_null(strstr(c.target, "/t.yaml"));
    assert_int_equal(c.nconstraints, 3);
    assert_int_equal(c.constraints[0].slot, SEARCH_SLOT_LEVELS);
    assert_true(c.constraints[0].strength < 0);
    assert_int_equal(c.constraints[1].slot, SEARCH_COST_PARAMS);
    assert_true(c.constraints[1].max == 5000 && c.constraints[1].strength == 0.25);
    assert_true(c.constraints[2].max == 0.002 && c.constraints[2].strength < 0);
    assert_int_equal(c.constraints[2].line, 12);
    assert_true(c.warmup == 0 && c.search == 3 && c.finetune == 2 && c.batch == 16 && c.threads == 1);
    assert_true(c.lr == 0.01f && c.weight_decay == 0 && c.arch_lr == 0.1f && c.log_every == 2);
    assert_int_equal(c.split, SEARCH_SPLIT_TRAIN);
    assert_true(c.bits == 4 && c.seed == 9);
    assert_string_equal(c.output, "out/run.h5");
    search_config_free(&c);
    // a target by name: configs/targets/NAME.yaml of the source tree when not beside the config
    load_ok(&c, HEAD "target: diana\ncost: energy\n");
    assert_non_null(strstr(c.target, "/configs/targets/diana.yaml"));
    search_config_free(&c);
}

static void test_errors(void **state) {
    (void)state;
    load_fails(HEAD "colour: red\n", "bad.yaml:4: search config: unknown key 'colour'");
    load_fails("data: {format: fashion-mnist}\nmethod: pit\n", "missing 'model'");
    load_fails("model: m.yaml\nmethod: pit\n", "missing 'data'");
    load_fails("model: m.yaml\ndata: {format: fashion-mnist}\n", "missing 'method' (pit, supernet, mixprec or odimo)");
    load_fails("model: m.yaml\ndata: {format: bmp}\nmethod: pit\n",
               "bad.yaml:2: format: expected fashion-mnist, idx, npy, csv, hdf5 or cifar10, found 'bmp'");
    load_fails(HEAD "method: pot\n", ""); /* a key twice: the YAML loader says so */
    load_fails("model: m.yaml\ndata: {format: fashion-mnist, val_split: 9}\nmethod: mixprec\nodimo: {temperature: 1}\n",
               "bad.yaml:4: odimo: settings of method odimo");
    load_fails(HEAD "odimo: {temperature: 1}\n", "bad.yaml:4: odimo: settings of method odimo");
    load_fails("model: m.yaml\ndata: {format: fashion-mnist, val_split: 9}\nmethod: odimo\nodimo: {tau: 1}\n",
               "bad.yaml:4: odimo: unknown key 'tau'");
    load_fails("model: m.yaml\ndata: {format: fashion-mnist, val_split: 9}\nmethod: odimo\n"
               "odimo: {temperature: 0}\n",
               "bad.yaml:4: odimo: temperature:");
    load_fails("model: m.yaml\ndata: {format: fashion-mnist, val_split: 9}\nmethod: odimo\n"
               "odimo: {init: [1]}\n",
               "bad.yaml:4: odimo: init: expected a list of 2..4 items");
    load_fails("model: m.yaml\ndata: {format: fashion-mnist, val_split: 9}\nmethod: dart\n",
               "bad.yaml:3: method: expected pit, supernet, mixprec or odimo, found 'dart'");
    load_fails(HEAD "cost: flops\n", "bad.yaml:4: cost: expected params, params_no_bias, macs");
    load_fails(HEAD "cost: levels\n", "bad.yaml:4: cost: expected");
    load_fails(HEAD "cost: energy\n", "bad.yaml:4: cost: energy needs a target (target: NAME or PATH)");
    load_fails(HEAD "mu: -1\n", "bad.yaml:4: mu:");
    load_fails(HEAD "int_bits: 9\n", "bad.yaml:4: int_bits:");
    load_fails(HEAD "int_bits: 1\n", "bad.yaml:4: int_bits:");
    load_fails(HEAD "constraints:\n  - {cost: params}\n",
               "bad.yaml:5: constraint: missing 'max' (the budget)");
    load_fails(HEAD "constraints:\n  - {max: 3}\n", "bad.yaml:5: constraint: missing 'cost'");
    load_fails(HEAD "constraints:\n  - {cost: params, max: 0}\n", "bad.yaml:5: max:");
    load_fails(HEAD "constraints:\n  - {cost: params, max: 9, strength: strong}\n", "bad.yaml:5: strength:");
    load_fails(HEAD "constraints:\n  - {cost: params, max: 9, limit: 3}\n", "unknown key 'limit'");
    load_fails(HEAD "target: t.yaml\nconstraints:\n  - {cost: levels, max: 9}\n",
               "bad.yaml:6: max: levels are bounded by the target's own bytes");
    load_fails(HEAD "constraints:\n  - {cost: latency, max: 0.1}\n",
               "bad.yaml:5: cost: latency needs a target");
    load_fails(HEAD "schedule: {arch_split: both}\n",
               "bad.yaml:4: arch_split: expected val or train, found 'both'");
    load_fails(HEAD "schedule: {batch: 0}\n", "bad.yaml:4: batch:");
    load_fails(HEAD "schedule: {epochs: 3}\n", "unknown key 'epochs'");
    load_fails("model: m.yaml\ndata: {format: fashion-mnist}\nmethod: pit\nschedule: {arch_split: val}\n",
               "bad.yaml:4: arch_split: val needs a validation split (data: val_split: N)");
    load_fails(HEAD "bits: 0\n", "bad.yaml:4: bits:");
    load_fails(HEAD "output: ''\n", "bad.yaml:4: output: expected a path");
}

/* A validation split is needed only when the search runs on it. */
static void test_split_train_needs_no_val(void **state) {
    (void)state;
    search_config c;
    load_ok(&c, "model: m.yaml\ndata: {format: fashion-mnist}\nmethod: pit\nschedule: {arch_split: train}\n");
    search_config_free(&c);
    load_ok(&c, "model: m.yaml\ndata: {format: fashion-mnist}\nmethod: pit\nschedule: {search: 0}\n");
    search_config_free(&c);
}

/* method: mixprec and its map: defaults, every key, candidates sorted */
static void test_mixprec(void **state) {
    (void)state;
    search_config c;
    load_ok(&c, "model: m.yaml\ndata: {format: fashion-mnist, val_split: 100}\nmethod: mixprec\n");
    assert_int_equal(c.method, SEARCH_METHOD_MIXPREC);
    assert_int_equal(c.mixprec.wbits.nprec, 3);
    assert_int_equal(c.mixprec.wbits.bits[2], 8);
    assert_int_equal(c.mixprec.abits.nprec, 3);
    assert_int_equal(c.mixprec.granularity, SEARCH_MIXPREC_LAYER);
    assert_true(c.mixprec.temperature == 1.0f && c.mixprec.temperature_final == 1.0f);
    search_config_free(&c);
    load_ok(&c, "model: m.yaml\ndata: {format: fashion-mnist, val_split: 100}\nmethod: mixprec\n"
                "mixprec: {weight_bits: [8, 0, 2], act_bits: [4], granularity: channel, temperature: 2,\n"
                "          temperature_final: 0.5}\n");
    int want[3] = {0, 2, 8};
    assert_int_equal(c.mixprec.wbits.nprec, 3);
    for (int k = 0; k < 3; k++) assert_int_equal(c.mixprec.wbits.bits[k], want[k]);
    assert_int_equal(c.mixprec.abits.nprec, 1);
    assert_int_equal(c.mixprec.abits.bits[0], 4);
    assert_int_equal(c.mixprec.granularity, SEARCH_MIXPREC_CHANNEL);
    assert_true(c.mixprec.temperature == 2.0f && c.mixprec.temperature_final == 0.5f);
    search_config_free(&c);
    load_fails("model: m.yaml\ndata: {format: fashion-mnist, val_split: 100}\nmethod: mixprec\n"
               "mixprec: {temperature_final: 0}\n",
               "bad.yaml:4: temperature_final: 0 is out of range");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_split_train_needs_no_val),
        cmocka_unit_test(test_mixprec),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
