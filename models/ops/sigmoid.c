/* sigmoid: placeholder, implemented by the kernels work. */
#include "cleave/ops.h"

const cl_op_impl cl__op_impl_sigmoid = {.op = CL_OP_SIGMOID};
