/* Fuzz target: the search-config loader (search_config_load), input =
 * config YAML text, written to a file (paths in the config resolve against
 * that file's directory; the model and target files are not opened). */
#include <math.h>

#include "fuzz_util.h"
#include "run_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    const char *path = fuzz_write("search.yaml", data, size);
    search_config cfg;
    dnas_error err;
    err.msg[0] = 0;
    dnas_status st = search_config_load(&cfg, path, &err);
    fuzz_check(st, &err, "search_config_load");
    if (st == DNAS_OK &&
        (cfg.batch < 1 || cfg.warmup < 0 || cfg.search < 0 || cfg.finetune < 0 || !(cfg.mu >= 0) ||
         !isfinite(cfg.mu) || cfg.nconstraints < 0 || cfg.nconstraints > SEARCH_MAX_CONSTRAINTS ||
         (cfg.int_bits != 0 && (cfg.int_bits < 2 || cfg.int_bits > 8)) || !(cfg.lr > 0) ||
         !(cfg.arch_lr >= 0) || cfg.cost < 0 || cfg.cost >= SEARCH_COST_SLOTS ||
         (unsigned)cfg.method >= SEARCH_METHOD_COUNT_ || !memchr(cfg.model, 0, sizeof cfg.model) ||
         !memchr(cfg.output, 0, sizeof cfg.output) || (unsigned)cfg.supernet.mode >= SEARCH_SUPERNET_MODE_COUNT_ ||
         !(cfg.supernet.tau_start >= 1e-3 && cfg.supernet.tau_start <= 1e3) ||
         !(cfg.supernet.tau_end >= 1e-3 && cfg.supernet.tau_end <= 1e3))) {
        fprintf(stderr, "fuzz: search_config_load accepted batch %d, epochs %d/%d/%d, mu %g, int_bits %d\n",
                cfg.batch, cfg.warmup, cfg.search, cfg.finetune, cfg.mu, cfg.int_bits);
        abort();
    }
    search_config_free(&cfg);
    return 0;
}
