/* avgpool: placeholder, implemented by the kernels work. */
#include "cleave/ops.h"

const cl_op_impl cl__op_impl_avgpool = {.op = CL_OP_AVGPOOL};
