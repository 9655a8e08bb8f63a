/* Helpers of the dnas_rt tests, written independently of deploy/runtime:
 * a seeded generator, the requantization by plain int64 division, and a
 * bit-exact comparison that names the first mismatch. */
#ifndef DNAS_RT_TEST_UTIL_H
#define DNAS_RT_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>

static uint64_t rtt_state __attribute__((unused)) = 0x9E3779B97F4A7C15u;

static inline void rtt_seed(uint64_t seed) { rtt_state = seed * 0x9E3779B97F4A7C15u + 1; }

/* splitmix64 */
static inline uint64_t rtt_next(void) {
    uint64_t z = (rtt_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Uniform in lo..hi (inclusive). */
static inline int64_t rtt_range(int64_t lo, int64_t hi) {
    return lo + (int64_t)(rtt_next() % (uint64_t)(hi - lo + 1));
}

/* floor((v + 2^(s-1)) / 2^s) by C99 division (truncating) corrected to
 * floor; s = 0: v. |v| <= 2^62 + 2^61 here, so v + 2^(s-1) fits. */
static inline int64_t rtt_round_shift(int64_t v, int s) {
    if (s == 0)
        return v;
    int64_t d = (int64_t)1 << s;
    int64_t n = v + d / 2;
    int64_t q = n / d;
    if (n % d != 0 && n < 0)
        q -= 1;
    return q;
}

static inline int32_t rtt_clamp(int64_t v, int32_t lo, int32_t hi) {
    return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

static inline int32_t rtt_requant(int64_t acc, int64_t m, int s, int32_t lo, int32_t hi) {
    return rtt_clamp(rtt_round_shift(acc * m, s), lo, hi);
}

/* A byte tensor value by signedness. */
static inline int32_t rtt_get(const uint8_t *p, size_t i, int sgn) {
    return sgn ? (int32_t)(int8_t)p[i] : (int32_t)p[i];
}

/* Random byte tensor over the whole range of its type. */
static inline void rtt_fill(uint8_t *p, size_t n, int sgn) {
    for (size_t i = 0; i < n; i++)
        p[i] = sgn ? (uint8_t)(int8_t)rtt_range(-128, 127) : (uint8_t)rtt_range(0, 255);
}

/* Random weights in ±(2^(bits-1) - 1). */
static inline void rtt_fill_weights(int8_t *w, size_t n, int bits) {
    int64_t wmax = ((int64_t)1 << (bits - 1)) - 1;
    for (size_t i = 0; i < n; i++)
        w[i] = (int8_t)rtt_range(-wmax, wmax);
}

/* A multiplier with a random number of significant bits and sign. */
static inline int32_t rtt_mult(void) {
    int bits = (int)rtt_range(1, 31);
    int64_t m = rtt_range(1, ((int64_t)1 << bits) - 1);
    return (int32_t)(rtt_next() & 1 ? -m : m);
}

/* Smallest s with max|v| / 2^s below target (so outputs spread over about
 * ±target, some saturating). */
static inline int rtt_pick_shift(int64_t absmax, int64_t target) {
    int s = 0;
    while (s < 62 && (absmax >> s) >= target)
        s++;
    return s;
}

/* Output range: the whole type, or a narrower one (4-bit unsigned 0..15,
 * a ReLU-like 0..127 in int8, ±7 signed 4-bit). */
static inline void rtt_pick_range(int out_signed, int32_t *lo, int32_t *hi) {
    int k = (int)rtt_range(0, 2);
    if (out_signed) {
        *lo = k == 2 ? -7 : k == 1 ? 0 : -128;
        *hi = k == 2 ? 7 : 127;
    } else {
        *lo = 0;
        *hi = k == 2 ? 15 : 255;
    }
}

/* Counts over a test binary: outputs compared and how many were strictly
 * inside lo..hi (a test whose outputs all saturate shows nothing). */
static long rtt_compared __attribute__((unused)), rtt_inside __attribute__((unused));

/* Number of mismatches between a kernel's bytes and the expected values;
 * prints the first. */
static inline long rtt_compare(const char *what, const uint8_t *got, const int32_t *want, size_t n,
                        int sgn, int32_t lo, int32_t hi) {
    long bad = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t g = rtt_get(got, i, sgn);
        rtt_compared++;
        rtt_inside += want[i] > lo && want[i] < hi;
        if (g != want[i] && bad++ == 0)
            fprintf(stderr, "%s: element %zu: got %d, want %d\n", what, i, (int)g, (int)want[i]);
    }
    return bad;
}

#endif
