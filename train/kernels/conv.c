/* 2-D convolution (also 1-D with H = 1, grouped and depthwise), NCHW float32.
 *
 * Which path runs (K = Cin/G·kh·kw, P = Hout·Wout):
 * 1. Depthwise (groups == Cin == Cout): direct loops, no scratch.
 * 2. Direct AVX2/FMA kernel (x86-64 CPU with AVX2 + FMA, one group,
 *    Cout % 4 == 0, kernel larger than 1x1; see train_conv_direct.c):
 *    forward (from 16 taps up), weight gradient, and the input gradient
 *    (stride 1: as the adjoint correlation below, needs Cin % 4 == 0;
 *    stride > 1: one correlation per output phase, conv_direct_phases.c).
 *    On the ResNet-8 layers it runs at 50-70 GFLOP/s against 25-45 for the
 *    im2col + sgemm path: with Cout 16-64 the column matrix is about as
 *    large as the work done on it, and sgemm packs it once more.
 * 3. Otherwise im2col + sgemm, per tile of s samples × R output rows:
 *      col (K, s·R·Wout)       = im2col
 *      out_g[:, tile]          = W_g (Cout/G, K) · col           (sgemm NN)
 *      dW_g (Cout/G, K)       += dout_g[:, tile] · colᵀ          (sgemm NT, beta 1)
 *    a tile spanning several samples goes through a gather buffer. Input
 *    gradient, stride 1: the adjoint of a stride-1 correlation is again a
 *    stride-1 correlation, of dout with the flipped, transposed weight
 *      Wf_g (Cin/G, Cout/G·kh·kw), Wf[ci][co][i][j] = W[co][ci][kh-1-i][kw-1-j]
 *    and padding (kh-1)·dh - pt, so dinp_g += Wf_g · im2col(dout_g) (sgemm
 *    NN, beta 1) with no scatter. Stride > 1: dcol = W_gᵀ · dout_g (sgemm
 *    TN), then col2im adds it into dinp.
 * 4. 1x1 convolutions with stride 1, no padding and the same spatial size
 *    read the input directly as col (scratch only for threads, below).
 * Threads: paths 2-4 split the batch into one contiguous range of samples
 * per OpenMP thread (omp_get_max_threads(), at most N, and at most the
 * threads the scratch given has slices for), each with its own scratch
 * slice and, for the weight gradient, its own buffer added into dweight in
 * thread order afterwards: results are deterministic for a given team
 * size, and at one thread those of the serial loops. The sgemm paths
 * go parallel only when OpenBLAS runs one thread (openblas_set_num_threads(1))
 * since sgemm is then called from inside the team. Depthwise splits over
 * (sample, channel) planes forward and channels backward.
 * Padding: only top/left are given; cells beyond Hin/Win on the bottom/right
 * (TF "same") read as zero, so every index is bounds-checked on both sides.
 * Build knob: -DCONV_NO_DIRECT turns the direct kernel off (A/B timing).
 *
 * Files: see conv_internal.h. */
#include <cblas.h>
#include <string.h>

#include "conv_internal.h"

int train_conv_out_size(int in, int k, int s, int d, int p) {
    int span = d * (k - 1) + 1;
    if (in + 2 * p < span) return 0;
    return (in + 2 * p - span) / s + 1;
}

int train_conv_same(int in, int k, int s, int d, int *pad_before) {
    int out = (in + s - 1) / s;
    int total = (out - 1) * s + d * (k - 1) + 1 - in;
    if (total < 0) total = 0;
    if (pad_before) *pad_before = total / 2;
    return out;
}

/* ---- scratch ------------------------------------------------------------ */

/* Scratch layout (floats): wflip (Cout·K, stride 1 only), then col, the
 * largest work buffer of any path (im2col tiles, the direct kernels' padded
 * planes), then gat (gathered tiles when a tile spans several samples). */
