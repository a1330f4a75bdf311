/* The Keras family of the zoo (Scission's 18 models): parameter totals equal Keras's
 * published model.summary() totals, every model has Keras's layer count and exactly
 * Scission's blocks (layer ranges and output sizes read from Scission's benchmark file),
 * names resolve as docs/models.md says, the new ops (pad / crop, scaled add, BN without
 * scale) match naive twins, and the models run on both backends, whole and split at a
 * Scission block boundary, with equal outputs.
 *
 * Usage: test_zoo_keras [MODEL...]: with model names, only the execution check of those
 * (tests/zoo.cmake registers the large models as a `slow` test). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cl_test.h"
#include "cleave/exec.h"
#include "cleave/graph.h"
#include "cleave/ops.h"
#include "cleave/zoo.h"

/* Keras's "Total params" (trainable + non-trainable) with include_top=True, 1000 classes.
 * Source: model.summary() totals as tabulated in https://gist.github.com/ogyalcin/
 * 052f2df49b3288e62086aa0e5fd25fcd (Keras Applications table with exact parameter
 * counts); the rounded values agree with https://keras.io/api/applications/ (22.9M,
 * 138.4M, ...). */
static const struct {
  const char *scission;
  long long params;
} g_keras[18] = {
    {"xception", 22910480LL},     {"vgg16", 138357544LL},       {"vgg19", 143667240LL},
    {"resnet50", 25636712LL},     {"resnet101", 44707176LL},    {"resnet152", 60419944LL},
    {"resnet50v2", 25613800LL},   {"resnet101v2", 44675560LL},  {"resnet152v2", 60380648LL},
    {"inception_v3", 23851784LL}, {"inceptionresnet_v2", 55873736LL}, {"mobilenet", 4253864LL},
    {"mobilenetv2", 3538984LL},   {"densenet121", 8062504LL},   {"densenet169", 14307880LL},
    {"densenet201", 20242984LL},  {"nasnetmobile", 5326716LL},  {"nasnetlarge", 88949818LL},
};

/* One row of Scission's benchmark file (tests/data/scission/edge-2500.csv). */
typedef struct srow {
  char model[32];
  int block, first, last;
  long long bytes;
} srow;

static int read_csv(srow **rows) {
  const char *dir = getenv("CL_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/data/scission/edge-2500.csv", dir ? dir : "..");
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return 0;
  }
  char line[512];
  int n = 0, cap = 1024;
  *rows = malloc(sizeof(srow) * (size_t)cap);
  if (!fgets(line, sizeof line, f)) n = -1; /* header */
  while (n >= 0 && *rows && fgets(line, sizeof line, f)) {
    srow r;
    double sec;
    if (sscanf(line, "%31[^,],%d,%d,%d,%lf,%lld", r.model, &r.block, &r.first, &r.last, &sec, &r.bytes) != 6) continue;
    if (n == cap) break;
    (*rows)[n++] = r;
  }
  fclose(f);
  return n;
}

