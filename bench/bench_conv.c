/* Per-shape timing of train_conv2d_forward / _backward on the ResNet-8
 * Fashion-MNIST layers at batch 128, against one plain cblas_sgemm of the
 * same logical shape (Cout x N·P x K, i.e. the same FLOPs with the im2col
 * free). Prints best-of-R ms, GFLOP/s and the sgemm/conv time ratio (> 1:
 * the conv beats that sgemm). With one OpenMP thread the times are process
 * CPU time (time lost to another process on the same core does not count;
 * cache contention still does); with more, wall time (CPU time would add
 * the threads up), so measure those on an otherwise idle machine.
 *
 * Built by CMake with the other benchmarks (bench/CMakeLists.txt):
 *   cmake --build build && OPENBLAS_NUM_THREADS=1 build/bench/bench_conv [reps]
 * OMP_NUM_THREADS sets the threads the conv kernels use.
 * The first layer's backward skips dinp, as in the network.
 * BENCH_CONV_SPLIT=1 also times the weight and the input gradient alone. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ops.h"

typedef struct {
    const char *name;
    int cin, hw, cout, k, s, p, need_dinp;
} bench_shape;

static const bench_shape shapes[] = {
    {"stem 1->16 28", 1, 28, 16, 3, 1, 1, 0},  {"16->16 28", 16, 28, 16, 3, 1, 1, 1},
    {"16->32 s2 28", 16, 28, 32, 3, 2, 1, 1},  {"1x1 16->32 s2", 16, 28, 32, 1, 2, 0, 1},
    {"32->32 14", 32, 14, 32, 3, 1, 1, 1},     {"32->64 s2 14", 32, 14, 64, 3, 2, 1, 1},
    {"1x1 32->64 s2", 32, 14, 64, 1, 2, 0, 1}, {"64->64 7", 64, 7, 64, 3, 1, 1, 1},
};

static int wall_clock;  // more than one thread: wall time

static double now_s(void) {
    struct timespec t;
    clock_gettime(wall_clock ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static float *alloc_fill(size_t n, unsigned *seed) {
    float *p = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (float)rand_r(seed) / RAND_MAX - 0.5f;
    return p;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 5, batch = 128;
    unsigned seed = 1;
    double tot_f = 0, tot_b = 0;
    const int split = getenv("BENCH_CONV_SPLIT") != NULL;  // also time dW and dX alone
    wall_clock = omp_get_max_threads() > 1;
    printf("%d thread(s), %s time\n", omp_get_max_threads(), wall_clock ? "wall" : "CPU");
    printf("%-15s %8s %8s %8s %8s %8s %7s %7s\n", "shape", "fwd ms", "GF/s", "bwd ms", "GF/s",
           "gemm ms", "f/gemm", "b/gemm");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const bench_shape *b = &shapes[i];
        train_conv_dims d = {.n = batch, .cin = b->cin, .hin = b->hw, .win = b->hw,
                             .cout = b->cout, .kh = b->k, .kw = b->k, .sh = b->s, .sw = b->s,
                             .dh = 1, .dw = 1, .pt = b->p, .pl = b->p, .groups = 1};
        d.hout = train_conv_out_size(b->hw, b->k, b->s, 1, b->p);
        d.wout = d.hout;
        size_t p = (size_t)d.hout * d.wout, kk = (size_t)b->cin * b->k * b->k;
        size_t nin = (size_t)batch * b->cin * b->hw * b->hw, nout = (size_t)batch * b->cout * p;
        float *inp = alloc_fill(nin, &seed), *w = alloc_fill(b->cout * kk, &seed);
        float *out = alloc_fill(nout, &seed), *dout = alloc_fill(nout, &seed);
        float *dinp = calloc(nin, sizeof(float)), *dw = calloc(b->cout * kk, sizeof(float));
        size_t ns = train_conv2d_scratch_floats(&d);
        float *scratch = malloc((ns ? ns : 1) * sizeof(float));
        // reference sgemm: C (Cout, N·P) = A (Cout, K) · B (K, N·P)
        size_t ncol = (size_t)batch * p;
        float *gb = alloc_fill(kk * ncol, &seed), *gc = malloc(b->cout * ncol * sizeof(float));
        double tf = 1e30, tb = 1e30, tg = 1e30, tw = 1e30, tx = 1e30;
        for (int r = 0; r < reps; r++) {
            double t0 = now_s();
            train_conv2d_forward(out, inp, w, NULL, &d, scratch, ns);
            double t1 = now_s();
            train_conv2d_backward(b->need_dinp ? dinp : NULL, dw, NULL, dout, inp, w, &d, scratch, ns);
            double t2 = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b->cout, (int)ncol, (int)kk,
                        1.0f, w, (int)kk, gb, (int)ncol, 0.0f, gc, (int)ncol);
            double t3 = now_s();
            if (t1 - t0 < tf) tf = t1 - t0;
            if (t2 - t1 < tb) tb = t2 - t1;
            if (t3 - t2 < tg) tg = t3 - t2;
            if (split) {  // the two gradients alone
                double t4 = now_s();
                train_conv2d_backward(NULL, dw, NULL, dout, inp, w, &d, scratch, ns);
                double t5 = now_s();
                if (b->need_dinp)
                    train_conv2d_backward(dinp, NULL, NULL, dout, inp, w, &d, scratch, ns);
                double t6 = now_s();
                if (t5 - t4 < tw) tw = t5 - t4;
                if (t6 - t5 < tx) tx = t6 - t5;
            }
        }
        double fl = 2.0 * b->cout * kk * ncol, flb = fl * (b->need_dinp ? 2 : 1);
        printf("%-15s %8.2f %8.1f %8.2f %8.1f %8.2f %7.2f %7.2f\n", b->name, tf * 1e3,
               fl / tf * 1e-9, tb * 1e3, flb / tb * 1e-9, tg * 1e3, tg / tf,
               tg * (b->need_dinp ? 2 : 1) / tb);
        if (split) printf("%-15s dW %8.2f ms  dX %8.2f ms\n", "", tw * 1e3, tx * 1e3);
        tot_f += tf, tot_b += tb;
        free(inp), free(w), free(out), free(dout), free(dinp), free(dw), free(scratch);
        free(gb), free(gc);
    }
    printf("total (one of each): fwd %.1f ms, bwd %.1f ms\n", tot_f * 1e3, tot_b * 1e3);
    return 0;
}
