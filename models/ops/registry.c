/* The op dispatch table: enum, name table (graph.h) and implementations tied together. */
#include <assert.h>

#include "cleave/ops.h"

extern const cl_op_impl cl__op_impl_input;
extern const cl_op_impl cl__op_impl_conv;
extern const cl_op_impl cl__op_impl_fc;
extern const cl_op_impl cl__op_impl_maxpool;
extern const cl_op_impl cl__op_impl_avgpool;
extern const cl_op_impl cl__op_impl_gap;
extern const cl_op_impl cl__op_impl_batchnorm;
extern const cl_op_impl cl__op_impl_relu;
extern const cl_op_impl cl__op_impl_relu6;
extern const cl_op_impl cl__op_impl_sigmoid;
extern const cl_op_impl cl__op_impl_hswish;
extern const cl_op_impl cl__op_impl_add;
extern const cl_op_impl cl__op_impl_mul;
extern const cl_op_impl cl__op_impl_concat;
extern const cl_op_impl cl__op_impl_lrn;
extern const cl_op_impl cl__op_impl_softmax;
extern const cl_op_impl cl__op_impl_flatten;
extern const cl_op_impl cl__op_impl_dropout;
extern const cl_op_impl cl__op_impl_pad;

static const cl_op_impl *const g_impls[] = {
    &cl__op_impl_input,
    &cl__op_impl_conv,
    &cl__op_impl_fc,
    &cl__op_impl_maxpool,
    &cl__op_impl_avgpool,
    &cl__op_impl_gap,
    &cl__op_impl_batchnorm,
    &cl__op_impl_relu,
    &cl__op_impl_relu6,
    &cl__op_impl_sigmoid,
    &cl__op_impl_hswish,
    &cl__op_impl_add,
    &cl__op_impl_mul,
    &cl__op_impl_concat,
    &cl__op_impl_lrn,
    &cl__op_impl_softmax,
    &cl__op_impl_flatten,
    &cl__op_impl_dropout,
    &cl__op_impl_pad,
};
static_assert(sizeof g_impls / sizeof g_impls[0] == CL_OP_COUNT, "one impl per op");
static_assert(CL_OP_COUNT == 19, "update the op table when adding ops");

const cl_op_impl *cl_op_get(cl_op op) {
  CL_ASSERT(op >= 0 && op < CL_OP_COUNT);
  CL_ASSERT(g_impls[op]->op == op);
  return g_impls[op];
}
