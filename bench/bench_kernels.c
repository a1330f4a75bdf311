/* bench_kernels: time the conv / fc kernels on representative layers of VGG-16,
 * ResNet-50 and MobileNetV2 and compare with the sgemm peak measured in the same run.
 *
 *   build-<name>/bench/bench_kernels [-t threads] [-r min_reps] [-s seconds_per_layer]
 *                                    [-l substring-of-layer-names]
 *
 * For each layer: median wall time over the reps (after one warm-up run), achieved
 * GFLOP/s (2*MACs / time), the ratio to the measured sgemm peak, and the time to
 * compute the same output as 4 row slices (what a spatial split pays in the
 * kernel). All buffers are allocated and touched before timing. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleave/graph.h"
#include "cleave/ops.h"
#include "bench_util.h"

static float *alloc_filled(size_t n, uint64_t seed) {
  float *p = malloc(sizeof(float) * (n ? n : 1));
  if (!p) {
    fprintf(stderr, "bench_kernels: out of memory (%zu floats)\n", n);
    exit(1);
  }
  for (size_t i = 0; i < n; i++) p[i] = cl_rng_uniform(&seed, -1.0f, 1.0f);
  return p;
}

static int g_min_reps = 5;
static double g_budget = 1.0; /* seconds per measurement */

/* Median seconds of fn over at least g_min_reps runs (more if they fit the budget). */
static double time_median(void (*fn)(void *), void *arg) {
  fn(arg); /* warm-up: page faults, BLAS buffers */
  double t0 = cl_wall_now();
  fn(arg);
  double one = cl_wall_now() - t0;
  int reps = one > 0 ? (int)(g_budget / one) : 50;
  if (reps < g_min_reps) reps = g_min_reps;
  if (reps > 50) reps = 50;
  double *v = malloc(sizeof(double) * (size_t)reps);
  for (int r = 0; r < reps; r++) {
    t0 = cl_wall_now();
    fn(arg);
    v[r] = cl_wall_now() - t0;
  }
  double m = bench_median(v, reps);
  free(v);
  return m;
}

typedef struct gemm_arg {
  int m, n, k;
  float *a, *b, *c;
} gemm_arg;

static void gemm_fn(void *p) {
  gemm_arg *g = p;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->m, g->n, g->k, 1.0f, g->a, g->k, g->b, g->n,
              0.0f, g->c, g->n);
}

typedef struct layer_arg {
  const cl_node *node;
  const cl_op_impl *impl;
  cl_tensor in, out;
  cl_op_ctx ctx;
  int slices;
} layer_arg;

static void layer_fn(void *p) {
  layer_arg *a = p;
  const cl_tensor *ins[1] = {&a->in};
  int h = a->node->out.h;
  for (int s = 0; s < a->slices; s++) {
    int y0 = (int)((int64_t)h * s / a->slices), y1 = (int)((int64_t)h * (s + 1) / a->slices);
    if (y1 <= y0) continue;
    cl_status st = a->impl->run(a->node, ins, 1, &a->out, y0, y1, &a->ctx);
    if (st != CL_OK) {
      fprintf(stderr, "bench_kernels: %s failed: %s\n", a->node->name, cl_status_str(st));
      exit(1);
    }
  }
}

typedef struct layer_def {
  const char *name;
  cl_shape in;
  cl_op op;
  cl_conv_params conv; /* op == CL_OP_CONV */
  int fc_out;          /* op == CL_OP_FC */
} layer_def;

#define CONV(name, n, c, h, w, oc, k, s, pad, groups, act)                                   \
  {                                                                                         \
    name, {n, c, h, w}, CL_OP_CONV, {oc, k, k, s, s, pad, pad, pad, pad, 1, 1, groups, 1, act}, 0 \
  }

static const layer_def g_layers[] = {
    CONV("vgg16.conv1_2 3x3 64->64 @224", 1, 64, 224, 224, 64, 3, 1, 1, 1, CL_ACT_RELU),
    CONV("vgg16.conv3_1 3x3 128->256 @56", 1, 128, 56, 56, 256, 3, 1, 1, 1, CL_ACT_RELU),
    CONV("vgg16.conv5_1 3x3 512->512 @14", 1, 512, 14, 14, 512, 3, 1, 1, 1, CL_ACT_RELU),
    CONV("resnet50.conv1 7x7/2 3->64 @224", 1, 3, 224, 224, 64, 7, 2, 3, 1, CL_ACT_RELU),
    CONV("resnet50.l1.conv2 3x3 64->64 @56", 1, 64, 56, 56, 64, 3, 1, 1, 1, CL_ACT_RELU),
    CONV("resnet50.l1.conv3 1x1 64->256 @56", 1, 64, 56, 56, 256, 1, 1, 0, 1, CL_ACT_NONE),
    CONV("resnet50.l3.conv1 1x1 1024->256 @14", 1, 1024, 14, 14, 256, 1, 1, 0, 1, CL_ACT_RELU),
    CONV("resnet50.l3.conv2 3x3 256->256 @14", 1, 256, 14, 14, 256, 3, 1, 1, 1, CL_ACT_RELU),
    CONV("resnet50.l4.down 1x1/2 1024->2048 @14", 1, 1024, 14, 14, 2048, 1, 2, 0, 1, CL_ACT_NONE),
    CONV("resnet50.l3.conv2 batch 8", 8, 256, 14, 14, 256, 3, 1, 1, 1, CL_ACT_RELU),
    CONV("mbv2.f2.dw 3x3/2 96 @112", 1, 96, 112, 112, 96, 3, 2, 1, 96, CL_ACT_RELU6),
    CONV("mbv2.f4.dw 3x3 144 @56", 1, 144, 56, 56, 144, 3, 1, 1, 144, CL_ACT_RELU6),
    {"vgg16.fc6 25088->4096", {1, 512, 7, 7}, CL_OP_FC, {0}, 4096},
    {"vgg16.fc6 batch 8", {8, 512, 7, 7}, CL_OP_FC, {0}, 4096},
};

