/* The tiler (deploy/compiler/pass_tile.c) and the GAP8 tile executor
 * (deploy/runtime/pulp/dnas_gap8.c) on the host model of the PULP-style API
 * (dnas_pulp_host.c), one layer at a time, on IRs built here:
 * - the tile sizes, buffers, memory bytes and DMA bytes of a 3x3 conv
 *   worked out by hand (in the comments), and the "smallest memory" error
 *   one byte below the smallest tiling;
 * - for convs with padding, stride, dilation, non-square kernels, groups,
 *   depthwise, 1x1 and linear layers, memory sizes swept from the whole
 *   layer's working set down to the smallest tiling: the tiled output
 *   equals the whole layer's (dnas_rt_conv2d) byte for byte, the buffers
 *   fit the memory, the host model counts exactly the DMA bytes the tiler
 *   predicts, and the granularity (channels in 4s or 16s, columns in 16s)
 *   holds for every tiling;
 * - a descriptor whose double buffers coincide is refused;
 * - the host model's rules: a transfer's copy happens at its wait, an L1
 *   allocation beyond L1 is refused, each core of a fork sees its id, and
 *   a transfer past the L1 allocation, one writing L3, one outside every
 *   region and a core writing past the allocation end the process with
 *   status 3 (run in a child). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compiler/compiler_internal.h"
#include "dnas_gap8.h"

/* One op on two tensors, with seeded weights, biases and multipliers. */
typedef struct {
    deploy_qop q;
    deploy_ir_tensor t[2];
    deploy_ir_op op;
    deploy_ir ir;
    uint8_t *in;
} one_layer;

