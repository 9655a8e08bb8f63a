/* The deploy compiler (deploy/compiler.h): the arena planner on cases whose
 * offsets are worked out by hand (largest first, the tie rule, alignment,
 * the breadth order where largest first is not optimal), its lower bound
 * and overlap check; the plan of every zoo network (configs/models/)
 * checked for overlaps and against 1.05x its lower bound; the fuse pass
 * (flatten as a view, ReLU recorded), the engines pass from target
 * descriptions, --dump-after, and the backend table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "deploy_test_util.h"
#include "dnas_cm.h"

static size_t plan(deploy_plan_buf *b, int n, size_t align) {
    size_t arena = deploy_plan_arena(b, n, align);
    assert_int_equal(deploy_plan_overlap(b, n, NULL, NULL), 0);
    return arena;
}

/* a (100 B, steps 0..1) -> b (50 B, 1..2) -> c (80 B, 2..2). Largest first:
 * a at 0; c at 0 (not live with a); b live with both, so after the larger
 * end: 100. Arena 150 = the lower bound (step 1: a + b). */
static void planner_chain(void **state) {
    (void)state;
    deploy_plan_buf b[] = {{100, 0, 1, 9}, {50, 1, 2, 9}, {80, 2, 2, 9}};
    assert_int_equal(plan(b, 3, 1), 150);
    assert_int_equal(b[0].offset, 0);
    assert_int_equal(b[1].offset, 100);
    assert_int_equal(b[2].offset, 0);
    assert_int_equal(deploy_plan_lower_bound(b, 3), 150);
}

/* Equal sizes: the buffer born first is placed first (offset 0), whatever
 * its index; equal sizes and births: the smaller index first. */
static void planner_tie_rule(void **state) {
    (void)state;
    deploy_plan_buf b[] = {{64, 1, 2, 0}, {64, 0, 1, 0}};
    assert_int_equal(plan(b, 2, 1), 128);
    assert_int_equal(b[1].offset, 0);
    assert_int_equal(b[0].offset, 64);
    deploy_plan_buf c[] = {{64, 0, 1, 0}, {64, 0, 1, 0}, {32, 2, 2, 0}};
    assert_int_equal(plan(c, 3, 1), 128);
    assert_int_equal(c[0].offset, 0);
    assert_int_equal(c[1].offset, 64);
    assert_int_equal(c[2].offset, 0);
}

/* Offsets are multiples of align: 10 B at 0, the next after 10 rounded up
 * to 16; a 4-byte buffer not live with them goes to 0. */
static void planner_align(void **state) {
    (void)state;
    deploy_plan_buf b[] = {{10, 0, 1, 0}, {10, 1, 1, 0}, {4, 2, 3, 0}};
    assert_int_equal(plan(b, 3, 8), 26);
    assert_int_equal(b[0].offset, 0);
    assert_int_equal(b[1].offset, 16);
    assert_int_equal(b[2].offset, 0);
}

/* The start of mobilenetv1_025 (96x96x3 input, stem 48x48x8, depthwise
 * 48x48x8, pointwise 48x48x16): input 27648 B (0..0), stem 18432 (0..1),
 * dw 18432 (1..3), pw 36864 (3..4). Largest first puts pw at 0, the input
 * at 0, the stem at 27648 and dw after both (46080): 64512 B. Breadth
 * order (size x steps: pw 73728, dw 55296, stem 36864, input 27648): pw at
 * 0, dw at 36864 (live with pw), stem at 0 (live with dw only), the input
 * at 18432 after the stem: 55296 B = the lower bound (step 3: dw + pw). */
static void planner_breadth(void **state) {
    (void)state;
    deploy_plan_buf b[] = {{27648, 0, 0, 0}, {18432, 0, 1, 0}, {18432, 1, 3, 0}, {36864, 3, 4, 0}};
    assert_int_equal(deploy_plan_lower_bound(b, 4), 55296);
    assert_int_equal(plan(b, 4, 1), 55296);
    assert_int_equal(b[3].offset, 0);
    assert_int_equal(b[2].offset, 36864);
    assert_int_equal(b[1].offset, 0);
    assert_int_equal(b[0].offset, 18432);
}

