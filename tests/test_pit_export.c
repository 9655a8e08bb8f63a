/* PIT export (search_pit_export): the pruned network's shapes, kernels,
 * dilations and paddings; its weights (zero taps where a window had to be
 * widened); its eval outputs equal to the masked supernet's (within 1e-5
 * relative); the exported model written as YAML and read back. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net_test_util.h"
#include "pit_test_util.h"

static const char *SEQ_NET = "input: [3, 1, 12]\n"
                             "layers:\n"
                             "  - {name: a, op: conv1d, out: 4, kernel: 5, padding: same, bias: false}\n"
                             "  - {name: bna, op: batchnorm}\n"
                             "  - {name: ra, op: relu}\n"
                             "  - {name: b, op: conv1d, out: 4, kernel: 3, padding: [2, 0]}\n"
                             "  - {name: rb, op: relu}\n"
                             "  - {name: cat, op: concat, inputs: [ra, rb]}\n"
                             "  - {name: c, op: conv1d, out: 3, kernel: 5, stride: 2, padding: 2}\n"
                             "  - {name: bnc, op: batchnorm}\n"
                             "  - {name: fl, op: flatten}\n"
                             "  - {name: fc, op: linear, out: 4}\n";


/* Trains BN statistics a little through the view, exports, and compares
 * the eval outputs; returns the exported net. */
static train_net *export_equal(pit_fixture *f) {
    search_pit_forward(f->pit);
    search_pit_apply(f->pit, f->net);
    for (int k = 0; k < 3; k++)
        train_net_forward(f->net, f->x, PIT_N, 1);
    size_t nout = (size_t)PIT_N * train_net_output_size(f->net);
    float *want = malloc(nout * sizeof *want);
    memcpy(want, train_net_forward(f->net, f->x, PIT_N, 0), nout * sizeof *want);
    train_net *e;
    dnas_error err;
    if (search_pit_export(f->pit, f->net, &e, &err)) fail_msg("export: %s", err.msg);
    if (train_net_reserve(e, PIT_N, &err)) fail_msg("%s", err.msg);
    const float *got = train_net_forward(e, f->x, PIT_N, 0);
    float scale = 0;
    for (size_t k = 0; k < nout; k++)
        scale = fmaxf(scale, fabsf(want[k]));
    for (size_t k = 0; k < nout; k++)
        if (fabsf(got[k] - want[k]) > 1e-5f * (1 + scale)) fail_msg("out[%zu]: %g vs %g", k, got[k], want[k]);
    free(want);
    return e;
}

static const train_layer *layer(const train_net *n, const char *name) {
    int i = train_net_find(n, name);
    assert_true(i >= 0);
    return &n->layers[i];
}

/* Nothing pruned: the same network and weights. */
static void test_export_identity(void **state) {
    (void)state;
    const char *nets[] = {SEQ_NET, PIT_RES_NET};
    for (int k = 0; k < 2; k++) {
        pit_fixture f;
        pit_fixture_init(&f, nets[k]);
        train_net *e = export_equal(&f);
        assert_int_equal(e->nparams, f.net->nparams);
        assert_memory_equal(e->params, f.net->params, e->nparams * sizeof(float));
        assert_memory_equal(e->state, f.net->state, e->nstate * sizeof(float));
        train_net_free(e);
        pit_fixture_free(&f);
    }
}

/* Channels of an add group (into a depthwise), of a 1x1 conv read by the
 * output linear through a global pool. */
static void test_export_channels(void **state) {
    (void)state;
    pit_fixture f;
    pit_fixture_init(&f, PIT_RES_NET);
    f.pit->alpha[0] = 0.1f; /* group c1/c2: channels 0 and 2 pruned */
    f.pit->alpha[2] = -0.3f;
    f.pit->alpha[4 + 1] = 0.2f; /* pw: channel 1 */
    train_net *e = export_equal(&f);
    const char *two[] = {"c1", "bn1", "c2", "bn2", "sum", "dw", "bnd"};
    for (int k = 0; k < 7; k++)
        assert_int_equal(layer(e, two[k])->c, 2);
    assert_int_equal(layer(e, "pw")->c, 5);
    assert_int_equal(layer(e, "fc")->c, 5);
    assert_int_equal(layer(e, "fc")->w_len, 5 * 5);
    assert_int_equal(layer(e, "c1")->w_len, 2 * 3 * 9);
    assert_int_equal(layer(e, "c2")->w_len, 2 * 2 * 9);
    assert_int_equal(layer(e, "dw")->groups, 2);
    search_pit_layer_arch a = search_pit_layer(f.pit, train_net_find(f.net, "c2"));
    assert_true(a.cout == 2 && a.cin == 2 && a.k == 9);
    a = search_pit_layer(f.pit, train_net_find(f.net, "fc"));
    assert_true(a.cout == 5 && a.cin == 5);
    train_net *back = write_and_reload(e);
    train_net_free(back);
    train_net_free(e);
    pit_fixture_free(&f);
}

