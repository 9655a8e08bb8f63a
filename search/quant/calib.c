/* Step 2 of the export (quant.h): activation ranges over training batches,
 * in two passes over the same batches (forward in eval mode):
 *   1. min and max of every layer's activations;
 *   2. (percentile < 100) a histogram of |x| per layer, CALIB_BINS bins over
 *      [0, max(|min|, |max|)], whose cumulative count gives the percentile:
 *      amax is the upper edge of the bin where the count reaches
 *      percentile/100 of the values (so it is exact to 1/CALIB_BINS of the
 *      largest |x|, and never below the true percentile).
 * Why a percentile: a tensor's scale is amax / qmax, and one rare large
 * value (e.g. a normalized input column that is almost always 0, so its
 * standard deviation is tiny) would otherwise coarsen every other value's
 * steps; the values above amax clip. Deterministic: the batches are
 * epoch 0 of a shuffle seeded by p->seed. */
#include <math.h>
#include <string.h>

#include "quant_internal.h"

#define CALIB_BINS 2048

/* A BN that runs fused with its ReLU has no activation of its own. */
static int no_act(const train_layer *L) {
    return L->op == TRAIN_OP_BN && L->relu_next;
}

static dnas_status check_finite(const train_net *net, int i, const float *a, size_t n, int batch,
                                dnas_error *err) {
    int bad = 0; /* NaN: the comparison is false too */
    for (size_t j = 0; j < n; j++)
        bad |= !(fabsf(a[j]) < INFINITY);
    if (!bad) return DNAS_OK;
    return dnas_fail(err, DNAS_ERR_NAN,
                     "model '%s': layer '%s' has non-finite activations on calibration batch %d",
                     net->name, net->layers[i].name, batch + 1);
}

/* One pass over the calibration batches; pass 1 updates lo / hi, pass 2
 * the histograms. */
static dnas_status pass(train_net *net, const train_dataset *ds, const search_quant_params *p,
                        search_quant_range *r, int64_t *hist, dnas_error *err) {
    train_batches it;
    train_batches_init(&it, ds, p->batch, 1, p->seed);
    dnas_status st = DNAS_OK;
    for (int b = 0; b < p->calib_batches && train_batches_next(&it) && !st; b++) {
        train_net_forward(net, it.x, it.n, 0);
        for (int i = 0; i < net->nlayers && !st; i++) {
            const train_layer *L = &net->layers[i];
            if (no_act(L)) continue;
            size_t n = (size_t)it.n * L->c * L->h * L->w;
            const float *a = net->act[i];
            if (!hist) {
                if ((st = check_finite(net, i, a, n, b, err))) break;
                float l = r[i].lo, h = r[i].hi;
                for (size_t j = 0; j < n; j++) {
                    l = a[j] < l ? a[j] : l;
                    h = a[j] > h ? a[j] : h;
                }
                r[i].lo = l, r[i].hi = h;
                continue;
            }
            int64_t *hi = hist + (size_t)i * CALIB_BINS;
            float top = fmaxf(fabsf(r[i].lo), fabsf(r[i].hi));
            float k = top > 0 ? CALIB_BINS / top : 0;
            for (size_t j = 0; j < n; j++) {
                int bin = (int)(fabsf(a[j]) * k);
                hi[bin < CALIB_BINS ? bin : CALIB_BINS - 1]++;
            }
        }
    }
    train_batches_free(&it);
    return st;
}

dnas_status search_quant_calibrate(train_net *net, const train_dataset *ds,
                                   const search_quant_params *p, search_quant_range *r,
                                   dnas_error *err) {
    const train_layer *in = &net->layers[0];
    if (ds->c != in->c || ds->h != in->h || ds->w != in->w)
        return dnas_fail(err, DNAS_ERR_SHAPE,
                         "calibration data samples are (%d, %d, %d) but model '%s' expects input "
                         "[%d, %d, %d]",
                         ds->c, ds->h, ds->w, net->name, in->c, in->h, in->w);
    if (ds->count < 1) return dnas_fail(err, DNAS_ERR_INVALID, "no calibration samples");
    dnas_status st = search_qp_check_params(p, err);
    if (!st) st = train_net_reserve(net, p->batch, err);
    if (st) return st;
    for (int i = 0; i < net->nlayers; i++)
        r[i].lo = INFINITY, r[i].hi = -INFINITY;
    st = pass(net, ds, p, r, NULL, err);
    for (int i = 0; i < net->nlayers; i++)
        r[i].amax = fmaxf(fabsf(r[i].lo), fabsf(r[i].hi));
    if (!st && p->percentile < 100) {
        int64_t *hist = dnas_xcalloc((size_t)net->nlayers * CALIB_BINS, sizeof *hist);
        st = pass(net, ds, p, r, hist, err);
        for (int i = 0; i < net->nlayers && !st; i++) {
            const int64_t *h = hist + (size_t)i * CALIB_BINS;
            int64_t total = 0, sum = 0;
            for (int b = 0; b < CALIB_BINS; b++)
                total += h[b];
            double want = ceil((double)total * p->percentile / 100.0);
            int b = 0;
            while (b < CALIB_BINS - 1 && (double)(sum += h[b]) < want)
                b++;
            if (total) r[i].amax = fminf(r[i].amax, r[i].amax * (float)(b + 1) / CALIB_BINS);
        }
        free(hist);
    }
    for (int i = 0; i < net->nlayers; i++)
        if (no_act(&net->layers[i])) r[i].lo = r[i].hi = r[i].amax = NAN;
    return st;
}
