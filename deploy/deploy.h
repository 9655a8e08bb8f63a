/* Public header of the deploy module. */
#ifndef DNAS_DEPLOY_H
#define DNAS_DEPLOY_H

/* Module version string, for generated files and HDF5 attributes. */
const char *deploy_version(void);

#endif
