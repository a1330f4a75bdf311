/* cleave profile: per-layer and per-block timing of a model, written to HDF5. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/profiler.h"
#include "cleave/provenance.h"
#include "cleave/store.h"
#include "cleave/onnx.h"
#include "cleave/zoo.h"
#include "cli.h"
#include "commands.h"

static void help(void) {
  printf(
      "usage: cleave profile MODEL|FILE.onnx -o FILE.h5 [--reps N] [--warmup N] [--threads N]\n"
      "                      [--backend B] [--slowdown F] [--seed S] [--no-fuse] [--force]\n"
      "                      [--blocks cuts|scission]\n"
      "  Times every layer (executor step: a conv with its folded BN and activation is\n"
      "  one step) and every valid cut block of MODEL on this host, records every\n"
      "  repetition in /profile/samples and GSL summaries (mean, median, std, p5/p95,\n"
      "  95%% CI of the median) in /profile/layers and /profile/blocks.\n"
      "  -o, --output FILE  HDF5 file to create (refuses to overwrite without --force)\n"
      "  --reps N           timed repetitions (default 10)\n"
      "  --warmup N         untimed inferences first (default 2)\n"
      "  --threads N        kernel threads (default 1)\n"
      "  --backend B        dnnl, portable or auto (default; see cleave infer --help);\n"
      "                     recorded in /profile as backend and backend_version\n"
      "  --slowdown F       multiply all times by F (emulate a slower node; default 1)\n"
      "  --seed S           weights/input seed (default 1)\n"
      "  --no-fuse          profile BN and activations as separate layers\n"
      "  --blocks K         /profile/blocks rows: 'cuts' (default) one block per valid\n"
      "                     single-tensor cut; 'scission' Scission's blocks of a Keras model\n"
      "                     (keras/<name>): same order and count as Scission's benchmark files,\n"
      "                     row by row (implies --no-fuse: a block may end inside a fused step)\n"
      "  An ONNX file is recorded by its absolute path (/profile model, used by cleave plan\n"
      "  to rebuild the DAG and by --emit-config) with its size and SHA-256 in /provenance.\n");
}

/* Regroup the profiled steps into Scission's blocks (cl_zoo_scission_blocks). Steps are
 * unfused, so each step lies inside one block; returns 0, or 2 after a one-line error. */
static int scission_blocks(const char *model, const cl_graph *g, cl_profile_result *r) {
  cl_zoo_block *bl = NULL;
  int nb = 0;
  const cl_zoo_entry *z = cl_zoo_find(model);
  if (!z || !z->scission || cl_zoo_scission_blocks(g, &bl, &nb) != CL_OK) {
    fprintf(stderr, "cleave: error: profile: --blocks scission needs a Keras model (keras/<name>, see cleave "
            "models --scission)\n");
    return 2;
  }
  int b = 0, ok = nb <= r->n_steps;
  for (int i = 0; ok && i < nb; i++) r->block_first[i] = -1;
  for (int k = 0; k < r->n_steps && ok; k++) {
    const int node = r->steps[k].out_node;
    while (b < nb && node > bl[b].last_node) b++;
    ok = b < nb && node >= bl[b].first_node;
    if (!ok) break;
    if (k == 0 || r->step_block[k - 1] != b) r->block_first[b] = k;
    r->block_last[b] = k;
    r->step_block[k] = b;
  }
  for (int i = 0; ok && i < nb; i++) /* every block got steps, in order */
    ok = r->block_first[i] >= 0 && (i == 0 || r->block_first[i] == r->block_last[i - 1] + 1);
  free(bl);
  if (!ok) {
    fprintf(stderr, "cleave: error: profile: the executor's steps do not follow Scission's blocks\n");
    return 1;
  }
  r->n_blocks = nb;
  return 0;
}

