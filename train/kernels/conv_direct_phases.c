/* Strided input gradient of the direct kernel by output phases.
 *
 * With stride s > 1, input row a + sh·Y (phase a in [0, sh)) gets dout row
 * oy = Y + e from exactly the taps i with (a + pt - i·dh) divisible by sh,
 * e = (a + pt - i·dh) / sh; columns alike. So each phase (a, b) of dinp is a
 * stride-1 correlation of dout (padded by the most negative e, zeros beyond)
 * over its own subset of taps: one train_conv_direct_run per phase into a dense
 * phase plane, then added into dinp with stride (sh, sw). The phases
 * partition the taps, so the packed weights (Cin, taps of each phase) take
 * Cout·Cin·kh·kw floats, the wflip slot of the scratch. */
#include <string.h>

#include "conv_internal.h"

typedef struct {
    int pt, pl;  /* dout offset inside its padded copy dp (Cout, hq, wq) */
    int hq, wq;
    int hm, wm;  /* largest phase plane: ceil(Hin / sh) × ceil(Win / sw) */
    int chunk;   /* samples per pass */
} conv_phase_geom;

int train_conv_direct_phases_ok(const train_conv_dims *d) {
    return train_conv_direct_cpu() && d->groups == 1 && d->cin % 4 == 0 && d->kh * d->kw > 1 &&
           d->sh * d->sw <= CONV_PHASE_MAX && d->cout * d->kh * d->kw <= CONV_DIRECT_MAX_TAPS;
}

/* Smallest and largest offset e over all phases and taps of one axis. */
static void conv_phase_range(int s, int p, int k, int dil, int *emin, int *emax) {
    *emin = 0, *emax = 0;
    for (int a = 0; a < s; a++)
        for (int i = 0; i < k; i++)
            if ((a + p - i * dil) % s == 0) {
                int e = (a + p - i * dil) / s;
                if (e < *emin) *emin = e;
                if (e > *emax) *emax = e;
            }
}

static conv_phase_geom conv_phase_geometry(const train_conv_dims *d) {
    conv_phase_geom g;
    int eymin, eymax, exmin, exmax;
    conv_phase_range(d->sh, d->pt, d->kh, d->dh, &eymin, &eymax);
    conv_phase_range(d->sw, d->pl, d->kw, d->dw, &exmin, &exmax);
    g.pt = -eymin, g.pl = -exmin;
    g.hm = (d->hin + d->sh - 1) / d->sh, g.wm = (d->win + d->sw - 1) / d->sw;
    int rows = g.pt + g.hm + eymax, cols = g.pl + (g.wm + 7) / 8 * 8 + exmax;
    g.hq = rows > g.pt + d->hout ? rows : g.pt + d->hout;
    g.wq = cols > g.pl + d->wout ? cols : g.pl + d->wout;
    int nv = g.hm * ((g.wm + 7) / 8);
    g.chunk = nv % 3 ? 3 : 1;
    if (g.chunk > d->n) g.chunk = d->n;
    return g;
}

/* Work floats after the packed weights: the chunk's dp and phase planes. */
size_t train_conv_phase_floats(const train_conv_dims *d) {
    conv_phase_geom g = conv_phase_geometry(d);
    return (size_t)g.chunk * ((size_t)d->cout * g.hq * g.wq + (size_t)d->cin * g.hm * g.wm);
}

#if CONV_DIRECT
/* Per phase: taps [start, start + ntap) of toff; weights wph + Cin·start as
 * (Cin, ntap). */
typedef struct {
    int toff[CONV_DIRECT_MAX_TAPS], start[CONV_PHASE_MAX], ntap[CONV_PHASE_MAX];
} conv_phase_taps;

