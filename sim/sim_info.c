/* Library identification for the sim subsystem. */
#include "cleave/build_info.h"

const char *cl_sim_version(void);
const char *cl_sim_version(void) { return CL_VERSION_STRING; }
