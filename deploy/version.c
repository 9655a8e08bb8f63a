#include "deploy.h"

const char *deploy_version(void) { return DNAS_VERSION; }
