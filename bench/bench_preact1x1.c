/* Pre-activation 1x1 convolution (models/kern_preact1x1.c) against oneDNN's batch norm
 * + ReLU followed by its jit_1x1 convolution, on DenseNet-121's shapes (1 thread, or -t: both split the
 * executor's way). build/bench/bench_preact1x1 [-r reps] [-t threads] Two regimes per shape: hot (the same
 * layer repeated: input and weights in cache) and cold (a 64 MB buffer written between runs, as in a network
 * where a layer's input and weights were evicted by the layers in between). Prints medians and oneDNN /
 * fused. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/kern_preact1x1.h"
#include "bench_util.h"
#include "cleave/ops.h"

#if __has_include(<oneapi/dnnl/dnnl.h>) && defined(_OPENMP)
#include <math.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#define DN(call)                                              \
  do {                                                        \
    if ((call) != dnnl_success) {                             \
      fprintf(stderr, "bench_preact1x1: %s failed\n", #call); \
      exit(1);                                                \
    }                                                         \
  } while (0)

static volatile float sink;
static int nthreads = 1, dynamic = 0, plain = 0, solo = 0;
static float *evict_buf;
enum { EVICT = 64 << 20 };
static void evict(void) {
  for (size_t i = 0; i < EVICT / sizeof(float); i += 16) evict_buf[i] += 1.0f;
  sink = evict_buf[12345];
}

typedef struct dn_pair {
  dnnl_primitive_t bn, conv;
  dnnl_exec_arg_t bn_args[5], conv_args[4];
} dn_pair;

static double median(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, bench_cmp_double);
  return t[n / 2];
}

static void shape(dnnl_engine_t eng, dnnl_stream_t strm, int cin, int cout, int hw, int reps) {
  int npos = hw * hw;
  size_t nx = (size_t)cin * (size_t)npos, ny = (size_t)cout * (size_t)npos, nw = (size_t)cin * (size_t)cout;
  float *x = aligned_alloc(64, nx * 4), *y = aligned_alloc(64, ny * 4), *mid = aligned_alloc(64, nx * 4);
  float *w = malloc(nw * 4), *wp = aligned_alloc(64, nw * 4), *b = malloc((size_t)cout * 4);
  float *ss = malloc((size_t)cin * 8), *mean = calloc((size_t)cin, 4), *var = malloc((size_t)cin * 4);
  float *s = malloc((size_t)cin * 4), *t = malloc((size_t)cin * 4);
  uint64_t r = 1;
  for (size_t i = 0; i < nx; i++)
    x[i] = (float)((r = r * 6364136223846793005ull + 1) >> 41) / 8388608.0f - 0.5f;
  for (size_t i = 0; i < nw; i++) w[i] = 0.01f * (float)(i % 17) - 0.08f;
  for (int i = 0; i < cout; i++) b[i] = 0.1f;
  for (int i = 0; i < cin; i++) ss[i] = s[i] = 1.0f, ss[cin + i] = t[i] = 0.1f, var[i] = 1.0f - 1e-5f;
  /* oneDNN: batch norm (global stats, scale-shift, fused ReLU), then 1x1 conv + bias + ReLU */
  dnnl_memory_desc_t xmd, ymd, wmd_any, wmd_plain, bmd, ssmd, vmd;
  dnnl_dims_t xd = {1, cin, hw, hw}, yd = {1, cout, hw, hw}, wd = {cout, cin, 1, 1}, bd = {cout},
              ssd = {2, cin}, vd = {cin}, st = {1, 1}, pad = {0, 0};
  DN(dnnl_memory_desc_init_by_tag(&xmd, 4, xd, dnnl_f32, dnnl_nChw16c));
  DN(dnnl_memory_desc_init_by_tag(&ymd, 4, yd, dnnl_f32, dnnl_nChw16c));
  DN(dnnl_memory_desc_init_by_tag(&wmd_any, 4, wd, dnnl_f32, dnnl_format_tag_any));
  DN(dnnl_memory_desc_init_by_tag(&wmd_plain, 4, wd, dnnl_f32, dnnl_oihw));
  DN(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x));
  DN(dnnl_memory_desc_init_by_tag(&ssmd, 2, ssd, dnnl_f32, dnnl_nc));
  DN(dnnl_memory_desc_init_by_tag(&vmd, 1, vd, dnnl_f32, dnnl_x));
  dnnl_batch_normalization_desc_t bnd;
  DN(dnnl_batch_normalization_forward_desc_init(
      &bnd, dnnl_forward_inference, &xmd, 1e-5f,
      dnnl_use_global_stats | dnnl_use_scaleshift | dnnl_fuse_norm_relu));
  dnnl_primitive_desc_t bnpd, cpd;
  DN(dnnl_primitive_desc_create(&bnpd, &bnd, NULL, eng, NULL));
  dnnl_convolution_desc_t cd;
  DN(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &xmd, &wmd_any,
                                        &bmd, &ymd, st, pad, pad));
  dnnl_post_ops_t po;
  dnnl_primitive_attr_t attr;
  DN(dnnl_post_ops_create(&po));
  DN(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
  DN(dnnl_primitive_attr_create(&attr));
  DN(dnnl_primitive_attr_set_post_ops(attr, po));
  DN(dnnl_primitive_desc_create(&cpd, &cd, attr, eng, NULL));
  const char *impl = NULL;
  DN(dnnl_primitive_desc_query(cpd, dnnl_query_impl_info_str, 0, &impl));
  dn_pair pr;
  DN(dnnl_primitive_create(&pr.bn, bnpd));
  DN(dnnl_primitive_create(&pr.conv, cpd));
  const dnnl_memory_desc_t *qw = dnnl_primitive_desc_query_md(cpd, dnnl_query_weights_md, 0);
  dnnl_memory_t mx, mmid, my, mw, mwp, mb, mss, mmean, mvar;
  float *wpk = aligned_alloc(64, (dnnl_memory_desc_get_size(qw) + 63) / 64 * 64);
  DN(dnnl_memory_create(&mx, &xmd, eng, x));
  DN(dnnl_memory_create(&mmid, &xmd, eng, mid));
  DN(dnnl_memory_create(&my, &ymd, eng, y));
  DN(dnnl_memory_create(&mwp, &wmd_plain, eng, w));
  DN(dnnl_memory_create(&mw, qw, eng, wpk));
  DN(dnnl_memory_create(&mb, &bmd, eng, b));
  DN(dnnl_memory_create(&mss, &ssmd, eng, ss));
  DN(dnnl_memory_create(&mmean, &vmd, eng, mean));
  DN(dnnl_memory_create(&mvar, &vmd, eng, var));
  dnnl_primitive_desc_t rpd;
  dnnl_primitive_t rp;
  DN(dnnl_reorder_primitive_desc_create(&rpd, &wmd_plain, eng, qw, eng, NULL));
  DN(dnnl_primitive_create(&rp, rpd));
  dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, mwp}, {DNNL_ARG_TO, mw}};
  DN(dnnl_primitive_execute(rp, strm, 2, ra));
  dnnl_exec_arg_t bna[5] = {{DNNL_ARG_SRC, mx},
                            {DNNL_ARG_MEAN, mmean},
                            {DNNL_ARG_VARIANCE, mvar},
                            {DNNL_ARG_SCALE_SHIFT, mss},
                            {DNNL_ARG_DST, mmid}};
  dnnl_exec_arg_t ca[4] = {
      {DNNL_ARG_SRC, plain ? mx : mmid}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, my}};
  /* fused */
  cl_preact1x1 p = {.cin = cin,
                    .cout = cout,
                    .npos = npos,
                    .s = plain ? NULL : s,
                    .t = plain ? NULL : t,
                    .pre_relu = 1,
                    .wp = wp,
                    .bias = b,
                    .post_relu = 1};
  cl_preact1x1_pack(&p, w, wp);
  /* per-thread scratch as the executor lays it out (cl_preact1x1_scratch_stride) */
  size_t sstride = cl_preact1x1_scratch_stride(&p);
  float *scr = aligned_alloc(4096, (sstride * 4 * (size_t)nthreads + 4095) / 4096 * 4096);
  double *td = calloc((size_t)reps, sizeof(double)), *tf = calloc((size_t)reps, sizeof(double));
  double res[2][2];
  float check_dn = 0, check_f = 0;
  for (int cold = 0; cold < 2; cold++) {
    for (int i = 0; i < reps + 2; i++)
      for (int v = solo; v < 2; v++) {
        if (cold) evict();
        double t0 = cl_wall_now();
        if (v == 0) {
          if (!plain) DN(dnnl_primitive_execute(pr.bn, strm, 5, bna));
          DN(dnnl_primitive_execute(pr.conv, strm, 4, ca));
          check_dn = y[ny / 3];
        } else {
          if (nthreads == 1) {
            cl_preact1x1_run(&p, x, (size_t)npos * 16, y, (size_t)npos * 16, 0, npos, 0, cout / 32, scr);
          } else {
            if (dynamic) {
              int pt = cl_preact1x1_tile(&p), ntiles = (npos + pt - 1) / pt;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
              for (int i = 0; i < ntiles; i++) {
                int q1 = (i + 1) * pt < npos ? (i + 1) * pt : npos;
                cl_preact1x1_run(&p, x, (size_t)npos * 16, y, (size_t)npos * 16, i * pt, q1, 0, cout / 32,
                                 scr + (size_t)omp_get_thread_num() * sstride);
              }
            } else {
#pragma omp parallel num_threads(nthreads)
              { /* the executor's split: positions when each thread gets two 14-position blocks */
                int th = omp_get_thread_num(), pairs = cout / 32,
                    by_pos = npos >= 28 * nthreads || pairs < nthreads;
                int q0 = by_pos ? npos * th / nthreads : 0, q1 = by_pos ? npos * (th + 1) / nthreads : npos;
                int o0 = by_pos ? 0 : pairs * th / nthreads,
                    o1 = by_pos ? pairs : pairs * (th + 1) / nthreads;
                cl_preact1x1_run(&p, x, (size_t)npos * 16, y, (size_t)npos * 16, q0, q1, o0, o1,
                                 scr + (size_t)th * sstride);
              }
            }
          }
          check_f = y[ny / 3];
        }
        double dt = cl_wall_now() - t0;
        if (i >= 2) (v ? tf : td)[i - 2] = dt;
      }
    res[cold][0] = median(td, reps);
    res[cold][1] = median(tf, reps);
  }
  double gf = 2.0 * (double)nw * npos / 1e9;
  printf("%5d %5d %3dx%-3d %-22s %9.1f %9.1f %6.2f %9.1f %9.1f %6.2f %7.1f  %s\n", cin, cout, hw, hw, impl,
         1e6 * res[0][0], 1e6 * res[0][1], res[0][0] / res[0][1], 1e6 * res[1][0], 1e6 * res[1][1],
         res[1][0] / res[1][1], gf / res[0][1],
         solo                                                         ? "-"
         : fabsf(check_dn - check_f) <= 1e-4f * (1 + fabsf(check_dn)) ? "same"
                                                                      : "DIFFERENT");
  fflush(stdout);
  dnnl_primitive_destroy(pr.bn), dnnl_primitive_destroy(pr.conv), dnnl_primitive_destroy(rp);
  dnnl_primitive_desc_destroy(bnpd), dnnl_primitive_desc_destroy(cpd), dnnl_primitive_desc_destroy(rpd);
  dnnl_post_ops_destroy(po), dnnl_primitive_attr_destroy(attr);
  dnnl_memory_t ms[] = {mx, mmid, my, mw, mwp, mb, mss, mmean, mvar};
  for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) dnnl_memory_destroy(ms[i]);
  free(x), free(y), free(mid), free(w), free(wp), free(wpk), free(b), free(ss), free(mean), free(var),
      free(s), free(t);
  free(scr), free(td), free(tf);
}