int main(int argc, char **argv) {
  cl_blas_fix_env(argv);
  int threads = 1;
  const char *filter = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "t:r:s:l:h")) != -1) {
    switch (opt) {
      case 't': threads = atoi(optarg); break;
      case 'r': g_min_reps = atoi(optarg); break;
      case 's': g_budget = atof(optarg); break;
      case 'l': filter = optarg; break;
      default:
        fprintf(stderr, "usage: %s [-t threads] [-r min_reps] [-s seconds_per_layer] [-l layer_filter]\n",
                argv[0]);
        return opt == 'h' ? 0 : 2;
    }
  }
  if (threads < 1 || g_min_reps < 1) return 2;
  cl_blas_set_threads(threads);
  printf("# bench_kernels: threads %d, OpenBLAS core %s, OPENBLAS_CORETYPE=%s\n", threads,
         openblas_get_corename(), getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(unset)");

  /* Reference: square-ish sgemm the size of a mid-network im2col GEMM. */
  gemm_arg ga = {256, 3136, 1152, NULL, NULL, NULL};
  ga.a = alloc_filled((size_t)ga.m * ga.k, 1);
  ga.b = alloc_filled((size_t)ga.k * ga.n, 2);
  ga.c = alloc_filled((size_t)ga.m * ga.n, 3);
  double tg = time_median(gemm_fn, &ga);
  double peak = 2.0 * ga.m * ga.n * ga.k / tg * 1e-9;
  printf("# sgemm %dx%dx%d: %.3f ms, %.1f GFLOP/s (reference peak)\n", ga.m, ga.n, ga.k, tg * 1e3, peak);
  free(ga.a);
  free(ga.b);
  free(ga.c);

  printf("%-40s %9s %9s %8s %7s %10s\n", "layer", "GMAC", "ms", "GFLOP/s", "/peak", "4-slice ms");
  for (size_t li = 0; li < sizeof g_layers / sizeof g_layers[0]; li++) {
    const layer_def *L = &g_layers[li];
    if (filter && !strstr(L->name, filter)) continue;
    cl_graph *g = NULL;
    if (cl_graph_create("bench", &g) != CL_OK) return 1;
    int in = cl_graph_add_input(g, "x", L->in);
    cl_op_params p;
    memset(&p, 0, sizeof p);
    if (L->op == CL_OP_CONV)
      p.conv = L->conv;
    else
      p.fc = (cl_fc_params){L->fc_out, 1, CL_ACT_RELU};
    int id = cl_graph_add(g, L->op, L->name, &in, 1, &p);
    if (id < 0 || cl_graph_init_weights(g, 1) != CL_OK) return 1;
    const cl_node *nd = cl_graph_node(g, id);
    layer_arg a;
    memset(&a, 0, sizeof a);
    a.node = nd;
    a.impl = cl_op_get(L->op);
    a.in = (cl_tensor){alloc_filled((size_t)cl_shape_numel(L->in), 4), L->in, 0, L->in.h};
    a.out = (cl_tensor){alloc_filled((size_t)cl_shape_numel(nd->out), 5), nd->out, 0, nd->out.h};
    size_t ws = a.impl->workspace ? a.impl->workspace(nd, &L->in, 1, nd->out.h) : 0;
    a.ctx = (cl_op_ctx){ws ? alloc_filled(ws / sizeof(float), 6) : NULL, ws, threads};
    a.slices = 1;
    double t = time_median(layer_fn, &a);
    double t4 = 0;
    if (cl_op_is_spatial(L->op) && nd->out.h >= 4) {
      a.slices = 4;
      t4 = time_median(layer_fn, &a);
    }
    double gf = 2.0 * (double)nd->macs / t * 1e-9;
    printf("%-40s %9.3f %9.3f %8.1f %7.2f", L->name, (double)nd->macs * 1e-9, t * 1e3, gf, gf / peak);
    if (t4 > 0)
      printf(" %10.3f\n", t4 * 1e3);
    else
      printf(" %10s\n", "-");
    if (L->op == CL_OP_FC)
      printf("%-40s weights stream at %.1f GB/s\n", "", (double)nd->n_weights * 4 / t * 1e-9);
    fflush(stdout);
    free(a.in.data);
    free(a.out.data);
    free(a.ctx.workspace);
    cl_graph_destroy(g);
  }
  return 0;
}
