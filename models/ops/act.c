/* Fused activations applied in place after conv / fc / batchnorm / add.
 *
 * Each loop is a plain element-wise pass the compiler vectorises (-O2/-O3 with
 * -march=native); sigmoid uses expf and is the only one that is not branch-free. */
#include <math.h>

#include "cleave/ops.h"

static void act_relu(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void act_relu6(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i] > 0.0f ? x[i] : 0.0f;
    x[i] = v < 6.0f ? v : 6.0f;
  }
}

static void act_sigmoid(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = 1.0f / (1.0f + expf(-x[i]));
}

/* hardswish(x) = x * relu6(x + 3) / 6 (PyTorch nn.Hardswish). */
static void act_hswish(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float t = x[i] + 3.0f;
    t = t > 0.0f ? t : 0.0f;
    t = t < 6.0f ? t : 6.0f;
    x[i] = x[i] * t * (1.0f / 6.0f);
  }
}

void cl_act_apply(cl_act act, float *x, size_t n) {
  switch (act) {
    case CL_ACT_NONE: return;
    case CL_ACT_RELU: act_relu(x, n); return;
    case CL_ACT_RELU6: act_relu6(x, n); return;
    case CL_ACT_SIGMOID: act_sigmoid(x, n); return;
    case CL_ACT_HSWISH: act_hswish(x, n); return;
  }
  CL_ASSERT(!"unknown cl_act");
}
