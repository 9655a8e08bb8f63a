#include "optim.h"

#include <math.h>
#include <string.h>

#include "common.h"

train_optim_params train_optim_default_params(void) {
    train_optim_params p = {
        .kind = TRAIN_OPTIM_ADAM, .lr = 1e-3f, .momentum = 0.9f, .nesterov = 0,
        .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.0f,
    };
    return p;
}

void train_optim_init(train_optim *o, const train_optim_params *p, size_t nparams) {
    o->p = *p;
    o->n = nparams;
    o->m = dnas_xcalloc(nparams, sizeof(float));
    o->v = p->kind == TRAIN_OPTIM_SGD ? NULL : dnas_xcalloc(nparams, sizeof(float));
    o->t = 0;
}

void train_optim_free(train_optim *o) {
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

void train_optim_step(train_optim *o, float *params, const float *grads, float lr) {
    const train_optim_params *p = &o->p;
    o->t++;
    float wd = p->weight_decay;
    if (p->kind == TRAIN_OPTIM_SGD) {
        /* v = μ v + g;  w -= lr · (nesterov ? g + μ v : v) */
        for (size_t i = 0; i < o->n; i++) {
            float g = grads[i] + wd * params[i];
            float v = p->momentum * o->m[i] + g;
            o->m[i] = v;
            params[i] -= lr * (p->nesterov ? g + p->momentum * v : v);
        }
        return;
    }
    /* Adam: m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
     * w -= lr · m̂ / (sqrt(v̂) + ε) with bias corrections 1-β^t.
     * AdamW applies the decay to w directly: w -= lr·wd·w. */
    float bc1 = 1.0f - powf(p->beta1, (float)o->t);
    float bc2 = 1.0f - powf(p->beta2, (float)o->t);
    float step = lr / bc1, rbc2 = 1.0f / sqrtf(bc2);
    int decoupled = p->kind == TRAIN_OPTIM_ADAMW;
    for (size_t i = 0; i < o->n; i++) {
        float g = grads[i] + (decoupled ? 0.0f : wd * params[i]);
        float m = p->beta1 * o->m[i] + (1.0f - p->beta1) * g;
        float v = p->beta2 * o->v[i] + (1.0f - p->beta2) * g * g;
        o->m[i] = m;
        o->v[i] = v;
        if (decoupled) params[i] -= lr * wd * params[i];
        params[i] -= step * m / (sqrtf(v) * rbc2 + p->eps);
    }
}

float train_sched_lr(const train_sched *s, long step) {
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        return s->base_lr * (float)(step + 1) / (float)s->warmup_steps;
    switch (s->kind) {
    case TRAIN_SCHED_STEP:
        return s->step_size > 0 ? s->base_lr * powf(s->gamma, (float)(step / s->step_size)) : s->base_lr;
    case TRAIN_SCHED_COSINE: {
        long span = s->total_steps - s->warmup_steps;
        if (span <= 0) return s->base_lr;
        double t = (double)(step - s->warmup_steps) / (double)span;
        if (t > 1) t = 1;
        return s->min_lr + 0.5f * (s->base_lr - s->min_lr) * (float)(1.0 + cos(3.14159265358979323846 * t));
    }
    case TRAIN_SCHED_CONSTANT:
        break;
    }
    return s->base_lr;
}

int train_optim_kind_parse(const char *s) {
    if (!strcmp(s, "sgd")) return TRAIN_OPTIM_SGD;
    if (!strcmp(s, "adam")) return TRAIN_OPTIM_ADAM;
    if (!strcmp(s, "adamw")) return TRAIN_OPTIM_ADAMW;
    return -1;
}

const char *train_optim_kind_name(train_optim_kind k) {
    switch (k) {
    case TRAIN_OPTIM_SGD: return "sgd";
    case TRAIN_OPTIM_ADAM: return "adam";
    case TRAIN_OPTIM_ADAMW: return "adamw";
    }
    return "?";
}

int train_sched_kind_parse(const char *s) {
    if (!strcmp(s, "constant")) return TRAIN_SCHED_CONSTANT;
    if (!strcmp(s, "step")) return TRAIN_SCHED_STEP;
    if (!strcmp(s, "cosine")) return TRAIN_SCHED_COSINE;
    return -1;
}
