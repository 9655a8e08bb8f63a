/* Public header of the hwcost module. */
#ifndef DNAS_HWCOST_H
#define DNAS_HWCOST_H

/* Module version string, for generated files and HDF5 attributes. */
const char *hwcost_version(void);

#endif