/* Counts, layers and Scission blocks of one Keras model against Keras and Scission. */
static void check_model(const char *scission, long long params, const srow *rows, int n_rows) {
  char name[64];
  snprintf(name, sizeof name, "keras/%s", scission);
  const cl_zoo_entry *e = cl_zoo_find(name);
  CL_CHECK(e != NULL);
  if (!e) return;
  CL_CHECK_STR_EQ(e->scission, scission);
  cl_graph *g = NULL;
  CL_CHECK_OK(e->build(&g));
  if (!g) return;
  cl_graph_stats st;
  cl_graph_stats_get(g, &st);
  int n = cl_graph_size(g), layers = cl_graph_node(g, n - 1)->layer + 1;
  printf("%-20s params %11lld (keras %11lld) macs %12lld layers %4d nodes %4d\n", scission,
         (long long)st.params_total, params, (long long)st.macs, layers, n);
  CL_CHECK_INT_EQ(st.params_total, params);
  const cl_node *in = cl_graph_node(g, 0);
  CL_CHECK(in->out.c == 3 && in->out.h == e->input.h && in->out.w == e->input.w);
  CL_CHECK_INT_EQ(e->input.h, !strcmp(scission, "nasnetlarge") ? 331
                              : (!strcmp(scission, "xception") || !strncmp(scission, "inception", 9)) ? 299
                                                                                                    : 224);
  const cl_node *o = cl_graph_node(g, n - 1);
  CL_CHECK(o->op == CL_OP_SOFTMAX && o->out.c == 1000); /* Keras keeps the softmax */

  /* Scission's rows of this model, in block order */
  int nb_ref = 0, last_layer = -1;
  for (int i = 0; i < n_rows; i++)
    if (!strcmp(rows[i].model, scission)) {
      CL_CHECK_INT_EQ(rows[i].block, nb_ref);
      nb_ref++;
      last_layer = rows[i].last;
    }
  CL_CHECK(nb_ref > 0);
  CL_CHECK_INT_EQ(layers, last_layer + 1); /* len(model.layers) */
  cl_zoo_block *bl = NULL;
  int nb = 0;
  CL_CHECK_OK(cl_zoo_scission_blocks(g, &bl, &nb));
  if (nb != nb_ref) fprintf(stderr, "%s: %d blocks, Scission has %d\n", scission, nb, nb_ref);
  CL_CHECK_INT_EQ(nb, nb_ref);
  int b = 0;
  for (int i = 0; i < n_rows && bl; i++) {
    if (strcmp(rows[i].model, scission) || b >= nb) continue;
    const srow *r = &rows[i];
    const cl_zoo_block *x = &bl[b++];
    /* .npy size: float32 data + 128-byte header */
    long long bytes = 4 * (long long)cl_shape_numel(cl_graph_node(g, x->last_node)->out) + 128;
    if (x->first_layer != r->first || x->last_layer != r->last || bytes != r->bytes)
      fprintf(stderr, "%s block %d: layers %d-%d (%s), %lld bytes; Scission: %d-%d, %lld bytes\n", scission,
              r->block, x->first_layer, x->last_layer, cl_graph_node(g, x->last_node)->name, bytes, r->first,
              r->last, r->bytes);
    CL_CHECK_INT_EQ(x->first_layer, r->first);
    CL_CHECK_INT_EQ(x->last_layer, r->last);
    CL_CHECK_INT_EQ(bytes, r->bytes);
  }
  /* every block boundary is a valid single-tensor cut of the graph */
  int nc = cl_graph_cut_points(g, NULL, 0);
  int *cuts = malloc(sizeof(int) * (size_t)(nc + 1));
  CL_CHECK(cuts != NULL);
  if (cuts && bl) {
    cl_graph_cut_points(g, cuts, nc);
    for (int i = 0; i + 1 < nb; i++) {
      int found = 0;
      for (int c = 0; c < nc; c++) found |= cuts[c] == bl[i].last_node;
      CL_CHECK(found);
      CL_CHECK_INT_EQ(bl[i + 1].first_node, bl[i].last_node + 1);
    }
  }
  free(cuts);
  free(bl);
  cl_graph_destroy(g);
}

static void check_names(void) {
  for (int i = 0; i < 18; i++) {
    const cl_zoo_entry *e = NULL;
    int count = 0;
    for (int j = 0; j < cl_zoo_count(); j++)
      if (cl_zoo_get(j)->scission && !strcmp(cl_zoo_get(j)->scission, g_keras[i].scission)) e = cl_zoo_get(j), count++;
    CL_CHECK_INT_EQ(count, 1);
    /* a bare Scission name is the Keras model unless torchvision (or an alias) has it */
    const cl_zoo_entry *bare = cl_zoo_find(g_keras[i].scission);
    CL_CHECK(bare != NULL);
    if (bare && e && bare != e) CL_CHECK(bare->scission == NULL);
  }
  int keras = 0;
  for (int j = 0; j < cl_zoo_count(); j++) keras += cl_zoo_get(j)->scission != NULL;
  CL_CHECK_INT_EQ(keras, 18);
  CL_CHECK(cl_zoo_find("xception") == cl_zoo_find("keras/xception"));
  CL_CHECK(cl_zoo_find("nasnetlarge") == cl_zoo_find("keras/nasnetlarge"));
  CL_CHECK(cl_zoo_find("resnet50") != cl_zoo_find("keras/resnet50")); /* torchvision keeps it */
  CL_CHECK(cl_zoo_find("resnet50")->scission == NULL);
  CL_CHECK(cl_zoo_find("inception_v3")->scission == NULL);
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build("inceptionresnet_v2", &g));
  if (g) CL_CHECK_STR_EQ(cl_graph_name(g), "keras/inceptionresnet_v2");
  cl_graph_destroy(g);
}

