/* The method table: the config's method -> its constructor (search/method.h). */
#include <string.h>

#include "method.h"

typedef dnas_status (*method_ctor)(search_arch *a, const search_config *cfg, train_net *net,
                                   const search_bridge *b, dnas_error *err);

static const method_ctor CTORS[SEARCH_METHOD_COUNT_] = {
    [SEARCH_METHOD_PIT] = search_pit_method,
    [SEARCH_METHOD_MIXPREC] = search_mixprec_method,
    [SEARCH_METHOD_SUPERNET] = search_supernet_method,
    [SEARCH_METHOD_ODIMO] = search_odimo_method,
};

typedef dnas_status (*method_prepare)(const search_config *cfg, train_net **net, dnas_error *err);

/* NULL: the method searches the seed as it is. */
static const method_prepare PREPARES[SEARCH_METHOD_COUNT_] = {
    [SEARCH_METHOD_MIXPREC] = search_mixprec_supernet,
};

dnas_status search_arch_prepare(const search_config *cfg, train_net **net, dnas_error *err) {
    if ((unsigned)cfg->method >= SEARCH_METHOD_COUNT_ || !PREPARES[cfg->method]) return DNAS_OK;
    return PREPARES[cfg->method](cfg, net, err);
}

dnas_status search_arch_create(search_arch **out, const search_config *cfg, train_net *net,
                               const search_bridge *b, dnas_error *err) {
    *out = NULL;
    if ((unsigned)cfg->method >= SEARCH_METHOD_COUNT_ || !CTORS[cfg->method])
        return dnas_fail(err, DNAS_ERR_UNSUPPORTED, "method %s: no constructor",
                         search_method_name(cfg->method));
    search_arch *a = dnas_xcalloc(1, sizeof *a);
    a->method = cfg->method;
    a->engine_mode = SEARCH_ENGINE_FASTEST;
    dnas_status st = CTORS[cfg->method](a, cfg, net, b, err);
    if (st) {
        search_arch_free(a);
        return st;
    }
    *out = a;
    return DNAS_OK;
}

void search_arch_free(search_arch *a) {
    if (!a) return;
    if (a->destroy && a->impl) a->destroy(a);
    free(a->slices);
    free(a);
}

void search_arch_add_slice(search_arch *a, const char *layer, const char *suffix, size_t off, size_t len) {
    if ((a->nslices & (a->nslices - 1)) == 0) /* 0, 1, 2, 4, ...: grow to the next power of two */
        a->slices = dnas_xrealloc(a->slices, (size_t)(a->nslices ? 2 * a->nslices : 1) * sizeof *a->slices);
    search_arch_slice *s = &a->slices[a->nslices++];
    snprintf(s->name, sizeof s->name, "%s.%s", layer, suffix);
    s->off = off, s->len = len;
}
