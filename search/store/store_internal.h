/* Private to the run file writer (search/store/). */
#ifndef DNAS_SEARCH_STORE_INTERNAL_H
#define DNAS_SEARCH_STORE_INTERNAL_H

#include <hdf5.h>

#include "run.h"

/* /runs/<id>/arch: the exported network, one compound row per layer
 * (run_store_arch.c). 1 on success. */
int search_store_arch_table(hid_t run, const search_result *res);
/* `choices` in loc: the method's discrete choices, one compound row each
 * {name, index, choice} (run_store_arch.c). 1 on success. */
int search_store_choices(hid_t loc, const search_result *res);
/* /runs/<id>/channel_engines (run_store_engines.c): nothing when no layer
 * records its channels' engines. 1 on success. */
int search_store_channel_engines(hid_t run, const search_result *res);

#endif
