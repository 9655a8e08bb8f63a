/* The split pass (deploy/compiler/pass_split.c) on resnet8_fmnist made
 * ODiMO-like (diana_test_util.h: per-channel engines, analog channels
 * ternary) and compiled for DIANA's target description:
 * - structure: each split layer is one op per engine, in engine order,
 *   whose channel lists partition the output channels as the qnet records
 *   them; unsplit layers keep one op; tensors are written first by the
 *   first slice (producers, lifetimes), the plan has no overlap;
 * - bit for bit: the split IR run op by op on its planned arena (each
 *   slice a dnas_diana job writing its channels of the output tensor in
 *   place, through the digital engine model so that no input is clamped)
 *   gives the integer evaluator's outputs of the unsplit network on random
 *   inputs;
 * - without p->split (the c backend) nothing is split, and an op with
 *   channels on an engine that clamps its inputs is refused; a channel on
 *   an engine the target does not have, or with weights the engine cannot
 *   hold, is an error naming the op. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "deploy_test_util.h"
#include "diana_test_util.h"
#include "dnas_diana.h"

static hwcost_target diana;

static int setup(void **state) {
    (void)state;
    dia_target(&diana);
    return 0;
}

static void compile(deploy_ir *ir, const deploy_qnet *q, int split) {
    deploy_compile_params p = deploy_backend_params(deploy_backend_find("diana"));
    p.target = &diana;
    p.split = split;
    dnas_error err;
    if (deploy_compile(ir, q, "split", &p, &err)) fail_msg("%s", err.msg);
}

/* Op k of the IR on the arena: engine ops as digital jobs of their
 * channels (no input clamp: the unsplit op's values), others by dnas_rt. */
static void run_op(const deploy_ir *ir, int k, uint8_t *arena) {
    const deploy_ir_op *o = &ir->ops[k];
    const deploy_qop *s = o->q;
    const deploy_ir_tensor *I = &ir->tensors[o->in[0]], *O = &ir->tensors[o->out];
    uint8_t *in = arena + I->offset, *out = arena + O->offset;
    if (o->kind == DEPLOY_QOP_CONV || o->kind == DEPLOY_QOP_LINEAR) {
        int32_t n = deploy_ir_op_cout(ir, k);
        size_t per = s->wlen / (size_t)O->c;
        int8_t *w = malloc((size_t)n * per);
        int32_t *b = malloc((size_t)n * 4), *m = malloc((size_t)n * 4);
        for (int32_t i = 0; i < n; i++) {
            int32_t c = o->channels ? o->channels[i] : i;
            memcpy(w + (size_t)i * per, s->w + (size_t)c * per, per);
            m[i] = s->m[c];
            b[i] = s->bias ? s->bias[c] : 0;
        }
        dnas_diana_job j = {
            DNAS_DIANA_DIGITAL,
            deploy_qop_conv_dims(s, &ir->q->tensors[s->in[0]], &ir->q->tensors[s->out]),
            o->channels,
            O->c,
            0,
            0,
            NULL,
            s->bias ? b : NULL,
            {m, s->shift, s->lo, s->hi}};
        if (o->kind == DEPLOY_QOP_LINEAR)
            j.d = (dnas_rt_conv_dims){
                1, 1, I->h * I->w * I->c, 1,           1, O->c, 1, 1, 1, 1, 1, 1, 0, 0, 0,
                0, 1, I->is_signed,       O->is_signed};
        j.d.cout = n;
        int8_t *blk = malloc(dnas_diana_digital_bytes(&j.d));
        dnas_diana_pack_digital(blk, w, n, (int32_t)per);
        j.w = blk;
        assert_int_equal(dnas_diana_run(out, in, &j), DNAS_RT_OK);
        free(blk), free(w), free(b), free(m);
        return;
    }
    switch (o->kind) {
    case DEPLOY_QOP_ADD: {
        const deploy_ir_tensor *B = &ir->tensors[o->in[1]];
        dnas_rt_add_params p = {s->ma, s->mb, s->shift, s->lo, s->hi};
        dnas_rt_add_dims d = {O->h, O->w, O->c, I->is_signed, B->is_signed, O->is_signed};
        assert_int_equal(dnas_rt_add(out, in, arena + B->offset, &p, &d), DNAS_RT_OK);
        break;
    }
    case DEPLOY_QOP_GAVGPOOL: {
        dnas_rt_tensor_requant rq = {s->ma, s->shift, s->lo, s->hi};
        dnas_rt_gavgpool_dims d = {I->h, I->w, I->c, I->is_signed, O->is_signed};
        assert_int_equal(dnas_rt_global_avgpool(out, in, &rq, &d), DNAS_RT_OK);
        break;
    }
    default: fail_msg("op %d: kind %s not in resnet8_fmnist", k, deploy_qop_kind_name(o->kind));
    }
}

