/* The `gap8` backend end to end on the host model of its runtime
 * (deploy/runtime/pulp/dnas_pulp_host.c): resnet8_fmnist and dscnn_fmnist
 * (seeded random weights, quantized on real Fashion-MNIST images, as
 * tests/test_deploy_c.c), the TCN as the tiny PIT search of
 * tests/cli_deploy.sh finds it (1-D convs with dilation 2, 8, 4, 2 and 23
 * channels left) and an ODiMO-like resnet8_fmnist (diana_test_util.h:
 * channels of every conv on an "analog" engine that reads 7-bit inputs,
 * so the split pass cuts those layers by input clamp) compiled for
 * configs/targets/gap8.yaml at its L1 of 64,000 bytes and at an L1 small
 * enough to tile; the generated code, built with -std=c99 -Wall -Wextra
 * -Werror -pedantic and ASan/UBSan, runs 32 real test images through L1
 * tiles, DMA and the 8-core fork: its outputs equal the integer
 * evaluator's byte for byte, and the host model counts exactly the DMA
 * bytes the tile pass reported and network.c states (for a split layer:
 * each part over its channels). Then the host model must catch a tile buffer moved past the end
 * of L1 by hand in network.c, and an L1 set below what the code needs.
 * The executor alone (dnas_gap8_conv on the host model): a dilated conv
 * computed in two parts on channel lists, one on its input clamped to 7
 * bits, in several tiles, equals the whole layer on the raw and the
 * clamped input channel by channel, and moves exactly the bytes its tiles
 * need. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NCHECK 32
#include "deploy_check_util.h"
#include "diana_test_util.h"
#include "dnas_gap8.h"

#define CFLAGS                                                                                     \
    "-std=c99 -Wall -Wextra -Werror -pedantic -O1 -fsanitize=address,undefined "                   \
    "-fno-sanitize-recover=undefined"

typedef struct {
    int tiled_ops, split_ops; /* ops through L1, and those in more than one tile */
    int parts, clamped;       /* ops on a channel subset, ops reading a clamped input */
    int tiles[64];            /* tiles of each cluster op (the first 64) */
    size_t l1_bytes;
    uint64_t dma_bytes, dma_bound; /* the tile pass's */
    double cycles, tiled_cycles;   /* the cost model's, cluster ops whole and in tiles */
} tiling;

/* The TCN as the tiny PIT search of tests/cli_deploy.sh finds it
 * (search_pit_tcn_fmnist_tiny.yaml at mu 1e-4, its --model-out). */
static const char *const PIT_TCN =
    "name: tcn_pit\n"
    "input: [28, 1, 28]\n"
    "layers:\n"
    "  - {name: conv1, op: conv1d, out: 8, kernel: 4, dilation: 2, padding: [2, 4], bias: false}\n"
    "  - {name: bn1, op: batchnorm}\n"
    "  - {name: relu1, op: relu}\n"
    "  - {name: conv2, op: conv1d, out: 4, kernel: 4, dilation: 2, padding: [2, 4], bias: false}\n"
    "  - {name: bn2, op: batchnorm}\n"
    "  - {name: relu2, op: relu}\n"
    "  - {name: conv3, op: conv1d, out: 2, kernel: 9, stride: 2, padding: same, bias: false}\n"
    "  - {name: bn3, op: batchnorm}\n"
    "  - {name: relu3, op: relu}\n"
    "  - {name: conv4, op: conv1d, out: 23, kernel: 4, dilation: 2, padding: [2, 4], bias: false}\n"
    "  - {name: bn4, op: batchnorm}\n"
    "  - {name: relu4, op: relu}\n"
    "  - {name: pool, op: global_avgpool}\n"
    "  - {name: fc, op: linear, out: 10}\n";

/* The network of name: "tcn_pit" (PIT_TCN), "odimo_resnet8" (resnet8_fmnist
 * with a DIANA ODiMO-like engine split, its analog engine reading 7-bit
 * inputs), else the zoo model; seeded random weights, quantized on real
 * images into d->q. */
