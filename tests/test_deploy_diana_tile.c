/* The `diana` backend's L1 tiles end to end on the DIANA host model
 * (deploy/runtime/diana/: the engines, L1_act and L1_wdig with their DMA
 * and bounds checks): resnet8_fmnist and dscnn_fmnist (seeded random
 * weights, quantized on real Fashion-MNIST images, as
 * tests/test_deploy_diana.c) and the ODiMO-like resnet8_fmnist (a seeded
 * share of each layer's channels on the analog engine, ternary weights,
 * inputs clamped to 7 bits; diana_test_util.h) and a PIT-pruned
 * resnet8_fmnist (the channels a PIT search leaves: seeded masks, the
 * network search_pit_export writes; channel counts off the digital
 * engine's 16-channel blocks) compiled for
 * configs/targets/diana.yaml at its L1_act of 128,000 bytes and at an L1_act
 * small enough to tile most engine layers. The generated code, built with
 * -std=c99 -Wall -Wextra -Werror -pedantic and ASan/UBSan, runs 16 real
 * test images: its outputs equal the integer evaluator's byte for byte and
 * the host model counts exactly the DMA bytes the tile pass reported. Then
 * the model must catch an output tile buffer moved by hand past the end of
 * the L1 block, and an L1 set below what the code allocates; an L1 no
 * tiling fits is refused naming the smallest L1 that would do. (The
 * networks of real PIT and ODiMO search runs: tests/cli_deploy_diana.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NCHECK 16
#include "deploy_check_util.h"
#include "diana_test_util.h"
#include "dnas_diana.h"

#define CFLAGS                                                                                     \
    "-std=c99 -Wall -Wextra -Werror -pedantic -O1 -fsanitize=address,undefined "                   \
    "-fno-sanitize-recover=undefined"

/* The small L1_act: most engine layers of the three networks need several tiles. */
#define SMALL_L1 6000

static hwcost_target diana;

static int setup(void **state) {
    dia_target(&diana);
    return dck_setup(state);
}

/* net pruned as a PIT search leaves it: the masks' alphas seeded (0.2 +
 * U(0, 1): below 0.5 a channel goes) and the pruned network exported by
 * search_pit_export; net is freed. */
static train_net *pit_pruned(train_net *net, uint64_t seed) {
    search_bridge *b;
    search_pit *pit;
    train_net *e;
    dnas_error err;
    if (train_net_reserve(net, 8, &err) || search_bridge_init(&b, net, &err) ||
        search_pit_init(&pit, net, b, &err))
        fail_msg("%s", err.msg);
    for (size_t k = 0; k < pit->nalpha; k++)
        pit->alpha[k] = 0.2f + train_rng_uniform(&seed);
    search_pit_forward(pit);
    search_pit_apply(pit, net);
    if (search_pit_export(pit, net, &e, &err)) fail_msg("%s", err.msg);
    search_pit_free(pit);
    search_bridge_free(b);
    train_net_free(net);
    return e;
}

/* The networks: the zoo model, ODiMO-like, PIT-pruned. */
enum { ZOO, ODIMO, PIT };

typedef struct {
    int tiled_ops, split_ops; /* engine ops through L1, and those in more than one tile */
    int analog_split;         /* analog ops in more than one tile */
    size_t l1_bytes;
    uint64_t dma_bytes, dma_bound;
} tiling;

/* The zoo model quantized on real images (made ODiMO-like when share >
 * 0), compiled by the diana backend with L1_act l1 (0: the target's) into a
 * fresh directory with NCHECK real test vectors. */
