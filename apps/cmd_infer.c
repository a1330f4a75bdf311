/* cleave infer: real inference of a zoo model, timed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/exec.h"
#include "cleave/graph.h"
#include "cleave/onnx.h"
#include "cleave/outfile.h"
#include "cleave/zoo.h"
#include "cli.h"
#include "commands.h"

static void help(void) {
  printf(
      "usage: cleave infer MODEL|--onnx FILE [--threads N] [--backend B] [--reps N] [--warmup N]\n"
      "                          [--seed S] [--no-fuse] [--shape NxCxHxW] [--input FILE]\n"
      "                          [--save-output FILE [--force]]\n"
      "  Runs real inference of MODEL (see `cleave models`) with seeded weights and input,\n"
      "  or of an ONNX model (MODEL ending in .onnx, or --onnx FILE) with its own weights,\n"
      "  and prints key: value lines (latency_ms_median, latency_ms_min, gflops, output_checksum, ...).\n"
      "  --onnx FILE        import FILE (ONNX; see docs/onnx.md) instead of a zoo model\n"
      "  --threads N        BLAS/kernel threads (default 1)\n"
      "  --backend B        kernels: dnnl (oneDNN), portable (cleave's own, im2col + OpenBLAS)\n"
      "                     or auto (default: $CLEAVE_BACKEND, else dnnl when built with oneDNN)\n"
      "  --reps N           timed repetitions (default 10)\n"
      "  --warmup N         untimed warm-up runs (default 2)\n"
      "  --seed S           seed for weights and input (default 1)\n"
      "  --no-fuse          run BN/activations as separate layers\n"
      "  --shape NxCxHxW    input shape of an ONNX model with symbolic dimensions (NxF for a\n"
      "                     2-D input); must agree with the model's static ones. A symbolic\n"
      "                     batch alone needs no --shape: it is 1\n"
      "  --input FILE       raw little-endian float32 NCHW input instead of the seeded one\n"
      "  --save-output FILE write the output tensor as raw little-endian float32\n"
      "  --force            replace an existing --save-output file\n");
}

int cl__cmd_infer(int argc, char **argv) {
  const char *model = NULL, *in_path = NULL, *out_path = NULL;
  long threads = 1, reps = 10, warmup = 2;
  uint64_t seed = 1;
  int fuse = 1, backend = CL_BACKEND_AUTO, force = 0;
  cl_shape shape = {0, 0, 0, 0}; /* --shape: all zero = the model's own */
  for (int i = 1; i < argc; i++) {
    int missing = 0;
    const char *v;
    if (cl__help_asked(argv[i], help)) return 0;
    if ((v = cl__opt(argc, argv, &i, "--threads", &missing))) {
      if (cl__parse_int("infer", "--threads", v, 1, 256, &threads)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--backend", &missing))) {
      if (cl__parse_backend("infer", v, &backend)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--reps", &missing))) {
      if (cl__parse_int("infer", "--reps", v, 1, 1000000, &reps)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--warmup", &missing))) {
      if (cl__parse_int("infer", "--warmup", v, 0, 1000000, &warmup)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--seed", &missing))) {
      if (cl__parse_u64("infer", "--seed", v, &seed)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--onnx", &missing))) {
      if (model) {
        cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "infer: more than one model given ('%s', '%s')", model, v);
        return 2;
      }
      if (!cl_onnx_is_path(v)) {
        cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "infer: --onnx expects a FILE.onnx, got '%s'", v);
        return 2;
      }
      model = v;
    } else if ((v = cl__opt(argc, argv, &i, "--shape", &missing))) {
      if (cl__parse_shape("infer", "--shape", v, &shape)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--input", &missing))) {
      in_path = v;
    } else if ((v = cl__opt(argc, argv, &i, "--save-output", &missing))) {
      out_path = v;
    } else if (!strcmp(argv[i], "--no-fuse")) {
      fuse = 0;
    } else if (!strcmp(argv[i], "--force")) { /* --save-output may replace a file */
      force = 1;
    } else if (cl__arg_rest("infer", "model", argv[i], missing, &model)) {
      return 2;
    }
  }
  if (!model) {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "infer: no model given (see cleave models)");
    return 2;
  }
  /* Fail before the work; the write itself is exclusive too (cl_outfile_write). */
  if (cl__check_output("infer --save-output", out_path)) return 2;
  cl_graph *g = NULL;
  int has_weights = 0; /* ONNX models bring their weights */
  cl_status st;
  if (shape.n && !cl_onnx_is_path(model)) {
    cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "infer: --shape applies to ONNX models; zoo model '%s' has a fixed input",
                 model);
    return 2;
  }
  if (shape.n) { /* ONNX with an explicit input shape */
    cl_onnx_opts oo = cl_onnx_opts_default();
    oo.input = shape;
    st = cl_onnx_load(model, &oo, &g);
    has_weights = 1;
  } else {
    st = cl_model_load(model, &g, &has_weights);
  }
  if (st != CL_OK) return st == CL_ERR_NOMEM || st == CL_ERR_INTERNAL ? 1 : 2; /* bad model name or file */
  int rc = 1;
  cl_exec *e = NULL;
  double *t = NULL;
  if (!has_weights && cl_graph_init_weights(g, seed) != CL_OK) goto done;
  cl_exec_opts o = cl_exec_opts_default();
  o.threads = (int)threads;
  o.fuse = fuse;
  o.backend = (cl_backend)backend;
  if (cl_exec_create(g, &o, &e) != CL_OK) goto done;
  const cl_node *in_node = cl_graph_node(g, 0);
  int64_t in_n = cl_shape_numel(in_node->out);
  if (in_path) {
    cl_status rs = cl_infile_read_f32(in_path, cl_exec_buffer(e, 0), (size_t)in_n);
    if (rs == CL_ERR_IO) {
      cl_cli_error(CL_EXIT_INPUT, in_path, 0, 0, "infer: cannot open the --input file");
      rc = 2;
      goto done;
    }
    if (rs != CL_OK) {
      cl_cli_error(CL_EXIT_INPUT, NULL, 0, 0, "infer: input file '%s' must hold exactly %lld float32 values (%dx%dx%dx%d)",
              in_path, (long long)in_n, in_node->out.n, in_node->out.c, in_node->out.h, in_node->out.w);
      rc = 2;
      goto done;
    }
  } else {
    cl_exec_fill_input(e, seed);
  }
  for (long r = 0; r < warmup; r++)
    if (cl_exec_run(e) != CL_OK) goto done;
  t = malloc(sizeof(double) * (size_t)reps);
  if (!t) goto done;
  for (long r = 0; r < reps; r++) {
    double t0 = cl__now();
    if (cl_exec_run(e) != CL_OK) goto done;
    t[r] = cl__now() - t0;
  }
  double mean = 0, mn = t[0];
  for (long r = 0; r < reps; r++) {
    mean += t[r] / (double)reps;
    if (t[r] < mn) mn = t[r];
  }
  double med = cl__median(t, (int)reps);
  int out_id = cl_graph_output(g);
  const cl_node *on = cl_graph_node(g, out_id);
  int64_t out_n = cl_shape_numel(on->out);
  const float *y = cl_exec_buffer(e, out_id);
  cl_graph_stats gs;
  cl_graph_stats_get(g, &gs);
  printf("model: %s\n", model);
  printf("threads: %ld\n", threads);
  printf("reps: %ld\n", reps);
  printf("fused: %d\n", fuse);
  printf("steps: %d\n", cl_exec_step_count(e));
  printf("params: %lld\n", (long long)gs.params);
  printf("macs: %lld\n", (long long)gs.macs);
  printf("backend: %s\n", cl_backend_name(cl_exec_backend(e)));
  printf("backend_version: %s\n", cl_backend_version(cl_exec_backend(e)));
  printf("memory_mb: %.1f\n", (double)cl_exec_memory_bytes(e) / 1e6);
  int groups = 0, par_groups = 0; /* inter-op parallelism: branch groups, run in parallel */
  cl_exec_parallel_groups(e, &groups, &par_groups);
  printf("branch_groups: %d\nbranch_groups_parallel: %d\n", groups, par_groups);
  printf("row_split_steps: %d\n", cl_exec_row_split_steps(e));
  printf("bn_fused_1x1_steps: %d\n", cl_exec_preact_steps(e));
  printf("dw_fused_1x1_steps: %d\n", cl_exec_dw_steps(e));
  printf("omp_wait_policy: %s\n", getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "spin (libgomp default)");
  if (getenv("CLEAVE_WAIT_PROBE")) printf("omp_wait_probe: %s\n", getenv("CLEAVE_WAIT_PROBE"));
  printf("latency_ms_median: %.3f\n", med * 1e3);
  printf("latency_ms_min: %.3f\n", mn * 1e3);
  printf("latency_ms_mean: %.3f\n", mean * 1e3);
  printf("gflops: %.1f\n", 2.0 * (double)gs.macs / med / 1e9);
  printf("output_shape: %dx%dx%dx%d\n", on->out.n, on->out.c, on->out.h, on->out.w);
  printf("output_checksum: %.9g\n", cl_exec_checksum(y, out_n));
  if (out_path) {
    st = cl_outfile_write(out_path, y, sizeof(float) * (size_t)out_n, force);
    if (st != CL_OK) { /* logged: exists (bad input, 2) or a write failure (1) */
      rc = st == CL_ERR_EXISTS ? 2 : 1;
      goto done;
    }
  }
  rc = 0;
done:
  free(t);
  cl_exec_destroy(e);
  cl_graph_destroy(g);
  return rc;
}