/* Taps: a centred conv (K 5, same: pads 2 / 2) and a causal one (K 3, [2, 0]). */
static void test_export_taps(void **state) {
    (void)state;
    struct {
        float b[5], g0; /* a's b (tap order) and g_0 */
        float bb[3];    /* b's b */
        int k, dil, pl, pr, kb, plb;
    } cases[] = {
        /* the two oldest taps of a: K 3, window [t-0, t+2] -> padding [0, 2] */
        {{1, 1, 1, 0.1f, 0.1f}, 1, {1, 1, 1}, 3, 1, 0, 2, 3, 2},
        /* odd taps of a: K 3, dilation 2, padding [2, 2]; b's oldest tap: K 2, [1, 0] */
        {{1, 1, 1, 1, 1}, 0.2f, {1, 1, 0.1f}, 3, 2, 2, 2, 2, 1},
        /* a pruned to tap 0 (reads t + 2): widened back to the centre with zero taps */
        {{1, 0.1f, 0.1f, 0.1f, 0.1f}, 1, {1, 0.1f, 0.1f}, 3, 1, 0, 2, 1, 0},
    };
    for (int n = 0; n < 3; n++) {
        pit_fixture f;
        pit_fixture_init(&f, SEQ_NET);
        const search_pit_time *A = &f.pit->time[0], *B = &f.pit->time[1];
        memcpy(f.pit->alpha + A->b_off, cases[n].b, sizeof cases[n].b);
        f.pit->alpha[A->g_off] = cases[n].g0;
        memcpy(f.pit->alpha + B->b_off, cases[n].bb, sizeof cases[n].bb);
        f.pit->alpha[2] = 0.1f; /* a's channel 2 */
        train_net *e = export_equal(&f);
        const train_layer *a = layer(e, "a"), *b = layer(e, "b"), *c = layer(e, "c");
        assert_int_equal(a->c, 3);
        assert_int_equal(a->kw, cases[n].k);
        assert_int_equal(a->dw, cases[n].dil);
        assert_int_equal(a->pl, cases[n].pl);
        assert_int_equal(a->pr, cases[n].pr);
        assert_int_equal(a->w, 12);
        assert_int_equal(b->kw, cases[n].kb);
        assert_int_equal(b->pl, cases[n].plb);
        assert_int_equal(b->pr, 0);
        assert_int_equal(c->w_len, 3 * 7 * 5); /* strided c keeps its taps, reads 3 + 4 channels */
        search_pit_layer_arch la = search_pit_layer(f.pit, train_net_find(f.net, "a"));
        assert_true(la.k == cases[n].k && la.dilation == cases[n].dil && la.pad_l == cases[n].pl);
        if (n == 2) {
            // the widened window: kw' 0 and 1 are old kw 2 and 3, masked: zero
            for (int r = 0; r < 3 * 3; r++) {
                assert_float_equal(e->params[a->w_off + (size_t)r * 3 + 0], 0, 0);
                assert_float_equal(e->params[a->w_off + (size_t)r * 3 + 1], 0, 0);
                assert_true(e->params[a->w_off + (size_t)r * 3 + 2] != 0);
            }
        }
        train_net *back = write_and_reload(e);
        train_net_free(back);
        train_net_free(e);
        pit_fixture_free(&f);
    }
}

/* The search's own ops: a pact activation carries its input's channels; a
 * mix of two branches of one group prunes them together, one of a branch
 * that reaches another group's channels keeps them. */
static void test_export_mix_pact(void **state) {
    (void)state;
    pit_fixture f;
    pit_fixture_init(&f, "input: [2, 1, 10]\n"
                         "layers:\n"
                         "  - {name: a, op: conv1d, out: 4, kernel: 3, padding: [2, 0]}\n"
                         "  - {name: q, op: pact, bits: [4, 8]}\n"
                         "  - {name: b, op: conv1d, out: 4, kernel: 1}\n"
                         "  - {name: s, op: add, inputs: [b, q]}\n"
                         "  - {name: c, op: conv1d, out: 4, kernel: 3, padding: 1, input: s}\n"
                         "  - {name: m, op: mix, inputs: [c, s]}\n"
                         "  - {name: d, op: conv1d, out: 3, kernel: 1}\n"
                         "  - {name: gp, op: global_avgpool}\n"
                         "  - {name: fc, op: linear, out: 2}\n");
    // a and b share a group (the add); c's channels meet theirs in the mix: all fixed; d prunable
    assert_int_equal(f.pit->ngroups, 1);
    assert_int_equal(f.pit->groups[0].owner, train_net_find(f.net, "d"));
    f.pit->alpha[0] = 0.1f;
    train_net *e = export_equal(&f);
    assert_int_equal(layer(e, "d")->c, 2);
    train_net_free(e);
    pit_fixture_free(&f);
}

/* Every zoo model: PIT reads it, random masks prune some of its channels
 * and taps, and the export computes what the masked network computes. */
static void test_export_zoo(void **state) {
    (void)state;
    const char *models[] = {
        "tcn_fmnist",     "tcn",     "resnet8_fmnist", "dscnn_fmnist", "mobilenetv1_025_fmnist",
        "fc_autoencoder", "resnet8", "dscnn"};
    const char *src = getenv("DNAS_SOURCE_DIR");
    for (int m = 0; m < (int)(sizeof models / sizeof *models); m++) {
        char path[4200], *text;
        snprintf(path, sizeof path, "%s/configs/models/%s.yaml", src ? src : DNAS_SOURCE_DIR, models[m]);
        dnas_error err;
        if (dnas_read_file(path, 1 << 20, &text, NULL, &err)) fail_msg("%s", err.msg);
        pit_fixture f;
        pit_fixture_init(&f, text);
        free(text);
        assert_true(f.pit->ngroups > 0);
        uint64_t rng = 100 + (uint64_t)m;
        for (size_t k = 0; k < f.pit->nalpha; k++)
            f.pit->alpha[k] = 0.2f + train_rng_uniform(&rng);
        train_net *e = export_equal(&f);
        int before = 0, after = 0;
        for (int i = 0; i < e->nlayers; i++)
            before += f.net->layers[i].c, after += e->layers[i].c;
        if (!(after < before)) fail_msg("%s: nothing pruned", models[m]);
        train_net_free(e);
        pit_fixture_free(&f);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_identity),
        cmocka_unit_test(test_export_channels),
        cmocka_unit_test(test_export_taps),
        cmocka_unit_test(test_export_mix_pact),
        cmocka_unit_test(test_export_zoo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