static uint64_t rng = 88172645463325252ull;
static uint32_t next_u32(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* A conv (kind CONV; linear when kh = 0) [hin][win][cin] -> cout. */
static void make_layer(one_layer *L, int32_t hin, int32_t win, int32_t cin, int32_t cout,
                       int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t dh, int32_t dw,
                       int32_t pt, int32_t pb, int32_t pl, int32_t pr, int32_t groups, int bias) {
    memset(L, 0, sizeof *L);
    deploy_qop *q = &L->q;
    snprintf(q->name, sizeof q->name, "layer");
    int linear = kh == 0;
    q->kind = linear ? DEPLOY_QOP_LINEAR : DEPLOY_QOP_CONV;
    q->kh = linear ? 1 : kh, q->kw = linear ? 1 : kw, q->sh = sh, q->sw = sw, q->dh = dh,
    q->dw = dw;
    q->pt = pt, q->pb = pb, q->pl = pl, q->pr = pr, q->groups = groups;
    q->wbits = 8, q->shift = 10, q->lo = 0, q->hi = 255;
    int32_t hout = linear ? 1 : dnas_rt_conv_out_size(hin, kh, sh, dh, pt, pb);
    int32_t wout = linear ? 1 : dnas_rt_conv_out_size(win, kw, sw, dw, pl, pr);
    size_t k = linear ? (size_t)hin * win * cin : (size_t)kh * kw * (cin / groups);
    q->wlen = k * (size_t)cout;
    q->w = malloc(q->wlen);
    for (size_t i = 0; i < q->wlen; i++)
        q->w[i] = (int8_t)((int)(next_u32() % 255) - 127);
    q->m = malloc((size_t)cout * sizeof *q->m);
    if (bias) q->bias = malloc((size_t)cout * sizeof *q->bias);
    for (int32_t c = 0; c < cout; c++) {
        q->m[c] = 300 + (int32_t)(next_u32() % 200);
        if (bias) q->bias[c] = (int32_t)(next_u32() % 20001) - 10000;
    }
    L->t[0] = (deploy_ir_tensor){.h = hin, .w = win, .c = cin, .is_signed = 0, .bits = 8};
    L->t[1] = (deploy_ir_tensor){.h = hout, .w = wout, .c = cout, .is_signed = 0, .bits = 8};
    for (int i = 0; i < 2; i++)
        L->t[i].bytes = (size_t)L->t[i].h * L->t[i].w * L->t[i].c;
    L->op.kind = q->kind;
    L->op.depthwise = !linear && groups == cin && groups == cout && groups > 1;
    L->op.q = q;
    L->op.in[0] = 0, L->op.in[1] = -1, L->op.out = 1, L->op.engine = 0;
    L->op.wbytes = q->wlen + (bias ? 4 * (size_t)cout : 0) + 4 * (size_t)cout;
    snprintf(L->ir.name, sizeof L->ir.name, "test");
    L->ir.ntensors = 2, L->ir.nops = 1;
    L->ir.tensors = L->t, L->ir.ops = &L->op;
    L->ir.input = 0, L->ir.output = 1;
    L->in = malloc(L->t[0].bytes);
    for (size_t i = 0; i < L->t[0].bytes; i++)
        L->in[i] = (uint8_t)(next_u32() % 256);
}

static void free_layer(one_layer *L) {
    free(L->q.w), free(L->q.m), free(L->q.bias), free(L->in);
}

static deploy_tile_limits limits(size_t l1, int32_t cout_gran, int32_t ow_gran) {
    deploy_tile_limits lim = {l1, cout_gran, ow_gran, 1, 4, 0, 1, 0, 0};
    return lim;
}

/* The whole layer by dnas_rt_conv2d. */
static uint8_t *whole(const one_layer *L) {
    dnas_rt_conv_dims d;
    deploy_tile_conv_dims(&L->ir, 0, &d);
    uint8_t *out = malloc(L->t[1].bytes);
    dnas_rt_weights w = {L->q.w, 8, DNAS_RT_PACK_INT8};
    dnas_rt_requant_params rq = {L->q.m, L->q.shift, L->q.lo, L->q.hi};
    assert_int_equal(dnas_rt_conv2d(out, L->in, &w, L->q.bias, &rq, &d), DNAS_RT_OK);
    return out;
}

/* The layer in the tiles t through the host model; the DMA bytes it counted. */
static uint8_t *tiled(const one_layer *L, const deploy_tile *t, unsigned long long *dma,
                      dnas_rt_status *st) {
    dnas_gap8_layer G;
    memset(&G, 0, sizeof G);
    deploy_tile_conv_dims(&L->ir, 0, &G.d);
    G.th = t->th, G.tw = t->tw, G.tc = t->tc;
    G.wbits = 8, G.shift = L->q.shift, G.lo = L->q.lo, G.hi = L->q.hi;
    size_t off[6];
    deploy_tile_offsets(t, 4, off);
    for (int b = 0; b < 2; b++)
        G.l1_in[b] = (uint32_t)off[b], G.l1_w[b] = (uint32_t)off[2 + b],
        G.l1_out[b] = (uint32_t)off[4 + b];
    G.ncores = DNAS_PULP_CORES;
    uint8_t *out = malloc(L->t[1].bytes);
    memset(out, 0x5a, L->t[1].bytes);
    dnas_pulp_region(L->in, L->t[0].bytes, DNAS_PULP_L2);
    dnas_pulp_region(out, L->t[1].bytes, DNAS_PULP_L2);
    dnas_pulp_region(L->q.w, L->q.wlen, DNAS_PULP_L3);
    dnas_pulp_region(L->q.m, (size_t)L->t[1].c * 4, DNAS_PULP_L3);
    if (L->q.bias) dnas_pulp_region(L->q.bias, (size_t)L->t[1].c * 4, DNAS_PULP_L3);
    uint8_t *l1 = dnas_pulp_l1_malloc(t->l1_bytes);
    assert_non_null(l1);
    unsigned long long in0, out0, in1, out1;
    dnas_pulp_host_bytes(&in0, &out0);
    *st = dnas_gap8_conv(&G, l1, out, L->in, L->q.w, L->q.bias, L->q.m);
    dnas_pulp_host_bytes(&in1, &out1);
    dnas_pulp_l1_free(l1);
    *dma = (in1 - in0) + (out1 - out0);
    return out;
}

/* conv 3x3, stride 1, padding 1, [8][8][8] -> [8][8][16] with bias;
 * K = 3·3·8 = 72 weights per channel, a weight buffer of 16 channels is
 * 1152 + 64 (bias) + 64 (multipliers) = 1280 bytes.
 *   whole layer: 512 input + 1024 output + 1280 = 2816 bytes.
 *   one byte less: th = 3, tw = 8, tc = 16 (3 tiles along rows): input
 *   window 5 rows (3 + halo 2) · 8 · 8 = 320, doubled; output 3·8·16 = 384,
 *   doubled; weights once (one channel tile): 640 + 768 + 1280 = 2688.
 *   (th = 4 needs 768 + 1024 + 1280 = 3072; tw = 6, th = 4, the same output
 *   volume 384·... no: 4·6·16 = 384 too, needs 768 + 768 + 1280 = 2816.)
 *   DMA: weights 1280; input rows 0..3, 2..6, 5..7: (4 + 5 + 3)·64 = 768;
 *   output 1024: 3072 bytes against the lower bound 2816.
 *   The smallest tiling: 1x1x4 outputs, input window 3·3·8 = 72 and output
 *   4 bytes doubled, weights 4·72 + 16 + 16 = 320 doubled: 792 bytes. */
static void hand_checked(void **state) {
    (void)state;
    one_layer L;
    make_layer(&L, 8, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    deploy_tile t;
    dnas_error err;
    deploy_tile_limits lim = limits(2816, 4, 1);
    assert_int_equal(deploy_tile_choose(&L.ir, 0, &lim, &t, &err), DNAS_OK);
    assert_int_equal(t.th, 8), assert_int_equal(t.tw, 8), assert_int_equal(t.tc, 16);
    assert_int_equal(t.nh * t.nw * t.nc, 1);
    assert_int_equal(t.l1_bytes, 2816);
    assert_int_equal(t.dma_bytes, 2816);
    lim.l1 = 2815;
    assert_int_equal(deploy_tile_choose(&L.ir, 0, &lim, &t, &err), DNAS_OK);
    assert_int_equal(t.th, 3), assert_int_equal(t.tw, 8), assert_int_equal(t.tc, 16);
    assert_int_equal(t.nh, 3), assert_int_equal(t.nw, 1), assert_int_equal(t.nc, 1);
    assert_int_equal(t.in_bytes, 320), assert_int_equal(t.out_bytes, 384);
    assert_int_equal(t.w_bytes, 1280);
    assert_true(t.in_double && t.out_double && !t.w_double);
    assert_int_equal(t.l1_bytes, 2688);
    assert_int_equal(t.dma_bytes, 3072);
    lim.l1 = 792;
    assert_int_equal(deploy_tile_choose(&L.ir, 0, &lim, &t, &err), DNAS_OK);
    assert_int_equal(t.th, 1), assert_int_equal(t.tw, 1), assert_int_equal(t.tc, 4);
    assert_int_equal(t.l1_bytes, 792);
    lim.l1 = 791;
    assert_int_equal(deploy_tile_choose(&L.ir, 0, &lim, &t, &err), DNAS_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "of 791 bytes in any tiling"));
    assert_non_null(strstr(err.msg, "a memory of 792 bytes would do"));
    printf("smallest-memory error: %s\n", err.msg);
    /* the hand-checked tiling runs and moves the bytes counted above */
    lim.l1 = 2815;
    assert_int_equal(deploy_tile_choose(&L.ir, 0, &lim, &t, &err), DNAS_OK);
    uint8_t *a = whole(&L);
    unsigned long long dma;
    dnas_rt_status st;
    uint8_t *b = tiled(&L, &t, &dma, &st);
    assert_int_equal(st, DNAS_RT_OK);
    assert_memory_equal(a, b, L.t[1].bytes);
    assert_int_equal(dma, 3072);
    free(a), free(b);
    free_layer(&L);
}

typedef struct {
    const char *what;
    int32_t hin, win, cin, cout, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups, bias;
} layer_case;

static const layer_case CASES[] = {
    {"conv 3x3 pad 1", 12, 12, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"conv 3x3 stride 2, pad t0 b1 l0 r1", 15, 16, 6, 12, 3, 3, 2, 2, 1, 1, 0, 1, 0, 1, 1, 1},
    {"conv 3x3 dilation 2 pad 2", 11, 13, 4, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0},
    {"conv 5x3 stride 1x2 pad 2,1", 10, 9, 3, 20, 5, 3, 1, 2, 1, 1, 2, 2, 1, 1, 1, 1},
    {"depthwise 3x3 pad 1", 12, 10, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, 1},
    {"depthwise 3x3 stride 2", 13, 13, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8, 0},
    {"grouped conv, 4 groups", 9, 9, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, 1},
    {"conv 1x1", 7, 7, 16, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
    {"grouped conv 1x1, 4 groups, stride 2", 6, 5, 16, 32, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 4, 1},
    {"conv 1-D (1x5) on a [1][40] sequence", 1, 40, 6, 8, 1, 5, 1, 1, 1, 1, 0, 0, 2, 2, 1, 1},
    {"linear 144 -> 40", 3, 4, 12, 40, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
};

/* Every case at 12 memory sizes from its whole working set down to its
 * smallest tiling, with the granularity gc (channels) and gw (columns). */
static void sweep(int32_t gc, int32_t gw) {
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const layer_case *c = &CASES[i];
        one_layer L;
        make_layer(&L, c->hin, c->win, c->cin, c->cout, c->kh, c->kw, c->sh, c->sw, c->dh, c->dw,
                   c->pt, c->pb, c->pl, c->pr, c->groups, c->bias);
        uint8_t *ref = whole(&L);
        deploy_tile t;
        dnas_error err;
        deploy_tile_limits lim = limits(1u << 30, gc, gw);
        assert_int_equal(deploy_tile_choose(&L.ir, 0, &lim, &t, &err), DNAS_OK);
        assert_int_equal(t.nh * t.nw * t.nc, 1);
        size_t big = t.l1_bytes;
        lim.l1 = 1;
        assert_int_equal(deploy_tile_choose(&L.ir, 0, &lim, &t, &err), DNAS_ERR_UNSUPPORTED);
        const char *p = strstr(err.msg, "a memory of ");
        assert_non_null(p);
        size_t small = (size_t)strtoul(p + 12, NULL, 10);
        assert_true(small > 1 && small <= big);
        int tilings = 0;
        for (int s = 0; s < 12; s++) {
            lim.l1 = small + (big - small) * (size_t)(11 - s) / 11;
            assert_int_equal(deploy_tile_choose(&L.ir, 0, &lim, &t, &err), DNAS_OK);
            assert_true(t.l1_bytes <= lim.l1);
            assert_true(t.tc == L.t[1].c || t.tc % gc == 0);
            assert_true(t.tw == L.t[1].w || t.tw % gw == 0);
            unsigned long long dma;
            dnas_rt_status st;
            uint8_t *out = tiled(&L, &t, &dma, &st);
            if (st != DNAS_RT_OK || memcmp(out, ref, L.t[1].bytes) != 0)
                fail_msg("%s, memory %zu: tiles %dx%dx%d: status %d, output %s", c->what, lim.l1,
                         t.th, t.tw, t.tc, (int)st,
                         memcmp(out, ref, L.t[1].bytes) ? "differs" : "equal");
            assert_int_equal(dma, t.dma_bytes);
            tilings += t.nh * t.nw * t.nc > 1;
            free(out);
        }
        printf("%-40s memory %5zu..%5zu B: %d of 12 sizes tiled, bit-exact\n", c->what, small, big,
               tilings);
        assert_true(tilings >= 10);
        free(ref);
        free_layer(&L);
    }
}

static void sweep_gap8(void **state) {
    (void)state;
    sweep(4, 1);
}

static void sweep_diana_like(void **state) {
    (void)state;
    sweep(16, 16);
}

static void shared_double_buffer_refused(void **state) {
    (void)state;
    one_layer L;
    make_layer(&L, 8, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    deploy_tile t;
    dnas_error err;
    deploy_tile_limits lim = limits(2815, 4, 1);
    assert_int_equal(deploy_tile_choose(&L.ir, 0, &lim, &t, &err), DNAS_OK);
    t.in_double = 0; /* one input buffer while the next tile's input is loaded */
    unsigned long long dma;
    dnas_rt_status st;
    free(tiled(&L, &t, &dma, &st));
    assert_int_equal(st, DNAS_RT_ERR_ARG);
    free_layer(&L);
}

static int seen[DNAS_PULP_CORES];

static void note_core(void *arg) {
    (void)arg;
    seen[dnas_pulp_core_id()] = dnas_pulp_ncores();
}

/* The exit status of fn() run in a child (its stderr silenced). */
static int child_status(void (*fn)(uint8_t *l1), uint8_t *l1) {
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(99);
        fn(l1);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint8_t l2_buf[256];
static const uint8_t l3_buf[64] = {1, 2, 3};

static void past_l1(uint8_t *l1) {
    dnas_pulp_dma job;
    dnas_pulp_dma_init(&job);
    dnas_pulp_dma_1d(&job, l1 + 60, l2_buf, 8); /* the allocation is 64 bytes */
}
static void into_l3(uint8_t *l1) {
    dnas_pulp_dma job;
    dnas_pulp_dma_init(&job);
    dnas_pulp_dma_1d(&job, (void *)(uintptr_t)l3_buf, l1, 8);
}
static void outside_regions(uint8_t *l1) {
    static uint8_t unnamed[16];
    dnas_pulp_dma job;
    dnas_pulp_dma_init(&job);
    dnas_pulp_dma_1d(&job, l1, unnamed, 16);
}
static void scribble(void *arg) {
    uint8_t *l1 = arg;
    if (dnas_pulp_core_id() == 7) l1[64] = 0; /* one byte past the allocation */
}
static void core_past_l1(uint8_t *l1) {
    dnas_pulp_fork(8, scribble, l1);
}

static void host_model_rules(void **state) {
    (void)state;
    dnas_pulp_region(l2_buf, sizeof l2_buf, DNAS_PULP_L2);
    dnas_pulp_region(l3_buf, sizeof l3_buf, DNAS_PULP_L3);
    uint8_t *l1 = dnas_pulp_l1_malloc(64);
    assert_non_null(l1);
    assert_null(dnas_pulp_l1_malloc(DNAS_PULP_L1_BYTES)); /* beyond what is left */
    memset(l1, 0, 64);
    dnas_pulp_dma job;
    dnas_pulp_dma_init(&job);
    dnas_pulp_dma_1d(&job, l1, l3_buf, 3);
    assert_int_equal(l1[0], 0); /* not before the wait */
    dnas_pulp_dma_wait(&job);
    assert_int_equal(l1[0], 1), assert_int_equal(l1[2], 3);
    dnas_pulp_dma_2d(&job, l2_buf + 100, l1, 2, 2, 10, 1); /* rows 1,2 and 2,3 */
    dnas_pulp_dma_wait(&job);
    assert_int_equal(l2_buf[100], 1), assert_int_equal(l2_buf[111], 3);
    dnas_pulp_fork(DNAS_PULP_CORES, note_core, NULL);
    for (int c = 0; c < DNAS_PULP_CORES; c++)
        assert_int_equal(seen[c], DNAS_PULP_CORES);
    assert_int_equal(dnas_pulp_core_id(), 0), assert_int_equal(dnas_pulp_ncores(), 1);
    assert_int_equal(child_status(past_l1, l1), 3);
    assert_int_equal(child_status(into_l3, l1), 3);
    assert_int_equal(child_status(outside_regions, l1), 3);
    assert_int_equal(child_status(core_past_l1, l1), 3);
    dnas_pulp_l1_free(l1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_checked),
        cmocka_unit_test(sweep_gap8),
        cmocka_unit_test(sweep_diana_like),
        cmocka_unit_test(shared_double_buffer_refused),
        cmocka_unit_test(host_model_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
