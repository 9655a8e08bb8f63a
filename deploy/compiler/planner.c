/* The arena planner: offsets for buffers with known lifetimes, so that
 * buffers live at a common step never share a byte, in one arena.
 *
 * Algorithm (greedy first fit over an order, tflite-micro's
 * GreedyMemoryPlanner, then a small search over orders):
 *   1. order the buffers by size, largest first; ties go to the buffer
 *      born first (smaller `first`), then to the one given first (smaller
 *      index), so the plan is a function of the input alone;
 *   2. place them in that order: for each buffer take the buffers placed
 *      before it whose lifetimes intersect its own ([first, last] share a
 *      step), sorted by offset, walk the gaps between them from offset 0 up
 *      and put it at the lowest offset (a multiple of `align`) where it
 *      fits, or after the last of them; the arena is the largest
 *      offset + size;
 *   3. when that arena is above the lower bound, place again in the order
 *      of size·(last - first + 1) (largest "breadth" first, ties as in 1)
 *      and keep the smaller arena (the first on ties);
 *   4. while above the lower bound (and for at most 256 buffers, at most 8
 *      rounds): swap each pair of neighbours in the kept order, place, and
 *      keep the swap when the arena shrinks (hill climbing on the order);
 *   5. the offsets are those of the kept order.
 * Placing is O(n^2 log n); step 4 multiplies it by at most 8·n.
 *
 * The lower bound is the most bytes live at one step (a difference array
 * over steps); every valid placement needs at least that much.
 *
 * What it does not guarantee: an optimal arena (placement with lifetimes
 * is NP-hard, and first fit over any order can leave gaps) or any ratio to
 * the lower bound; docs/deploy.md lists the ratios measured on the zoo
 * networks. It does not place a buffer over one of its own op's inputs (an
 * in-place add): an op's inputs and output are live at that op's step, so
 * they never share bytes. */
#include <stdlib.h>

#include "compiler.h"

typedef struct {
    const deploy_plan_buf *b;
    int index;
} ordered;

static int by_size(const void *pa, const void *pb) {
    const ordered *a = pa, *b = pb;
    if (a->b->size != b->b->size) return a->b->size > b->b->size ? -1 : 1;
    if (a->b->first != b->b->first) return a->b->first < b->b->first ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int by_offset(const void *pa, const void *pb) {
    const deploy_plan_buf *a = *(const deploy_plan_buf *const *)pa;
    const deploy_plan_buf *b = *(const deploy_plan_buf *const *)pb;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static int live_together(const deploy_plan_buf *a, const deploy_plan_buf *b) {
    return a->first <= b->last && b->first <= a->last;
}

static size_t align_up(size_t v, size_t align) {
    return (v + align - 1) / align * align;
}

/* Step 2: first fit of b in order (indices); fills the offsets. */
static size_t place(deploy_plan_buf *b, const int *order, int n, size_t align,
                    const deploy_plan_buf **placed) {
    size_t arena = 0;
    for (int k = 0; k < n; k++) {
        deploy_plan_buf *cur = &b[order[k]];
        int np = 0;
        for (int j = 0; j < k; j++) {
            const deploy_plan_buf *p = &b[order[j]];
            if (live_together(cur, p)) placed[np++] = p;
        }
        qsort(placed, (size_t)np, sizeof *placed, by_offset);
        size_t at = 0;
        for (int j = 0; j < np; j++) {
            if (at + cur->size <= placed[j]->offset) break; /* fits in the gap before it */
            size_t end = align_up(placed[j]->offset + placed[j]->size, align);
            if (end > at) at = end;
        }
        cur->offset = at;
        if (at + cur->size > arena) arena = at + cur->size;
    }
    return arena;
}

static size_t breadth(const deploy_plan_buf *b) {
    return b->size * (size_t)(b->last - b->first + 1);
}

static int by_breadth(const void *pa, const void *pb) {
    const ordered *a = pa, *b = pb;
    size_t x = breadth(a->b), y = breadth(b->b);
    if (x != y) return x > y ? -1 : 1;
    return by_size(pa, pb);
}

/* The buffer indices sorted by cmp. */
static void sorted(const deploy_plan_buf *b, int n, int (*cmp)(const void *, const void *),
                   int *order) {
    ordered *o = dnas_xmalloc((size_t)n * sizeof *o);
    for (int i = 0; i < n; i++)
        o[i] = (ordered){&b[i], i};
    qsort(o, (size_t)n, sizeof *o, cmp);
    for (int i = 0; i < n; i++)
        order[i] = o[i].index;
    free(o);
}

size_t deploy_plan_arena(deploy_plan_buf *b, int n, size_t align) {
    if (align < 1) align = 1;
    if (n <= 0) return 0;
    const deploy_plan_buf **placed = dnas_xmalloc((size_t)n * sizeof *placed);
    int *best = dnas_xmalloc((size_t)n * sizeof *best),
        *alt = dnas_xmalloc((size_t)n * sizeof *alt);
    size_t bound = deploy_plan_lower_bound(b, n);
    sorted(b, n, by_size, best);                     /* 1. */
    size_t arena = place(b, best, n, align, placed); /* 2. */
    if (arena > bound) {                             /* 3. */
        sorted(b, n, by_breadth, alt);
        size_t a = place(b, alt, n, align, placed);
        if (a < arena) {
            arena = a;
            int *t = best;
            best = alt, alt = t;
        }
    }
    for (int round = 0; round < 8 && arena > bound && n <= 256; round++) { /* 4. */
        int better = 0;
        for (int i = 0; i + 1 < n && arena > bound; i++) {
            int t = best[i];
            best[i] = best[i + 1], best[i + 1] = t;
            size_t a = place(b, best, n, align, placed);
            if (a < arena) {
                arena = a, better = 1;
            } else {
                best[i + 1] = best[i], best[i] = t;
            }
        }
        if (!better) break;
    }
    arena = place(b, best, n, align, placed); /* 5. */
    free(placed);
    free(best);
    free(alt);
    return arena;
}

size_t deploy_plan_lower_bound(const deploy_plan_buf *b, int n) {
    if (n <= 0) return 0;
    int lo = b[0].first, hi = b[0].last;
    for (int i = 1; i < n; i++) {
        if (b[i].first < lo) lo = b[i].first;
        if (b[i].last > hi) hi = b[i].last;
    }
    size_t steps = (size_t)(hi - lo) + 2;
    long long *diff = dnas_xcalloc(steps, sizeof *diff);
    for (int i = 0; i < n; i++) {
        diff[b[i].first - lo] += (long long)b[i].size;
        diff[b[i].last - lo + 1] -= (long long)b[i].size;
    }
    long long live = 0, most = 0;
    for (size_t s = 0; s + 1 < steps; s++) {
        live += diff[s];
        if (live > most) most = live;
    }
    free(diff);
    return (size_t)most;
}

int deploy_plan_overlap(const deploy_plan_buf *b, int n, int *i, int *j) {
    for (int x = 0; x < n; x++)
        for (int y = x + 1; y < n; y++) {
            if (!live_together(&b[x], &b[y]) || !b[x].size || !b[y].size) continue;
            if (b[x].offset < b[y].offset + b[y].size && b[y].offset < b[x].offset + b[x].size) {
                if (i) *i = x;
                if (j) *j = y;
                return 1;
            }
        }
    return 0;
}
