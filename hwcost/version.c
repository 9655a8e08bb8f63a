#include "hwcost.h"

const char *hwcost_version(void) { return DNAS_VERSION; }
