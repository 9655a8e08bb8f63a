/* The arena planner: offsets for buffers with known lifetimes, so that
 * buffers live at a common step never share a byte, in one arena.
 *
 * Algorithm (greedy by size, first fit; tflite-micro's GreedyMemoryPlanner):
 *   1. order the buffers by size, largest first; ties go to the buffer
 *      born first (smaller `first`), then to the one given first (smaller
 *      index), so the plan is a function of the input alone;
 *   2. for each buffer in that order, take the buffers placed before it
 *      whose lifetimes intersect its own ([first, last] share a step),
 *      sorted by offset;
 *   3. walk the gaps between them from offset 0 up and place the buffer
 *      at the lowest offset (rounded up to `align`) where it fits, or after
 *      the last of them;
 *   4. the arena is the largest offset + size.
 * Each step is O(n) per buffer (O(n^2 log n) in all), fine for networks of
 * thousands of tensors.
 *
 * The lower bound is the most bytes live at one step (a difference array
 * over steps); every valid placement needs at least that much.
 *
 * What it does not guarantee: an optimal arena (placement with lifetimes
 * is NP-hard; largest-first can leave a gap a later, smaller buffer cannot
 * use) or any ratio to the lower bound. docs/deploy.md lists the ratios
 * measured on the zoo networks. It does not place a buffer over one of its
 * own op's inputs (an in-place add): an op's inputs and output are live at
 * that op's step, so they never share bytes. */
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

size_t deploy_plan_arena(deploy_plan_buf *b, int n, size_t align) {
    if (align < 1) align = 1;
    if (n <= 0) return 0;
    ordered *order = dnas_xmalloc((size_t)n * sizeof *order);
    const deploy_plan_buf **placed = dnas_xmalloc((size_t)n * sizeof *placed);
    for (int i = 0; i < n; i++)
        order[i] = (ordered){&b[i], i};
    qsort(order, (size_t)n, sizeof *order, by_size);
    size_t arena = 0;
    for (int k = 0; k < n; k++) {
        deploy_plan_buf *cur = &b[order[k].index];
        int np = 0;
        for (int j = 0; j < k; j++) {
            const deploy_plan_buf *p = &b[order[j].index];
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
    free(placed);
    free(order);
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
