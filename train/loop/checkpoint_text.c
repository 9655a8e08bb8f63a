/* The config and model texts of a checkpoint (checkpoint.h): datasets in
 * format 2, root attributes in format 1. */
#include "checkpoint.h"

#include <stdlib.h>

#include "checkpoint_internal.h"

dnas_status train_ckpt_load_texts(const char *path, char **config_text, char **model_text,
                                  dnas_error *err) {
    ckpt_in in;
    char *c = NULL, *m = NULL;
    dnas_status st = train_ckpt_open(&in, path, err);
    if (st) return st;
    st = train_ckpt_check_format(&in);
    if (!st && config_text) st = train_ckpt_read_text(&in, "config_yaml", "config", &c);
    if (!st && model_text) st = train_ckpt_read_text(&in, "model_yaml", "model_yaml", &m);
    train_ckpt_close(&in);
    if (st) {
        free(c), free(m);
        return st;
    }
    if (config_text) *config_text = c;
    if (model_text) *model_text = m;
    return DNAS_OK;
}
