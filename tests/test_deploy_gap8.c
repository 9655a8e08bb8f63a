/* The `gap8` backend end to end on the host model of its runtime
 * (deploy/runtime/pulp/dnas_pulp_host.c): resnet8_fmnist and dscnn_fmnist
 * (seeded random weights, quantized on real Fashion-MNIST images, as
 * tests/test_deploy_c.c) compiled for configs/targets/gap8.yaml at its L1 of
 * 64,000 bytes and at an L1 small enough to tile most layers; the
 * generated code, built with -std=c99 -Wall -Wextra -Werror -pedantic and
 * ASan/UBSan, runs 32 real test images through L1 tiles, DMA and the 8-core
 * fork: its outputs equal the integer evaluator's byte for byte, and the
 * host model counts exactly the DMA bytes the tile pass reported. Then the
 * host model must catch a tile buffer moved past the end of L1 by hand in
 * network.c, and an L1 set below what the code needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NCHECK 32
#include "deploy_check_util.h"

#define CFLAGS                                                                                     \
    "-std=c99 -Wall -Wextra -Werror -pedantic -O1 -fsanitize=address,undefined "                   \
    "-fno-sanitize-recover=undefined"

typedef struct {
    int tiled_ops, split_ops; /* ops through L1, and those in more than one tile */
    size_t l1_bytes;
    uint64_t dma_bytes, dma_bound;
} tiling;

/* The zoo model compiled by the gap8 backend for gap8.yaml with L1 bytes
 * (0: the target's) into a fresh directory with the test vectors. */
static void deploy_gap8(deployed *d, const char *name, size_t l1, tiling *tl) {
    char path[4200], tpath[4200];
    dtu_model_path(path, sizeof path, name);
    const char *src = getenv("DNAS_SOURCE_DIR");
    snprintf(tpath, sizeof tpath, "%s/configs/targets/gap8.yaml", src ? src : DNAS_SOURCE_DIR);
    train_net *net = dtu_net(path, 21);
    train_dataset calib = real_data(net, 0, NCALIB);
    train_dataset check = real_data(net, CHECK_FROM, NCHECK);
    dtu_export(&d->q, net, &calib);
    d->in = input_bytes(&d->q, check.x, NCHECK);
    snprintf(d->dir, sizeof d->dir, "/tmp/dnas_deploy_gap8_XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    const deploy_backend *be = deploy_backend_find("gap8");
    assert_non_null(be);
    hwcost_target target;
    dnas_error err;
    if (hwcost_target_load(&target, tpath, &err)) fail_msg("%s", err.msg);
    deploy_ir ir;
    deploy_compile_params p = deploy_backend_params(be);
    p.target = &target;
    p.l1_bytes = l1;
    deploy_emit_info info = {"test_deploy_gap8.c", name, NULL, "test"};
    if (deploy_compile(&ir, &d->q, name, &p, &err) || be->emit(&ir, &info, d->dir, &err) ||
        deploy_emit_vectors(&d->q, d->in, NCHECK, d->dir, &err))
        fail_msg("%s: %s", name, err.msg);
    memset(tl, 0, sizeof *tl);
    for (int k = 0; k < ir.nops; k++) {
        const deploy_tile *t = &ir.ops[k].tile;
        tl->tiled_ops += t->tiled;
        tl->split_ops += t->tiled && t->nh * t->nw * t->nc > 1;
    }
    tl->l1_bytes = ir.l1_bytes, tl->dma_bytes = ir.dma_bytes, tl->dma_bound = ir.dma_bound;
    assert_true(ir.l1_bytes <= (l1 ? l1 : 64000));
    deploy_ir_free(&ir);
    train_dataset_free(&calib);
    train_dataset_free(&check);
    train_net_free(net);
}

/* `make check` with extra make arguments; the log's text (to free). */
static char *run_check(const deployed *d, const char *args, int *rc) {
    char cmd[8400], log[200];
    snprintf(cmd, sizeof cmd, "make -s -C '%s' %s > '%s/check.log' 2>&1", d->dir, args, d->dir);
    int r = system(cmd);
    *rc = WIFEXITED(r) ? WEXITSTATUS(r) : -1;
    snprintf(log, sizeof log, "%s/check.log", d->dir);
    return read_all(log);
}

/* Built with the sanitizers and run: every output byte equal, and the host
 * model's DMA bytes NCHECK times the tile pass's. */
static void bit_exact(const char *name, size_t l1, int want_split) {
    deployed d;
    tiling tl;
    deploy_gap8(&d, name, l1, &tl);
    int rc;
    char *text = run_check(&d, "check CFLAGS='" CFLAGS "'", &rc);
    if (rc != 0) fail_msg("%s, L1 %zu: make check exited %d:\n%s", name, l1, rc, text);
    char want[64];
    snprintf(want, sizeof want, "%d samples: equal (0 values differ)", NCHECK);
    if (!strstr(text, want)) fail_msg("%s: no '%s' in:\n%s", name, want, text);
    const char *p = strstr(text, "transfers, ");
    assert_non_null(p);
    unsigned long long in = 0, out = 0;
    assert_int_equal(sscanf(p, "transfers, %llu bytes into L1, %llu bytes out of L1", &in, &out),
                     2);
    assert_int_equal(in + out, (unsigned long long)NCHECK * tl.dma_bytes);
    assert_true(tl.dma_bytes >= tl.dma_bound);
    printf("%s on gap8, L1 %zu: %s; %d of %d cluster layers in several tiles, L1 used %zu, "
           "DMA %llu bytes per inference (lower bound %llu, %.3fx)\n",
           name, l1 ? l1 : (size_t)64000, want, tl.split_ops, tl.tiled_ops, tl.l1_bytes,
           (unsigned long long)tl.dma_bytes, (unsigned long long)tl.dma_bound,
           (double)tl.dma_bytes / (double)tl.dma_bound);
    if (want_split) assert_true(2 * tl.split_ops > tl.tiled_ops);
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

/* The output buffers of the first tiled layer with two of them moved by
 * hand to the last bytes of the L1 block: the cores write past the
 * allocation and the host model reports it. */
static void overrunning_tile_caught(void **state) {
    (void)state;
    deployed d;
    tiling tl;
    deploy_gap8(&d, "dscnn_fmnist", SMALL_L1, &tl);
    int rc;
    char *text = run_check(&d, "check", &rc);
    if (rc != 0) fail_msg("unchanged code failed:\n%s", text);
    free(text);
    char path[200];
    snprintf(path, sizeof path, "%s/network.c", d.dir);
    text = read_all(path);
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
    text = run_check(&d, "check", &rc);
    if (rc == 0) fail_msg("a tile past the end of L1 was not caught:\n%s", text);
    assert_non_null(strstr(text, "dnas_pulp host model:"));
    assert_true(strstr(text, "a write past the L1 allocation") != NULL ||
                strstr(text, "neither end inside the L1 allocation") != NULL);
    printf("overrunning tile caught: %s", strstr(text, "dnas_pulp host model:"));
    free(text);
    cleanup(&d);
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
    char *text = run_check(&d, args, &rc);
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
        cmocka_unit_test(resnet8_l1_target),       cmocka_unit_test(resnet8_l1_small),
        cmocka_unit_test(dscnn_l1_target),         cmocka_unit_test(dscnn_l1_small),
        cmocka_unit_test(overrunning_tile_caught), cmocka_unit_test(small_l1_caught),
        cmocka_unit_test(smallest_l1_error),
    };
    return cmocka_run_group_tests(tests, dck_setup, dck_teardown);
}
