/* The backend table, and the test vectors every backend's test program
 * reads. A backend is a name, the target description it deploys to (data:
 * its engines and memories), what the passes must give it (weight packing,
 * arena alignment) and one emit function; `dnas deploy --target NAME` picks
 * it here, nowhere else. */
#include <string.h>

#include "compiler_internal.h"

const deploy_backend deploy_backends[] = {
    {"c", "portable C99 for the host: dnas_rt kernels, one static arena", NULL, "cpu",
     DNAS_RT_PACK_INT2, 1, deploy_emit_c},
    {"cortex-m",
     "Arm Cortex-M4 (configs/targets/cortex_m4.yaml) run under QEMU mps2-an386: the c sources "
     "built by arm-none-eabi-gcc",
     "cortex_m4", "cpu", DNAS_RT_PACK_INT2, 4, deploy_emit_cortex_m},
    {"diana",
     "DIANA (configs/targets/diana.yaml): digital and analog engine jobs, ODiMO layers split per "
     "engine, adds and pools on the host core; C99 linked against the host model of both engines",
     "diana", "cpu", DNAS_RT_PACK_INT8, 4, deploy_emit_diana},
    {"gap8",
     "GAP8 (configs/targets/gap8.yaml): conv/linear on the 8-core cluster in L1 tiles moved by "
     "DMA, run here on a host model of its runtime",
     "gap8", "fc", DNAS_RT_PACK_INT8, 4, deploy_emit_gap8},
    {NULL, NULL, NULL, NULL, DNAS_RT_PACK_INT8, 0, NULL},
};

const deploy_backend *deploy_backend_find(const char *name) {
    for (int i = 0; deploy_backends[i].name; i++)
        if (!strcmp(deploy_backends[i].name, name)) return &deploy_backends[i];
    return NULL;
}

deploy_compile_params deploy_backend_params(const deploy_backend *be) {
    deploy_compile_params p = deploy_compile_default_params();
    p.host_engine = be->host_engine;
    p.wpack = be->wpack;
    p.align = be->align;
    /* the backends that run channel subsets: per engine (diana), per input clamp (gap8) */
    p.split = be->emit == deploy_emit_diana ? 1 : be->emit == deploy_emit_gap8 ? 2 : 0;
    p.tile = be->emit == deploy_emit_gap8 || be->emit == deploy_emit_diana; /* tiles via L1 */
    /* the backends whose kernels take a scratch buffer beside the arena */
    if (be->emit == deploy_emit_cortex_m) p.scratch_bytes = deploy_cm_scratch_bytes;
    return p;
}

void deploy_random_inputs(const deploy_qnet *q, uint8_t *in, int n, uint64_t seed) {
    const deploy_qtensor *t = &q->tensors[0];
    int32_t lo, hi;
    deploy_qtensor_range(t, &lo, &hi);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t count = (size_t)n * deploy_qtensor_size(t);
    for (size_t i = 0; i < count; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17; /* xorshift64 */
        int32_t v = lo + (int32_t)(s % (uint64_t)(hi - lo + 1));
        in[i] = (uint8_t)(v & 0xff);
    }
}

static dnas_status write_bytes(const char *dir, const char *name, const uint8_t *b, size_t n,
                               dnas_error *err) {
    deploy_out o;
    dnas_status st = deploy_out_open(&o, dir, name, err);
    if (st) return st;
    fwrite(b, 1, n, o.f);
    return deploy_out_close(&o, err);
}

dnas_status deploy_emit_float_vectors(const deploy_qnet *q, const float *x, int n,
                                      const char *dir, dnas_error *err) {
    size_t count = (size_t)n * deploy_qtensor_size(&q->tensors[0]);
    deploy_out o;
    dnas_status st = deploy_out_open(&o, dir, "test_input_f32.bin", err);
    if (st) return st;
    fwrite(x, sizeof *x, count, o.f);
    return deploy_out_close(&o, err);
}

dnas_status deploy_emit_vectors(const deploy_qnet *q, const uint8_t *in, int n, const char *dir,
                                dnas_error *err) {
    deploy_qeval ev;
    dnas_status st = deploy_qeval_init(&ev, q, q->name, err);
    if (st) return st;
    size_t isz = deploy_qtensor_size(&q->tensors[0]);
    size_t osz = deploy_qtensor_size(&q->tensors[q->output]);
    int32_t *o = dnas_xmalloc(osz * sizeof *o);
    uint8_t *expect = dnas_xmalloc((size_t)n * osz + 1);
    for (int i = 0; !st && i < n; i++) {
        st = deploy_qeval_sample(&ev, o, in + (size_t)i * isz, err);
        for (size_t j = 0; j < osz; j++)
            expect[(size_t)i * osz + j] = (uint8_t)(o[j] & 0xff);
    }
    if (!st) st = write_bytes(dir, "test_input.bin", in, (size_t)n * isz, err);
    if (!st) st = write_bytes(dir, "test_expected.bin", expect, (size_t)n * osz, err);
    free(expect);
    free(o);
    deploy_qeval_free(&ev);
    return st;
}
