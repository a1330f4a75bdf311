/* relu: y = max(x, 0) (PyTorch nn.ReLU). Element-wise, row-splittable, in-place safe.
 * Counts: 1 flop (max) per element. Kernel: act.c. */
#include "cleave/ops.h"
#include "misc_internal.h"

const cl_op_impl cl__op_impl_relu = {
    .op = CL_OP_RELU,
    .infer = cl__act_op_infer,
    .run = cl__act_op_run,
};
