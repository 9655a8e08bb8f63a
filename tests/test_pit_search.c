/* PIT in the network (search/pit.h): groups, channel maps and keep-alive;
 * a mask shared across an add and into a depthwise conv; the input and
 * output never pruned; groups that cannot be pruned exactly fixed; the
 * view's gradients (raw weights, channel and time masks) against central
 * differences; straight-through gradients reaching pruned masks; the cost
 * state and its gradient. Export: tests/test_pit_export.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "pit_test_util.h"

static void test_groups_add_depthwise(void **state) {
    (void)state;
    pit_fixture f;
    pit_fixture_init(&f, PIT_RES_NET);
    search_pit *p = f.pit;
    const train_net *net = f.net;
    int c1 = train_net_find(net, "c1"), c2 = train_net_find(net, "c2"), pw = train_net_find(net, "pw");
    int fc = train_net_find(net, "fc"), dw = train_net_find(net, "dw");
    assert_int_equal(p->ngroups, 2);
    assert_int_equal(p->groups[0].owner, c1);
    assert_int_equal(p->groups[0].c, 4);
    assert_int_equal(p->groups[1].owner, pw);
    assert_int_equal(p->nalpha, 10);
    assert_int_equal(p->ntime, 0);
    // c1 and c2 share group 0, the output layer has none
    assert_int_equal(p->group_of[c1], 0);
    assert_int_equal(p->group_of[c2], 0);
    assert_int_equal(p->group_of[pw], 1);
    assert_int_equal(p->group_of[fc], -1);
    // the add and the depthwise carry group 0's channels; the input and fc's output are fixed
    const char *same[] = {"r1", "bn2", "sum", "dw", "rd"};
    for (int k = 0; k < 5; k++) {
        int i = train_net_find(net, same[k]);
        for (int c = 0; c < 4; c++)
            assert_int_equal(p->chmap[p->choff[i] + c], c);
    }
    for (int c = 0; c < 3; c++)
        assert_int_equal(p->chmap[p->choff[0] + c], -1);
    for (int c = 0; c < 5; c++)
        assert_int_equal(p->chmap[p->choff[fc] + c], -1);
    for (int c = 0; c < 6; c++)
        assert_int_equal(p->chmap[p->choff[train_net_find(net, "gp")] + c], 4 + c);
    // masked: the readers of group tensors (c2, dw, pw, fc), not c1 (reads the input)
    assert_false(p->masked[c1]);
    assert_true(p->masked[c2] && p->masked[dw] && p->masked[pw] && p->masked[fc]);
    // keep-alive: the last channel of a group stays whatever its alpha
    for (size_t k = 0; k < p->nalpha; k++)
        p->alpha[k] = 0.1f;
    search_pit_forward(p);
    for (int c = 0; c < 4; c++)
        assert_float_equal(p->hm[c], (c == 3 ? 1 : 0), 0);
    for (int c = 0; c < 6; c++)
        assert_float_equal(p->hm[4 + c], (c == 5 ? 1 : 0), 0);
    p->alpha[1] = -0.8f; /* |a| > 0.5: kept */
    search_pit_forward(p);
    assert_float_equal(p->hm[1], 1, 0);
    // the view zeroes the masked input columns of c2, dw (rows), pw, fc
    search_pit_apply(p, f.net);
    const train_layer *L = &net->layers[c2];
    for (int o = 0; o < 4; o++)
        for (int c = 0; c < 4; c++)
            for (int k = 0; k < 9; k++) {
                size_t at = L->w_off + ((size_t)o * 4 + c) * 9 + k;
                float want = c == 1 || c == 3 ? net->params[at] : 0;
                assert_float_equal(p->view[at], want, 0);
            }
    L = &net->layers[dw];
    for (int o = 0; o < 4; o++)
        for (int k = 0; k < 9; k++) {
            size_t at = L->w_off + (size_t)o * 9 + k;
            assert_float_equal(p->view[at], (o == 1 || o == 3 ? net->params[at] : 0), 0);
        }
    L = &net->layers[c1];
    assert_memory_equal(p->view + L->w_off, net->params + L->w_off, L->w_len * sizeof(float));
    // the cost state: Σ H(a') at the owners
    search_layer_state *s = pit_state(&f);
    assert_float_equal(s[c1].cout, 2, 0);
    assert_float_equal(s[pw].cout, 1, 0);
    assert_float_equal(s[fc].cout, 5, 0);
    free(s);
    pit_fixture_free(&f);
}

/* A 1-D net: a centred conv1d and a causal one (time masks), a concat of
 * both, a strided conv1d (no time mask), flatten into the output linear. */
