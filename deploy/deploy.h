/* Public header of the deploy module: the integer network (qnet.h: data,
 * HDF5 form, evaluator over the dnas_rt kernels) and the compiler
 * (compiler.h: IR, passes, arena planner, backends) and one deployment
 * of a file's network (job.h). */
#ifndef DNAS_DEPLOY_H
#define DNAS_DEPLOY_H

#include "compiler.h"
#include "job.h"
#include "qnet.h"

/* Module version string, for generated files and HDF5 attributes. */
const char *deploy_version(void);

#endif