int cl__cmd_profile(int argc, char **argv) {
  const char *model = NULL, *path = NULL;
  long reps = 10, warmup = 2, threads = 1;
  double slowdown = 1.0;
  uint64_t seed = 1;
  int fuse = 1, force = 0, backend = CL_BACKEND_AUTO, scission = 0;
  for (int i = 1; i < argc; i++) {
    int missing = 0;
    const char *v;
    if (cl__help_asked(argv[i], help)) return 0;
    if ((v = cl__opt(argc, argv, &i, "--reps", &missing))) {
      if (cl__parse_int("profile", "--reps", v, 1, 1000000, &reps)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--warmup", &missing))) {
      if (cl__parse_int("profile", "--warmup", v, 0, 1000000, &warmup)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--threads", &missing))) {
      if (cl__parse_int("profile", "--threads", v, 1, 256, &threads)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--backend", &missing))) {
      if (cl__parse_backend("profile", v, &backend)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--slowdown", &missing))) {
      if (cl__parse_double("profile", "--slowdown", v, 1e-6, 1e6, &slowdown)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "--seed", &missing))) {
      if (cl__parse_u64("profile", "--seed", v, &seed)) return 2;
    } else if ((v = cl__opt(argc, argv, &i, "-o", &missing)) || (v = cl__opt(argc, argv, &i, "--output", &missing))) {
      path = v;
    } else if ((v = cl__opt(argc, argv, &i, "--blocks", &missing))) {
      if (strcmp(v, "cuts") && strcmp(v, "scission")) {
        fprintf(stderr, "cleave: error: profile: --blocks expects 'cuts' or 'scission', got '%s'\n", v);
        return 2;
      }
      scission = !strcmp(v, "scission");
    } else if (!strcmp(argv[i], "--no-fuse")) {
      fuse = 0;
    } else if (!strcmp(argv[i], "--force")) {
      force = 1;
    } else if (cl__arg_rest("profile", "model", argv[i], missing, &model)) {
      return 2;
    }
  }
  if (!model) {
    return cl__cmd_error(2, "profile", "no model given (see cleave models)");
  }
  if (!path) {
    return cl__cmd_error(2, "profile", "no output file given (-o FILE.h5)");
  }
  /* An ONNX file is named by its absolute path everywhere the profile records it: plans
   * made from the profile in any directory then find the file (docs/onnx.md). */
  char abs_model[4096];
  if (cl_onnx_is_path(model)) {
    char cwd[4096];
    if (model[0] == '/') snprintf(abs_model, sizeof abs_model, "%s", model);
    else if (!getcwd(cwd, sizeof cwd) || snprintf(abs_model, sizeof abs_model, "%s/%s", cwd, model) >= (int)sizeof abs_model) {
      return cl__cmd_error(2, "profile", "cannot make '%s' an absolute path", model);
    }
    if (strlen(abs_model) > 127) { /* cl_profile_h5_info.model: the planners' limit */
      return cl__cmd_error(2, "profile", "the absolute path of '%s' (%s) is longer than 127 characters; "
              "move the file to a shorter path", model, abs_model);
    }
    model = abs_model;
  }
  cl_graph *g = NULL;
  int has_weights = 0;
  cl_status st = cl_model_load(model, &g, &has_weights); /* zoo name or .onnx path */
  if (st != CL_OK) return st == CL_ERR_NOMEM || st == CL_ERR_INTERNAL ? 1 : 2;
  cl_store_opts so;
  memset(&so, 0, sizeof so);
  so.force = force;
  so.atomic = 1; /* written as FILE.part, renamed on success */
  so.kind = "profile";
  cl_store *store = NULL;
  cl_profile_result *r = NULL;
  int rc = 1;
  st = cl_store_create(path, &so, &store);
  if (st != CL_OK) {
    rc = (st == CL_ERR_EXISTS || st == CL_ERR_IO) ? 2 : 1;
    goto done;
  }
  cl_provenance prov;
  memset(&prov, 0, sizeof prov);
  prov.argc = cl__argc;
  prov.argv = cl__argv;
  prov.has_seed = 1;
  prov.seed = seed;
  if (cl_store_write_provenance(store, &prov) != CL_OK) goto done;
  if (has_weights && cl_store_write_model_provenance(store, model) != CL_OK) goto done;
  if (!has_weights && cl_graph_init_weights(g, seed) != CL_OK) goto done;
  cl_profiler_opts o = cl_profiler_opts_default();
  o.reps = (int)reps;
  o.warmup = (int)warmup;
  o.threads = (int)threads;
  o.backend = (cl_backend)backend;
  o.fuse = fuse && !scission;
  o.slowdown = slowdown;
  o.seed = seed;
  if (cl_profiler_measure(g, &o, &r) != CL_OK) goto done;
  if (scission && (rc = scission_blocks(model, g, r)) != 0) goto done;
  rc = 1;
  if (cl_profiler_write(store, model, g, &o, r) != CL_OK) goto done;
  double total = 0;
  for (int k = 0; k < r->n_steps; k++) {
    double s[4096];
    int n = r->reps < 4096 ? r->reps : 4096;
    for (int i = 0; i < n; i++) s[i] = r->wall[(size_t)i * r->n_steps + k];
    total += cl__median(s, n);
  }
  printf("model: %s\nlayers: %d\nblocks: %d\nreps: %d\nthreads: %ld\n", model, r->n_steps, r->n_blocks, r->reps,
         threads);
  printf("records: %lld\n", (long long)r->n_steps * r->reps);
  printf("total_ms_median_sum: %.3f\ngflops: %.1f\noutput: %s\n", total * 1e3, r->gflops, cl_store_path(store));
  rc = 0;
done:
  if (store && (rc == 0 ? cl_store_close(store) : cl_store_discard(store)) != CL_OK) rc = 1;
  cl_profile_result_free(r);
  cl_graph_destroy(g);
  return rc;
}