static const char *SEQ_NET = "input: [3, 1, 12]\n"
                             "layers:\n"
                             "  - {name: a, op: conv1d, out: 4, kernel: 5, padding: same, bias: false}\n"
                             "  - {name: bna, op: batchnorm}\n"
                             "  - {name: ra, op: relu}\n"
                             "  - {name: b, op: conv1d, out: 4, kernel: 3, padding: [2, 0]}\n"
                             "  - {name: rb, op: relu}\n"
                             "  - {name: cat, op: concat, inputs: [ra, rb]}\n"
                             "  - {name: c, op: conv1d, out: 3, kernel: 5, stride: 2, padding: 2}\n"
                             "  - {name: fl, op: flatten}\n"
                             "  - {name: fc, op: linear, out: 4}\n";

static void test_time_masks_and_maps(void **state) {
    (void)state;
    pit_fixture f;
    pit_fixture_init(&f, SEQ_NET);
    search_pit *p = f.pit;
    const train_net *net = f.net;
    int a = train_net_find(net, "a"), b = train_net_find(net, "b"), c = train_net_find(net, "c");
    int cat = train_net_find(net, "cat"), fl = train_net_find(net, "fl");
    // groups a, b and c (its channels reach the output linear through flatten: masked there)
    assert_int_equal(p->ngroups, 3);
    assert_int_equal(p->group_of[c], 2);
    assert_int_equal(p->group_of[train_net_find(net, "fc")], -1);
    assert_int_equal(p->ntime, 2);
    assert_int_equal(p->time_of[a], 0);
    assert_int_equal(p->time_of[b], 1);
    assert_int_equal(p->time_of[c], -1); /* stride 2 */
    assert_int_equal(p->time[0].k, 5);
    assert_int_equal(p->time[0].l, 3);
    assert_int_equal(p->time[1].l, 2);
    assert_int_equal(p->nalpha, 11 + 5 + 3 + 3 + 2);
    for (int k = 0; k < 8; k++)
        assert_int_equal(p->chmap[p->choff[cat] + k], k);
    // c's output is 3 x 6: flatten's feature f is channel f / 6
    assert_int_equal(net->layers[fl].c, 18);
    for (int k = 0; k < 18; k++)
        assert_int_equal(p->chmap[p->choff[fl] + k], 8 + k / 6);
    assert_true(p->masked[a] && p->masked[b] && p->masked[c]);
    assert_true(p->masked[train_net_find(net, "fc")]);
    // K_eff = K at init; the time masks keep every tap
    search_layer_state *s = pit_state(&f);
    assert_float_equal(s[a].k, 5, 1e-5);
    assert_float_equal(s[b].k, 3, 1e-5);
    assert_float_equal(s[c].k, 5, 0);
    free(s);
    // b: oldest taps first; keep-alive on tap 0
    const search_pit_time *T = &p->time[0];
    for (int i = 0; i < 5; i++)
        p->alpha[T->b_off + i] = 0.1f;
    search_pit_forward(p);
    // tb[i] = 1[i == 0] + 0.1·(K - i): 1.5, 0.4, 0.3, 0.2, 0.1 -> only tap 0 kept
    for (int i = 0; i < 5; i++)
        assert_float_equal(p->tm[T->t_off + i], (i == 0), 0);
    p->alpha[T->b_off + 2] = 0.3f; /* tb[2] = 0.1 + 0.1 + 0.3 = 0.5: not > 0.5 */
    p->alpha[T->b_off + 1] = 0.2f; /* tb[1] = 0.7 */
    search_pit_forward(p);
    for (int i = 0; i < 5; i++)
        assert_float_equal(p->tm[T->t_off + i], (i <= 1), 0);
    // dilation: g_0 < 0.5 drops the odd taps
    for (int i = 0; i < 5; i++)
        p->alpha[T->b_off + i] = 1;
    p->alpha[T->g_off] = 0.2f;
    search_pit_forward(p);
    for (int i = 0; i < 5; i++)
        assert_float_equal(p->tm[T->t_off + i], (i % 2 == 0), 0);
    // taps in the view: tap i is weight index K-1-i
    search_pit_apply(p, f.net);
    const train_layer *L = &net->layers[a];
    for (int r = 0; r < 12; r++)
        for (int kw = 0; kw < 5; kw++) {
            size_t at = L->w_off + (size_t)r * 5 + kw;
            assert_float_equal(p->view[at], ((4 - kw) % 2 == 0 ? net->params[at] : 0), 0);
        }
    pit_fixture_free(&f);
}

