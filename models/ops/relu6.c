/* relu6: y = min(max(x, 0), 6) (PyTorch nn.ReLU6, MobileNetV2). Element-wise,
 * row-splittable, in-place safe. Counts: 2 flops (max, min) per element. Kernel: act.c. */
#include "cleave/ops.h"
#include "misc_internal.h"

const cl_op_impl cl__op_impl_relu6 = {
    .op = CL_OP_RELU6,
    .infer = cl__act_op_infer,
    .run = cl__act_op_run,
};