static void planner_overlap_check(void **state) {
    (void)state;
    int i = -1, j = -1;
    deploy_plan_buf b[] = {{10, 0, 1, 0}, {10, 2, 3, 0}, {10, 1, 2, 5}};
    assert_int_equal(deploy_plan_overlap(b, 3, &i, &j), 1); /* 0 and 2 share step 1, bytes 5..9 */
    assert_int_equal(i, 0);
    assert_int_equal(j, 2);
    b[2].offset = 10;
    assert_int_equal(deploy_plan_overlap(b, 3, NULL, NULL), 0);
    b[1].offset = 19; /* 1 and 2 share step 2, byte 19 */
    assert_int_equal(deploy_plan_overlap(b, 3, &i, &j), 1);
    assert_int_equal(i, 1);
    assert_int_equal(j, 2);
    assert_int_equal(deploy_plan_arena(b, 0, 1), 0);
    assert_int_equal(deploy_plan_lower_bound(b, 0), 0);
}

static void compile(deploy_ir *ir, const deploy_qnet *q, const deploy_compile_params *p) {
    dnas_error err;
    if (deploy_compile(ir, q, q->name, p, &err)) fail_msg("%s", err.msg);
}

/* Every zoo network: the planned tensors never overlap while live together
 * (checked here, independently of the pass), every tensor lies inside the
 * arena, and the arena is at most 1.05x the lower bound. */
static void zoo_plans(void **state) {
    (void)state;
    static const char *zoo[] = {
        "resnet8",         "resnet8_fmnist",         "dscnn",          "dscnn_fmnist",
        "mobilenetv1_025", "mobilenetv1_025_fmnist", "fc_autoencoder", "tcn",
        "tcn_fmnist"};
    for (size_t z = 0; z < sizeof zoo / sizeof zoo[0]; z++) {
        deploy_qnet q;
        dtu_zoo_qnet(&q, zoo[z]);
        deploy_ir ir;
        deploy_compile_params p = deploy_compile_default_params();
        compile(&ir, &q, &p);
        deploy_plan_buf *b = calloc((size_t)ir.ntensors, sizeof *b);
        size_t live_most = 0;
        for (int i = 0; i < ir.ntensors; i++) {
            const deploy_ir_tensor *t = &ir.tensors[i];
            assert_true(t->offset >= 0);
            assert_true((size_t)t->offset + t->bytes <= ir.arena);
            b[i] = (deploy_plan_buf){t->bytes, t->first, t->last, (size_t)t->offset};
        }
        int x, y;
        if (deploy_plan_overlap(b, ir.ntensors, &x, &y))
            fail_msg("%s: tensors %d and %d overlap", zoo[z], x, y);
        /* the bound by brute force over steps */
        for (int s = 0; s < ir.nops; s++) {
            size_t live = 0;
            for (int i = 0; i < ir.ntensors; i++)
                if (b[i].first <= s && s <= b[i].last) live += b[i].size;
            if (live > live_most) live_most = live;
        }
        assert_int_equal(ir.arena_bound, live_most);
        printf("%-24s arena %7zu B, lower bound %7zu B, ratio %.3f\n", zoo[z], ir.arena,
               ir.arena_bound, (double)ir.arena / (double)ir.arena_bound);
        assert_true((double)ir.arena <= 1.05 * (double)ir.arena_bound);
        free(b);
        deploy_ir_free(&ir);
        deploy_qnet_free(&q);
    }
}

static const char *NET_FLAT = "input: [3, 6, 5]\n"
                              "layers:\n"
                              "  - {name: c1, op: conv2d, out: 4, kernel: 3, padding: 1}\n"
                              "  - {name: r1, op: relu}\n"
                              "  - {name: dw, op: depthwise, kernel: 3, stride: 2, padding: same}\n"
                              "  - {name: flat, op: flatten}\n"
                              "  - {name: fc, op: linear, out: 5}\n";