/* Channels that an add combines with a concat's, and grouped convs, stay. */
static void test_fixed_groups(void **state) {
    (void)state;
    pit_fixture f;
    pit_fixture_init(&f, "input: [2, 4, 4]\n"
                         "layers:\n"
                         "  - {name: p, op: conv2d, out: 2, kernel: 1}\n"
                         "  - {name: q, op: conv2d, out: 2, kernel: 1, input: input}\n"
                         "  - {name: cat, op: concat, inputs: [p, q]}\n"
                         "  - {name: r, op: conv2d, out: 4, kernel: 1, input: input}\n"
                         "  - {name: s, op: add, inputs: [cat, r]}\n"
                         "  - {name: g, op: conv2d, out: 4, kernel: 1, groups: 2}\n"
                         "  - {name: h, op: conv2d, out: 4, kernel: 1}\n"
                         "  - {name: gp, op: global_avgpool}\n"
                         "  - {name: fc, op: linear, out: 3}\n");
    // p, q, r: meet in the add through a concat; g: grouped; h: prunable
    assert_int_equal(f.pit->ngroups, 1);
    assert_int_equal(f.pit->groups[0].owner, train_net_find(f.net, "h"));
    pit_fixture_free(&f);
}

/* Loss Σ r·out of a training-mode forward through the view, with the
 * masks' values set directly (continuous) so that the view is smooth in
 * them: the backward's d/dhm (dprime), d/dtm and mapped dW against central
 * differences (eps 1e-3, rtol 2e-2, atol 2e-3). */
typedef struct {
    pit_fixture *f;
    float *r;
} fd_ctx;

static double fd_loss(void *vc) {
    fd_ctx *c = vc;
    search_pit_apply(c->f->pit, c->f->net);
    const float *out = train_net_forward(c->f->net, c->f->x, PIT_N, 1);
    return gc_dot(out, c->r, (size_t)PIT_N * train_net_output_size(c->f->net));
}

static void gradients_of(const char *yaml) {
    pit_fixture f;
    pit_fixture_init(&f, yaml);
    search_pit *p = f.pit;
    train_net *net = f.net;
    uint64_t rng = 77;
    size_t nout = (size_t)PIT_N * train_net_output_size(net);
    fd_ctx c = {&f, gc_alloc(nout)};
    gc_fill(c.r, nout, -1, 1, &rng);
    for (int g = 0; g < p->ngroups; g++)
        gc_fill(p->hm + p->groups[g].a_off, (size_t)p->groups[g].c, 0.5f, 1.5f, &rng);
    gc_fill(p->tm, p->ntaps, 0.5f, 1.5f, &rng);
    fd_loss(&c);
    memset(net->grads, 0, net->nparams * sizeof(float));
    train_net_backward(net, c.r, PIT_N);
    float *dalpha = gc_alloc(p->nalpha);
    search_pit_backward(p, net, dalpha, 1);
    float *dhm = gc_alloc(p->nalpha), *dtm = gc_alloc(p->ntaps);
    for (size_t k = 0; k < p->nalpha; k++)
        dhm[k] = (float)p->dprime[k];
    for (size_t k = 0; k < p->ntaps; k++)
        dtm[k] = (float)p->dtm[k];
    int fails = 0;
    for (int g = 0; g < p->ngroups; g++) {
        size_t o = p->groups[g].a_off;
        fails += gc_check("dhm", fd_loss, &c, p->hm + o, dhm + o, (size_t)p->groups[g].c, 1e-3f, 2e-2, 2e-3,
                          16, NULL);
    }
    if (p->ntaps) fails += gc_check("dtm", fd_loss, &c, p->tm, dtm, p->ntaps, 1e-3f, 2e-2, 2e-3, 24, NULL);
    float *dw = gc_alloc(net->nparams);
    memcpy(dw, net->grads, net->nparams * sizeof(float));
    fails += gc_check("dW", fd_loss, &c, net->params, dw, net->nparams, 1e-3f, 2e-2, 2e-3, 60, NULL);
    /* a ReLU kink within ±eps makes a difference meaningless: tolerate a few of ~100 */
    assert_true(fails <= 3);
    // straight-through: each unkept-alive channel's dalpha is its dhm (alpha = 1 > 0)
    for (int g = 0; g < p->ngroups; g++)
        for (int k = 0; k < p->groups[g].c - 1; k++) {
            size_t e = p->groups[g].a_off + (size_t)k;
            assert_float_equal(dalpha[e], dhm[e], 1e-6 * (1 + fabsf(dhm[e])));
        }
    // and each tap mask's: db_j = Σ_{i <= j} dtm[i]·H(tg[i]), dg_p = Σ_{i mod 2^p = 0} dtm[i]·H(tb[i])
    // (H of the masks' real values: search_pit_forward, alpha all 1, keeps every tap)
    search_pit_forward(p);
    for (int t = 0; t < p->ntime; t++) {
        const search_pit_time *T = &p->time[t];
        for (int j = 1; j < T->k; j++) {
            double want = 0;
            for (int i = 0; i <= j; i++)
                want += dtm[T->t_off + i];
            assert_float_equal(dalpha[T->b_off + j], want, 1e-5 * (1 + fabs(want)));
        }
        for (int q = 0; q < T->l - 1; q++) {
            double want = 0;
            for (int i = 0; i < T->k; i += 1 << q)
                want += dtm[T->t_off + i];
            assert_float_equal(dalpha[T->g_off + q], want, 1e-5 * (1 + fabs(want)));
        }
    }
    free(c.r);
    free(dalpha);
    free(dhm);
    free(dtm);
    free(dw);
    pit_fixture_free(&f);
}

