/* sigmoid: y = 1 / (1 + exp(-x)) (PyTorch nn.Sigmoid). Element-wise, row-splittable,
 * in-place safe. Counts: 4 flops (neg, exp, add, div) per element. Kernel: act.c. */
#include "cleave/ops.h"
#include "misc_internal.h"

const cl_op_impl cl__op_impl_sigmoid = {
    .op = CL_OP_SIGMOID,
    .infer = cl__act_op_infer,
    .run = cl__act_op_run,
};