/* The phase correlations for samples [lo, hi), work train_conv_phase_floats. */
static void conv_phases_range(float *dinp, const float *dout, const float *wph,
                              const train_conv_dims *d, const conv_phase_geom *g,
                              const conv_phase_taps *pt, float *work, int lo, int hi) {
    const int np = d->sh * d->sw;
    const size_t p = (size_t)d->hout * d->wout, pin = (size_t)d->hin * d->win;
    const size_t dps = (size_t)d->cout * g->hq * g->wq;
    float *dp = work, *yph = work + g->chunk * dps;
    memset(dp, 0, sizeof(float) * g->chunk * dps);  // the borders stay zero
    for (int n0 = lo; n0 < hi; n0 += g->chunk) {
        int ns = hi - n0 < g->chunk ? hi - n0 : g->chunk;
        for (int s = 0; s < ns; s++)
            for (int co = 0; co < d->cout; co++)
                for (int oy = 0; oy < d->hout; oy++)
                    memcpy(dp + s * dps + ((size_t)co * g->hq + g->pt + oy) * g->wq + g->pl,
                           dout + ((size_t)(n0 + s) * d->cout + co) * p + (size_t)oy * d->wout,
                           sizeof(float) * d->wout);
        for (int ph = 0; ph < np; ph++) {
            int a = ph / d->sw, b = ph % d->sw;
            int ha = (d->hin - a + d->sh - 1) / d->sh, wb = (d->win - b + d->sw - 1) / d->sw;
            if (pt->ntap[ph] == 0 || ha <= 0 || wb <= 0) continue;
            conv_direct_plan pl = {d->cin, pt->ntap[ph], pt->toff + pt->start[ph], ha, wb, g->wq, dps};
            train_conv_direct_run(yph, dp, wph + (size_t)d->cin * pt->start[ph], ns, &pl, 0);
            // yph (ns, Cin, ha, wb) -> dinp[n0 + s][c][a + sh·Y][b + sw·X]
            for (int s = 0; s < ns; s++)
                for (int c = 0; c < d->cin; c++)
                    for (int y = 0; y < ha; y++) {
                        const float *src = yph + (((size_t)s * d->cin + c) * ha + y) * wb;
                        float *dst = dinp + ((size_t)(n0 + s) * d->cin + c) * pin +
                                     (size_t)(a + d->sh * y) * d->win + b;
                        for (int x = 0; x < wb; x++) dst[(size_t)x * d->sw] += src[x];
                    }
        }
    }
}
#endif

/* dinp += input gradient of a strided conv (train_conv_direct_phases_ok); the
 * packed weights go to sc->wflip (Cout·Cin·kh·kw floats), each thread's work
 * (train_conv_phase_floats) to its col. */
void train_conv_direct_dinp_phases(float *dinp, const float *dout, const float *weight,
                             const train_conv_dims *d, const conv_scratch *sc) {
#if CONV_DIRECT
    const conv_phase_geom g = conv_phase_geometry(d);
    const int kk = d->kh * d->kw, np = d->sh * d->sw;
    float *wph = sc->wflip;
    conv_phase_taps pt;
    int *toff = pt.toff, *start = pt.start, *ntap = pt.ntap, u = 0;
    for (int ph = 0; ph < np; ph++) {
        int a = ph / d->sw, b = ph % d->sw;
        start[ph] = u;
        for (int co = 0; co < d->cout; co++)
            for (int i = 0; i < d->kh; i++) {
                if ((a + d->pt - i * d->dh) % d->sh) continue;
                int ey = (a + d->pt - i * d->dh) / d->sh;
                for (int j = 0; j < d->kw; j++) {
                    if ((b + d->pl - j * d->dw) % d->sw) continue;
                    int ex = (b + d->pl - j * d->dw) / d->sw;
                    toff[u++] = (co * g.hq + g.pt + ey) * g.wq + g.pl + ex;
                }
            }
        ntap[ph] = u - start[ph];
        // wph block (Cin, ntap): the same (co, i, j) order as toff
        float *wb = wph + (size_t)d->cin * start[ph];
        int t = 0;
        for (int co = 0; co < d->cout; co++)
            for (int i = 0; i < d->kh; i++) {
                if ((a + d->pt - i * d->dh) % d->sh) continue;
                for (int j = 0; j < d->kw; j++) {
                    if ((b + d->pl - j * d->dw) % d->sw) continue;
                    for (int c = 0; c < d->cin; c++)
                        wb[(size_t)c * ntap[ph] + t] =
                            weight[((size_t)co * d->cin + c) * kk + i * d->kw + j];
                    t++;
                }
            }
    }
    const int nt = conv_team_sc(sc, d->n);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int th = conv_thread_num();
        int lo, hi;
        conv_thread_range(d->n, th, conv_num_threads(), &lo, &hi);
        conv_phases_range(dinp, dout, wph, d, &g, &pt, conv_col_of(sc, th), lo, hi);
    }
#else
    (void)dinp, (void)dout, (void)weight, (void)d, (void)sc;
    DNAS_ASSERT(0);
#endif
}
