/* Names of hwcost enums. */
#include "internal.h"

const char *hwcost_kind_name(hwcost_kind k) {
    static const char *names[] = {"conv", "depthwise", "linear", "add", "pool"};
    return (unsigned)k < HWCOST_KIND_COUNT_ ? names[k] : "?";
}

