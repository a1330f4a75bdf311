/* The pre-activation 1x1 convolution kernel (models/kern_preact1x1.c) against a naive
 * loop: channel counts from one block to DenseNet's 1024, position counts that are not
 * multiples of the kernel's 14-position block or of its tile, input and output channel
 * strides of a channel prefix of a wider concat buffer, ReLU before / after, bias or
 * not, residual sums, no batch norm (a plain 1x1 convolution), and position or
 * output-channel ranges split over threads. */
#include <stdint.h>
#include <stdlib.h>

#include "../models/kern_preact1x1.h"
#include "cl_test.h"

static float frand(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((*s >> 40) & 0xFFFFFF) / 16777216.0f * 2.0f - 1.0f;
}

/* Worst error of the kernel against the naive loop, relative to the output's largest
 * magnitude; -1 on allocation failure. */
static double check(int cin, int cout, int npos, int xpad, int ypad, int pre_relu, int post_relu, int bias,
                    int split, int plain, int sum, uint64_t seed) {
  size_t xcs = (size_t)(npos + xpad) * 16, ycs = (size_t)(npos + ypad) * 16;
  float *x = malloc(sizeof(float) * xcs * (size_t)(cin / 16));
  float *y = malloc(sizeof(float) * ycs * (size_t)(cout / 16));
  float *ref = malloc(sizeof(float) * (size_t)cout * (size_t)npos);
  float *w = malloc(sizeof(float) * (size_t)cin * (size_t)cout),
        *wp = aligned_alloc(64, sizeof(float) * (size_t)cin * (size_t)cout);
  float *s = malloc(sizeof(float) * (size_t)cin), *t = malloc(sizeof(float) * (size_t)cin);
  float *b = malloc(sizeof(float) * (size_t)cout), *z = malloc(sizeof(float) * (size_t)cin);
  cl_preact1x1 p = {.cin = cin,
                    .cout = cout,
                    .npos = npos,
                    .s = plain ? NULL : s,
                    .t = plain ? NULL : t,
                    .sum = sum,
                    .pre_relu = pre_relu,
                    .wp = wp,
                    .bias = bias ? b : NULL,
                    .post_relu = post_relu};
  size_t scr = cl_preact1x1_scratch(&p);
  float *scratch = aligned_alloc(64, (sizeof(float) * scr + 63) / 64 * 64);
  if (!x || !y || !ref || !w || !wp || !s || !t || !b || !z || !scratch) return -1;
  for (size_t i = 0; i < xcs * (size_t)(cin / 16); i++) x[i] = frand(&seed);
  for (size_t i = 0; i < (size_t)cin * (size_t)cout; i++) w[i] = frand(&seed) * 0.1f;
  for (int i = 0; i < cin; i++) s[i] = 0.5f + frand(&seed), t[i] = 0.3f * frand(&seed);
  for (int i = 0; i < cout; i++) b[i] = frand(&seed);
  float guard = 12345.0f; /* the padding between channel blocks must stay untouched */
  for (size_t i = 0; i < ycs * (size_t)(cout / 16); i++) y[i] = guard;
  float *prev = malloc(sizeof(float) * (size_t)cout * (size_t)npos); /* residual: y before the call */
  if (!prev) return -1;
  for (int oc = 0; oc < cout; oc++)
    for (int q = 0; q < npos; q++) {
      prev[(size_t)oc * (size_t)npos + (size_t)q] = sum ? frand(&seed) : 0.0f;
      if (sum)
        y[(size_t)(oc / 16) * ycs + (size_t)q * 16 + (size_t)(oc % 16)] =
            prev[(size_t)oc * (size_t)npos + (size_t)q];
    }
  cl_preact1x1_pack(&p, w, wp);
  /* threads: consecutive position ranges (split > 0) or output-channel pair ranges
   * (split < 0), as the executor splits them */
  int ways = split < 0 ? -split : split, pairs = cout / 32;
  for (int th = 0; th < ways; th++) {
    int p0 = (int)((long long)npos * th / ways), p1 = (int)((long long)npos * (th + 1) / ways);
    int o0 = pairs * th / ways, o1 = pairs * (th + 1) / ways;
    if (split < 0)
      cl_preact1x1_run(&p, x, xcs, y, ycs, 0, npos, o0, o1, scratch);
    else
      cl_preact1x1_run(&p, x, xcs, y, ycs, p0, p1, 0, pairs, scratch);
  }
  double amax = 0, err = 0;
  for (int q = 0; q < npos; q++) {
    for (int ic = 0; ic < cin; ic++) {
      float xv = x[(size_t)(ic / 16) * xcs + (size_t)q * 16 + (size_t)(ic % 16)];
      float v = plain ? xv : xv * s[ic] + t[ic];
      z[ic] = !plain && pre_relu && v < 0 ? 0 : v;
    }
    for (int oc = 0; oc < cout; oc++) {
      double acc = (bias ? b[oc] : 0) + prev[(size_t)oc * (size_t)npos + (size_t)q];
      for (int ic = 0; ic < cin; ic++) acc += (double)w[(size_t)oc * (size_t)cin + (size_t)ic] * z[ic];
      if (post_relu && acc < 0) acc = 0;
      ref[(size_t)oc * (size_t)npos + (size_t)q] = (float)acc;
      if (fabs(acc) > amax) amax = fabs(acc);
    }
  }
  int guard_ok = 1;
  for (int oc = 0; oc < cout; oc++)
    for (int q = 0; q < npos + ypad; q++) {
      float got = y[(size_t)(oc / 16) * ycs + (size_t)q * 16 + (size_t)(oc % 16)];
      if (q >= npos) {
        guard_ok &= got == guard;
        continue;
      }
      double d = fabs((double)got - ref[(size_t)oc * (size_t)npos + (size_t)q]);
      if (d != d || d > err) err = d != d ? 1e30 : d;
    }
  CL_CHECK(guard_ok);
  free(x), free(y), free(ref), free(w), free(wp), free(s), free(t), free(b), free(z), free(scratch),
      free(prev);
  return amax > 0 ? err / amax : err;
}

