/* Max, average and global average pooling, NCHW float32.
 * Window (oy, ox) covers rows oy·sh - pt + [0, kh) and columns ox·sw - pl + [0, kw);
 * cells outside [0, Hin) x [0, Win) (top/left padding or the implied
 * bottom/right one) are skipped: they never win a max and do not count in
 * the average. A window with no valid cell yields 0 (argmax -1). */
#include "ops.h"

/* Valid input range [lo, hi) of a window starting at `start` of length k. */
static void pool_range(int start, int k, int in, int *lo, int *hi) {
    *lo = start < 0 ? 0 : start;
    *hi = start + k > in ? in : start + k;
}

/* Valid cells [y0, y1) x [x0, x1) of output (oy, ox)'s window. */
static void pool_window(const train_pool_dims *d, int oy, int ox, int *y0, int *y1, int *x0,
                        int *x1) {
    pool_range(oy * d->sh - d->pt, d->kh, d->hin, y0, y1);
    pool_range(ox * d->sw - d->pl, d->kw, d->win, x0, x1);
}

void train_maxpool_forward(float *out, int32_t *argmax, const float *inp,
                           const train_pool_dims *d) {
    const size_t pin = (size_t)d->hin * d->win, pout = (size_t)d->hout * d->wout;
    for (size_t nc = 0; nc < (size_t)d->n * d->c; nc++) {
        // x (Hin,Win), y and am (Hout,Wout) of one (n,c) plane
        const float *x = inp + nc * pin;
        float *y = out + nc * pout;
        int32_t *am = argmax + nc * pout;
        for (int oy = 0; oy < d->hout; oy++) {
            for (int ox = 0; ox < d->wout; ox++) {
                int y0, y1, x0, x1;
                pool_window(d, oy, ox, &y0, &y1, &x0, &x1);
                float best = 0.0f;
                int32_t bi = -1;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        float v = x[iy * d->win + ix];
                        if (bi < 0 || v > best) {
                            best = v;
                            bi = iy * d->win + ix;
                        }
                    }
                y[oy * d->wout + ox] = best;
                am[oy * d->wout + ox] = bi;
            }
        }
    }
}

/* Forward: y = x[argmax]. The gradient goes to the winner only. */
void train_maxpool_backward(float *dinp, const float *dout, const int32_t *argmax,
                            const train_pool_dims *d) {
    const size_t pin = (size_t)d->hin * d->win, pout = (size_t)d->hout * d->wout;
    for (size_t nc = 0; nc < (size_t)d->n * d->c; nc++) {
        float *dx = dinp + nc * pin;
        const float *dy = dout + nc * pout;
        const int32_t *am = argmax + nc * pout;
        for (size_t i = 0; i < pout; i++)
            if (am[i] >= 0) dx[am[i]] += dy[i];
    }
}

void train_avgpool_forward(float *out, const float *inp, const train_pool_dims *d) {
    const size_t pin = (size_t)d->hin * d->win, pout = (size_t)d->hout * d->wout;
    for (size_t nc = 0; nc < (size_t)d->n * d->c; nc++) {
        const float *x = inp + nc * pin;
        float *y = out + nc * pout;
        for (int oy = 0; oy < d->hout; oy++) {
            for (int ox = 0; ox < d->wout; ox++) {
                int y0, y1, x0, x1;
                pool_window(d, oy, ox, &y0, &y1, &x0, &x1);
                float s = 0.0f;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) s += x[iy * d->win + ix];
                int cnt = (y1 - y0) * (x1 - x0);
                y[oy * d->wout + ox] = cnt > 0 ? s / (float)cnt : 0.0f;
            }
        }
    }
}

/* Forward: y = Σ_window x / count. Each valid cell receives dy / count. */
void train_avgpool_backward(float *dinp, const float *dout, const train_pool_dims *d) {
    const size_t pin = (size_t)d->hin * d->win, pout = (size_t)d->hout * d->wout;
    for (size_t nc = 0; nc < (size_t)d->n * d->c; nc++) {
        float *dx = dinp + nc * pin;
        const float *dy = dout + nc * pout;
        for (int oy = 0; oy < d->hout; oy++) {
            for (int ox = 0; ox < d->wout; ox++) {
                int y0, y1, x0, x1;
                pool_window(d, oy, ox, &y0, &y1, &x0, &x1);
                int cnt = (y1 - y0) * (x1 - x0);
                if (cnt <= 0) continue;
                float g = dy[oy * d->wout + ox] / (float)cnt;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) dx[iy * d->win + ix] += g;
            }
        }
    }
}

void train_gavgpool_forward(float *out, const float *inp, int n, int c, int hw) {
    // inp (N,C,HW) -> out (N,C)
    for (size_t nc = 0; nc < (size_t)n * c; nc++) {
        const float *x = inp + nc * hw;
        float s = 0.0f;
        for (int i = 0; i < hw; i++) s += x[i];
        out[nc] = s / (float)hw;
    }
}

/* Forward: y = Σ x / HW, so every cell receives dy / HW. */
void train_gavgpool_backward(float *dinp, const float *dout, int n, int c, int hw) {
    for (size_t nc = 0; nc < (size_t)n * c; nc++) {
        float g = dout[nc] / (float)hw;
        float *dx = dinp + nc * hw;
        for (int i = 0; i < hw; i++) dx[i] += g;
    }
}
