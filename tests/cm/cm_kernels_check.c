/* The Cortex-M kernels (deploy/runtime/cm/dnas_cm.c) against dnas_rt's
 * reference kernels on random shapes and values: every output byte and
 * every status equal. Shared by test_deploy_cm_kernels, which runs it on
 * the host (the portable definitions of the DSP instructions) and, built
 * with -DCM_CHECK_MAIN for Cortex-M4, under QEMU (the SMLAD paths).
 *
 * Cases: conv2d with groups 1 (kernel 1..5, stride 1..3, dilation 1..2,
 * padding 0..2 per side, cin 1..24 with and without cin % 4 == 0, cout
 * 1..9), depthwise (channel counts with and without cin % 4 == 0, so both
 * the fast path and the fallback), grouped conv (fallback), linear; int8
 * and uint8 input and output; 8-, 4- and 2-bit weights at their extremes
 * half of the time; bias or none; multipliers of both signs; shifts over
 * 0..62 (the fast requantization 32..55 and the general one); lo..hi
 * random inside the output type; scratch enough, or too small (dnas_rt
 * runs). Then dnas_cm_requant against dnas_rt_requant on edge values. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dnas_cm.h"
#include "dnas_rt.h"

#define CMC_BYTES (64 * 1024)
static uint8_t cmc_in[CMC_BYTES], cmc_out[CMC_BYTES], cmc_ref[CMC_BYTES];
static int8_t cmc_w[CMC_BYTES];
/* A case's input and weights end where their arrays end, so that a read
 * past them leaves the array (AddressSanitizer's global redzones). */
static const uint8_t *cmc_inp;
static int8_t *cmc_wp;
static int32_t cmc_bias[256], cmc_m[256];
static uint32_t cmc_scratch[CMC_BYTES / 4];

static uint32_t cmc_rng(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}
/* lo..hi inclusive */
static int32_t cmc_int(uint64_t *s, int32_t lo, int32_t hi) {
    return lo + (int32_t)(cmc_rng(s) % (uint32_t)(hi - lo + 1));
}

static void cmc_fill(uint64_t *s, size_t nin, int in_signed, size_t nw, int bits, int32_t cout,
                     int *has_bias, dnas_rt_requant_params *rq, int out_signed) {
    uint8_t *in = cmc_in + CMC_BYTES - nin;
    cmc_inp = in;
    cmc_wp = cmc_w + CMC_BYTES - nw;
    for (size_t i = 0; i < nin; i++)
        in[i] = (uint8_t)cmc_rng(s); /* every byte value, read per in_signed */
    (void)in_signed;
    int32_t wmax = (1 << (bits - 1)) - 1;
    int extreme = cmc_rng(s) & 1;
    for (size_t i = 0; i < nw; i++)
        cmc_wp[i] = (int8_t)(extreme ? (cmc_rng(s) & 1 ? wmax : -wmax) : cmc_int(s, -wmax, wmax));
    *has_bias = (int)(cmc_rng(s) % 3 != 0);
    for (int32_t c = 0; c < cout; c++) {
        cmc_bias[c] = cmc_int(s, -(1 << 20), 1 << 20);
        cmc_m[c] = (int32_t)(cmc_rng(s) >> 1) - (int32_t)(cmc_rng(s) >> 1); /* both signs, wide */
        if (cmc_rng(s) % 4 == 0) cmc_m[c] = cmc_int(s, -4, 4);
    }
    int s_kind = (int)(cmc_rng(s) % 4);
    rq->s = s_kind == 0 ? cmc_int(s, 0, 62) : s_kind == 1 ? cmc_int(s, 32, 55) : cmc_int(s, 36, 44);
    int32_t tlo = out_signed ? -128 : 0, thi = out_signed ? 127 : 255;
    int32_t a = cmc_int(s, tlo, thi), b = cmc_int(s, tlo, thi);
    if (cmc_rng(s) & 1) {
        a = tlo;
        b = thi;
    }
    rq->lo = a < b ? a : b;
    rq->hi = a < b ? b : a;
    rq->m = cmc_m;
}

/* Bytes of scratch for a case: enough, or (one case in 8) too little. */
static size_t cmc_scratch_bytes(uint64_t *s, size_t need) {
    if (need > sizeof cmc_scratch) return 0;
    return cmc_rng(s) % 8 == 0 && need > 0 ? need - 1 : need;
}

