/* The integer network as data (qnet.h): building, freeing, tensor ranges
 * and the multipliers of real ratios. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qnet.h"

static const char *const KIND_NAMES[DEPLOY_QOP_COUNT_] = {
    [DEPLOY_QOP_CONV] = "conv",       [DEPLOY_QOP_LINEAR] = "linear",
    [DEPLOY_QOP_ADD] = "add",         [DEPLOY_QOP_MAXPOOL] = "maxpool",
    [DEPLOY_QOP_AVGPOOL] = "avgpool", [DEPLOY_QOP_GAVGPOOL] = "global_avgpool",
    [DEPLOY_QOP_FLATTEN] = "flatten",
};

const char *deploy_qop_kind_name(deploy_qop_kind k) {
    return (int)k >= 0 && k < DEPLOY_QOP_COUNT_ ? KIND_NAMES[k] : NULL;
}

void deploy_qnet_init(deploy_qnet *q, const char *name) {
    memset(q, 0, sizeof *q);
    snprintf(q->name, sizeof q->name, "%s", name ? name : "");
}

void deploy_qnet_free(deploy_qnet *q) {
    deploy_qnet_input_free(&q->input);
    for (int i = 0; i < q->nops; i++) {
        free(q->ops[i].w);
        free(q->ops[i].bias);
        free(q->ops[i].m);
        free(q->ops[i].engine);
    }
    free(q->ops);
    free(q->tensors);
    char name[DEPLOY_QNET_NAME_LEN];
    memcpy(name, q->name, sizeof name);
    deploy_qnet_init(q, name);
}

int deploy_qnet_add_tensor(deploy_qnet *q, const deploy_qtensor *t) {
    if (q->ntensors == q->cap_tensors) {
        q->cap_tensors = q->cap_tensors ? 2 * q->cap_tensors : 16;
        q->tensors = dnas_xrealloc(q->tensors, (size_t)q->cap_tensors * sizeof *q->tensors);
    }
    q->tensors[q->ntensors] = *t;
    return q->ntensors++;
}

int deploy_qnet_engine(deploy_qnet *q, const char *name) {
    size_t n = strlen(name);
    if (n < 1 || n >= DEPLOY_QNET_ENGINE_LEN) return -1;
    for (int k = 0; k < q->nengines; k++)
        if (!strcmp(q->engines[k], name)) return k;
    if (q->nengines == DEPLOY_QNET_MAX_ENGINES) return -1;
    memcpy(q->engines[q->nengines], name, n + 1);
    return q->nengines++;
}

deploy_qop *deploy_qnet_add_op(deploy_qnet *q, deploy_qop_kind kind, const char *name) {
    if (q->nops == q->cap_ops) {
        q->cap_ops = q->cap_ops ? 2 * q->cap_ops : 16;
        q->ops = dnas_xrealloc(q->ops, (size_t)q->cap_ops * sizeof *q->ops);
    }
    deploy_qop *op = &q->ops[q->nops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    snprintf(op->name, sizeof op->name, "%s", name ? name : "");
    op->in[0] = op->in[1] = op->out = -1;
    op->kh = op->kw = op->sh = op->sw = op->dh = op->dw = op->groups = 1;
    return op;
}

void deploy_qnet_input_free(deploy_qnet_input *in) {
    free(in->mean);
    free(in->std);
    memset(in, 0, sizeof *in);
}

static float *copy_floats(const float *v, int n) {
    if (!v || n <= 0) return NULL;
    float *c = dnas_xmalloc((size_t)n * sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    return c;
}

void deploy_qnet_set_input(deploy_qnet *q, int rows, int c, const float *mean, const float *std) {
    deploy_qnet_input_free(&q->input);
    q->input.recorded = 1;
    q->input.rows = rows != 0;
    if (c > 0 && mean && std) {
        q->input.c = c;
        q->input.mean = copy_floats(mean, c);
        q->input.std = copy_floats(std, c);
    }
}

void deploy_qnet_copy_input(deploy_qnet_input *dst, const deploy_qnet_input *src) {
    deploy_qnet_input_free(dst);
    *dst = *src;
    dst->mean = copy_floats(src->mean, src->c);
    dst->std = copy_floats(src->std, src->c);
}

/* The arithmetic of train_data_normalize: (x - m) · (1 / s) in float. */
void deploy_qnet_normalize(const deploy_qnet *q, float *x, int n) {
    const deploy_qnet_input *in = &q->input;
    const deploy_qtensor *t = &q->tensors[0];
    if (!in->recorded || in->c <= 0 || in->c != t->c) return;
    size_t hw = (size_t)t->h * t->w;
    for (int s = 0; s < n; s++)
        for (int c = 0; c < t->c; c++) {
            float *p = x + ((size_t)s * t->c + c) * hw;
            float m = in->mean[c], inv = 1.0f / in->std[c];
            for (size_t i = 0; i < hw; i++)
                p[i] = (p[i] - m) * inv;
        }
}

void deploy_qnet_input_bytes(const deploy_qnet *q, const float *x, int n, uint8_t *out) {
    const deploy_qtensor *t = &q->tensors[0];
    size_t hw = (size_t)t->h * t->w, per = hw * (size_t)t->c;
    for (int s = 0; s < n; s++)
        for (int c = 0; c < t->c; c++)
            for (size_t p = 0; p < hw; p++) {
                int32_t v = deploy_qnet_quantize(t, x[(size_t)s * per + (size_t)c * hw + p]);
                out[(size_t)s * per + p * (size_t)t->c + (size_t)c] =
                    t->is_signed ? (uint8_t)(int8_t)v : (uint8_t)v;
            }
}

void deploy_qtensor_range(const deploy_qtensor *t, int32_t *lo, int32_t *hi) {
    int b = t->bits < 1 ? 1 : t->bits > 8 ? 8 : t->bits;
    if (t->is_signed) {
        *lo = -((int32_t)1 << (b - 1));
        *hi = ((int32_t)1 << (b - 1)) - 1;
    } else {
        *lo = 0;
        *hi = ((int32_t)1 << b) - 1;
    }
}

size_t deploy_qtensor_size(const deploy_qtensor *t) {
    return (size_t)t->h * t->w * t->c;
}

/* Why one shift for all channels: the kernels take one s per layer
 * (dnas_rt_requant_params). Setting it by the largest ratio gives that
 * channel a 31-bit multiplier and the others as many bits as their ratio
 * is smaller by powers of two fewer; round(x·2^s) is exact in double for
 * these magnitudes (ldexp scales exactly, llround rounds once). */
dnas_status deploy_qnet_multipliers(int32_t *m, int *shift, const double *r, int n,
                                    const char *what, dnas_error *err) {
    double rmax = 0;
    for (int c = 0; c < n; c++) {
        DNAS_ASSERT(isfinite(r[c]));
        if (fabs(r[c]) > rmax) rmax = fabs(r[c]);
    }
    const double lim = 2147483647.0; /* 2^31 - 1 */
    if (rmax == 0) {
        *shift = 0;
        for (int c = 0; c < n; c++)
            m[c] = 0;
        return DNAS_OK;
    }
    if (round(rmax) > lim)
        return dnas_fail(
            err, DNAS_ERR_UNSUPPORTED,
            "%s: requantization ratio %g is too large for an int32 multiplier (at most 2^31 - 1)",
            what, rmax);
    int s = 0;
    while (s < DNAS_RT_SHIFT_MAX && round(ldexp(rmax, s + 1)) <= lim)
        s++;
    for (int c = 0; c < n; c++)
        m[c] = (int32_t)llround(ldexp(r[c], s));
    *shift = s;
    return DNAS_OK;
}
