/* The data's preprocessing as the qnet records it (deploy_qnet_input):
 * train_data_prepare with its normalization done here, by the same
 * functions on the same split, so that the statistics can be kept. */
#include <stdlib.h>
#include <string.h>

#include "quant_internal.h"

dnas_status search_quant_prepare_data(const train_config *cfg, train_dataset *train,
                                      train_dataset *val, train_dataset *test,
                                      deploy_qnet_input *in, dnas_error *err) {
    train_config c = *cfg; /* a shallow copy: only data.normalize differs */
    c.data.normalize = 0;
    dnas_status st = train_data_prepare(&c, train, val, test, err);
    if (st) return st;
    deploy_qnet_input_free(in);
    in->recorded = 1;
    in->rows = cfg->data.rows != 0;
    if (!cfg->data.normalize) return DNAS_OK;
    /* what train_data_prepare does: statistics of the (limited) training
     * split after the layout, applied to every split */
    in->c = train->c;
    in->mean = dnas_xmalloc((size_t)train->c * sizeof *in->mean);
    in->std = dnas_xmalloc((size_t)train->c * sizeof *in->std);
    train_data_channel_stats(train, in->mean, in->std);
    train_data_normalize(train, in->mean, in->std);
    if (val->count) train_data_normalize(val, in->mean, in->std);
    if (test->count) train_data_normalize(test, in->mean, in->std);
    return DNAS_OK;
}
