/* Search configuration: the YAML `dnas search CONFIG.yaml` reads (format,
 * defaults and examples in docs/search.md "Search config"). The whole file
 * is checked on load, every error naming the line; files it names (model,
 * target) are checked by search_run before any training. Paths are
 * relative to the config file's directory, except `output`, which is
 * relative to the working directory. */
#ifndef DNAS_SEARCH_RUN_CONFIG_H
#define DNAS_SEARCH_RUN_CONFIG_H

#include <stdint.h>

#include "bridge.h"
#include "config.h"
#include "mixprec_config.h"
#include "odimo.h"
#include "supernet.h"

typedef enum {
    SEARCH_METHOD_PIT = 0,
    SEARCH_METHOD_SUPERNET,
    SEARCH_METHOD_MIXPREC,
    SEARCH_METHOD_ODIMO,
    SEARCH_METHOD_COUNT_
} search_method;

const char *search_method_name(search_method m);

typedef enum { SEARCH_SPLIT_VAL = 0, SEARCH_SPLIT_TRAIN } search_arch_split;

/* The slot of search_cost_result a constraint bounds: a cost, or the
 * target's memory levels (each against its own bytes). */
#define SEARCH_SLOT_LEVELS (-1)

#define SEARCH_MAX_CONSTRAINTS 8

typedef struct {
    int slot;        /* a search_cost, or SEARCH_SLOT_LEVELS */
    double max;      /* the budget M* (levels: unused) */
    double strength; /* λ; < 0: automatic (DUCCIO-style, docs/search.md) */
    int line;
} search_constraint;

typedef struct {
    char path[TRAIN_PATH_LEN]; /* the config file */
    char *text;                /* its full text (stored in the run file) */
    char model[TRAIN_PATH_LEN];
    train_data_config data;
    train_loss_kind loss;
    search_method method;
    search_supernet_params supernet; /* method supernet: the `supernet:` map */
    int cost;                    /* the regularized search_cost */
    double mu;                   /* its strength μ */
    char target[TRAIN_PATH_LEN]; /* target YAML, "" none */
    int nconstraints;
    search_constraint constraints[SEARCH_MAX_CONSTRAINTS];
    int warmup, search, finetune; /* epochs of each phase */
    int batch, threads;           /* threads 0 = one per core */
    float lr, weight_decay;       /* weights: Adam */
    float arch_lr;                /* architecture: Adam, no weight decay */
    search_arch_split split;
    float bits;    /* weight and activation precision the costs assume */
    int int_bits;  /* bits of the integer export after fine-tuning, 2..8; 0: none */
    int log_every; /* progress lines per epoch */
    uint64_t seed;
    char output[TRAIN_PATH_LEN]; /* the run file */
    search_mixprec_config mixprec; /* method: mixprec */
    search_odimo_config odimo;   /* method odimo's `odimo:` map (search/odimo.h) */
} search_config;

/* Reads and checks a search config; on failure err names the file, the
 * line and what was expected. search_config_free frees the text also
 * after a failure. */
dnas_status search_config_load(search_config *cfg, const char *path, dnas_error *err);
void search_config_free(search_config *cfg);

/* The keys of a search config from a mapping inside another YAML document
 * (a sweep's inline `search:` section): checked as search_config_load
 * checks a file, errors naming y's file and line, paths relative to
 * `path` (that file). cfg->text stays NULL. */
dnas_status search_config_parse_node(search_config *cfg, dnas_yaml *y, yaml_node_t *map, const char *path,
                                     dnas_error *err);
/* A list of constraints as the search config writes them (`constraints:`)
 * into cfg->constraints and cfg->nconstraints (a target needed by one is
 * cfg->target's). */
dnas_status search_config_parse_constraints(search_config *cfg, dnas_yaml *y, yaml_node_t *list,
                                            dnas_error *err);

/* A cost's config name (params, macs, bitops, memory, latency, ...) and
 * back (-1 unknown); whether it needs a target. */
const char *search_config_cost_name(int slot);
int search_config_cost_parse(const char *name);
int search_config_cost_needs_target(int slot);

#endif
