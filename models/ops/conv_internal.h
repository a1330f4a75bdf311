/* Internal helpers shared by the conv / fc kernels (models/ops/). Not public API. */
#ifndef CLEAVE_OPS_CONV_INTERNAL_H
#define CLEAVE_OPS_CONV_INTERNAL_H

#include <stdint.h>

#include "cleave/graph.h"

/** Floating point ops per element charged for a fused activation in the flop
 *  counts: relu 1 (max), relu6 2 (max, min), sigmoid 4 (neg, exp, add, div),
 *  hardswish 5 (add, max, min, mul, mul). */
static inline int64_t cl__act_flops(cl_act act) {
  switch (act) {
    case CL_ACT_RELU: return 1;
    case CL_ACT_RELU6: return 2;
    case CL_ACT_SIGMOID: return 4;
    case CL_ACT_HSWISH: return 5;
    default: return 0;
  }
}

/** 1 if @p act is a valid cl_act value. */
static inline int cl__act_valid(cl_act act) { return act >= CL_ACT_NONE && act <= CL_ACT_HSWISH; }

#endif