static void small_qnet(deploy_qnet *q) {
    train_net *net;
    dnas_error err;
    if (train_net_load_string(&net, NET_FLAT, "flat.yaml", &err)) fail_msg("%s", err.msg);
    train_net_init(net, 3);
    train_dataset ds = dtu_random_data(net, 64, 5);
    dtu_export(q, net, &ds);
    train_dataset_free(&ds);
    train_net_free(net);
}

/* fuse: the flatten goes (the linear reads the depthwise output's bytes),
 * its tensor with it; c1's clamp at 0 is its ReLU; dw (signed) has none. */
static void fuse_flatten(void **state) {
    (void)state;
    deploy_qnet q;
    small_qnet(&q);
    assert_int_equal(q.nops, 4);
    assert_int_equal(q.ops[2].kind, DEPLOY_QOP_FLATTEN);
    deploy_ir ir;
    deploy_compile_params p = deploy_compile_default_params();
    compile(&ir, &q, &p);
    assert_int_equal(ir.nops, 3);
    assert_int_equal(ir.ntensors, 4);
    assert_int_equal(ir.ops[2].kind, DEPLOY_QOP_LINEAR);
    assert_int_equal(ir.ops[2].in[0], ir.ops[1].out);
    assert_int_equal(ir.output, ir.ops[2].out);
    assert_int_equal(ir.ops[0].act, DEPLOY_ACT_RELU);
    assert_int_equal(ir.ops[1].act, DEPLOY_ACT_NONE);
    assert_int_equal(ir.ops[1].depthwise, 1);
    assert_int_equal(ir.ops[0].depthwise, 0);
    /* layout: constants = weights + 4·Cout bias + 4·Cout multipliers */
    size_t want = 0;
    for (int k = 0; k < q.nops; k++)
        if (q.ops[k].wlen) want += q.ops[k].wlen + 8 * (size_t)q.tensors[q.ops[k].out].c;
    assert_int_equal(ir.weight_bytes, want);
    deploy_ir_free(&ir);
    deploy_qnet_free(&q);
}

/* A flatten that produces the network output stays, as a byte copy: the
 * qnet of NET_FLAT without its linear (conv, depthwise, flatten -> output).
 * The c backend's code for it builds and equals the evaluator. */
