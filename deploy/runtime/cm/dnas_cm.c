/* dnas_cm kernels (dnas_cm.h): conv2d by im2col of two pixels and a 2x2
 * SMLAD matrix multiply, depthwise conv2d by 4-channel SMLABB/SMLATT,
 * linear by the same multiply on one pixel.
 *
 * 16-bit pairs. SMLAD(x, y, acc) = acc + x.lo·y.lo + x.hi·y.hi on signed
 * 16-bit halves. A weight word holding the bytes w0 w1 w2 w3 (in memory
 * order) gives the pairs SXTB16(w) = (w0, w2) and SXTB16(ROR(w, 8)) =
 * (w1, w3); the gather writes the activations of the same four K positions
 * as (x0, x2) and (x1, x3) (UXTB16/SXTB16 of the input word, or built
 * element by element), so weights stay in dnas_rt's layout [Cout][K] and
 * x·w sums the same products. uint8 (0..255) and int8 both fit a signed
 * 16-bit half, so one multiply serves both signednesses.
 *
 * Scratch of conv2d: K' = 4·ceil(K/4) 16-bit values per pixel, two pixels
 * interleaved per group of four K positions: words [4g+0], [4g+1] pixel 0's
 * (x0,x2), (x1,x3); [4g+2], [4g+3] pixel 1's. Positions past K are zero, the
 * weights of the last group are read byte by byte (never past the array).
 * An odd last pixel (or channel) is computed twice and written once.
 *
 * Exactness: every accumulator is b_c + Σ x·w over the same products as
 * dnas_rt_conv2d (zeros added for padding and K'), and the accumulator bound
 * the arguments check keeps every partial sum inside int32, so SMLAD's
 * wrapping 32-bit adds are exact; dnas_cm_requant is dnas_rt_requant. */
#include <string.h>

#include "dnas_cm.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
static inline uint32_t cm_sxtb16(uint32_t x) {
    return (uint32_t)__sxtb16((int8x4_t)x);
}
static inline uint32_t cm_uxtb16(uint32_t x) {
    return __uxtb16(x);
}
/* SXTB16/UXTB16 with their rotate operand, which gcc 12 does not fold from
 * a separate ROR: one instruction instead of two in the inner loops. */
static inline uint32_t cm_sxtb16_ror8(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline uint32_t cm_uxtb16_ror8(uint32_t x) {
    uint32_t r;
    __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline int32_t cm_smlad(uint32_t x, uint32_t y, int32_t acc) {
    return __smlad((int16x2_t)x, (int16x2_t)y, acc);
}
static inline int32_t cm_smlabb(uint32_t x, uint32_t y, int32_t acc) {
    return __smlabb((int32_t)x, (int32_t)y, acc);
}
static inline int32_t cm_smlatt(uint32_t x, uint32_t y, int32_t acc) {
    return __smlatt((int32_t)x, (int32_t)y, acc);
}
#else
/* Portable definitions: signed halves and bytes without implementation-
 * defined conversions; the adds cannot overflow (accumulator bound). */
static inline int32_t cm_s16(uint32_t h) {
    return (int32_t)((h & 0xFFFFu) ^ 0x8000u) - 0x8000;
}
static inline uint32_t cm_sxb(uint32_t b) {
    return (uint32_t)(((b & 0xFFu) ^ 0x80u) + 0xFF80u) & 0xFFFFu; /* int8 -> int16 bits */
}
static inline uint32_t cm_sxtb16(uint32_t x) {
    return cm_sxb(x) | cm_sxb(x >> 16) << 16;
}
static inline uint32_t cm_uxtb16(uint32_t x) {
    return x & 0x00FF00FFu;
}
static inline int32_t cm_smlad(uint32_t x, uint32_t y, int32_t acc) {
    return acc + cm_s16(x) * cm_s16(y) + cm_s16(x >> 16) * cm_s16(y >> 16);
}
static inline int32_t cm_smlabb(uint32_t x, uint32_t y, int32_t acc) {
    return acc + cm_s16(x) * cm_s16(y);
}
static inline int32_t cm_smlatt(uint32_t x, uint32_t y, int32_t acc) {
    return acc + cm_s16(x >> 16) * cm_s16(y >> 16);
}
static inline uint32_t cm_sxtb16_ror8(uint32_t x) {
    return cm_sxtb16(x >> 8 | x << 24);
}
static inline uint32_t cm_uxtb16_ror8(uint32_t x) {
    return cm_uxtb16(x >> 8 | x << 24);
}
#endif

/* A compiler barrier (no instruction): loads stay on their side of it. */
#ifdef __GNUC__
#define CM_BARRIER() __asm__ volatile("" ::: "memory")
#else
#define CM_BARRIER() ((void)0)
#endif

static inline uint32_t cm_ld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v); /* one LDR: unaligned loads are allowed on v7-M */
    return v;
}