/* ---- naive twins of the new ops ------------------------------------------------------------ */
static void fill(float *x, size_t n, uint64_t seed) {
  for (size_t i = 0; i < n; i++) x[i] = cl_rng_uniform(&seed, -1.0f, 1.0f);
}

/* pad / crop: kernel on row windows (3 slices with their in_rows) vs the naive formula. */
static void check_pad(int pt, int pl, int pb, int pr) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_graph_create("pad", &g));
  const cl_shape s = {1, 2, 7, 6};
  int x = cl_graph_add_input(g, "input", s);
  cl_op_params p;
  memset(&p, 0, sizeof p);
  p.pad = (cl_pad_params){pt, pl, pb, pr};
  int y = cl_graph_add(g, CL_OP_PAD, "pad", &x, 1, &p);
  CL_CHECK(y == 1);
  if (y != 1) {
    cl_graph_destroy(g);
    return;
  }
  const cl_node *nd = cl_graph_node(g, y);
  const cl_shape os = nd->out;
  CL_CHECK_INT_EQ(os.h, s.h + pt + pb);
  CL_CHECK_INT_EQ(os.w, s.w + pl + pr);
  float in[84], out[400], ref[400];
  fill(in, 84, 5);
  for (int c = 0; c < os.c; c++) /* naive: out(y, x) = in(y - pt, x - pl) or 0 */
    for (int yy = 0; yy < os.h; yy++)
      for (int xx = 0; xx < os.w; xx++) {
        int iy = yy - pt, ix = xx - pl;
        ref[(c * os.h + yy) * os.w + xx] =
            (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w) ? in[(c * s.h + iy) * s.w + ix] : 0.0f;
      }
  const cl_op_impl *impl = cl_op_get(CL_OP_PAD);
  cl_op_ctx ctx = {NULL, 0, 1};
  int cuts[4] = {0, os.h / 3, 2 * os.h / 3, os.h};
  memset(out, 0x7f, sizeof out);
  for (int k = 0; k < 3; k++) { /* each slice from only the input rows in_rows() asks for */
    int iy0, iy1;
    impl->in_rows(nd, s.h, cuts[k], cuts[k + 1], &iy0, &iy1);
    float win[84] = {0};
    cl_tensor ti = {win, s, iy0, iy1 - iy0};
    for (int c = 0; c < s.c; c++)
      for (int r = iy0; r < iy1; r++) memcpy(cl_tensor_at(&ti, 0, c, r, 0), in + (c * s.h + r) * s.w, sizeof(float) * (size_t)s.w);
    float slice[400];
    cl_tensor to = {slice, os, cuts[k], cuts[k + 1] - cuts[k]};
    const cl_tensor *ins[1] = {&ti};
    CL_CHECK_OK(impl->run(nd, ins, 1, &to, cuts[k], cuts[k + 1], &ctx));
    for (int c = 0; c < os.c; c++)
      for (int r = cuts[k]; r < cuts[k + 1]; r++)
        memcpy(out + (c * os.h + r) * os.w, cl_tensor_at(&to, 0, c, r, 0), sizeof(float) * (size_t)os.w);
  }
  int bad = 0;
  for (int i = 0; i < cl_shape_numel(os); i++) bad += out[i] != ref[i];
  CL_CHECK_INT_EQ(bad, 0);
  cl_graph_destroy(g);
}