static int cmc_conv_case(uint64_t *s, int kind, FILE *log) {
    dnas_rt_conv_dims d;
    memset(&d, 0, sizeof d);
    d.kh = cmc_int(s, 1, 5);
    d.kw = cmc_int(s, 1, 5);
    if (cmc_rng(s) % 3 == 0) d.kh = d.kw = 3;
    d.sh = cmc_int(s, 1, 3);
    d.sw = cmc_int(s, 1, 3);
    d.dh = cmc_int(s, 1, 2);
    d.dw = cmc_int(s, 1, 2);
    d.pt = cmc_int(s, 0, 2);
    d.pb = cmc_int(s, 0, 2);
    d.pl = cmc_int(s, 0, 2);
    d.pr = cmc_int(s, 0, 2);
    d.hin = cmc_int(s, 1, 12);
    d.win = cmc_int(s, 1, 12);
    if (kind == 0) { /* groups 1 */
        d.cin = cmc_rng(s) & 1 ? 4 * cmc_int(s, 1, 6) : cmc_int(s, 1, 24);
        d.cout = cmc_int(s, 1, 9);
        d.groups = 1;
    } else if (kind == 1) { /* depthwise */
        d.cin = cmc_rng(s) % 4 ? 4 * cmc_int(s, 1, 6) : cmc_int(s, 1, 24);
        d.cout = d.cin;
        d.groups = d.cin;
    } else { /* grouped */
        d.groups = cmc_int(s, 2, 3);
        d.cin = d.groups * cmc_int(s, 1, 4);
        d.cout = d.groups * cmc_int(s, 1, 3);
    }
    d.in_signed = (int)(cmc_rng(s) & 1);
    d.out_signed = (int)(cmc_rng(s) & 1);
    d.hout = dnas_rt_conv_out_size(d.hin, d.kh, d.sh, d.dh, d.pt, d.pb);
    d.wout = dnas_rt_conv_out_size(d.win, d.kw, d.sw, d.dw, d.pl, d.pr);
    if (d.hout == 0 || d.wout == 0) return 0; /* kernel larger than the padded input */
    size_t nin = (size_t)d.hin * (size_t)d.win * (size_t)d.cin;
    size_t nout = (size_t)d.hout * (size_t)d.wout * (size_t)d.cout;
    size_t nw = (size_t)d.cout * (size_t)d.kh * (size_t)d.kw * (size_t)(d.cin / d.groups);
    int bits = (int)(cmc_rng(s) % 4) == 0 ? 4 : (int)(cmc_rng(s) % 8) == 0 ? 2 : 8, has_bias;
    dnas_rt_requant_params rq;
    cmc_fill(s, nin, d.in_signed, nw, bits, d.cout, &has_bias, &rq, d.out_signed);
    dnas_rt_weights w = {cmc_wp, bits, DNAS_RT_PACK_INT8};
    const int32_t *bias = has_bias ? cmc_bias : NULL;
    memset(cmc_out, 0xA5, nout + 4);
    memset(cmc_ref, 0xA5, nout + 4);
    size_t sb = cmc_scratch_bytes(s, dnas_cm_conv2d_buffer_size(&d));
    dnas_rt_status a = dnas_cm_conv2d(cmc_out, cmc_inp, &w, bias, &rq, &d, cmc_scratch, sb);
    dnas_rt_status b = dnas_rt_conv2d_ref(cmc_ref, cmc_inp, &w, bias, &rq, &d);
    if (a != b || memcmp(cmc_out, cmc_ref, nout + 4) != 0) {
        fprintf(log,
                "conv kind %d: %dx%dx%d -> %dx%dx%d k %dx%d s %d,%d d %d,%d p %d,%d,%d,%d g %d "
                "signed %d->%d bits %d s %d lo %d hi %d scratch %lu: status %d/%d\n",
                kind, (int)d.hin, (int)d.win, (int)d.cin, (int)d.hout, (int)d.wout, (int)d.cout,
                (int)d.kh, (int)d.kw, (int)d.sh, (int)d.sw, (int)d.dh, (int)d.dw, (int)d.pt,
                (int)d.pb, (int)d.pl, (int)d.pr, (int)d.groups, d.in_signed, d.out_signed, bits,
                rq.s, (int)rq.lo, (int)rq.hi, (unsigned long)sb, (int)a, (int)b);
        return 1;
    }
    return 0;
}

