/* Fuzz target: the hardware target loader (hwcost_target_load_string),
 * input = target YAML text. A target that loads is then used: the latency
 * and energy of a conv, a depthwise and a linear layer on every engine, at
 * the engine's first precisions and at a mix of all of them, and the
 * parallel (ODiMO) split when the target has one. These run the latency
 * models on the loaded constants: a result the engine accepts must be a
 * finite, non-negative number with finite derivatives. */
#include <math.h>

#include "fuzz_util.h"
#include "hwcost.h"

static void check_grad(const hwcost_grad *g, const char *what, const hwcost_target *t, int e) {
    if (isfinite(g->value) && g->value >= 0 && isfinite(g->d_cin) && isfinite(g->d_cout) &&
        isfinite(g->d_k))
        return;
    fprintf(stderr, "fuzz: %s on engine %d of target '%s' is %g (d_cin %g, d_cout %g, d_k %g)\n",
            what, e, t->name, g->value, g->d_cin, g->d_cout, g->d_k);
    abort();
}

/* A layer of the given kind at the engine's precisions: its first ones
 * (mix 0) or all of them with equal weight (mix 1). */
static hwcost_layer layer_for(const hwcost_engine *e, hwcost_kind kind, int mix) {
    hwcost_layer l = hwcost_layer_default();
    l.kind = kind;
    l.cin = 16;
    l.cout = kind == HWCOST_DEPTHWISE ? 16 : 32;
    l.kh = l.kw = kind == HWCOST_LINEAR ? 1 : 3;
    l.k = l.kh * l.kw;
    l.oh = l.ow = kind == HWCOST_LINEAR ? 1 : 8;
    int na = e->nabits < 1 ? 0 : mix ? e->nabits : 1, nw = e->nwbits < 1 ? 0 : mix ? e->nwbits : 1;
    if (na > HWCOST_MAX_PREC) na = HWCOST_MAX_PREC;
    if (nw > HWCOST_MAX_PREC) nw = HWCOST_MAX_PREC;
    if (na) {
        l.a.n = na;
        for (int i = 0; i < na; i++)
            l.a.bits[i] = e->abits[i], l.a.prob[i] = 1.0 / na;
    }
    if (nw) {
        l.w.n = nw;
        for (int i = 0; i < nw; i++)
            l.w.bits[i] = e->wbits[i], l.w.prob[i] = 1.0 / nw;
    }
    return l;
}

static void use_target(const hwcost_target *t) {
    static const hwcost_kind KINDS[] = {HWCOST_CONV, HWCOST_DEPTHWISE, HWCOST_LINEAR};
    dnas_error err;
    hwcost_grad g;
    for (int e = 0; e < t->nengines; e++)
        for (int k = 0; k < 3; k++)
            for (int mix = 0; mix < 2; mix++) {
                hwcost_layer l = layer_for(&t->engines[e], KINDS[k], mix);
                (void)hwcost_engine_supports(&t->engines[e], &l);
                err.msg[0] = 0;
                dnas_status st = hwcost_latency_cycles(t, e, &l, &g, &err);
                fuzz_check(st, &err, "hwcost_latency_cycles");
                if (st == DNAS_OK) check_grad(&g, "latency (cycles)", t, e);
                err.msg[0] = 0;
                st = hwcost_energy(t, e, &l, &g, &err);
                fuzz_check(st, &err, "hwcost_energy");
                if (st == DNAS_OK) check_grad(&g, "energy", t, e);
            }
    if (t->nparallel < 2) return;
    hwcost_layer layers[HWCOST_MAX_ENGINES];
    hwcost_grad gs[HWCOST_MAX_ENGINES];
    for (int p = 0; p < t->nparallel && p < HWCOST_MAX_ENGINES; p++) {
        int e = t->parallel[p];
        if (e < 0 || e >= t->nengines) {
            fprintf(stderr, "fuzz: parallel engine %d of target '%s' is out of range\n", e,
                    t->name);
            abort();
        }
        layers[p] = layer_for(&t->engines[e], HWCOST_CONV, 0);
    }
    double v;
    err.msg[0] = 0;
    dnas_status st = hwcost_parallel_latency(t, layers, &v, gs, &err);
    fuzz_check(st, &err, "hwcost_parallel_latency");
    if (st == DNAS_OK) check_grad(&gs[0], "parallel latency", t, t->parallel[0]);
    err.msg[0] = 0;
    st = hwcost_parallel_energy(t, layers, &v, gs, &err);
    fuzz_check(st, &err, "hwcost_parallel_energy");
    if (st == DNAS_OK) check_grad(&gs[0], "parallel energy", t, t->parallel[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    char *text = fuzz_cstr(data, size);
    hwcost_target *t = dnas_xmalloc(sizeof *t);
    dnas_error err;
    err.msg[0] = 0;
    dnas_status st = hwcost_target_load_string(t, text, "fuzz_target.yaml", &err);
    fuzz_check(st, &err, "hwcost_target_load_string");
    if (st == DNAS_OK) use_target(t);
    free(t);
    free(text);
    return 0;
}