static void deploy_tiled(deployed *d, const char *name, int kind, size_t l1, tiling *tl) {
    char path[4200];
    dtu_model_path(path, sizeof path, name);
    train_net *net = dtu_net(path, 21);
    if (kind == PIT) {
        int before = 0, after = 0;
        for (int i = 0; i < net->nlayers; i++)
            before += net->layers[i].c;
        net = pit_pruned(net, 5);
        for (int i = 0; i < net->nlayers; i++)
            after += net->layers[i].c;
        assert_true(after < before);
    }
    train_dataset calib = real_data(net, 0, NCALIB);
    train_dataset check = real_data(net, CHECK_FROM, NCHECK);
    dtu_export(&d->q, net, &calib);
    if (kind == ODIMO) dia_odimo_split(&d->q, 17, 3, DNAS_DIANA_ANALOG_IN_BITS);
    d->in = input_bytes(&d->q, check.x, NCHECK);
    deploy_ir ir;
    dck_emit(d, name, "diana", &diana, l1, &ir);
    memset(tl, 0, sizeof *tl);
    for (int k = 0; k < ir.nops; k++) {
        const deploy_ir_op *o = &ir.ops[k];
        const deploy_tile *t = &o->tile;
        int engine = o->engine >= 0 && o->engine < diana.nengines;
        assert_int_equal(t->tiled, engine && (o->kind == DEPLOY_QOP_CONV ||
                                              o->kind == DEPLOY_QOP_LINEAR));
        int several = t->tiled && t->nh * t->nw * t->nc > 1;
        tl->tiled_ops += t->tiled;
        tl->split_ops += several;
        if (several && !strcmp(ir.engines[o->engine], "analog")) {
            tl->analog_split++;
            assert_int_equal(t->nc, 1); /* the array holds every channel of these layers */
        }
        if (t->tiled && !strcmp(ir.engines[o->engine], "digital") && t->nc > 1)
            assert_int_equal(t->tc % DNAS_DIANA_BLOCK, 0);
    }
    tl->l1_bytes = ir.l1_bytes, tl->dma_bytes = ir.dma_bytes, tl->dma_bound = ir.dma_bound;
    assert_true(ir.l1_bytes <= (l1 ? l1 : 128000));
    deploy_ir_free(&ir);
    train_dataset_free(&calib);
    train_dataset_free(&check);
    train_net_free(net);
}

/* Built with the sanitizers and run: every output byte equal, and the host
 * model's DMA bytes NCHECK times the tile pass's. */
static void bit_exact(const char *name, int kind, size_t l1, int want_split) {
    static const char *const kinds[] = {"", " (ODiMO)", " (PIT-pruned)"};
    deployed d;
    tiling tl;
    deploy_tiled(&d, name, kind, l1, &tl);
    int rc;
    char *text = dck_make(d.dir, "check CFLAGS='" CFLAGS "'", &rc);
    if (rc != 0) fail_msg("%s, L1 %zu: make check exited %d:\n%s", name, l1, rc, text);
    char want[64];
    snprintf(want, sizeof want, "%d samples: equal (0 values differ)", NCHECK);
    if (!strstr(text, want)) fail_msg("%s: no '%s' in:\n%s", name, want, text);
    const char *p = strstr(text, "dnas_diana host model: ");
    assert_non_null(p);
    unsigned long long n = 0, in = 0, out = 0;
    assert_int_equal(sscanf(p, "dnas_diana host model: %llu transfers, %llu bytes into L1, %llu "
                               "bytes out of L1",
                            &n, &in, &out),
                     3);
    assert_int_equal(in + out, (unsigned long long)NCHECK * tl.dma_bytes);
    assert_true(tl.dma_bytes >= tl.dma_bound);
    printf("%s%s on diana, L1_act %zu: %s; %d of %d engine layers in several tiles (%d analog), "
           "L1_act used %zu, DMA %llu bytes per inference (lower bound %llu, %.3fx)\n",
           name, kinds[kind], l1 ? l1 : (size_t)128000, want, tl.split_ops,
           tl.tiled_ops, tl.analog_split, tl.l1_bytes, (unsigned long long)tl.dma_bytes,
           (unsigned long long)tl.dma_bound, (double)tl.dma_bytes / (double)tl.dma_bound);
    if (want_split) {
        assert_true(2 * tl.split_ops > tl.tiled_ops);
        if (kind == ODIMO) assert_true(tl.analog_split > 0);
    } else {
        assert_int_equal(tl.split_ops, 0); /* every layer fits the target's L1 whole */
    }
    free(text);
    cleanup(&d);
}