int main(int argc, char **argv) {
  cl_blas_fix_env(argv);
  int reps = 21, opt;
  while ((opt = getopt(argc, argv, "r:t:dpsh")) != -1) {
    if (opt == 'r')
      reps = atoi(optarg) > 0 ? atoi(optarg) : 21;
    else if (opt == 'd')
      dynamic = 1;
    else if (opt == 'p')
      plain = 1;
    else if (opt == 's')
      solo = 1;
    else if (opt == 't')
      nthreads = atoi(optarg) >= 1 && atoi(optarg) <= 64 ? atoi(optarg) : 1;
    else {
      fprintf(stderr, "usage: bench_preact1x1 [-r reps] [-t threads] [-d] [-p] [-s]\n");
      return opt == 'h' ? 0 : 2;
    }
  }
  if (!cl_preact1x1_available()) {
    printf("bench_preact1x1: kernel not built (no AVX-512)\n");
    return 0;
  }
  omp_set_num_threads(nthreads);
  evict_buf = calloc(EVICT / sizeof(float), sizeof(float));
  dnnl_engine_t eng;
  dnnl_stream_t strm;
  DN(dnnl_engine_create(&eng, dnnl_cpu, 0));
  DN(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
  printf(
      "  cin  cout     map onednn_conv_impl      hot_dn_us  hot_fu_us  x_hot cold_dn_us cold_fu_us x_cold "
      "fu_GF/s\n");
  static const int sh[][3] = {{64, 128, 56},  {256, 128, 56}, {128, 128, 28},  {512, 128, 28},
                              {256, 128, 14}, {640, 128, 14}, {1024, 128, 14}, {512, 128, 7},
                              {1024, 128, 7}, {256, 128, 56}, {512, 256, 28},  {1024, 512, 14}};
  /* -p: plain 1x1 convolutions (no batch norm) of ResNet-50, Inception-v3 and GoogLeNet */
  static const int shp[][3] = {{64, 256, 56},   {256, 64, 56},   {128, 512, 28}, {512, 128, 28},
                               {256, 1024, 14}, {1024, 256, 14}, {512, 2048, 7}, {2048, 512, 7},
                               {192, 64, 35},   {288, 64, 35},   {768, 192, 17}, {1280, 320, 8},
                               {2048, 384, 8},  {480, 192, 14},  {832, 384, 7}};
  if (plain)
    for (size_t i = 0; i < sizeof shp / sizeof shp[0]; i++)
      shape(eng, strm, shp[i][0], shp[i][1], shp[i][2], reps);
  else
    for (size_t i = 0; i < sizeof sh / sizeof sh[0]; i++)
      shape(eng, strm, sh[i][0], sh[i][1], sh[i][2], reps);
  dnnl_stream_destroy(strm);
  dnnl_engine_destroy(eng);
  free(evict_buf);
  return 0;
}
#else
int main(void) {
  printf("bench_preact1x1: needs oneDNN (libdnnl-dev) and OpenMP\n");
  return 0;
}
#endif
