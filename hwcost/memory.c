/* Peak activation memory over an execution order.
 *
 * Algorithm:
 *   1. bytes(t) = Σ_i θa_i · ceil(C·H·W·a_i / 8) for each tensor t;
 *   2. for each step s from the smallest `first` to the largest `last`,
 *      live(s) = Σ bytes(t) over tensors with first <= s <= last;
 *   3. the peak is the largest live(s) (first step on ties); its gradient
 *      is that of live(s) at that step (max: one-sided derivative; ceil:
 *      straight-through).
 * It does not model in-place reuse or fragmentation: that is deploy's
 * planner, whose arena can only be >= this lower bound. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void hwcost_tensor_bytes(const hwcost_tensor *t, hwcost_grad *g) {
    memset(g, 0, sizeof *g);
    double elems = t->channels * t->h * t->w;
    for (int i = 0; i < t->a.n; i++) {
        double b = hwcost_ceil(elems * t->a.bits[i] / 8);
        g->value += t->a.prob[i] * b;
        g->d_cin += t->a.prob[i] * t->h * t->w * t->a.bits[i] / 8;
        g->d_a[i] = b;
    }
}

double hwcost_peak_activation_bytes(const hwcost_tensor *t, int n, double *d_channels,
                                    double (*d_prob)[HWCOST_MAX_PREC], int *peak_step) {
    if (n <= 0) {
        if (peak_step) *peak_step = -1;
        return 0;
    }
    int lo = t[0].first, hi = t[0].last;
    for (int i = 1; i < n; i++) {
        if (t[i].first < lo) lo = t[i].first;
        if (t[i].last > hi) hi = t[i].last;
    }
    /* bytes per tensor, then a difference array over steps: O(n + steps) */
    int nsteps = hi - lo + 1;
    double *delta = calloc((size_t)nsteps + 1, sizeof *delta);
    double *bytes = malloc((size_t)n * sizeof *bytes);
    if (!delta || !bytes) abort();
    for (int i = 0; i < n; i++) {
        hwcost_grad g;
        hwcost_tensor_bytes(&t[i], &g);
        bytes[i] = g.value;
        delta[t[i].first - lo] += g.value;
        delta[t[i].last - lo + 1] -= g.value;
    }
    double live = 0, peak = -1;
    int best = lo;
    for (int s = 0; s < nsteps; s++) {
        live += delta[s];
        if (live > peak + 1e-9 * (1 + live)) peak = live, best = s + lo;
    }
    /* recompute exactly at the peak step (the running sum may round) */
    peak = 0;
    for (int i = 0; i < n; i++) {
        int on = t[i].first <= best && best <= t[i].last;
        if (on) peak += bytes[i];
        if (d_channels || d_prob) {
            hwcost_grad g;
            hwcost_tensor_bytes(&t[i], &g);
            if (d_channels) d_channels[i] = on ? g.d_cin : 0;
            if (d_prob)
                for (int j = 0; j < HWCOST_MAX_PREC; j++) d_prob[i][j] = on ? g.d_a[j] : 0;
        }
    }
    free(delta);
    free(bytes);
    if (peak_step) *peak_step = best;
    return peak;
}