static void resnet8_l1_target(void **state) {
    (void)state;
    bit_exact("resnet8_fmnist", ZOO, 0, 0);
}
static void resnet8_l1_small(void **state) {
    (void)state;
    bit_exact("resnet8_fmnist", ZOO, SMALL_L1, 1);
}
static void dscnn_l1_target(void **state) {
    (void)state;
    bit_exact("dscnn_fmnist", ZOO, 0, 0);
}
static void dscnn_l1_small(void **state) {
    (void)state;
    bit_exact("dscnn_fmnist", ZOO, SMALL_L1, 1);
}
static void odimo_l1_target(void **state) {
    (void)state;
    bit_exact("resnet8_fmnist", ODIMO, 0, 0);
}
static void odimo_l1_small(void **state) {
    (void)state;
    bit_exact("resnet8_fmnist", ODIMO, SMALL_L1, 1);
}
static void pit_l1_target(void **state) {
    (void)state;
    bit_exact("resnet8_fmnist", PIT, 0, 0);
}
static void pit_l1_small(void **state) {
    (void)state;
    bit_exact("resnet8_fmnist", PIT, SMALL_L1, 1);
}

/* The output buffers of the first layer with two of them moved by hand to
 * the last bytes of the L1 block: the engine writes past the block and the
 * host model reports it. */
static void overrunning_tile_caught(void **state) {
    (void)state;
    deployed d;
    tiling tl;
    deploy_tiled(&d, "dscnn_fmnist", ZOO, SMALL_L1, &tl);
    int rc;
    char *text = dck_make(d.dir, "check", &rc);
    if (rc != 0) fail_msg("unchanged code failed:\n%s", text);
    free(text);
    char path[200];
    snprintf(path, sizeof path, "%s/network.c", d.dir);
    text = read_all(path);
    /* "static const dnas_diana_tiles t = {TH, TW, TC, {I0, I1}, {O0, O1}, ..." */
    char *at = strstr(text, "static const dnas_diana_tiles t = {");
    char *open = NULL;
    while (at && !open) {
        char *o = strchr(strchr(at, '}') + 1, '{'); /* the output pair */
        int o0, o1;
        if (sscanf(o, "{%d, %d}", &o0, &o1) == 2 && o0 != o1) open = o;
        at = strstr(at + 1, "static const dnas_diana_tiles t = {");
    }
    assert_non_null(open);
    char *close = strchr(open, '}');
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%.*s{NETWORK_L1_BYTES - 8, NETWORK_L1_BYTES - 4%s", (int)(open - text), text,
            close);
    assert_int_equal(fclose(f), 0);
    free(text);
    text = dck_make(d.dir, "check", &rc);
    if (rc == 0) fail_msg("a tile past the end of L1 was not caught:\n%s", text);
    const char *msg = strstr(text, "dnas_diana host model:");
    assert_non_null(msg);
    assert_non_null(strstr(text, "a write past the L1 block"));
    printf("overrunning tile caught: %s", msg);
    free(text);
    cleanup(&d);
}

/* The modelled L1_act set by hand below what the code allocates. */
static void small_l1_caught(void **state) {
    (void)state;
    deployed d;
    tiling tl;
    deploy_tiled(&d, "dscnn_fmnist", ZOO, SMALL_L1, &tl);
    char args[64];
    snprintf(args, sizeof args, "-B check L1=%zu", tl.l1_bytes - 4);
    int rc;
    char *text = dck_make(d.dir, args, &rc);
    if (rc == 0) fail_msg("L1 of %zu bytes was not caught:\n%s", tl.l1_bytes - 4, text);
    const char *msg = strstr(text, "dnas_diana host model: L1_act allocation of");
    assert_non_null(msg);
    assert_non_null(strstr(text, "refused"));
    printf("L1_act below the code's %zu bytes caught: %s", tl.l1_bytes, msg);
    free(text);
    /* and at exactly the code's bytes it runs */
    snprintf(args, sizeof args, "-B check L1=%zu", tl.l1_bytes);
    text = dck_make(d.dir, args, &rc);
    if (rc != 0) fail_msg("L1 of %zu bytes failed:\n%s", tl.l1_bytes, text);
    free(text);
    cleanup(&d);
}

/* An L1_act below what some layer needs in any tiling: the compiler's
 * error names the smallest L1 that would do, and that L1 compiles (for
 * dscnn_fmnist and the ODiMO resnet8_fmnist). */