/* scaled add and BN(scale=False) through the executor against their formulas. */
static void check_scaled_add_and_bn(void) {
  for (int b = 0; b < 2; b++) {
    cl_graph *g = NULL;
    CL_CHECK_OK(cl_graph_create("sadd", &g));
    const cl_shape s = {1, 16, 5, 4};
    int x = cl_graph_add_input(g, "input", s);
    cl_op_params p;
    memset(&p, 0, sizeof p);
    p.bn.eps = 1e-3f;
    p.bn.no_scale = 1;
    int n1 = cl_graph_add(g, CL_OP_BATCHNORM, "bn", &x, 1, &p);
    memset(&p, 0, sizeof p);
    p.pad = (cl_pad_params){1, 0, -1, 0}; /* shift down one row: a pad and a crop */
    n1 = cl_graph_add(g, CL_OP_PAD, "shift", &n1, 1, &p);
    CL_CHECK_INT_EQ(cl_graph_node(g, 1)->n_params, 16); /* beta only */
    memset(&p, 0, sizeof p);
    p.eltwise.scale = 0.17f;
    int ins[2] = {x, n1};
    int y = cl_graph_add(g, CL_OP_ADD, "sum", ins, 2, &p);
    CL_CHECK_INT_EQ(y, 3);
    CL_CHECK_OK(cl_graph_init_weights(g, 3));
    cl_exec_opts o = cl_exec_opts_default();
    o.backend = b ? CL_BACKEND_DNNL : CL_BACKEND_PORTABLE;
    if (!cl_backend_available(o.backend)) {
      cl_graph_destroy(g);
      continue;
    }
    cl_exec *e = NULL;
    CL_CHECK_OK(cl_exec_create(g, &o, &e));
    if (e) {
      cl_exec_fill_input(e, 9);
      const float *xi = cl_exec_buffer(e, 0);
      float xin[320];
      memcpy(xin, xi, sizeof xin);
      CL_CHECK_OK(cl_exec_run(e));
      if (b) { /* oneDNN has no pad and no scaled sum: both run the portable kernel */
        int fb = -1, ref = -1;
        cl_exec_dnnl_stats(e, &fb, &ref);
        CL_CHECK_INT_EQ(fb, 2);
      }
      const float *out = cl_exec_buffer(e, y);
      const float *w = cl_graph_node(g, 1)->weights; /* gamma, beta, mean, var */
      double maxd = 0;
      for (int c = 0; c < 16; c++) {
        CL_CHECK(w[c] == 1.0f); /* gamma fixed at 1 */
        for (int i = 0; i < 20; i++) {
          double v = xin[c * 20 + i], u = i >= 4 ? xin[c * 20 + i - 4] : 0.0; /* row above (w = 4) */
          double bn = i >= 4 ? (u - w[32 + c]) / sqrt((double)w[48 + c] + 1e-3) + w[16 + c] : 0.0;
          double d = fabs(out[c * 20 + i] - (v + 0.17 * bn));
          if (d > maxd) maxd = d;
        }
      }
      CL_CHECK_NEAR(maxd, 0.0, 1e-5);
    }
    cl_exec_destroy(e);
    cl_graph_destroy(g);
  }
}

/* ---- execution: both backends, whole and split at a middle Scission block boundary ------- */
/* The logits (the fc before the final softmax, which saturates with random weights):
 * run in parts [0, cut], (cut, n-2], [n-1] (cut < 0: [0, n-2], [n-1]); each part's one
 * external input is the previous part's last node, copied over as a receiver would. */
static float *run(const cl_graph *g, cl_backend be, int cut) {
  const int n = cl_graph_size(g), logits = n - 2;
  int ends[3], np = 0;
  if (cut >= 0) ends[np++] = cut;
  ends[np++] = logits;
  ends[np++] = n - 1;
  uint8_t *mask = malloc((size_t)n);
  const size_t len = (size_t)cl_shape_numel(cl_graph_node(g, logits)->out);
  float *res = malloc(sizeof(float) * len);
  cl_exec *e[3] = {NULL, NULL, NULL};
  int ok = mask && res;
  for (int part = 0; part < np && ok; part++) {
    for (int i = 0; i < n; i++) mask[i] = i <= ends[part] && (part == 0 || i > ends[part - 1]);
    cl_exec_opts o = cl_exec_opts_default();
    o.backend = be;
    o.run_mask = mask;
    ok = cl_exec_create(g, &o, &e[part]) == CL_OK;
    if (ok && part == 0) cl_exec_fill_input(e[0], 11);
    if (ok && part > 0) {
      int src = ends[part - 1];
      const float *from = cl_exec_buffer(e[part - 1], src);
      float *to = cl_exec_buffer(e[part], src);
      ok = from && to;
      if (ok) memcpy(to, from, sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, src)->out));
    }
    ok = ok && cl_exec_run(e[part]) == CL_OK;
  }
  const float *y = ok ? cl_exec_buffer(e[np - 2], logits) : NULL;
  CL_CHECK(y != NULL);
  if (y) memcpy(res, y, sizeof(float) * len);
  if (ok) { /* the softmax part ran too: probabilities sum to 1 */
    const float *pr = cl_exec_buffer(e[np - 1], n - 1);
    double sum = 0;
    for (size_t i = 0; pr && i < len; i++) sum += pr[i];
    CL_CHECK_NEAR(sum, 1.0, 1e-3);
  }
  if (!y) {
    free(res);
    res = NULL;
  }
  for (int i = 0; i < 3; i++) cl_exec_destroy(e[i]);
  free(mask);
  return res;
}

