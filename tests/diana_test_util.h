/* DIANA test helpers: the target description (configs/targets/diana.yaml)
 * and an ODiMO-like network made from any 8-bit qnet: in every conv with
 * groups 1 and every linear, a seeded share of the output channels moves to
 * the analog engine with ternary weights (what an ODiMO export records:
 * deploy_qop.engine, names digital and analog), the rest stays digital. */
#ifndef DNAS_DIANA_TEST_UTIL_H
#define DNAS_DIANA_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "deploy.h"
#include "hwcost.h"

/* configs/targets/diana.yaml of the source tree. */
static __attribute__((unused)) void dia_target(hwcost_target *t) {
    const char *src = getenv("DNAS_SOURCE_DIR");
    char path[4200];
    snprintf(path, sizeof path, "%s/configs/targets/diana.yaml", src ? src : DNAS_SOURCE_DIR);
    dnas_error err;
    if (hwcost_target_load(t, path, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
}

/* A seeded xorshift64 step. */
static __attribute__((unused)) uint64_t dia_rand(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Channels of every conv (groups 1) and linear of q go to the analog engine
 * with probability about share/8 (at least one per layer stays on each
 * engine): their weights become ternary (sign where |w| > max|w|/3), their
 * multipliers absorb the lost magnitude (m·max|w|, every multiplier and the
 * op's shift scaled down by 2^7 so that it fits int32). The analog engine
 * records in_bits input bits (0: none). */
static __attribute__((unused)) void dia_odimo_split(deploy_qnet *q, uint64_t seed, int share,
                                                    int in_bits) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    q->nengines = 0;
    int dig = deploy_qnet_engine(q, "digital"), ana = deploy_qnet_engine(q, "analog");
    q->engine_in_bits[ana] = in_bits;
    for (int k = 0; k < q->nops; k++) {
        deploy_qop *op = &q->ops[k];
        if (!(op->kind == DEPLOY_QOP_LINEAR || (op->kind == DEPLOY_QOP_CONV && op->groups == 1)))
            continue;
        int32_t cout = q->tensors[op->out].c;
        size_t per = op->wlen / (size_t)cout;
        if (cout < 2 || op->shift < 8) continue;
        op->engine = malloc((size_t)cout);
        for (int32_t c = 0; c < cout; c++) {
            int a = c == 0 ? 1 : c == 1 ? 0 : (int)(dia_rand(&s) % 8) < share;
            op->engine[c] = (int8_t)(a ? ana : dig);
            int8_t *w = op->w + (size_t)c * per;
            int mx = 0;
            for (size_t j = 0; j < per; j++)
                mx = abs(w[j]) > mx ? abs(w[j]) : mx;
            int64_t m = op->m[c];
            if (a) {
                for (size_t j = 0; j < per; j++)
                    w[j] = (int8_t)(3 * w[j] > mx ? 1 : 3 * w[j] < -mx ? -1 : 0);
                m *= mx > 0 ? mx : 1;
            }
            op->m[c] = (int32_t)(m / 128);
        }
        op->shift -= 7;
    }
}

#endif
