/* Library identification for the runtime subsystem. */
#include "cleave/build_info.h"

const char *cl_runtime_version(void);
const char *cl_runtime_version(void) { return CL_VERSION_STRING; }