static void flatten_output(void **state) {
    (void)state;
    deploy_qnet q;
    small_qnet(&q);
    deploy_qop *fc = &q.ops[3];
    free(fc->w), free(fc->bias), free(fc->m);
    fc->w = NULL, fc->bias = fc->m = NULL;
    q.nops = 3;
    q.ntensors = 4;
    q.output = q.ops[2].out;
    deploy_ir ir;
    deploy_compile_params p = deploy_compile_default_params();
    compile(&ir, &q, &p);
    assert_int_equal(ir.nops, 3);
    assert_int_equal(ir.ops[2].kind, DEPLOY_QOP_FLATTEN);
    assert_int_equal(ir.output, ir.ops[2].out);
    char dir[] = "/tmp/dnas_flatten_XXXXXX";
    assert_non_null(mkdtemp(dir));
    dnas_error err;
    uint8_t in[3 * 90];
    deploy_random_inputs(&q, in, 3, 5);
    if (deploy_emit_c(&ir, NULL, dir, &err) || deploy_emit_vectors(&q, in, 3, dir, &err))
        fail_msg("%s", err.msg);
    char cmd[300];
    snprintf(cmd, sizeof cmd,
             "make -s -C %s check > %s/log 2>&1 && grep -q '3 samples: equal' %s/log", dir, dir,
             dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "grep -q 'for (i = 0; i < 36; i++) out\\[i\\] = in\\[i\\];' %s/network.c", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    deploy_ir_free(&ir);
    deploy_qnet_free(&q);
}

static void load_target(hwcost_target *t, const char *name) {
    char path[4200];
    const char *src = getenv("DNAS_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/configs/targets/%s.yaml", src ? src : DNAS_SOURCE_DIR, name);
    dnas_error err;
    if (hwcost_target_load(t, path, &err)) fail_msg("%s", err.msg);
}

/* engines: without a description every op is on "cpu"; cortex_m4's one
 * engine "cpu" runs everything (no host added); on diana the 8-bit convs
 * and the linear go to "digital" (first in the file that runs them), and
 * what no engine lists goes to the host engine appended after them. */
static void engines_from_targets(void **state) {
    (void)state;
    deploy_qnet q;
    dtu_zoo_qnet(&q, "resnet8_fmnist");
    deploy_ir ir;
    deploy_compile_params p = deploy_compile_default_params();
    compile(&ir, &q, &p);
    assert_int_equal(ir.nengines, 1);
    assert_string_equal(ir.engines[0], "cpu");
    for (int k = 0; k < ir.nops; k++)
        assert_int_equal(ir.ops[k].engine, 0);
    deploy_ir_free(&ir);

    hwcost_target *t = malloc(sizeof *t);
    load_target(t, "cortex_m4");
    p.target = t;
    compile(&ir, &q, &p);
    assert_int_equal(ir.nengines, 1);
    for (int k = 0; k < ir.nops; k++)
        assert_int_equal(ir.ops[k].engine, 0);
    deploy_ir_free(&ir);

    load_target(t, "diana");
    compile(&ir, &q, &p);
    assert_int_equal(ir.nengines, 3);
    assert_string_equal(ir.engines[0], "digital");
    assert_string_equal(ir.engines[1], "analog");
    assert_string_equal(ir.engines[2], "cpu");
    for (int k = 0; k < ir.nops; k++) {
        deploy_qop_kind kind = ir.ops[k].kind;
        int want = kind == DEPLOY_QOP_CONV || kind == DEPLOY_QOP_LINEAR ? 0 : 2;
        assert_int_equal(ir.ops[k].engine, want);
    }
    deploy_ir_free(&ir);
    free(t);
    deploy_qnet_free(&q);
}

/* The Cortex-M kernels' scratch: the cortex-m backend's params give the
 * plan pass its size (the most one conv / linear needs by
 * dnas_cm_*_buffer_size, computed here from the qnet, in words plus one),
 * the c backend's none; the memory check counts it beside the arena: SRAM
 * of exactly arena + scratch passes, one byte less fails naming both; the
 * generated header states it. */
static void kernel_scratch_in_memory_check(void **state) {
    (void)state;
    deploy_qnet q;
    dtu_zoo_qnet(&q, "resnet8_fmnist");
    size_t most = 0;
    for (int k = 0; k < q.nops; k++) {
        const deploy_qop *op = &q.ops[k];
        const deploy_qtensor *I = &q.tensors[op->in[0]], *O = &q.tensors[op->out];
        size_t n = 0;
        if (op->kind == DEPLOY_QOP_CONV) {
            dnas_rt_conv_dims d = deploy_qop_conv_dims(op, I, O);
            n = dnas_cm_conv2d_buffer_size(&d);
        } else if (op->kind == DEPLOY_QOP_LINEAR) {
            dnas_rt_linear_dims d = {(int32_t)deploy_qtensor_size(I), O->c, I->is_signed,
                                     O->is_signed};
            n = dnas_cm_linear_buffer_size(&d);
        }
        if (n > most) most = n;
    }
    assert_true(most > 0);
    size_t want = 4 * ((most + 3) / 4 + 1);
    deploy_ir ir;
    deploy_compile_params p = deploy_backend_params(deploy_backend_find("c"));
    compile(&ir, &q, &p);
    assert_int_equal(ir.scratch, 0);
    deploy_ir_free(&ir);
    p = deploy_backend_params(deploy_backend_find("cortex-m"));
    compile(&ir, &q, &p);
    assert_int_equal(ir.scratch, want);
    size_t arena = ir.arena;
    printf("resnet8_fmnist on cortex-m: arena %zu B + kernel scratch %zu B\n", arena, want);
    /* the generated header */
    char dir[] = "/tmp/dnas_scratch_XXXXXX", path[100];
    assert_non_null(mkdtemp(dir));
    deploy_emit_info info = {"test", "resnet8_fmnist", NULL, "test"};
    dnas_error err;
    if (deploy_emit_cortex_m(&ir, &info, dir, &err)) fail_msg("%s", err.msg);
    snprintf(path, sizeof path, "%s/network.h", dir);
    char *text = NULL, line[64];
    if (dnas_read_text(path, 1 << 20, &text, &err)) fail_msg("%s", err.msg);
    snprintf(line, sizeof line, "#define NETWORK_SCRATCH_BYTES %zu\n", want);
    assert_non_null(strstr(text, line));
    free(text);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
    deploy_ir_free(&ir);
    /* the memory check */
    hwcost_target *t = malloc(sizeof *t);
    load_target(t, "cortex_m4");
    int sram = -1;
    for (int m = 0; m < t->nmem; m++)
        if (t->mem[m].holds & HWCOST_HOLD_NETWORK_ACTIVATIONS) sram = m;
    assert_true(sram >= 0);
    p.target = t;
    t->mem[sram].bytes = (double)(arena + want);
    compile(&ir, &q, &p);
    deploy_ir_free(&ir);
    t->mem[sram].bytes = (double)(arena + want - 1);
    assert_int_equal(deploy_compile(&ir, &q, "q", &p, &err), DNAS_ERR_UNSUPPORTED);
    char msg[200];
    snprintf(msg, sizeof msg, "needs %zu there (the activation arena + the kernels' scratch)",
             arena + want);
    if (!strstr(err.msg, msg)) fail_msg("expected '%s' in: %s", msg, err.msg);
    /* without the scratch (the c backend's params) the same memory holds it */
    p = deploy_backend_params(deploy_backend_find("c"));
    p.align = 4;
    p.target = t;
    compile(&ir, &q, &p);
    assert_int_equal(ir.arena, arena);
    deploy_ir_free(&ir);
    free(t);
    deploy_qnet_free(&q);
}

/* --dump-after: the IR after the named pass only; an unknown name lists
 * the passes. */
static void dump_after(void **state) {
    (void)state;
    deploy_qnet q;
    small_qnet(&q);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    deploy_compile_params p = deploy_compile_default_params();
    p.dump_after = "fuse";
    p.dump = f;
    deploy_ir ir;
    compile(&ir, &q, &p);
    fclose(f);
    assert_non_null(strstr(text, " after fuse: 3 ops, 4 tensors"));
    assert_non_null(strstr(text, "relu"));
    assert_null(strstr(text, "engine cpu")); /* not assigned yet */
    assert_null(strstr(text, "after plan"));
    free(text);
    deploy_ir_free(&ir);

    f = open_memstream(&text, &len);
    p.dump_after = "plan";
    p.dump = f;
    compile(&ir, &q, &p);
    fclose(f);
    assert_non_null(strstr(text, "engine cpu"));
    assert_non_null(strstr(text, "arena: "));
    assert_non_null(strstr(text, "lower bound"));
    free(text);
    deploy_ir_free(&ir);

    dnas_error err;
    p.dump_after = "tiling";
    assert_int_equal(deploy_compile(&ir, &q, "x", &p, &err), DNAS_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no pass called 'tiling'"));
    assert_non_null(strstr(err.msg, "build, fuse, engines, split, layout, tile, plan"));
    deploy_qnet_free(&q);
}

static void backend_table(void **state) {
    (void)state;
    const deploy_backend *c = deploy_backend_find("c");
    assert_non_null(c);
    assert_null(c->target);
    assert_ptr_equal(c->emit, deploy_emit_c);
    assert_null(deploy_backend_find("gap9"));
    assert_true(deploy_rt_nfiles >= 3);
    int has_header = 0;
    for (int i = 0; i < deploy_rt_nfiles; i++)
        has_header |= !strcmp(deploy_rt_files[i].name, "dnas_rt.h");
    assert_true(has_header);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(planner_chain),         cmocka_unit_test(planner_tie_rule),
        cmocka_unit_test(planner_align),         cmocka_unit_test(planner_breadth),
        cmocka_unit_test(planner_overlap_check), cmocka_unit_test(zoo_plans),
        cmocka_unit_test(fuse_flatten),          cmocka_unit_test(flatten_output),
        cmocka_unit_test(engines_from_targets),  cmocka_unit_test(dump_after),
        cmocka_unit_test(backend_table),         cmocka_unit_test(kernel_scratch_in_memory_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