static void smallest_l1(const char *name, int share) {
    deploy_qnet q;
    dtu_zoo_qnet(&q, name);
    if (share) dia_odimo_split(&q, 17, share, DNAS_DIANA_ANALOG_IN_BITS);
    deploy_ir ir;
    dnas_error err;
    deploy_compile_params p = deploy_backend_params(deploy_backend_find("diana"));
    p.target = &diana;
    p.l1_bytes = 100;
    assert_int_equal(deploy_compile(&ir, &q, name, &p, &err), DNAS_ERR_UNSUPPORTED);
    const char *at = strstr(err.msg, "a memory of ");
    assert_non_null(at);
    size_t need = (size_t)strtoul(at + 12, NULL, 10);
    printf("L1_act 100: %s\n", err.msg);
    p.l1_bytes = need;
    dnas_status st = deploy_compile(&ir, &q, name, &p, &err);
    while (st == DNAS_ERR_UNSUPPORTED && (at = strstr(err.msg, "a memory of ")) != NULL) {
        size_t more = (size_t)strtoul(at + 12, NULL, 10);
        assert_true(more > need);
        need = p.l1_bytes = more;
        st = deploy_compile(&ir, &q, name, &p, &err);
    }
    if (st) fail_msg("%s", err.msg);
    assert_int_equal(ir.l1_bytes, need);
    deploy_ir_free(&ir);
    p.l1_bytes = need - 1;
    assert_int_equal(deploy_compile(&ir, &q, name, &p, &err), DNAS_ERR_UNSUPPORTED);
    printf("smallest L1_act for %s%s: %zu bytes\n", name, share ? " (ODiMO)" : "", need);
    deploy_qnet_free(&q);
}

static void smallest_l1_error(void **state) {
    (void)state;
    smallest_l1("dscnn_fmnist", 0);
    smallest_l1("resnet8_fmnist", 3);
}

/* The executor refuses tilings off the job: outside it, off the digital
 * engine's 16-channel blocks, or larger than their buffers. */
