/* Pre-activation 1x1 convolution: y = post(W . relu(x * s + t) + b [+ y]) on nChw16c maps
 * (models/kern_preact1x1.c). DenseNet's "BN-ReLU-Conv1x1" as one pass: the batch
 * norm's output is never written, and its input is read by the convolution itself.
 * Internal to cleave_models (the oneDNN executor fuses a batch-norm step into the 1x1
 * convolution that is its only reader); tests include it directly. */
#ifndef CLEAVE_KERN_PREACT1X1_H
#define CLEAVE_KERN_PREACT1X1_H

#include <stddef.h>

/* Positions per register block of the kernel. */
enum { CL_PA_NP = 14 };

typedef struct cl_preact1x1 {
  int cin, cout;      /* cin % 16 == 0, cout % 32 == 0 */
  int npos;           /* positions of a map (H * W, batch 1) */
  const float *s, *t; /* per input channel: scale and shift of the batch norm; s NULL: none
                         (a plain 1x1 convolution, read straight from x) */
  int pre_relu;       /* relu after the batch norm */
  float *wp;          /* packed weights: [cout / 32][cin][32] (cl_preact1x1_pack) */
  const float *bias;  /* [cout] or NULL */
  int sum;            /* residual: y's current values join the sum (before post_relu) */
  int post_relu;      /* relu on the output */
} cl_preact1x1;

/* Is the kernel built into this binary (AVX-512)? */
int cl_preact1x1_available(void);
/* Pack plain [cout][cin] weights into p->wp (cin * cout floats, caller's buffer). */
void cl_preact1x1_pack(const cl_preact1x1 *p, const float *w_plain, float *wp);
/* Positions per tile (the unit of the transformed input buffer). */
int cl_preact1x1_tile(const cl_preact1x1 *p);
/* Floats of scratch one thread needs (its tile of transformed input). */
size_t cl_preact1x1_scratch(const cl_preact1x1 *p);
/* Bytes from one thread's buffer of @p bytes to the next one's when several threads'
 * buffers share one block: rounded up to 64 KB, plus 256 KB. Threads whose scratch lay
 * back to back ran 25-35% slower on 2 cores of this VM (DenseNet's 256x56x56 layer:
 * 690-730 us instead of 510-535 us); from 256 KB apart on, no slower than separate
 * allocations. Also used for the oneDNN executor's lane scratchpads. */
static inline size_t cl_apart_bytes(size_t bytes) {
  return (bytes + 65535) / 65536 * 65536 + 262144;
}
/* Floats from one thread's scratch to the next one's (cl_apart_bytes of the scratch). */
size_t cl_preact1x1_scratch_stride(const cl_preact1x1 *p);
/* Compute output positions [p0, p1) of output channel pairs [op0, op1) (32 channels
 * each) of y from x. x: nChw16c with @p xcs floats between channel blocks (H * W * 16
 * for a dense map; the same for a channel prefix of a concat buffer), positions
 * contiguous in a block; y likewise with @p ycs. @p scratch: cl_preact1x1_scratch
 * floats of this thread's own. */
void cl_preact1x1_run(const cl_preact1x1 *p, const float *x, size_t xcs, float *y, size_t ycs, int p0, int p1,
                      int op0, int op1, float *scratch);

#endif
