/* avgpool: 2-D average pooling (PyTorch nn.AvgPool2d semantics incl. ceil_mode and
 * count_include_pad; the divisor rule is described in pool.c). The kernel,
 * validation and row geometry are shared with maxpool (pool.c).
 * Counts: kh*kw flops per output element; no parameters. */
#include "cleave/ops.h"
#include "misc_internal.h"

const cl_op_impl cl__op_impl_avgpool = {
    .op = CL_OP_AVGPOOL,
    .infer = cl__pool_infer,
    .in_rows = cl__pool_in_rows,
    .run = cl__pool_run,
};
