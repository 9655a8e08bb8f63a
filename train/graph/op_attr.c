/* Typed, range-checked readers over spec values, and the shape helpers op
 * builders share. The messages are common's YAML ones (common/yaml_get.c),
 * so an error reads the same whether the spec came from a file or from C;
 * a value made in C has line 0 and its message names no line. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "graph_internal.h"

static dnas_status vfail(const op_build *b, dnas_status status, int line, const char *fmt, va_list ap) {
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (line > 0) return dnas_fail(b->err, status, "%s:%d: %s", b->path, line, msg);
    return dnas_fail(b->err, status, "%s: %s", b->path, msg);
}

dnas_status train_op_fail(const op_build *b, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dnas_status st = vfail(b, DNAS_ERR_CONFIG, line, fmt, ap);
    va_end(ap);
    return st;
}

dnas_status train_op_shape_fail(const op_build *b, const train_layer *L, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (L->line > 0)
        return dnas_fail(b->err, DNAS_ERR_SHAPE, "%s:%d: layer '%s' (%s): %s", b->path, L->line, L->name,
                         train_op_name(L->op), msg);
    return dnas_fail(b->err, DNAS_ERR_SHAPE, "%s: layer '%s' (%s): %s", b->path, L->name,
                     train_op_name(L->op), msg);
}

dnas_status train_op_set_shape(const op_build *b, train_layer *L, int64_t c, int64_t h, int64_t w) {
    if (c > DIM_MAX || h > DIM_MAX || w > DIM_MAX)
        return train_op_shape_fail(b, L, "output shape (%lld, %lld, %lld) exceeds %ld in some dimension",
                             (long long)c, (long long)h, (long long)w, DIM_MAX);
    if (c * h * w > SAMPLE_MAX)
        return train_op_shape_fail(b, L,
                             "output shape (%lld, %lld, %lld) holds %lld values per sample, more than %ld",
                             (long long)c, (long long)h, (long long)w, (long long)(c * h * w), SAMPLE_MAX);
    L->c = (int)c;
    L->h = (int)h;
    L->w = (int)w;
    return DNAS_OK;
}

const train_spec_value *train_op_attr(const op_build *b, const char *key) { return train_spec_get(b->s, key); }

static const char *kind_name(const train_spec_value *v) {
    if (!v) return "nothing";
    if (v->kind == TRAIN_SPEC_SCALAR) return "a single value";
    return v->kind == TRAIN_SPEC_LIST ? "a list" : "a mapping";
}

const char *train_op_str(const op_build *b, const train_spec_value *v, const char *what) {
    if (!v || v->kind != TRAIN_SPEC_SCALAR) {
        train_op_fail(b, v ? v->line : b->s->line, "%s: expected a single value, found %s", what, kind_name(v));
        return NULL;
    }
    return v->text;
}

dnas_status train_op_int(const op_build *b, const train_spec_value *v, const char *what, long lo, long hi,
                   long *out) {
    const char *s = train_op_str(b, v, what);
    if (!s) return DNAS_ERR_CONFIG;
    if (dnas_parse_long(s, lo, hi, out)) {
        long any;
        if (dnas_parse_long(s, -(long)(~0ul >> 1), (long)(~0ul >> 1), &any))
            return train_op_fail(b, v->line, "%s: expected an integer in %ld..%ld, found '%s'", what, lo, hi, s);
        return train_op_fail(b, v->line, "%s: %s is out of range: expected %ld..%ld", what, s, lo, hi);
    }
    return DNAS_OK;
}

dnas_status train_op_float(const op_build *b, const train_spec_value *v, const char *what, double lo,
                     double hi, int lo_open, double *out) {
    const char *s = train_op_str(b, v, what);
    if (!s) return DNAS_ERR_CONFIG;
    double x;
    if (dnas_parse_double(s, -HUGE_VAL, HUGE_VAL, &x))
        return train_op_fail(b, v->line, "%s: expected a finite number, found '%s'", what, s);
    if (x < lo || x > hi || (lo_open && x == lo)) {
        if (lo_open && hi >= 1e300)
            return train_op_fail(b, v->line, "%s: %s is out of range: expected a number > %g", what, s, lo);
        if (hi >= 1e300)
            return train_op_fail(b, v->line, "%s: %s is out of range: expected a number >= %g", what, s, lo);
        return train_op_fail(b, v->line, "%s: %s is out of range: expected %g %s x <= %g", what, s, lo,
                       lo_open ? "<" : "<=", hi);
    }
    *out = x;
    return DNAS_OK;
}

dnas_status train_op_bool(const op_build *b, const train_spec_value *v, const char *what, int *out) {
    static const char *const T[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const F[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    const char *s = train_op_str(b, v, what);
    if (!s) return DNAS_ERR_CONFIG;
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        if (!strcmp(s, T[i])) return *out = 1, DNAS_OK;
        if (!strcmp(s, F[i])) return *out = 0, DNAS_OK;
    }
    return train_op_fail(b, v->line, "%s: expected true or false, found '%s'", what, s);
}

dnas_status train_op_pair(const op_build *b, const train_spec_value *v, const char *what, long lo, long hi,
                    long *a, long *c) {
    dnas_status st;
    if (v && v->kind == TRAIN_SPEC_LIST) {
        if (v->nitems != 2)
            return train_op_fail(b, v->line, "%s: expected a number or [h, w], found a list of %d", what,
                           v->nitems);
        if ((st = train_op_int(b, &v->items[0], what, lo, hi, a))) return st;
        return train_op_int(b, &v->items[1], what, lo, hi, c);
    }
    if ((st = train_op_int(b, v, what, lo, hi, a))) return st;
    *c = *a;
    return DNAS_OK;
}

dnas_status train_op_opt_pair(const op_build *b, const char *key, int *x, int *y, int dflt, long lo, long hi) {
    const train_spec_value *v = train_op_attr(b, key);
    if (!v) {
        *x = *y = dflt;
        return DNAS_OK;
    }
    long a, c;
    dnas_status st = train_op_pair(b, v, key, lo, hi, &a, &c);
    if (st) return st;
    *x = (int)a;
    *y = (int)c;
    return DNAS_OK;
}

dnas_status train_op_opt_float(const op_build *b, const char *key, float *out, float dflt, double lo, double hi,
                         int lo_open) {
    const train_spec_value *v = train_op_attr(b, key);
    *out = dflt;
    if (!v) return DNAS_OK;
    double x = 0;
    dnas_status st = train_op_float(b, v, key, lo, hi, lo_open, &x);
    if (!st) *out = (float)x;
    return st;
}

dnas_status train_op_opt_bool(const op_build *b, const char *key, int *out, int dflt) {
    const train_spec_value *v = train_op_attr(b, key);
    *out = dflt;
    return v ? train_op_bool(b, v, key, out) : DNAS_OK;
}

dnas_status train_op_padding(const op_build *b, int *ph, int *pw, int *same) {
    const train_spec_value *v = train_op_attr(b, "padding");
    *ph = *pw = 0;
    *same = 0;
    if (!v) return DNAS_OK;
    if (v->kind == TRAIN_SPEC_SCALAR) {
        if (!strcmp(v->text, "same")) {
            *same = 1;
            return DNAS_OK;
        }
        if (!strcmp(v->text, "valid")) return DNAS_OK;
        long any;
        if (dnas_parse_long(v->text, -(long)(~0ul >> 1), (long)(~0ul >> 1), &any))
            return train_op_fail(b, v->line, "padding: expected same, valid, a number or [h, w] (conv1d: [left, right]), found '%s'",
                           v->text);
    }
    return train_op_opt_pair(b, "padding", ph, pw, 0, 0, GEOM_MAX);
}

int64_t train_op_out_size(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p) {
    return train_op_out_size2(in, k, s, d, p, p);
}

int64_t train_op_out_size2(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
    int64_t span = d * (k - 1) + 1;
    if (in + p0 + p1 < span) return 0;
    return (in + p0 + p1 - span) / s + 1;
}

int64_t train_op_same_size(int64_t in, int64_t k, int64_t s, int64_t d, int *pad_before) {
    int64_t out = (in + s - 1) / s;
    int64_t total = (out - 1) * s + d * (k - 1) + 1 - in;
    if (total < 0) total = 0;
    *pad_before = (int)(total / 2);
    return out;
}
