/* Pareto fronts of (cost, accuracy) points and their hypervolume
 * (sweep.h). A front is kept sorted by cost ascending; as no point
 * dominates another, accuracy ascends with it. Adding a point is a binary
 * search for its place, a check against its cheaper neighbour (the only
 * point that can dominate it: the most accurate among those at most as
 * costly) and the removal of the run of costlier points it now dominates. */
#include <math.h>
#include <string.h>

#include "sweep.h"

void search_front_init(search_front *f) {
    memset(f, 0, sizeof *f);
}

void search_front_free(search_front *f) {
    free(f->p);
    memset(f, 0, sizeof *f);
}

int search_front_add(search_front *f, const char *id, double cost, double acc) {
    if (!isfinite(cost) || !isfinite(acc)) return 0;
    /* i: the first point costlier than the new one */
    int lo = 0, hi = f->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (f->p[mid].cost <= cost) lo = mid + 1;
        else hi = mid;
    }
    int i = lo;
    if (i > 0 && f->p[i - 1].acc >= acc) return 0; /* dominated (or tied) by a cheaper-or-equal point */
    /* the points from i on (or, at equal cost, i - 1) that it dominates */
    int from = i > 0 && f->p[i - 1].cost == cost ? i - 1 : i, to = i;
    while (to < f->n && f->p[to].acc <= acc) to++;
    int removed = to - from;
    if (removed == 0) {
        if (f->n == f->cap) {
            f->cap = f->cap ? 2 * f->cap : 8;
            f->p = dnas_xrealloc(f->p, (size_t)f->cap * sizeof *f->p);
        }
        memmove(&f->p[from + 1], &f->p[from], (size_t)(f->n - from) * sizeof *f->p);
        f->n++;
    } else if (removed > 1) {
        memmove(&f->p[from + 1], &f->p[to], (size_t)(f->n - to) * sizeof *f->p);
        f->n -= removed - 1;
    }
    search_front_point *p = &f->p[from];
    snprintf(p->id, sizeof p->id, "%s", id);
    p->cost = cost, p->acc = acc;
    return 1;
}

double search_front_hypervolume(const search_front *f, double ref_cost, double ref_acc) {
    double hv = 0, below = ref_acc;
    for (int i = 0; i < f->n; i++) {
        const search_front_point *p = &f->p[i];
        if (!(p->cost < ref_cost) || !(p->acc > below)) continue;
        hv += (ref_cost - p->cost) * (p->acc - below);
        below = p->acc;
    }
    return hv;
}