static void test_view_gradients(void **state) {
    (void)state;
    gradients_of(PIT_RES_NET);
    gradients_of(SEQ_NET);
}

/* A pruned channel and pruned taps still get a gradient (they can come back). */
static void test_pruned_masks_get_gradient(void **state) {
    (void)state;
    pit_fixture f;
    pit_fixture_init(&f, SEQ_NET);
    search_pit *p = f.pit;
    const search_pit_time *T = &p->time[0];
    p->alpha[1] = 0.2f;            /* channel 1 of a */
    p->alpha[T->b_off + 4] = 0.1f; /* the oldest tap of a */
    p->alpha[T->g_off + 0] = 0.3f; /* a's odd taps */
    search_pit_forward(p);
    assert_float_equal(p->hm[1], 0, 0);
    assert_float_equal(p->tm[T->t_off + 4], 0, 0);
    assert_float_equal(p->tm[T->t_off + 1], 0, 0);
    float *dalpha = pit_task_grad(&f);
    assert_true(fabsf(dalpha[1]) > 1e-6f);
    assert_true(fabsf(dalpha[T->b_off + 4]) > 1e-6f);
    assert_true(fabsf(dalpha[T->g_off]) > 1e-6f);
    assert_float_equal(dalpha[3], 0, 0); /* kept alive */
    assert_float_equal(dalpha[T->b_off], 0, 0);
    assert_float_equal(dalpha[T->g_off + T->l - 1], 0, 0);
    free(dalpha);
    pit_fixture_free(&f);
}

/* d(params)/dalpha through the bridge: every non-kept channel of a group
 * gets d_cout, taps get d_k through K_eff (against a central difference
 * of the smooth K_eff in b). */
static void test_state_backward(void **state) {
    (void)state;
    pit_fixture f;
    pit_fixture_init(&f, SEQ_NET);
    search_pit *p = f.pit;
    int a = train_net_find(f.net, "a");
    search_layer_grad *g = calloc((size_t)f.net->nlayers, sizeof *g);
    g[a].d_cout = 2.0;
    g[a].d_k = 1.0;
    float *dalpha = gc_alloc(p->nalpha);
    search_pit_state_backward(p, g, 0.5, dalpha);
    for (int c = 0; c < 3; c++)
        assert_float_equal(dalpha[c], 1.0f, 0);
    assert_float_equal(dalpha[3], 0, 0);
    const search_pit_time *T = &p->time[0];
    for (int i = 1; i < T->k; i++) {
        float *b = p->alpha + T->b_off + i, b0 = *b;
        *b = b0 + 1e-3f;
        search_pit_forward(p);
        double kp = train_pit_keff(p->tb + T->t_off, p->tg + T->t_off, T->k);
        *b = b0 - 1e-3f;
        search_pit_forward(p);
        double km = train_pit_keff(p->tb + T->t_off, p->tg + T->t_off, T->k);
        *b = b0;
        assert_float_equal(dalpha[T->b_off + i], 0.5 * (kp - km) / 2e-3, 2e-3);
    }
    search_pit_forward(p);
    free(g);
    free(dalpha);
    pit_fixture_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_add_depthwise),
        cmocka_unit_test(test_time_masks_and_maps),
        cmocka_unit_test(test_fixed_groups),
        cmocka_unit_test(test_view_gradients),
        cmocka_unit_test(test_pruned_masks_get_gradient),
        cmocka_unit_test(test_state_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