int main(void) {
  if (!cl_preact1x1_available()) {
    printf("test_preact1x1: kernel not built (no AVX-512): nothing to check\n");
    return cl_test_finish("test_preact1x1");
  }
  static const struct {
    int cin, cout, npos, xpad, ypad, pre, post, bias, split, plain, sum;
  } cases[] = {
      {16, 32, 1, 0, 0, 1, 0, 0, 1, 0, 0},       /* one block, one position */
      {32, 64, 13, 5, 0, 1, 1, 1, 1, 0, 0},      /* fewer positions than a register block */
      {64, 32, 14, 0, 3, 0, 0, 1, 2, 0, 0},      /* exactly one block, split in two */
      {256, 128, 3136, 0, 0, 1, 1, 1, 2, 0, 0},  /* DenseNet block 1, 56x56, several tiles */
      {1024, 128, 196, 0, 0, 1, 1, 1, 2, 0, 0},  /* block 3, 14x14, concat prefix-sized */
      {544, 128, 49, 17, 0, 1, 1, 1, 2, 0, 0},   /* 7x7 with a wider input stride */
      {128, 96, 783, 1, 9, 1, 0, 0, 3, 0, 0},    /* 783 positions: tile and block remainders */
      {1024, 512, 196, 0, 0, 1, 0, 0, 1, 0, 0},  /* transition layer */
      {512, 128, 49, 0, 0, 1, 1, 1, -2, 0, 0},   /* 7x7: split by output pairs */
      {1024, 512, 196, 0, 5, 1, 1, 1, -3, 0, 0}, /* uneven pair split, weights-outer order */
      {256, 64, 3136, 0, 0, 0, 1, 1, 2, 1, 0},   /* plain 1x1 (no batch norm), read from x */
      {64, 256, 3136, 7, 2, 0, 1, 1, 2, 1, 1},   /* plain, residual sum then ReLU (ResNet) */
      {512, 2048, 49, 0, 0, 0, 1, 1, -2, 1, 1},  /* ResNet-50's last expansion */
      {128, 128, 783, 3, 0, 1, 0, 0, 3, 0, 1},   /* batch norm and a residual sum */
  };
  double worst = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double e = check(cases[i].cin, cases[i].cout, cases[i].npos, cases[i].xpad, cases[i].ypad, cases[i].pre,
                     cases[i].post, cases[i].bias, cases[i].split, cases[i].plain, cases[i].sum, 7 + i);
    if (e < 0 || e > 2e-6)
      fprintf(stderr, "case %zu (cin %d cout %d npos %d): relative error %.3g\n", i, cases[i].cin,
              cases[i].cout, cases[i].npos, e);
    CL_CHECK(e >= 0 && e <= 2e-6);
    if (e > worst) worst = e;
  }
  printf("worst relative error %.2e\n", worst);
  return cl_test_finish("test_preact1x1");
}