static int cmc_linear_case(uint64_t *s, FILE *log) {
    dnas_rt_linear_dims d;
    d.cin = cmc_rng(s) & 1 ? 4 * cmc_int(s, 1, 100) : cmc_int(s, 1, 400);
    d.cout = cmc_int(s, 1, 17);
    d.in_signed = (int)(cmc_rng(s) & 1);
    d.out_signed = (int)(cmc_rng(s) & 1);
    int bits = cmc_rng(s) % 4 == 0 ? 4 : 8, has_bias;
    dnas_rt_requant_params rq;
    cmc_fill(s, (size_t)d.cin, d.in_signed, (size_t)d.cin * (size_t)d.cout, bits, d.cout, &has_bias,
             &rq, d.out_signed);
    dnas_rt_weights w = {cmc_wp, bits, DNAS_RT_PACK_INT8};
    const int32_t *bias = has_bias ? cmc_bias : NULL;
    size_t nout = (size_t)d.cout;
    memset(cmc_out, 0xA5, nout + 4);
    memset(cmc_ref, 0xA5, nout + 4);
    size_t sb = cmc_scratch_bytes(s, dnas_cm_linear_buffer_size(&d));
    dnas_rt_status a = dnas_cm_linear(cmc_out, cmc_inp, &w, bias, &rq, &d, cmc_scratch, sb);
    dnas_rt_status b = dnas_rt_linear(cmc_ref, cmc_inp, &w, bias, &rq, &d);
    if (a != b || memcmp(cmc_out, cmc_ref, nout + 4) != 0) {
        fprintf(log, "linear %d -> %d signed %d->%d bits %d s %d scratch %lu: status %d/%d\n",
                (int)d.cin, (int)d.cout, d.in_signed, d.out_signed, bits, rq.s, (unsigned long)sb,
                (int)a, (int)b);
        return 1;
    }
    return 0;
}

/* dnas_cm_requant == dnas_rt_requant on edges and random values, every s. */
static int cmc_requant(uint64_t *s, FILE *log) {
    static const int32_t edge[] = {INT32_MIN, INT32_MIN + 1, -65536, -257,          -1,       0,
                                   1,         255,           65535,  INT32_MAX - 1, INT32_MAX};
    const int ne = (int)(sizeof edge / sizeof edge[0]);
    int bad = 0;
    for (int sh = 0; sh <= DNAS_RT_SHIFT_MAX; sh++)
        for (int i = 0; i < ne + 200; i++) {
            int32_t acc =
                i < ne ? edge[i] : (int32_t)(cmc_rng(s) >> 1) - (int32_t)(cmc_rng(s) >> 1);
            int32_t m = i < ne ? edge[(i * 7 + sh) % ne]
                               : (int32_t)(cmc_rng(s) >> 1) - (int32_t)(cmc_rng(s) >> 1);
            for (int t = 0; t < 3; t++) {
                int32_t lo = t == 0 ? -128 : 0, hi = t == 0 ? 127 : t == 1 ? 255 : 15;
                if (dnas_cm_requant(acc, m, sh, lo, hi) != dnas_rt_requant(acc, m, sh, lo, hi) &&
                    bad++ < 5)
                    fprintf(log, "requant acc %ld m %ld s %d [%d, %d]: %ld, reference %ld\n",
                            (long)acc, (long)m, sh, (int)lo, (int)hi,
                            (long)dnas_cm_requant(acc, m, sh, lo, hi),
                            (long)dnas_rt_requant(acc, m, sh, lo, hi));
            }
        }
    return bad;
}

/* cases random cases per kind from seed; the number that differ. */
static int cm_check_run(uint64_t seed, int cases, FILE *log) {
    uint64_t s = seed | 1;
    int bad = cmc_requant(&s, log);
    for (int i = 0; i < cases; i++) {
        bad += cmc_conv_case(&s, 0, log);
        bad += cmc_conv_case(&s, 1, log);
        if (i % 4 == 0) bad += cmc_conv_case(&s, 2, log);
        bad += cmc_linear_case(&s, log);
    }
    return bad;
}

#ifdef CM_CHECK_MAIN
#include <stdlib.h>

int main(int argc, char **argv) {
    int cases = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 200;
    int bad = cm_check_run(12345, cases, stdout);
    printf("cm_kernels_check: %d cases a kind, %d differ\n", cases, bad);
    return bad ? 1 : 0;
}
#endif
