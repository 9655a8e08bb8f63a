/* The HDF5 results store's writers (DESIGN.md "The HDF5 results store";
 * layout in docs/search.md "The run file"), shared by the run file of
 * `dnas search` (search_store_write, run.h) and the sweep's run and
 * campaign files: the root attributes and one run group written into an
 * open file, and the .tmp-then-rename pair every store file is written
 * through (a killed writer leaves no half file). HDF5's error printing is
 * the caller's to switch off (dnas_h5_quiet_on). */
#ifndef DNAS_SEARCH_STORE_H
#define DNAS_SEARCH_STORE_H

#include <hdf5.h>

#include "run.h"

/* Root attributes format, version, commit, ranks, start_time, end_time
 * (UTC ISO 8601 from Unix seconds) and the dataset /config_yaml. 1 ok. */
int search_store_root(hid_t f, const char *config_text, double start_time, double end_time, int ranks);
/* /runs/<id> (/runs created when missing) with attribute rank. 1 ok. */
int search_store_run_group(hid_t f, const char *id, const search_config *cfg, const search_result *res,
                           int rank);
/* Creates PATH.tmp (its name into tmp) for writing. */
dnas_status search_store_create(const char *path, char *tmp, size_t tmp_len, hid_t *f, dnas_error *err);
/* Closes f and, when ok and the close succeeded, renames tmp over path;
 * else removes tmp and fails naming it. */
dnas_status search_store_commit(const char *path, const char *tmp, hid_t f, int ok, dnas_error *err);

#endif