/* Requantization as dnas_rt_requant: v = acc·m (|v| <= 2^62); for s >= 1,
 * t = v + 2^(s-1) (|t| < 2^63), and floor(t / 2^s) from the unsigned
 * (t + 2^63) >> s = floor(t / 2^s) + 2^(63-s) (2^63 divisible by 2^s). */
#ifdef __GNUC__
__attribute__((noinline)) /* the rare path: keeps the kernels' loops small */
#endif
static int32_t
cm_requant(int32_t acc, int32_t m, int s, int32_t lo, int32_t hi) {
    int64_t v = (int64_t)acc * m;
    if (s > 0) {
        uint64_t u = ((uint64_t)v + ((uint64_t)1 << (s - 1))) ^ ((uint64_t)1 << 63);
        v = (int64_t)(u >> s) - (int64_t)((uint64_t)1 << (63 - s));
    }
    return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

/* The requantization of one kernel call, prepared once. For 32 <= s <= 55
 * (the usual shifts: multipliers near 2^31 for ratios below 1) a faster
 * form with the same result: u = v + 2^(s-1) + 2^63 (mod 2^64) is t + 2^63
 * as above, and floor(t / 2^s) = (u_hi >> (s-32)) - 2^(63-s) with u_hi the
 * high word of u (u >> s = u_hi >> (s-32) for s >= 32). Write w = u_hi >>
 * (s-32) and off = 2^(63-s) (256 <= off <= 2^31): y = lo when w < lo + off,
 * hi when w > hi + off, else w - off, all in uint32 (lo + off >= 128 > 0,
 * hi + off < 2^32). */
typedef struct {
    const int32_t *m;
    int s, fast;       /* fast: 32 <= s <= 55 */
    uint64_t add;      /* 2^(s-1) + 2^63 */
    int sh;            /* s - 32 */
    uint32_t wlo, whi; /* lo + off, hi + off */
    int32_t lo, hi;
} cm_rq;

static void cm_rq_init(cm_rq *q, const dnas_rt_requant_params *rq) {
    q->m = rq->m;
    q->s = rq->s;
    q->lo = rq->lo;
    q->hi = rq->hi;
    q->fast = rq->s >= 32 && rq->s <= 55;
    q->sh = q->fast ? rq->s - 32 : 0;
    q->add = q->fast ? ((uint64_t)1 << (rq->s - 1)) + ((uint64_t)1 << 63) : 0;
    uint32_t off = q->fast ? (uint32_t)1 << (63 - rq->s) : 0;
    q->wlo = off + (uint32_t)(rq->lo + 128) - 128u; /* lo >= -128 */
    q->whi = off + (uint32_t)(rq->hi + 128) - 128u;
}

/* The fast requantization (q->fast) of one accumulator of channel c. */
static inline int32_t cm_rq_fast(const cm_rq *q, int32_t acc, int32_t c) {
    uint64_t u = (uint64_t)((int64_t)acc * q->m[c]) + q->add;
    uint32_t w = (uint32_t)(u >> 32) >> q->sh;
    return w < q->wlo ? q->lo : w > q->whi ? q->hi : (int32_t)(w - q->wlo) + q->lo;
}

static inline int32_t cm_rq_one(const cm_rq *q, int32_t acc, int32_t c) {
    if (q->fast) return cm_rq_fast(q, acc, c);
    return cm_requant(acc, q->m[c], q->s, q->lo, q->hi);
}

int32_t dnas_cm_requant(int32_t acc, int32_t m, int s, int32_t lo, int32_t hi) {
    if (s < 0) s = 0;
    if (s > DNAS_RT_SHIFT_MAX) s = DNAS_RT_SHIFT_MAX;
    const dnas_rt_requant_params rq = {&m, s, lo, hi};
    cm_rq q;
    cm_rq_init(&q, &rq);
    return cm_rq_one(&q, acc, 0);
}

/* v in the output type's range: its byte, int8 (two's complement) or uint8. */
static inline void cm_store(void *out, size_t i, int32_t v) {
    ((uint8_t *)out)[i] = (uint8_t)(uint32_t)v;
}
/* One group of four K positions against two weight words: a[row][pixel].
 * Ordered so that at most six values are live beside the accumulators and
 * pointers (the four column words, then one row's two pairs at a time):
 * with 4 accumulators and 4 pointers that is the 14 registers Thumb-2 has. */
#define CM_GROUP(va, vb, x0e, x0o, x1e, x1o)                                                       \
    do {                                                                                           \
        uint32_t e_ = cm_sxtb16(va), o_ = cm_sxtb16_ror8(va);                                      \
        a00 = cm_smlad(x0e, e_, a00);                                                              \
        a00 = cm_smlad(x0o, o_, a00);                                                              \
        a01 = cm_smlad(x1e, e_, a01);                                                              \
        a01 = cm_smlad(x1o, o_, a01);                                                              \
        e_ = cm_sxtb16(vb);                                                                        \
        o_ = cm_sxtb16_ror8(vb);                                                                   \
        a10 = cm_smlad(x0e, e_, a10);                                                              \
        a10 = cm_smlad(x0o, o_, a10);                                                              \
        a11 = cm_smlad(x1e, e_, a11);                                                              \
        a11 = cm_smlad(x1o, o_, a11);                                                              \
    } while (0)

/* The last r (1..3) weights of a row as a word, zero above. */
static inline uint32_t cm_tail(const int8_t *w, int32_t r) {
    uint32_t v = 0;
    for (int32_t j = 0; j < r; j++)
        v |= (uint32_t)(uint8_t)w[j] << (8 * j);
    return v;
}

/* acc[row][pixel] += W[row] · col[pixel] for rows wa, wb (K int8 each) and
 * the two interleaved pixels of col (ceil(K/4) groups of 4 words). safe: at
 * least 3 bytes of weights follow row wb, so the last group reads whole
 * words (their bytes past K meet zeros in col); else it reads bytes. */
static inline void cm_mm22(const int8_t *wa, const int8_t *wb, const uint32_t *col, int32_t k,
                           int safe, int32_t acc[4]) {
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    const uint32_t *cend = col + 4 * (safe ? (k + 3) >> 2 : k >> 2); /* whole-word groups */
    while (col != cend) {
        /* row a, then row b: a barrier keeps gcc from loading row b's word
         * early, which would need a 15th register and spill the loop end */
        uint32_t x0e = col[0], x0o = col[1], x1e = col[2], x1o = col[3];
        col += 4;
        uint32_t va = cm_ld32(wa);
        wa += 4;
        uint32_t e_ = cm_sxtb16(va), o_ = cm_sxtb16_ror8(va);
        a00 = cm_smlad(x0e, e_, a00);
        a00 = cm_smlad(x0o, o_, a00);
        a01 = cm_smlad(x1e, e_, a01);
        a01 = cm_smlad(x1o, o_, a01);
        CM_BARRIER();
        uint32_t vb = cm_ld32(wb);
        wb += 4;
        e_ = cm_sxtb16(vb);
        o_ = cm_sxtb16_ror8(vb);
        a10 = cm_smlad(x0e, e_, a10);
        a10 = cm_smlad(x0o, o_, a10);
        a11 = cm_smlad(x1e, e_, a11);
        a11 = cm_smlad(x1o, o_, a11);
    }
    if (!safe && (k & 3)) {
        uint32_t va = cm_tail(wa, k & 3), vb = cm_tail(wb, k & 3);
        CM_GROUP(va, vb, col[0], col[1], col[2], col[3]);
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* As cm_mm22 for one pixel (col: ceil(K/4) groups of 2 words). */
static void cm_mm21(const int8_t *wa, const int8_t *wb, const uint32_t *col, int32_t k, int safe,
                    int32_t acc[2]) {
    int32_t a00 = acc[0], a10 = acc[1], a01 = 0, a11 = 0;
    const int8_t *wend = wa + (safe ? (k + 3) & ~(int32_t)3 : k & ~(int32_t)3);
    while (wa != wend) {
        uint32_t va = cm_ld32(wa), vb = cm_ld32(wb);
        wa += 4;
        wb += 4;
        CM_GROUP(va, vb, col[0], col[1], 0u, 0u);
        col += 2;
    }
    if (!safe && (k & 3)) {
        uint32_t va = cm_tail(wa, k & 3), vb = cm_tail(wb, k & 3);
        CM_GROUP(va, vb, col[0], col[1], 0u, 0u);
    }
    (void)a01;
    (void)a11;
    acc[0] = a00;
    acc[1] = a10;
}

/* Four values of K positions 4g..4g+3 as the pairs (x0,x2), (x1,x3). */
static inline void cm_put4(uint32_t *dst, const int32_t x[4]) {
    dst[0] = ((uint32_t)x[0] & 0xFFFFu) | ((uint32_t)x[2] & 0xFFFFu) << 16;
    dst[1] = ((uint32_t)x[1] & 0xFFFFu) | ((uint32_t)x[3] & 0xFFFFu) << 16;
}

/* Taps t in [*lo, *hi) with 0 <= start + t·dil < in. */
static void cm_tap_range(int32_t start, int32_t dil, int32_t taps, int32_t in, int32_t *lo,
                         int32_t *hi) {
    *lo = start >= 0 ? 0 : (-start + dil - 1) / dil;
    *hi = start > in - 1 ? 0 : (in - 1 - start) / dil + 1;
    if (*hi > taps) *hi = taps;
    if (*lo > *hi) *lo = *hi;
}

/* n words of bytes from src expanded to col (16-bit pairs, see above),
 * one group every step words. */
static inline uint32_t *cm_expand(uint32_t *col, int32_t step, const uint8_t *src, int32_t n,
                                  int sgn) {
    if (sgn)
        for (; n > 0; n--, src += 4, col += step) {
            uint32_t v = cm_ld32(src);
            col[0] = cm_sxtb16(v);
            col[1] = cm_sxtb16_ror8(v);
        }
    else
        for (; n > 0; n--, src += 4, col += step) {
            uint32_t v = cm_ld32(src);
            col[0] = cm_uxtb16(v);
            col[1] = cm_uxtb16_ror8(v);
        }
    return col;
}

/* Gathers the K = kh·kw·cin taps of output pixel (oy, ox) into col with a
 * word step `step` between groups (4: two interleaved pixels, 2: one).
 * cin % 4 == 0: each tap's channels are whole words, expanded from the
 * input directly; else the K bytes go to bytes (4·ceil(K/4), zero past K)
 * first. Dims are copied to locals: stores to col (uint32_t) may alias
 * the int32_t dims for the compiler. */
static void cm_im2col(uint32_t *col, int32_t step, const void *in, const dnas_rt_conv_dims *d,
                      int32_t oy, int32_t ox, uint8_t *bytes) {
    const int32_t cin = d->cin, kh = d->kh, kw = d->kw, hin = d->hin, win = d->win;
    const int32_t dh = d->dh, dw = d->dw, iy0 = oy * d->sh - d->pt, ix0 = ox * d->sw - d->pl;
    const int sgn = d->in_signed;
    const uint8_t *x = (const uint8_t *)in;
    int32_t kx0, kx1; /* the taps of a row inside the input */
    cm_tap_range(ix0, dw, kw, win, &kx0, &kx1);
    if ((cin & 3) == 0) {
        const int32_t nw = cin >> 2;
        for (int32_t ky = 0, iy = iy0; ky < kh; ky++, iy += dh) {
            if (iy < 0 || iy >= hin) {
                for (int32_t c = 0; c < kw * nw; c++, col += step)
                    col[0] = col[1] = 0;
                continue;
            }
            const uint8_t *row = x + (size_t)iy * (size_t)win * (size_t)cin;
            for (int32_t c = 0; c < kx0 * nw; c++, col += step)
                col[0] = col[1] = 0;
            if (dw == 1) /* the row's taps are one run of the input */
                col = cm_expand(col, step, row + (size_t)(ix0 + kx0) * (size_t)cin,
                                (kx1 - kx0) * nw, sgn);
            else
                for (int32_t kx = kx0; kx < kx1; kx++)
                    col =
                        cm_expand(col, step, row + (size_t)(ix0 + kx * dw) * (size_t)cin, nw, sgn);
            for (int32_t c = 0; c < (kw - kx1) * nw; c++, col += step)
                col[0] = col[1] = 0;
        }
        return;
    }
    uint8_t *b = bytes;
    for (int32_t ky = 0, iy = iy0; ky < kh; ky++, iy += dh) {
        if (iy < 0 || iy >= hin) {
            for (int32_t c = 0; c < kw * cin; c++)
                *b++ = 0;
            continue;
        }
        const uint8_t *row = x + (size_t)iy * (size_t)win * (size_t)cin;
        for (int32_t c = 0; c < kx0 * cin; c++)
            *b++ = 0;
        for (int32_t kx = kx0; kx < kx1; kx++) {
            const uint8_t *p = row + (size_t)(ix0 + kx * dw) * (size_t)cin;
            for (int32_t c = 0; c < cin; c++)
                *b++ = p[c];
        }
        for (int32_t c = 0; c < (kw - kx1) * cin; c++)
            *b++ = 0;
    }
    while ((b - bytes) & 3)
        *b++ = 0;
    cm_expand(col, step, bytes, (int32_t)((b - bytes) >> 2), sgn);
}

/* Most taps of a depthwise kernel on the fast path (offset tables on the stack). */
#define CM_DW_TAPS_MAX 64

static int32_t cm_groups(int64_t k) {
    return (int32_t)((k + 3) / 4);
}

size_t dnas_cm_conv2d_buffer_size(const dnas_rt_conv_dims *d) {
    if (!d || d->groups < 1 || d->cin < 1 || d->kh < 1 || d->kw < 1) return 0;
    if (d->groups == 1) {
        int64_t k = (int64_t)d->kh * d->kw * d->cin;
        if (k > (int64_t)1 << 24) return 0;
        return (size_t)cm_groups(k) * 20u; /* 16 B of pairs and 4 B of gathered bytes a group */
    }
    if (d->groups == d->cin && d->cout == d->cin && (d->cin & 3) == 0) {
        int64_t taps = (int64_t)d->kh * d->kw;
        if (taps > CM_DW_TAPS_MAX || taps * d->cin > (int64_t)1 << 24 ||
            (int64_t)d->hin * d->win * d->cin > INT32_MAX) /* int32 offsets */
            return 0;
        return (size_t)(taps * d->cin) * 2u + (size_t)d->cin * 4u; /* 16-bit weights, bias */
    }
    return 0;
}

size_t dnas_cm_linear_buffer_size(const dnas_rt_linear_dims *d) {
    if (!d || d->cin < 1 || d->cin > (1L << 24)) return 0;
    return (size_t)cm_groups(d->cin) * 12u;
}

/* rows [co, co+1] of W against the columns; writes pixels p0 (and p1 when
 * two) of out. */
/* Output bytes of pixels o0 and o1 (o1 == NULL: one pixel, computed twice),
 * rows co, co+1 at a time. The main loop takes the pairs with both rows
 * real and whole-word reads, two pixels and the fast requantization; the
 * rest go through the general step. */
static void cm_conv_gemm(uint8_t *o0, uint8_t *o1, const int8_t *wq, const int32_t *bias,
                         const cm_rq *rq, int32_t cout, int32_t k, const uint32_t *col) {
    int32_t co = 0;
    if (o1 && rq->fast) {
        /* co < lim: rows co and co + 1 real, and (k % 4 != 0) at least 3 weight
         * bytes after row co + 1, so its last group reads a whole word */
        int32_t lim = cout - 1;
        if (k & 3)
            while (lim > 0 && (int64_t)(cout - lim - 1) * k < 3)
                lim--;
        const int8_t *w = wq;
        const size_t kk = (size_t)k;
        for (; co < lim; co += 2, w += 2 * kk) {
            int32_t acc[4];
            acc[0] = acc[1] = bias ? bias[co] : 0;
            acc[2] = acc[3] = bias ? bias[co + 1] : 0;
            cm_mm22(w, w + kk, col, k, 1, acc);
            o0[co] = (uint8_t)(uint32_t)cm_rq_fast(rq, acc[0], co);
            o1[co] = (uint8_t)(uint32_t)cm_rq_fast(rq, acc[1], co);
            o0[co + 1] = (uint8_t)(uint32_t)cm_rq_fast(rq, acc[2], co + 1);
            o1[co + 1] = (uint8_t)(uint32_t)cm_rq_fast(rq, acc[3], co + 1);
        }
    }
    for (; co < cout; co += 2) {
        int32_t cb = co + 1 < cout ? co + 1 : co;
        int32_t acc[4];
        acc[0] = acc[1] = bias ? bias[co] : 0;
        acc[2] = acc[3] = bias ? bias[cb] : 0;
        int safe = (int64_t)(cout - cb - 1) * k >= 3;
        cm_mm22(wq + (size_t)co * (size_t)k, wq + (size_t)cb * (size_t)k, col, k, safe, acc);
        o0[co] = (uint8_t)(uint32_t)cm_rq_one(rq, acc[0], co);
        if (o1) o1[co] = (uint8_t)(uint32_t)cm_rq_one(rq, acc[1], co);
        if (cb != co) {
            o0[cb] = (uint8_t)(uint32_t)cm_rq_one(rq, acc[2], cb);
            if (o1) o1[cb] = (uint8_t)(uint32_t)cm_rq_one(rq, acc[3], cb);
        }
    }
}

static void cm_conv_im2col(void *out, const void *in, const int8_t *wq, const int32_t *bias,
                           const dnas_rt_requant_params *rq, const dnas_rt_conv_dims *d,
                           uint32_t *col) {
    const int32_t k = d->kh * d->kw * d->cin;
    const int32_t npix = d->hout * d->wout;
    cm_rq q;
    cm_rq_init(&q, rq);
    uint8_t *bytes = (uint8_t *)(col + 4 * cm_groups(k));
    for (int32_t p = 0; p < npix; p += 2) {
        int32_t p1 = p + 1 < npix ? p + 1 : p;
        cm_im2col(col, 4, in, d, p / d->wout, p % d->wout, bytes);
        cm_im2col(col + 2, 4, in, d, p1 / d->wout, p1 % d->wout, bytes);
        uint8_t *o = (uint8_t *)out;
        cm_conv_gemm(o + (size_t)p * (size_t)d->cout,
                     p1 != p ? o + (size_t)p1 * (size_t)d->cout : NULL, wq, bias, &q, d->cout, k,
                     col);
    }
}

/* One pixel's four channels over its valid taps: tab holds per tap the
 * byte offsets into the input from xc and into the packed weights from wc
 * (one LDRD a tap). */
#define CM_DW_TAPS(EXT, EXT_ROR)                                                                   \
    for (const int32_t *tp = tab; tp != tend; tp += 2) {                                           \
        uint32_t v = cm_ld32(xc + tp[0]);                                                          \
        const uint32_t *ww = (const uint32_t *)(const void *)((const uint8_t *)wc + tp[1]);        \
        uint32_t xe = EXT(v), xd = EXT_ROR(v);                                                     \
        a0 = cm_smlabb(xe, ww[0], a0);                                                             \
        a2 = cm_smlatt(xe, ww[0], a2);                                                             \
        a1 = cm_smlabb(xd, ww[1], a1);                                                             \
        a3 = cm_smlatt(xd, ww[1], a3);                                                             \
    }

/* Depthwise: wp [tap][C/4][2] words, (w_c, w_c+2) and (w_c+1, w_c+3) of
 * each tap as 16-bit pairs, packed once per call; per output pixel the
 * valid taps' offsets (at most CM_DW_TAPS_MAX), then four channels at a
 * time with four accumulators. */
static void cm_conv_dw(void *out, const void *in, const int8_t *wq, const int32_t *bias,
                       const dnas_rt_requant_params *rq, const dnas_rt_conv_dims *d, uint32_t *wp) {
    const int32_t c = d->cin, taps = d->kh * d->kw;
    cm_rq q;
    cm_rq_init(&q, rq);
    for (int32_t t = 0; t < taps; t++)
        for (int32_t ch = 0; ch < c; ch += 4) {
            int32_t x[4];
            for (int32_t j = 0; j < 4; j++)
                x[j] = wq[(size_t)(ch + j) * (size_t)taps + (size_t)t];
            cm_put4(wp + (size_t)t * (size_t)(c / 2) + (size_t)(ch / 2), x);
        }
    const int sgn = d->in_signed;
    int32_t tab[2 * CM_DW_TAPS_MAX];
    int32_t *b0 = (int32_t *)(void *)(wp + (size_t)taps * (size_t)(c / 2)); /* [C]: bias or 0 */
    for (int32_t ch = 0; ch < c; ch++)
        b0[ch] = bias ? bias[ch] : 0;
    size_t yi = 0;
    for (int32_t oy = 0; oy < d->hout; oy++) {
        int32_t iy0 = oy * d->sh - d->pt, ky0, ky1;
        cm_tap_range(iy0, d->dh, d->kh, d->hin, &ky0, &ky1);
        for (int32_t ox = 0; ox < d->wout; ox++, yi += (size_t)c) {
            int32_t ix0 = ox * d->sw - d->pl, kx0, kx1, nt = 0;
            const int32_t *tend;
            cm_tap_range(ix0, d->dw, d->kw, d->win, &kx0, &kx1);
            for (int32_t ky = ky0; ky < ky1; ky++)
                for (int32_t kx = kx0; kx < kx1; kx++, nt++) {
                    tab[2 * nt] = ((iy0 + ky * d->dh) * d->win + ix0 + kx * d->dw) * c;
                    tab[2 * nt + 1] = (ky * d->kw + kx) * (c / 2) * 4;
                }
            tend = tab + 2 * nt;
            for (int32_t ch = 0; ch < c; ch += 4) {
                int32_t a0 = b0[ch], a1 = b0[ch + 1], a2 = b0[ch + 2], a3 = b0[ch + 3];
                const uint8_t *xc = (const uint8_t *)in + ch;
                const uint32_t *wc = wp + ch / 2;
                if (sgn) {
                    CM_DW_TAPS(cm_sxtb16, cm_sxtb16_ror8)
                } else {
                    CM_DW_TAPS(cm_uxtb16, cm_uxtb16_ror8)
                }
                size_t o = yi + (size_t)ch;
                if (q.fast) {
                    cm_store(out, o, cm_rq_fast(&q, a0, ch));
                    cm_store(out, o + 1, cm_rq_fast(&q, a1, ch + 1));
                    cm_store(out, o + 2, cm_rq_fast(&q, a2, ch + 2));
                    cm_store(out, o + 3, cm_rq_fast(&q, a3, ch + 3));
                } else {
                    cm_store(out, o, cm_rq_one(&q, a0, ch));
                    cm_store(out, o + 1, cm_rq_one(&q, a1, ch + 1));
                    cm_store(out, o + 2, cm_rq_one(&q, a2, ch + 2));
                    cm_store(out, o + 3, cm_rq_one(&q, a3, ch + 3));
                }
            }
        }
    }
}

dnas_rt_status dnas_cm_conv2d(void *out, const void *in, const dnas_rt_weights *w,
                              const int32_t *bias, const dnas_rt_requant_params *rq,
                              const dnas_rt_conv_dims *d, uint32_t *scratch, size_t bytes) {
    dnas_rt_status st = dnas_rt_conv2d_args(out, in, w, bias, rq, d);
    if (st != DNAS_RT_OK) return st;
    size_t need = dnas_cm_conv2d_buffer_size(d);
    if (need == 0 || !scratch || bytes < need || w->packing != DNAS_RT_PACK_INT8)
        return dnas_rt_conv2d(out, in, w, bias, rq, d);
    if (d->groups == 1)
        cm_conv_im2col(out, in, (const int8_t *)w->data, bias, rq, d, scratch);
    else
        cm_conv_dw(out, in, (const int8_t *)w->data, bias, rq, d, scratch);
    return DNAS_RT_OK;
}

dnas_rt_status dnas_cm_linear(void *out, const void *in, const dnas_rt_weights *w,
                              const int32_t *bias, const dnas_rt_requant_params *rq,
                              const dnas_rt_linear_dims *d, uint32_t *scratch, size_t bytes) {
    dnas_rt_status st = dnas_rt_linear_args(out, in, w, bias, rq, d);
    if (st != DNAS_RT_OK) return st;
    size_t need = dnas_cm_linear_buffer_size(d);
    if (need == 0 || !scratch || bytes < need || w->packing != DNAS_RT_PACK_INT8)
        return dnas_rt_linear(out, in, w, bias, rq, d);
    /* the input as one pixel of a 1x1 conv with cin = K */
    const dnas_rt_conv_dims cd = {
        1, 1, d->cin, 1, 1, d->cout, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, d->in_signed, d->out_signed};
    cm_im2col(scratch, 2, in, &cd, 0, 0, (uint8_t *)(scratch + 2 * cm_groups(d->cin)));
    const int8_t *wq = (const int8_t *)w->data;
    const int32_t k = d->cin;
    cm_rq q;
    cm_rq_init(&q, rq);
    for (int32_t co = 0; co < d->cout; co += 2) {
        int32_t cb = co + 1 < d->cout ? co + 1 : co;
        int32_t acc[2] = {bias ? bias[co] : 0, bias ? bias[cb] : 0};
        int safe = (int64_t)(d->cout - cb - 1) * k >= 3;
        cm_mm21(wq + (size_t)co * (size_t)k, wq + (size_t)cb * (size_t)k, scratch, k, safe, acc);
        cm_store(out, (size_t)co, cm_rq_one(&q, acc[0], co));
        cm_store(out, (size_t)cb, cm_rq_one(&q, acc[1], cb));
    }
    return DNAS_RT_OK;
}