static void structure(void **state) {
    (void)state;
    deploy_qnet q;
    dtu_zoo_qnet(&q, "resnet8_fmnist");
    dia_odimo_split(&q, 3, 3, 7);
    deploy_ir ir;
    compile(&ir, &q, 1);
    int dig = hwcost_target_engine(&diana, "digital"), ana = hwcost_target_engine(&diana, "analog");
    int split = 0;
    for (int qk = 0; qk < q.nops; qk++) {
        const deploy_qop *s = &q.ops[qk];
        int32_t cout = q.tensors[s->out].c;
        int first = -1, n = 0;
        for (int k = 0; k < ir.nops; k++)
            if (ir.ops[k].qindex == qk) {
                if (first < 0) first = k;
                n++;
            }
        assert_true(first >= 0);
        for (int k = first; k < first + n; k++)
            assert_int_equal(ir.ops[k].qindex, qk); /* adjacent */
        if (!s->engine) {
            assert_int_equal(n, 1);
            assert_null(ir.ops[first].channels);
            continue;
        }
        split++;
        assert_int_equal(n, 2); /* both engines hold channels of every split layer */
        assert_int_equal(ir.ops[first].engine, dig);
        assert_int_equal(ir.ops[first + 1].engine, ana);
        char *seen = calloc((size_t)cout, 1);
        for (int k = first; k < first + 2; k++) {
            const deploy_ir_op *o = &ir.ops[k];
            assert_non_null(o->channels);
            assert_true(o->cycles > 0);
            for (int32_t i = 0; i < o->nchannels; i++) {
                int32_t c = o->channels[i];
                assert_true(c >= 0 && c < cout);
                if (i) assert_true(c > o->channels[i - 1]);
                assert_int_equal(seen[c]++, 0);
                assert_string_equal(q.engines[s->engine[c]], ir.engines[o->engine]);
            }
        }
        for (int32_t c = 0; c < cout; c++)
            assert_int_equal(seen[c], 1);
        free(seen);
        /* the output's lifetime starts at the first slice */
        assert_int_equal(ir.tensors[ir.ops[first].out].producer, first);
        assert_int_equal(ir.tensors[ir.ops[first].out].first, first);
    }
    assert_true(split >= 8); /* resnet8_fmnist: 9 convs with groups 1 and the linear */
    deploy_plan_buf *b = calloc((size_t)ir.ntensors, sizeof *b);
    for (int i = 0; i < ir.ntensors; i++)
        b[i] = (deploy_plan_buf){ir.tensors[i].bytes, ir.tensors[i].first, ir.tensors[i].last,
                                 (size_t)ir.tensors[i].offset};
    assert_false(deploy_plan_overlap(b, ir.ntensors, NULL, NULL));
    free(b);
    /* MACs are the unsplit network's (unsplit: without the analog clamp) */
    deploy_ir whole;
    q.engine_in_bits[1] = 0;
    compile(&whole, &q, 0);
    assert_int_equal(whole.nops, q.nops);
    for (int k = 0; k < whole.nops; k++)
        assert_null(whole.ops[k].channels);
    assert_true(deploy_ir_macs(&ir) == deploy_ir_macs(&whole));
    printf("resnet8_fmnist: %d layers split, %d ops after the split (%d before), %llu MACs\n",
           split, ir.nops, whole.nops, (unsigned long long)deploy_ir_macs(&ir));
    deploy_ir_free(&whole);
    deploy_ir_free(&ir);
    deploy_qnet_free(&q);
}