static train_net *network_of(deployed *d, const char *name, train_dataset *calib) {
    char path[4200];
    int odimo = !strcmp(name, "odimo_resnet8");
    int pit = !strcmp(name, "tcn_pit");
    if (pit) { /* a file of its own, removed once read */
        snprintf(path, sizeof path, "/tmp/dnas_tcn_pit_XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        FILE *f = fdopen(fd, "w");
        assert_non_null(f);
        fputs(PIT_TCN, f);
        assert_int_equal(fclose(f), 0);
    } else {
        dtu_model_path(path, sizeof path, odimo ? "resnet8_fmnist" : name);
    }
    train_net *net = dtu_net(path, 21);
    if (pit) unlink(path);
    *calib = real_data(net, 0, NCALIB);
    dtu_export(&d->q, net, calib);
    if (odimo) dia_odimo_split(&d->q, 17, 4, 7);
    return net;
}

/* The text of the file at path (to free). */
static __attribute__((noinline)) char *file_text(const char *path) {
    return read_all(path);
}

/* The number after `key` in text (0 when missing). */
static unsigned long long number_after(const char *text, const char *key) {
    const char *at = strstr(text, key);
    return at ? strtoull(at + strlen(key), NULL, 10) : 0;
}

/* The network compiled by the gap8 backend for gap8.yaml with L1 bytes
 * (0: the target's) into a fresh directory with the test vectors. */
static void deploy_gap8(deployed *d, const char *name, size_t l1, tiling *tl) {
    char tpath[4200];
    const char *src = getenv("DNAS_SOURCE_DIR");
    snprintf(tpath, sizeof tpath, "%s/configs/targets/gap8.yaml", src ? src : DNAS_SOURCE_DIR);
    train_dataset calib;
    train_net *net = network_of(d, name, &calib);
    train_dataset check = real_data(net, CHECK_FROM, NCHECK);
    d->in = input_bytes(&d->q, check.x, NCHECK);
    hwcost_target target;
    dnas_error err;
    if (hwcost_target_load(&target, tpath, &err)) fail_msg("%s", err.msg);
    deploy_ir ir;
    dck_emit(d, name, "gap8", &target, l1, &ir);
    memset(tl, 0, sizeof *tl);
    for (int k = 0; k < ir.nops; k++) {
        const deploy_ir_op *o = &ir.ops[k];
        const deploy_tile *t = &o->tile;
        if (t->tiled && tl->tiled_ops < 64) tl->tiles[tl->tiled_ops] = t->nh * t->nw * t->nc;
        tl->tiled_ops += t->tiled;
        tl->split_ops += t->tiled && t->nh * t->nw * t->nc > 1;
        tl->parts += o->channels != NULL;
        if (t->tiled) tl->cycles += o->cycles, tl->tiled_cycles += t->tile_cycles;
    }
    tl->l1_bytes = ir.l1_bytes, tl->dma_bytes = ir.dma_bytes, tl->dma_bound = ir.dma_bound;
    assert_true(ir.l1_bytes <= (l1 ? l1 : 64000));
    deploy_ir_free(&ir);
    train_dataset_free(&calib);
    train_dataset_free(&check);
    train_net_free(net);
}

/* Built with the sanitizers and run: every output byte equal, and the host
 * model's DMA bytes NCHECK times what network.c states and the tile pass
 * reported (a layer split by input clamp: each part over its channels).
 * want_split: 1 most cluster layers in several tiles, 2 at least one. */
static void bit_exact(const char *name, size_t l1, int want_split) {
    deployed d;
    tiling tl;
    deploy_gap8(&d, name, l1, &tl);
    char npath[200];
    snprintf(npath, sizeof npath, "%s/network.c", d.dir);
    char *net = file_text(npath);
    unsigned long long dma = number_after(net, "DMA moves ");
    unsigned long long bound = number_after(net, "moved once: ");
    for (const char *at = net; (at = strstr(at, "the input clamped to ")) != NULL; at++)
        tl.clamped++;
    free(net);
    assert_true(dma > 0 && bound > 0);
    assert_int_equal(dma, tl.dma_bytes);
    assert_int_equal(bound, tl.dma_bound);
    int rc;
    char *text = dck_make(d.dir, "check CFLAGS='" CFLAGS "'", &rc);
    if (rc != 0) fail_msg("%s, L1 %zu: make check exited %d:\n%s", name, l1, rc, text);
    char want[64];
    snprintf(want, sizeof want, "%d samples: equal (0 values differ)", NCHECK);
    if (!strstr(text, want)) fail_msg("%s: no '%s' in:\n%s", name, want, text);
    const char *p = strstr(text, "transfers, ");
    assert_non_null(p);
    unsigned long long in = 0, out = 0;
    assert_int_equal(sscanf(p, "transfers, %llu bytes into L1, %llu bytes out of L1", &in, &out),
                     2);
    assert_int_equal(in + out, (unsigned long long)NCHECK * dma);
    assert_true(dma >= bound);
    assert_true(tl.tiled_cycles >= tl.cycles);
    printf("%s on gap8, L1 %zu: %s; %d of %d cluster layers in several tiles, %d on channel "
           "subsets, %d on a clamped input, L1 used %zu, DMA %llu bytes per inference (lower "
           "bound %llu, %.3fx), cost model %.0f cycles whole, %.0f in tiles; tiles per layer:",
           name, l1 ? l1 : (size_t)64000, want, tl.split_ops, tl.tiled_ops, tl.parts, tl.clamped,
           tl.l1_bytes, dma, bound, (double)dma / (double)bound, tl.cycles, tl.tiled_cycles);
    for (int k = 0; k < tl.tiled_ops && k < 64; k++)
        printf(" %d", tl.tiles[k]);
    printf("\n");
    if (want_split == 1) assert_true(2 * tl.split_ops > tl.tiled_ops);
    if (want_split == 2) assert_true(tl.split_ops >= 1);
    if (!strcmp(name, "odimo_resnet8")) assert_true(tl.parts >= 2 && tl.clamped >= 1);
    free(text);
    cleanup(&d);
}

/* The small L1: most layers of both networks need several tiles. */
#define SMALL_L1 6000

static void resnet8_l1_target(void **state) {
    (void)state;
    bit_exact("resnet8_fmnist", 0, 0);
}
static void resnet8_l1_small(void **state) {
    (void)state;
    bit_exact("resnet8_fmnist", SMALL_L1, 1);
}
static void dscnn_l1_target(void **state) {
    (void)state;
    bit_exact("dscnn_fmnist", 0, 0);
}
static void dscnn_l1_small(void **state) {
    (void)state;
    bit_exact("dscnn_fmnist", SMALL_L1, 1);
}

/* The PIT-found TCN: its first layer (28 input channels, 8 of 4 taps)
 * needs 1,968 bytes whole and at least 1,360 in tiles; at 1,400 it runs
 * in 28 tiles, the rest whole. */
#define PIT_SMALL_L1 1400

static void pit_tcn_l1_target(void **state) {
    (void)state;
    bit_exact("tcn_pit", 0, 0);
}
static void pit_tcn_l1_small(void **state) {
    (void)state;
    bit_exact("tcn_pit", PIT_SMALL_L1, 2);
}

/* The ODiMO-like resnet8: every split layer is two cluster layers, one
 * reading the input as it is, one clamped to 7 bits in L1. */
static void odimo_l1_target(void **state) {
    (void)state;
    bit_exact("odimo_resnet8", 0, 0);
}
static void odimo_l1_small(void **state) {
    (void)state;
    bit_exact("odimo_resnet8", SMALL_L1, 1);
}

/* The output buffers of the first tiled layer with two of them moved by
 * hand to the last bytes of the L1 block: the cores write past the
 * allocation and the host model reports it. */
static void overrunning_tile_caught(void **state) {
    (void)state;
    deployed d;
    tiling tl;
    deploy_gap8(&d, "dscnn_fmnist", SMALL_L1, &tl);
    int rc;
    char *text = dck_make(d.dir, "check", &rc);
    if (rc != 0) fail_msg("unchanged code failed:\n%s", text);
    free(text);
    char path[200];
    snprintf(path, sizeof path, "%s/network.c", d.dir);
    text = file_text(path);
    const char *tag = "}, /* L1 offsets: input, weights, output */";
    char *end = strstr(text, tag);
    assert_non_null(end);
    char *open = end;
    while (*open != '{')
        open--; /* the output pair "{A, B" */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%.*s{NETWORK_L1_BYTES - 8, NETWORK_L1_BYTES - 4%s", (int)(open - text), text, end);
    assert_int_equal(fclose(f), 0);
    free(text);
    text = dck_make(d.dir, "check", &rc);
    if (rc == 0) fail_msg("a tile past the end of L1 was not caught:\n%s", text);
    assert_non_null(strstr(text, "dnas_pulp host model:"));
    assert_true(strstr(text, "a write past the L1 allocation") != NULL ||
                strstr(text, "neither end inside the L1 allocation") != NULL);
    printf("overrunning tile caught: %s", strstr(text, "dnas_pulp host model:"));
    free(text);
    cleanup(&d);
}

/* 3x3 conv (columns dilated 2) [6][7][5] -> [6][7][10], uint8, with bias:
 * channels A = {0, 2, 3, 7} on the input as it is, B = {1, 4, 5, 6, 8, 9}
 * on it clamped to 7 bits (0..127), each part by dnas_gap8_conv in tiles
 * of 2 rows x 3 columns x 4 channels. The L1 buffers by hand: an input
 * window of (2-1)+2+1 = 4 rows x (3-1)+2·2+1 = 7 columns x 5 channels =
 * 140 bytes, a weight tile of 4·45 = 180 + 16 (bias) + 16 (multipliers) =
 * 212 bytes, an output tile of 24 bytes, each doubled: 752 bytes. DMA per
 * part of n channels: its constants n·(45 + 8) once, per spatial tile
 * (3 x 3 of them) and channel tile its input window, and its outputs. A
 * channel list reaching past the output tensor is refused. */
static void channel_parts_executor(void **state) {
    (void)state;
    enum { H = 6, W = 7, CI = 5, CO = 10, K = 45 };
    static const int32_t part_a[] = {0, 2, 3, 7}, part_b[] = {1, 4, 5, 6, 8, 9};
    dnas_rt_conv_dims d = {H, W, CI, H, W, CO, 3, 3, 1, 1, 1, 2, 1, 1, 2, 2, 1, 0, 0};
    uint8_t in[H * W * CI], sat[H * W * CI], raw[H * W * CO], clamped[H * W * CO];
    uint8_t out[H * W * CO];
    int8_t w[CO * K];
    int32_t bias[CO], m[CO];
    uint64_t s = 99;
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(dia_rand(&s) % 256);
    for (size_t i = 0; i < sizeof w; i++)
        w[i] = (int8_t)((int)(dia_rand(&s) % 255) - 127);
    for (int c = 0; c < CO; c++)
        bias[c] = (int32_t)(dia_rand(&s) % 20001) - 10000,
        m[c] = 1024 + (int32_t)(dia_rand(&s) % 3072);
    dnas_rt_weights wt = {w, 8, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {m, 20, 0, 255};
    assert_int_equal(dnas_rt_conv2d(raw, in, &wt, bias, &rq, &d), DNAS_RT_OK);
    assert_int_equal(dnas_rt_saturate(sat, in, sizeof in, 0, 0, 127), DNAS_RT_OK);
    assert_int_equal(dnas_rt_conv2d(clamped, sat, &wt, bias, &rq, &d), DNAS_RT_OK);
    int differ = 0;
    for (size_t i = 0; i < sizeof raw; i++)
        differ += raw[i] != clamped[i];
    assert_true(differ > 0); /* the clamp matters for these inputs */
    dnas_pulp_region(in, sizeof in, DNAS_PULP_L2);
    dnas_pulp_region(out, sizeof out, DNAS_PULP_L2);
    dnas_pulp_region(w, sizeof w, DNAS_PULP_L3);
    dnas_pulp_region(bias, sizeof bias, DNAS_PULP_L3);
    dnas_pulp_region(m, sizeof m, DNAS_PULP_L3);
    uint8_t *l1 = dnas_pulp_l1_malloc(752);
    assert_non_null(l1);
    dnas_gap8_layer L = {d,  2,      3,        4,          8,          20,
                         0,  255,    {0, 140}, {280, 492}, {704, 728}, DNAS_PULP_CORES,
                         CO, part_a, 0};
    memset(out, 0x5a, sizeof out);
    unsigned long long in0, out0, in1, out1;
    dnas_pulp_host_bytes(&in0, &out0);
    L.d.cout = 4;
    assert_int_equal(dnas_gap8_conv(&L, l1, out, in, w, bias, m), DNAS_RT_OK);
    L.d.cout = 6, L.chan = part_b, L.in_bits = 7;
    assert_int_equal(dnas_gap8_conv(&L, l1, out, in, w, bias, m), DNAS_RT_OK);
    dnas_pulp_host_bytes(&in1, &out1);
    for (int p = 0; p < H * W; p++)
        for (int c = 0; c < CO; c++) {
            int in_b = c == 1 || (c >= 4 && c != 7);
            uint8_t want = (in_b ? clamped : raw)[p * CO + c];
            if (out[p * CO + c] != want)
                fail_msg("pixel %d channel %d: %d, the whole layer on the %s input: %d", p, c,
                         out[p * CO + c], in_b ? "clamped" : "raw", want);
        }
    /* The input windows: output rows 0-1, 2-3, 4-5 read rows 0-2, 1-4, 3-5
     * (3 + 4 + 3); output columns 0-2, 3-5, 6 read columns 0-4, 1-6, 4-6
     * (5 + 6 + 3): 10 · 14 · 5 = 700 bytes per channel tile. Part A: one
     * channel tile, 700 + 4 · 53 + 42 · 4 = 1080; part B: two, 1400 + 6 · 53
     * + 42 · 6 = 1970. */
    unsigned long long moved = (in1 - in0) + (out1 - out0);
    assert_int_equal(moved, 1080 + 1970);
    printf("two channel parts of a dilated conv, one on a 7-bit clamped input, in 2x3x4 tiles: "
           "equal to the whole layer; DMA %llu bytes\n",
           moved);
    static const int32_t bad[] = {1, 4, 5, 6, 8, 10}; /* channel 10 is past the tensor */
    L.chan = bad;
    assert_int_equal(dnas_gap8_conv(&L, l1, out, in, w, bias, m), DNAS_RT_ERR_ARG);
    dnas_pulp_l1_free(l1);
}

/* The modelled L1 set by hand below what the code allocates. */
static void small_l1_caught(void **state) {
    (void)state;
    deployed d;
    tiling tl;
    deploy_gap8(&d, "dscnn_fmnist", SMALL_L1, &tl);
    char args[64];
    snprintf(args, sizeof args, "-B check L1=%zu", tl.l1_bytes - 4);
    int rc;
    char *text = dck_make(d.dir, args, &rc);
    if (rc == 0) fail_msg("L1 of %zu bytes was not caught:\n%s", tl.l1_bytes - 4, text);
    assert_non_null(strstr(text, "L1 allocation of"));
    printf("L1 below the code's %zu bytes caught: %s", tl.l1_bytes,
           strstr(text, "dnas_pulp host model:"));
    free(text);
    cleanup(&d);
}

/* An L1 below what the largest tile-less layer needs: the compiler's error
 * names the smallest L1 that would do, and that L1 compiles. */
static void smallest_l1_error(void **state) {
    (void)state;
    char path[4200], tpath[4200];
    dtu_model_path(path, sizeof path, "dscnn_fmnist");
    const char *src = getenv("DNAS_SOURCE_DIR");
    snprintf(tpath, sizeof tpath, "%s/configs/targets/gap8.yaml", src ? src : DNAS_SOURCE_DIR);
    deploy_qnet q;
    dtu_zoo_qnet(&q, "dscnn_fmnist");
    hwcost_target target;
    dnas_error err;
    if (hwcost_target_load(&target, tpath, &err)) fail_msg("%s", err.msg);
    deploy_ir ir;
    deploy_compile_params p = deploy_backend_params(deploy_backend_find("gap8"));
    p.target = &target;
    p.l1_bytes = 100;
    assert_int_equal(deploy_compile(&ir, &q, "dscnn", &p, &err), DNAS_ERR_UNSUPPORTED);
    const char *at = strstr(err.msg, "a memory of ");
    assert_non_null(at);
    size_t need = (size_t)strtoul(at + 12, NULL, 10);
    printf("L1 100: %s\n", err.msg);
    p.l1_bytes = need;
    dnas_status st = deploy_compile(&ir, &q, "dscnn", &p, &err);
    /* that layer fits now; a later one may need more: raise to each named size */
    while (st == DNAS_ERR_UNSUPPORTED && (at = strstr(err.msg, "a memory of ")) != NULL) {
        size_t more = (size_t)strtoul(at + 12, NULL, 10);
        assert_true(more > need);
        need = p.l1_bytes = more;
        st = deploy_compile(&ir, &q, "dscnn", &p, &err);
    }
    assert_int_equal(st, DNAS_OK);
    assert_int_equal(ir.l1_bytes, need);
    p.l1_bytes = need - 1;
    deploy_ir_free(&ir);
    assert_int_equal(deploy_compile(&ir, &q, "dscnn", &p, &err), DNAS_ERR_UNSUPPORTED);
    printf("smallest L1 for dscnn_fmnist: %zu bytes\n", need);
    deploy_qnet_free(&q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resnet8_l1_target),      cmocka_unit_test(resnet8_l1_small),
        cmocka_unit_test(dscnn_l1_target),        cmocka_unit_test(dscnn_l1_small),
        cmocka_unit_test(pit_tcn_l1_target),      cmocka_unit_test(pit_tcn_l1_small),
        cmocka_unit_test(odimo_l1_target),        cmocka_unit_test(odimo_l1_small),
        cmocka_unit_test(channel_parts_executor), cmocka_unit_test(overrunning_tile_caught),
        cmocka_unit_test(small_l1_caught),        cmocka_unit_test(smallest_l1_error),
    };
    return cmocka_run_group_tests(tests, dck_setup, dck_teardown);
}
