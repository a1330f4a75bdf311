/* hardswish: y = x * relu6(x + 3) / 6 (PyTorch nn.Hardswish, MobileNetV3).
 * Element-wise, row-splittable, in-place safe. Counts: 5 flops (add, max, min,
 * mul, mul) per element. Kernel: act.c. */
#include "cleave/ops.h"
#include "misc_internal.h"

const cl_op_impl cl__op_impl_hswish = {
    .op = CL_OP_HSWISH,
    .infer = cl__act_op_infer,
    .run = cl__act_op_run,
};
