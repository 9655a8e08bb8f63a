/* Random numbers: splitmix64 over a single 64-bit state (the API carries one
 * uint64_t; xoshiro needs 256 bits). Passes BigCrush; reproducible per seed. */
#include <math.h>

#include "ops.h"

uint64_t train_rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Top 24 bits scaled by 2^-24: exactly representable, in [0, 1). */
float train_rng_uniform(uint64_t *state) {
    return (float)(train_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

/* Box-Muller with u1 in (0, 1] so log never sees 0; the sine branch is dropped
 * (there is no room in the state to cache it). */
float train_rng_normal(uint64_t *state) {
    double u1 = ((double)(train_rng_next(state) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(train_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
