/* Public header of the search module. */
#ifndef DNAS_SEARCH_H
#define DNAS_SEARCH_H

#include "bridge.h" /* the cost bridge: network + search state -> costs and gradients */
#include "quant.h"  /* integer export: float network -> deploy_qnet, calibration, integer accuracy */
#include "pit.h"    /* PIT masks, their view, gradients, cost state and export */
#include "mixprec.h" /* MixPrec: supernet, precision mixes, cost state and export */
#include "run.h"    /* one search run (config in run_config.h) and its run file */
#include "store.h"  /* the results store's writers: root attributes, run groups, .tmp-then-rename */
#include "sweep.h"  /* campaigns (dnas sweep), campaign.h5, Pareto fronts, reports */

/* Module version string, for generated files and HDF5 attributes. */
const char *search_version(void);

#endif
