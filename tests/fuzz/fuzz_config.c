/* Fuzz target: the training-config loader (train_config_load), input =
 * config YAML text, written to a file (the loader takes a path; paths in
 * the config resolve against that file's directory and are not opened). */
#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_once();
    const char *path = fuzz_write("config.yaml", data, size);
    train_config cfg;
    dnas_error err;
    err.msg[0] = 0;
    dnas_status st = train_config_load(&cfg, path, &err);
    fuzz_check(st, &err, "train_config_load");
    if (st == DNAS_OK &&
        (cfg.batch < 1 || cfg.epochs < 0 || !memchr(cfg.model, 0, sizeof cfg.model))) {
        fprintf(stderr, "fuzz: train_config_load accepted batch %d, epochs %d\n", cfg.batch,
                cfg.epochs);
        abort();
    }
    train_config_free(&cfg);
    return 0;
}