static void executor_checks(void **state) {
    (void)state;
    int8_t w[32 * 9];
    for (int i = 0; i < 32 * 9; i++)
        w[i] = (int8_t)(i % 5 - 2);
    int8_t blk[32 * 9];
    dnas_diana_pack_digital(blk, w, 32, 9);
    int32_t m[32];
    for (int i = 0; i < 32; i++)
        m[i] = 1 << 20;
    uint8_t in[6 * 6], whole[6 * 6 * 32], tiled[6 * 6 * 32];
    for (int i = 0; i < 36; i++)
        in[i] = (uint8_t)(i * 7 % 256);
    dnas_diana_job j = {DNAS_DIANA_DIGITAL,
                        {6, 6, 1, 6, 6, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
                        NULL,
                        32,
                        0,
                        0,
                        blk,
                        NULL,
                        {m, 20, 0, 255}};
    assert_int_equal(dnas_diana_run(whole, in, &j), DNAS_RT_OK);
    uint8_t *l1 = dnas_diana_l1_alloc(DNAS_DIANA_L1_ACT, 4096);
    uint8_t *l1w = dnas_diana_l1_alloc(DNAS_DIANA_L1_WDIG, 2048);
    assert_non_null(l1);
    assert_non_null(l1w);
    assert_null(dnas_diana_l1_alloc(DNAS_DIANA_L1_ACT, 4)); /* allocated already */
    /* 2 x 6 x 16 output tiles: input windows of 4 x 6, two buffers of each kind */
    dnas_diana_tiles t = {2, 6, 16, {0, 32}, {64, 256}, {0, 1024}, 24, 192, 16 * 9 + 64};
    memset(tiled, 0, sizeof tiled);
    unsigned long long in0, out0, in1, out1;
    dnas_diana_host_bytes(&in0, &out0);
    assert_int_equal(dnas_diana_run_tiles(tiled, in, &j, &t, l1, l1w), DNAS_RT_OK);
    assert_memory_equal(whole, tiled, sizeof whole);
    dnas_diana_host_bytes(&in1, &out1);
    /* inputs: 2 channel tiles x (3 + 4 + 3 rows) x 6 bytes; weights 2 x (144 + 64) */
    assert_int_equal(in1 - in0, 2 * 10 * 6 + 2 * (144 + 64));
    assert_int_equal(out1 - out0, sizeof whole);
    t.tc = 8; /* off the 16-channel blocks */
    assert_int_equal(dnas_diana_run_tiles(tiled, in, &j, &t, l1, l1w), DNAS_RT_ERR_ARG);
    t.tc = 16, t.in_bytes = 23; /* a window larger than its buffer */
    assert_int_equal(dnas_diana_run_tiles(tiled, in, &j, &t, l1, l1w), DNAS_RT_ERR_ARG);
    t.in_bytes = 24, t.w_bytes = 16 * 9 + 63; /* weights, biases, multipliers past the buffer */
    assert_int_equal(dnas_diana_run_tiles(tiled, in, &j, &t, l1, l1w), DNAS_RT_ERR_ARG);
    t.w_bytes = 16 * 9 + 64, t.th = 7; /* outside the output */
    assert_int_equal(dnas_diana_run_tiles(tiled, in, &j, &t, l1, l1w), DNAS_RT_ERR_ARG);
    t.th = 2;
    assert_int_equal(dnas_diana_run_tiles(tiled, in, &j, &t, l1, NULL), DNAS_RT_ERR_ARG);
    /* analog, 16 channels in 2 channel tiles of 8 (the array's columns as
     * the pass would cut a job wider than the array): planes per tile,
     * inputs clamped to 7 bits, no weight transfers */
    int8_t tw[16 * 9];
    for (int i = 0; i < 16 * 9; i++)
        tw[i] = (int8_t)(i % 3 - 1);
    uint8_t planes[2 * 9 * 2], tiles[2 * 2 * 9 * 1];
    assert_int_equal(dnas_diana_pack_analog(planes, tw, 16, 9), DNAS_RT_OK);
    assert_int_equal(dnas_diana_pack_analog(tiles, tw, 8, 9), DNAS_RT_OK);
    assert_int_equal(dnas_diana_pack_analog(tiles + 18, tw + 8 * 9, 8, 9), DNAS_RT_OK);
    dnas_diana_job a = j;
    a.engine = DNAS_DIANA_ANALOG, a.d.cout = 16, a.out_cstride = 16, a.in_lo = 0, a.in_hi = 127;
    a.w = planes;
    assert_int_equal(dnas_diana_run(whole, in, &a), DNAS_RT_OK);
    a.w = tiles;
    dnas_diana_tiles ta = {3, 4, 8, {0, 64}, {128, 256}, {0, 0}, 30, 96, 0};
    memset(tiled, 0, sizeof tiled);
    dnas_diana_host_bytes(&in0, &out0);
    assert_int_equal(dnas_diana_run_tiles(tiled, in, &a, &ta, l1, NULL), DNAS_RT_OK);
    assert_memory_equal(whole, tiled, 6 * 6 * 16);
    dnas_diana_host_bytes(&in1, &out1);
    /* 2 channel tiles x windows of 4 rows x 5, 3, 5, 3 columns */
    assert_int_equal(in1 - in0, 2 * (4 * 5 + 4 * 3 + 4 * 5 + 4 * 3));
    assert_int_equal(out1 - out0, 6 * 6 * 16);
    int varies = 0;
    for (int i = 1; i < 6 * 6 * 16; i++)
        varies |= whole[i] != whole[0];
    assert_true(varies);
    dnas_diana_l1_free(DNAS_DIANA_L1_ACT);
    dnas_diana_l1_free(DNAS_DIANA_L1_WDIG);
    assert_null(dnas_diana_l1_alloc(DNAS_DIANA_L1_ACT, DNAS_DIANA_L1_ACT_BYTES + 1));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(executor_checks),   cmocka_unit_test(resnet8_l1_target),
        cmocka_unit_test(resnet8_l1_small),  cmocka_unit_test(dscnn_l1_target),
        cmocka_unit_test(dscnn_l1_small),    cmocka_unit_test(odimo_l1_target),
        cmocka_unit_test(odimo_l1_small),    cmocka_unit_test(pit_l1_target),
        cmocka_unit_test(pit_l1_small),      cmocka_unit_test(overrunning_tile_caught),
        cmocka_unit_test(small_l1_caught),   cmocka_unit_test(smallest_l1_error),
    };
    return cmocka_run_group_tests(tests, setup, dck_teardown);
}