static void check_execution(const char *model) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build(model, &g));
  if (!g) return;
  CL_CHECK_OK(cl_graph_init_weights(g, 42));
  cl_zoo_block *bl = NULL;
  int nb = 0;
  CL_CHECK_OK(cl_zoo_scission_blocks(g, &bl, &nb));
  int cut = bl && nb > 2 ? bl[(nb - 1) / 2].last_node : -1;
  free(bl);
  CL_CHECK(cut > 0);
  const int64_t numel = cl_shape_numel(cl_graph_node(g, cl_graph_size(g) - 2)->out);
  float *ref = run(g, CL_BACKEND_PORTABLE, -1);
  double maxabs = 0;
  for (int64_t i = 0; ref && i < numel; i++)
    if (fabs(ref[i]) > maxabs) maxabs = fabs(ref[i]);
  CL_CHECK(maxabs > 0); /* a dead network would pass any comparison */
  const cl_backend be[2] = {CL_BACKEND_PORTABLE, CL_BACKEND_DNNL};
  double worst = 0;
  for (int b = 0; b < 2 && ref; b++) {
    if (!cl_backend_available(be[b])) continue;
    for (int split = 0; split < 2; split++) {
      if (b == 0 && !split) continue; /* that is the reference */
      float *y = run(g, be[b], split ? cut : -1);
      double d = 0;
      for (int64_t i = 0; y && i < numel; i++) {
        CL_CHECK(isfinite(y[i]));
        if (fabs(y[i] - ref[i]) > d) d = fabs(y[i] - ref[i]);
      }
      d /= 1.0 + maxabs; /* relative to the logits' scale */
      if (d > worst) worst = d;
      CL_CHECK_NEAR(d, 0.0, 1e-5);
      free(y);
    }
  }
  printf("%-26s cut after node %d (%s): max |diff| / (1 + max |logit| = %.3g) = %.3g, both backends, "
         "whole and split\n", model, cut, cut >= 0 ? cl_graph_node(g, cut)->name : "-", 1.0 + maxabs, worst);
  free(ref);
  cl_graph_destroy(g);
}

int main(int argc, char **argv) {
  if (argc > 1) { /* the slow test: execution of the given models only */
    for (int i = 1; i < argc; i++) check_execution(argv[i]);
    return cl_test_finish("test_zoo_keras (execution)");
  }
  srow *rows = NULL;
  int n_rows = read_csv(&rows);
  CL_CHECK_INT_EQ(n_rows, 546);
  for (int i = 0; i < 18; i++) check_model(g_keras[i].scission, g_keras[i].params, rows, n_rows);
  free(rows);
  check_names();
  check_pad(1, 1, 1, 1);
  check_pad(0, 0, 1, 1);
  check_pad(3, 2, 0, 1);
  check_pad(-1, -1, 0, 0);
  check_pad(2, -1, -2, 1);
  check_scaled_add_and_bn();
  /* one model per builder family runs here; tests/zoo.cmake runs the rest (slow) */
  static const char *const fast[] = {"keras/mobilenet", "keras/nasnetmobile", "keras/densenet121"};
  for (int i = 0; i < 3; i++) check_execution(fast[i]);
  return cl_test_finish("test_zoo_keras");
}
