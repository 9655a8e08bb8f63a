/* The `mixprec:` map of a search config (method: mixprec): candidate
 * precisions, weight granularity and softmax temperature. Format and
 * defaults in docs/search.md "MixPrec"; parsed by
 * search/mixprec/mixprec_config.c, called from the config reader. */
#ifndef DNAS_SEARCH_MIXPREC_CONFIG_H
#define DNAS_SEARCH_MIXPREC_CONFIG_H

#include "common.h"
#include "ops.h"

/* Candidate precisions are those the integer kernels run (2..8 bits). */
#define SEARCH_MIXPREC_MAX_BITS 8

typedef enum {
    SEARCH_MIXPREC_LAYER = 0, /* one weight precision per conv / linear */
    SEARCH_MIXPREC_CHANNEL,   /* one per output channel */
} search_mixprec_granularity;

typedef struct {
    train_fq_precs
        wbits; /* weight candidates, ascending: 0 (pruned channel) or 2..8 (default 2, 4, 8) */
    train_fq_precs
        abits; /* activation candidates (pact layers), ascending, 2..8 (default 2, 4, 8) */
    search_mixprec_granularity granularity; /* of weights (default layer) */
    float temperature;                      /* θ = softmax(alpha / T) (default 1) */
    float temperature_final; /* T of the last search epoch, reached geometrically from
                                temperature over the epochs (default: temperature) */
} search_mixprec_config;

void search_mixprec_config_default(search_mixprec_config *m);

/* Reads map (the value of `mixprec:`, or NULL: defaults kept) into m.
 * is_mixprec: the config's method is mixprec (a mixprec map with another
 * method is an error). Errors name the file and line. */
dnas_status search_mixprec_config_parse(dnas_yaml *y, yaml_node_t *map, int is_mixprec,
                                        search_mixprec_config *m, dnas_error *err);

#endif
