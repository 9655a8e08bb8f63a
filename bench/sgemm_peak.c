/* sgemm_peak [THREADS]: OpenBLAS single-precision GEMM throughput on this
 * machine (square 1024 and the tall-skinny shapes of small-channel convs),
 * the yardstick for the conv layers' GFLOP/s in bench/compare.sh.
 * Prints one line per shape and a final `peak_gflops=X`. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* best-of-5 GFLOP/s of C(M,N) = A(M,K)·B(K,N) */
static double gflops(int m, int n, int k) {
    float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
    float *c = malloc(sizeof(float) * (size_t)m * n);
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)(i % 5) * 0.1f;
    double best = 1e30;
    long reps = 1 + (long)(2e9 / (2.0 * m * n * k));
    for (int r = 0; r < 5; r++) {
        double t0 = now_s();
        for (long i = 0; i < reps; i++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        double t = (now_s() - t0) / (double)reps;
        if (t < best) best = t;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * m * n * k / best * 1e-9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    openblas_set_num_threads(threads);
    double peak = gflops(1024, 1024, 1024);
    printf("sgemm 1024x1024x1024 threads=%d: %.1f GFLOP/s\n", threads, peak);
    printf("sgemm 16x(784*16)x144 (16-ch 3x3 conv, 16 samples): %.1f GFLOP/s\n", gflops(16, 784 * 16, 144));
    printf("sgemm 64x(49*64)x576 (64-ch 3x3 conv, 64 samples): %.1f GFLOP/s\n", gflops(64, 49 * 64, 576));
    printf("peak_gflops=%.1f\n", peak);
    return 0;
}
