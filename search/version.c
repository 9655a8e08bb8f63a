#include "search.h"

const char *search_version(void) { return DNAS_VERSION; }