static void conv_scratch_sizes(const train_conv_dims *d, size_t *wflip, size_t *col, size_t *gat) {
    const int k = d->cin / d->groups * d->kh * d->kw;
    const size_t p = (size_t)d->hout * d->wout, pin = (size_t)d->hin * d->win;
    conv_tiling tl = train_conv_tiles(k, d->wout, d->hout, d->n);
    *col = (size_t)k * tl.s * tl.rows * d->wout;
    *gat = tl.s > 1 ? (size_t)d->cout / d->groups * tl.s * p : 0;
    *wflip = 0;
    if (conv_is_stride1(d)) {
        int kt = d->cout / d->groups * d->kh * d->kw;
        conv_tiling tt = train_conv_tiles(kt, d->win, d->hin, d->n);
        size_t colt = (size_t)kt * tt.s * tt.rows * d->win;
        size_t gatt = tt.s > 1 ? (size_t)d->cin / d->groups * tt.s * pin : 0;
        if (colt > *col) *col = colt;
        if (gatt > *gat) *gat = gatt;
        *wflip = (size_t)d->cout * k;
        train_conv_dims t = conv_adjoint_dims(d);
        size_t dirt = train_conv_direct_chunk(&t) * train_conv_direct_floats(&t);
        if (train_conv_direct_ok(&t) && dirt > *col) *col = dirt;
    }
    if (train_conv_fused_ok(d) && train_conv_fused_floats(d) > *col) *col = train_conv_fused_floats(d);
    if (!conv_is_stride1(d) && train_conv_direct_phases_ok(d)) {
        *wflip = (size_t)d->cout * k;
        if (train_conv_phase_floats(d) > *col) *col = train_conv_phase_floats(d);
    }
    if (train_conv_direct_ok(d) && train_conv_direct_chunk(d) * train_conv_direct_floats(d) > *col)
        *col = train_conv_direct_chunk(d) * train_conv_direct_floats(d);
    if (train_conv_direct_ok(d)) {
        size_t dir = train_conv_direct_dw_chunk(d) * (train_conv_direct_floats(d) + train_conv_direct_dyp_floats(d));
        if (dir > *col) *col = dir;
    }
}

/* Weight floats: Cout · Cin/G · kh · kw. */
static size_t conv_weight_floats(const train_conv_dims *d) {
    return (size_t)d->cout * (d->cin / d->groups) * d->kh * d->kw;
}

/* Layout: wflip | T slices of (col | gat) | T-1 private weight gradients.
 * Sized here for T = omp_get_max_threads() at the time of the call; the
 * kernels learn T back from the size they are given (conv_scratch_carve),
 * so a thread count raised after sizing gives smaller teams, never a slice
 * past the end. Depthwise needs none; 1x1 pointwise only the private
 * weight gradients. */
size_t train_conv2d_scratch_floats(const train_conv_dims *d) {
    if (conv_is_depthwise(d)) return 0;
    const size_t nt = (size_t)conv_max_threads(), dwp = (nt - 1) * conv_weight_floats(d);
    if (conv_is_pointwise(d)) return dwp;
    size_t wflip, col, gat;
    conv_scratch_sizes(d, &wflip, &col, &gat);
    return wflip + nt * (col + gat) + dwp;
}

/* Carves `floats` floats of scratch for the largest team T that fits,
 * wflip + T·(col + gat) + (T-1)·nw <= floats, and at most
 * omp_get_max_threads(). Less than one thread's share is a caller bug. */
static conv_scratch conv_scratch_carve(float *scratch, size_t floats, const train_conv_dims *d) {
    size_t wflip = 0, col = 0, gat = 0, nw = conv_weight_floats(d);
    if (!conv_is_pointwise(d)) conv_scratch_sizes(d, &wflip, &col, &gat);
    DNAS_ASSERT((scratch || floats == 0) && floats >= wflip + col + gat);
    size_t fit = 1 + (floats - wflip - col - gat) / (col + gat + nw);
    int nt = conv_max_threads();
    if ((size_t)nt > fit) nt = (int)fit;
    if (!scratch) return (conv_scratch){.nw = nw, .nt = nt}; // pointwise at one thread: none needed
    conv_scratch s = {scratch, scratch + wflip, scratch + wflip + col, col + gat,
                      scratch + wflip + (size_t)nt * (col + gat), nw, nt};
    return s;
}

float *train_conv_dw_target(float *dweight, const conv_scratch *sc, int t) {
    if (!dweight || t == 0) return dweight;
    float *dw = sc->dwp + (size_t)(t - 1) * sc->nw;
    memset(dw, 0, sizeof(float) * sc->nw);
    return dw;
}

void train_conv_dw_reduce(float *dweight, const conv_scratch *sc, int nt) {
    if (!dweight || nt < 2) return;
#pragma omp barrier
#pragma omp for schedule(static)
    for (size_t i = 0; i < sc->nw; i++) {
        float s = dweight[i];
        for (int t = 1; t < nt; t++) s += sc->dwp[(size_t)(t - 1) * sc->nw + i];
        dweight[i] = s;
    }
}

