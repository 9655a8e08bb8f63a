/* A reference evaluator of a qnet written here from the definitions in
 * docs/deploy.md, independently of deploy/runtime and deploy/qnet: plain
 * int64 loops per op, the rounding by C division corrected to floor
 * (rt_test_util.h). The tests compare the evaluator to it bit for bit. */
#ifndef DNAS_QNET_TEST_UTIL_H
#define DNAS_QNET_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qnet.h"
#include "rt_test_util.h"

/* Tensor values as int32, one array per tensor. */
static int32_t qtu_at(const int32_t *t, const deploy_qtensor *T, int y, int x, int c) {
    if (y < 0 || x < 0 || y >= T->h || x >= T->w) return 0;
    return t[((size_t)y * T->w + x) * T->c + c];
}

static void qtu_op(const deploy_qnet *q, const deploy_qop *op, int32_t **v) {
    const deploy_qtensor *I = &q->tensors[op->in[0]], *O = &q->tensors[op->out];
    const int32_t *x = v[op->in[0]];
    int32_t *y = v[op->out];
    size_t n = (size_t)O->h * O->w * O->c;
    switch (op->kind) {
    case DEPLOY_QOP_CONV: {
        int cig = I->c / op->groups, cpg = O->c / op->groups;
        for (int oy = 0; oy < O->h; oy++)
            for (int ox = 0; ox < O->w; ox++)
                for (int co = 0; co < O->c; co++) {
                    int64_t a = op->bias ? op->bias[co] : 0;
                    for (int ky = 0; ky < op->kh; ky++)
                        for (int kx = 0; kx < op->kw; kx++)
                            for (int ci = 0; ci < cig; ci++) {
                                int iy = oy * op->sh - op->pt + ky * op->dh;
                                int ix = ox * op->sw - op->pl + kx * op->dw;
                                a += (int64_t)qtu_at(x, I, iy, ix, (co / cpg) * cig + ci) *
                                     op->w[((co * op->kh + ky) * op->kw + kx) * cig + ci];
                            }
                    y[((size_t)oy * O->w + ox) * O->c + co] =
                        rtt_requant(a, op->m[co], op->shift, op->lo, op->hi);
                }
        break;
    }
    case DEPLOY_QOP_LINEAR: {
        size_t cin = (size_t)I->h * I->w * I->c;
        for (int co = 0; co < O->c; co++) {
            int64_t a = op->bias ? op->bias[co] : 0;
            for (size_t i = 0; i < cin; i++)
                a += (int64_t)x[i] * op->w[co * cin + i];
            y[co] = rtt_requant(a, op->m[co], op->shift, op->lo, op->hi);
        }
        break;
    }
    case DEPLOY_QOP_ADD:
        for (size_t i = 0; i < n; i++)
            y[i] = rtt_clamp(
                rtt_round_shift((int64_t)x[i] * op->ma + (int64_t)v[op->in[1]][i] * op->mb,
                                op->shift),
                op->lo, op->hi);
        break;
    case DEPLOY_QOP_MAXPOOL:
    case DEPLOY_QOP_AVGPOOL:
        for (int oy = 0; oy < O->h; oy++)
            for (int ox = 0; ox < O->w; ox++)
                for (int c = 0; c < O->c; c++) {
                    int64_t s = 0, best = INT64_MIN;
                    for (int ky = 0; ky < op->kh; ky++)
                        for (int kx = 0; kx < op->kw; kx++) {
                            int iy = oy * op->sh - op->pt + ky, ix = ox * op->sw - op->pl + kx;
                            if (iy < 0 || ix < 0 || iy >= I->h || ix >= I->w) continue;
                            int64_t e = qtu_at(x, I, iy, ix, c);
                            s += e;
                            if (e > best) best = e;
                        }
                    y[((size_t)oy * O->w + ox) * O->c + c] =
                        op->kind == DEPLOY_QOP_MAXPOOL
                            ? (int32_t)best
                            : rtt_requant(s, op->ma, op->shift, op->lo, op->hi);
                }
        break;
    case DEPLOY_QOP_GAVGPOOL:
        for (int c = 0; c < O->c; c++) {
            int64_t s = 0;
            for (int p = 0; p < I->h * I->w; p++)
                s += x[(size_t)p * I->c + c];
            y[c] = rtt_requant(s, op->ma, op->shift, op->lo, op->hi);
        }
        break;
    case DEPLOY_QOP_FLATTEN: memcpy(y, x, n * sizeof *y); break;
    default: abort();
    }
}

/* Every tensor's values (v[i], HWC) from the input tensor's values in. */
static int32_t **qtu_eval(const deploy_qnet *q, const int32_t *in) {
    int32_t **v = calloc((size_t)q->ntensors, sizeof *v);
    for (int i = 0; i < q->ntensors; i++) {
        const deploy_qtensor *T = &q->tensors[i];
        v[i] = calloc((size_t)T->h * T->w * T->c, sizeof **v);
    }
    const deploy_qtensor *T0 = &q->tensors[0];
    memcpy(v[0], in, (size_t)T0->h * T0->w * T0->c * sizeof *in);
    for (int k = 0; k < q->nops; k++)
        qtu_op(q, &q->ops[k], v);
    return v;
}

static void qtu_free(const deploy_qnet *q, int32_t **v) {
    for (int i = 0; i < q->ntensors; i++)
        free(v[i]);
    free(v);
}

/* The input quantization of docs/deploy.md, by hand: round half up, clamp. */
static int32_t qtu_quantize(const deploy_qtensor *T, float x) {
    int32_t lo = T->is_signed ? -(1 << (T->bits - 1)) : 0;
    int32_t hi = T->is_signed ? (1 << (T->bits - 1)) - 1 : (1 << T->bits) - 1;
    double v = floor((double)x / T->scale + 0.5);
    return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

#endif
