/* maxpool: 2-D max pooling (PyTorch nn.MaxPool2d semantics incl. ceil_mode).
 *
 * Padding acts as -inf: each window is clipped to the real input. NaN inputs are
 * not propagated. The kernel, validation and row geometry are shared with avgpool
 * (pool.c). Counts: kh*kw flops (comparisons) per output element; no parameters. */
#include "cleave/ops.h"
#include "misc_internal.h"

const cl_op_impl cl__op_impl_maxpool = {
    .op = CL_OP_MAXPOOL,
    .infer = cl__pool_infer,
    .in_rows = cl__pool_in_rows,
    .run = cl__pool_run,
};