int train_conv_team_blas(const conv_scratch *sc, int n) {
    return openblas_get_num_threads() > 1 ? 1 : conv_team_sc(sc, n);
}

/* out (N, Cout, P) += bias (Cout), if any */
static void conv_add_bias(float *out, const float *bias, const train_conv_dims *d) {
    if (!bias) return;
    const size_t p = (size_t)d->hout * d->wout;
#pragma omp parallel for collapse(2) schedule(static) if (conv_team(d->n) > 1)
    for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->cout; co++) {
            float *o = out + ((size_t)n * d->cout + co) * p;
            for (size_t i = 0; i < p; i++) o[i] += bias[co];
        }
}

/* Path selection: depthwise, direct, else im2col + sgemm (pointwise). */
void train_conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                          const train_conv_dims *d, float *scratch, size_t scratch_floats) {
    DNAS_ASSERT(d->groups >= 1 && d->cin % d->groups == 0 && d->cout % d->groups == 0);
    if (conv_is_depthwise(d)) {
        train_conv_dw_forward(out, inp, weight, bias, d);
        return;
    }
    const conv_scratch sc = conv_scratch_carve(scratch, scratch_floats, d);
    if (train_conv_direct_ok(d) && d->cin * d->kh * d->kw >= CONV_DIRECT_MIN_TAPS)
        train_conv_direct(out, inp, weight, d, &sc, 0);
    else
        train_conv_gemm_forward(out, inp, weight, d, &sc);
    conv_add_bias(out, bias, d);
}

/* Forward per group: out_g = W_g · col. Hence dW_g += dout_g · colᵀ,
 * dcol = W_gᵀ · dout_g (scattered back by col2im, or for stride 1 computed
 * as the flipped-weight correlation), dbias += Σ_{n,p} dout. */
void train_conv2d_backward(float *dinp, float *dweight, float *dbias,
                           const float *dout, const float *inp, const float *weight,
                           const train_conv_dims *d, float *scratch, size_t scratch_floats) {
    DNAS_ASSERT(d->groups >= 1 && d->cin % d->groups == 0 && d->cout % d->groups == 0);
    if (conv_is_depthwise(d)) {
        train_conv_dw_backward(dinp, dweight, dbias, dout, inp, weight, d);
        return;
    }
    const int p = d->hout * d->wout;
    if (dbias) {
        // per channel, samples in order: the serial loop's sums at any team size
#pragma omp parallel for schedule(static) if (conv_team(d->n) > 1 && d->cout > 1)
        for (int co = 0; co < d->cout; co++)
            for (int n = 0; n < d->n; n++) {
                const float *o = dout + ((size_t)n * d->cout + co) * p;
                float acc = 0.0f;
                for (int i = 0; i < p; i++) acc += o[i];
                dbias[co] += acc;
            }
    }
    const conv_scratch sc = conv_scratch_carve(scratch, scratch_floats, d);
    if (conv_is_pointwise(d)) {
        train_conv_backward_pointwise(dinp, dweight, dout, inp, weight, d, &sc);
        return;
    }
    if (conv_is_stride1(d) && dinp) train_conv_flip_weights(sc.wflip, weight, d);
    if (conv_is_stride1(d) && dinp && dweight && train_conv_fused_ok(d)) {
        train_conv_direct_backward_fused(dinp, dweight, dout, inp, sc.wflip, d, &sc);
    } else if (conv_is_stride1(d)) {
        if (dweight && train_conv_direct_ok(d))
            train_conv_direct_dweight(dweight, dout, inp, d, &sc);
        else if (dweight)
            train_conv_backward_cols(NULL, dweight, dout, inp, weight, d, &sc);
        if (dinp) train_conv_backward_adjoint(dinp, dout, d, &sc);
    } else {
        int dw_direct = dweight && train_conv_direct_ok(d), dx_direct = dinp && train_conv_direct_phases_ok(d);
        if (dw_direct) train_conv_direct_dweight(dweight, dout, inp, d, &sc);
        if (dx_direct) train_conv_direct_dinp_phases(dinp, dout, weight, d, &sc);
        if ((dinp && !dx_direct) || (dweight && !dw_direct))
            train_conv_backward_cols(dx_direct ? NULL : dinp, dw_direct ? NULL : dweight, dout, inp,
                               weight, d, &sc);
    }
}