static void bit_exact(void **state) {
    (void)state;
    deploy_qnet q;
    dtu_zoo_qnet(&q, "resnet8_fmnist");
    dia_odimo_split(&q, 5, 4, 0); /* no input clamp: the split must change nothing */
    deploy_ir ir;
    compile(&ir, &q, 1);
    assert_true(ir.nops > q.nops);
    deploy_qeval ev;
    dnas_error err;
    if (deploy_qeval_init(&ev, &q, "q", &err)) fail_msg("%s", err.msg);
    const int n = 6;
    size_t isz = deploy_qtensor_size(&q.tensors[0]),
           osz = deploy_qtensor_size(&q.tensors[q.output]);
    uint8_t *in = malloc((size_t)n * isz), *arena = malloc(ir.arena);
    int32_t *want = malloc(osz * sizeof *want);
    deploy_random_inputs(&q, in, n, 9);
    int varies = 0;
    int32_t first[64];
    for (int smp = 0; smp < n; smp++) {
        memset(arena, 0xA5, ir.arena);
        memcpy(arena + ir.tensors[ir.input].offset, in + (size_t)smp * isz, isz);
        for (int k = 0; k < ir.nops; k++)
            run_op(&ir, k, arena);
        if (deploy_qeval_sample(&ev, want, in + (size_t)smp * isz, &err)) fail_msg("%s", err.msg);
        const deploy_ir_tensor *O = &ir.tensors[ir.output];
        for (size_t i = 0; i < osz; i++) {
            int32_t got =
                O->is_signed ? (int8_t)arena[O->offset + (long)i] : arena[O->offset + (long)i];
            if (got != want[i])
                fail_msg("sample %d value %zu: split %d, unsplit %d", smp, i, got, want[i]);
            if (smp == 0 && i < 64) first[i] = got;
            if (smp && i < 64) varies |= got != first[i];
        }
    }
    assert_true(varies);
    printf("resnet8_fmnist split into %d ops: %d samples equal to the unsplit evaluator\n", ir.nops,
           n);
    free(in), free(arena), free(want);
    deploy_qeval_free(&ev);
    deploy_ir_free(&ir);
    deploy_qnet_free(&q);
}

static void refused(void **state) {
    (void)state;
    deploy_qnet q;
    dtu_zoo_qnet(&q, "resnet8_fmnist");
    dia_odimo_split(&q, 3, 3, 7);
    deploy_compile_params p = deploy_backend_params(deploy_backend_find("diana"));
    p.target = &diana;
    deploy_ir ir;
    dnas_error err;
    /* an engine name the target does not have */
    snprintf(q.engines[1], sizeof q.engines[1], "photonic");
    assert_int_equal(deploy_compile(&ir, &q, "q", &p, &err), DNAS_ERR_UNSUPPORTED);
    assert_non_null(
        strstr(err.msg, "is recorded on engine 'photonic', which target diana does not have"));
    snprintf(q.engines[1], sizeof q.engines[1], "analog");
    /* an analog channel with a weight the array cannot hold */
    int k = 0;
    while (!q.ops[k].engine)
        k++;
    int32_t c = 0; /* channel 0 is analog (dia_odimo_split) */
    int8_t old = q.ops[k].w[0];
    q.ops[k].w[(size_t)c * (q.ops[k].wlen / (size_t)q.tensors[q.ops[k].out].c)] = 3;
    assert_int_equal(deploy_compile(&ir, &q, "q", &p, &err), DNAS_ERR_UNSUPPORTED);
    assert_non_null(
        strstr(err.msg, "need 3-bit weights, wider than any that engine of target diana takes"));
    q.ops[k].w[0] = old;
    /* the c backend splits nothing, whatever the description; it cannot
     * compute channels on clamped inputs */
    p = deploy_backend_params(deploy_backend_find("c"));
    p.target = &diana;
    assert_int_equal(deploy_compile(&ir, &q, "q", &p, &err), DNAS_ERR_UNSUPPORTED);
    assert_non_null(
        strstr(err.msg, "is on engine 'analog', which clamps its 8-bit input to 7 bits"));
    q.engine_in_bits[1] = 0;
    if (deploy_compile(&ir, &q, "q", &p, &err)) fail_msg("%s", err.msg);
    assert_int_equal(ir.nops, q.nops);
    deploy_ir_free(&ir);
    deploy_qnet_free(&q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(structure),
        cmocka_unit_test(bit_exact),
        cmocka_unit_test(refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
