/* Testbed configs -> cl_rt_setup: what the runtime executes. */
#include <cblas.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleave/onnx.h"
#include "cleave/testbed.h"
#include "cleave/runtime.h"
#include "cleave/zoo.h"


static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double cl_rt_host_gflops(void) {
  enum { N = 512 };
  float *a = malloc(sizeof(float) * N * N), *b = malloc(sizeof(float) * N * N), *c = malloc(sizeof(float) * N * N);
  if (!a || !b || !c) {
    free(a);
    free(b);
    free(c);
    return 0;
  }
  for (int i = 0; i < N * N; i++) {
    a[i] = (float)(i % 7) * 0.1f;
    b[i] = (float)(i % 5) * 0.1f;
  }
  double best[5];
  for (int r = 0; r < 5; r++) {
    double t0 = now_s();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
    best[r] = now_s() - t0;
  }
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++)
      if (best[j] < best[i]) {
        double t = best[i];
        best[i] = best[j];
        best[j] = t;
      }
  free(a);
  free(b);
  free(c);
  return 2.0 * N * N * (double)N / best[2] / 1e9;
}

/* The testbed schema lives in runtime/testbed*.c (cl_testbed, docs/config.md); this
 * turns a parsed testbed into what the runtime executes: resolved slowdowns, a link
 * model, a plan resolved against the model's graph. */
static cl_status setup_from_testbed(const cl_testbed *tb, cl_rt_setup *su) {
  const char *src = tb->source ? tb->source : "config";
  /* An ONNX path (already relative to the config file) is made absolute: the resolved
   * config stored in outputs and the records then name the file from any directory. */
  char cwd[4096] = "";
  if (tb->model_is_onnx && tb->model[0] != '/' && !getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
  size_t lc = strlen(cwd), lm = strlen(tb->model), need = (lc ? lc + 1 : 0) + lm;
  if (need >= sizeof su->model) {
    cl_log_error("%s: model path '%s%s%s' is longer than %zu characters", src, cwd, lc ? "/" : "", tb->model,
                 sizeof su->model - 1);
    return CL_ERR_CONFIG;
  }
  if (lc) {
    memcpy(su->model, cwd, lc);
    su->model[lc] = '/';
  }
  memcpy(su->model + (lc ? lc + 1 : 0), tb->model, lm + 1);
  if (!tb->model_is_onnx && !cl_zoo_find(tb->model)) {
    cl_log_error("%s: unknown model '%s' (a zoo name, see `cleave models`, or an ONNX file ending in .onnx)",
                 src, tb->model);
    return CL_ERR_CONFIG;
  }
  int users_only = tb->plan.kind == CL_TB_PLAN_NONE && tb->n_users > 0; /* every user has its own plan */
  if (tb->plan.kind == CL_TB_PLAN_NONE && !users_only) {
    cl_log_error("%s: missing required key 'plan' (which layers run on which node)", src);
    return CL_ERR_CONFIG;
  }
  su->seed = tb->seed;
  su->wall = tb->wall_clock;
  su->model_clock = tb->model_clock;
  su->backend = tb->backend;
  su->inferences = tb->inferences;
  su->arrival = tb->arrival;
  su->n_nodes = tb->n_nodes;
  su->nodes = calloc((size_t)tb->n_nodes, sizeof(cl_rt_node));
  if (!su->nodes) return CL_ERR_NOMEM;
  double host_gflops = 0;
  for (int i = 0; i < tb->n_nodes; i++) {
    const cl_tb_node *t = &tb->nodes[i];
    cl_rt_node *n = &su->nodes[i];
    snprintf(n->name, sizeof n->name, "%s", t->name);
    snprintf(n->tier, sizeof n->tier, "%s", cl_tb_tier_name(t->tier));
    n->speed = t->speed;
    if (t->gflops > 0) {
      if (host_gflops <= 0) host_gflops = cl_rt_host_gflops();
      n->speed = host_gflops / t->gflops;
    }
    n->threads = t->threads;
    n->memory = (double)t->memory;
    n->power = t->power;
    n->cpu_load = t->cpu_load;
    n->mem_pressure = t->mem_pressure;
  }
  /* Link model: runtime/testbed_net.c. Node conditions hold for the whole run. */
  CL_TRY(cl_testbed_netmodel(tb, &su->net));
  cl_status st = CL_OK;
  for (int c = 0; st == CL_OK && c < tb->n_conditions; c++) {
    const cl_tb_condition *cd = &tb->conditions[c];
    if (cd->node < 0) continue;
    if (cd->at > 0) {
      cl_log_error("%s:%d: timed node conditions are not supported by the runtime yet; node conditions hold for "
                   "the whole run (omit 'at')", src, cd->line);
      st = CL_ERR_CONFIG;
      break;
    }
    if (cd->cpu_load >= 0) su->nodes[cd->node].cpu_load = cd->cpu_load;
    if (cd->mem_pressure >= 0) su->nodes[cd->node].mem_pressure = cd->mem_pressure;
  }
  if (st != CL_OK) return st;
  for (int i = 0; i < su->n_nodes; i++)
    su->nodes[i].slowdown = cl_rt_effective_slowdown(su->nodes[i].speed, su->nodes[i].cpu_load, su->nodes[i].mem_pressure);
  /* The plan is resolved against the model's graph: for an ONNX file, its imported node
   * names (docs/onnx.md). Weights are not needed here: an ONNX file is imported
   * structure-only (its weights are skipped on the wire, not parsed and dropped), so a
   * run imports the weights once per rank, in cl_rt_run. */
  cl_graph *g = NULL;
  if ((st = cl_model_load_structure(su->model, &g)) != CL_OK) {
    cl_log_error("%s: cannot load model '%s' (see above)", src, su->model);
    return st == CL_ERR_NOMEM ? st : CL_ERR_CONFIG;
  }
  su->node_of_layer = calloc((size_t)cl_graph_size(g), sizeof(int));
  st = !su->node_of_layer ? CL_ERR_NOMEM : users_only ? CL_OK : cl_testbed_resolve_plan(tb, g, su->node_of_layer);
  if (st == CL_OK && !users_only) st = cl_testbed_plan_routes(g, su->node_of_layer, su->net); /* same route ids on every rank */
  if (st == CL_OK && !users_only) st = cl_rt_setup_devices(tb, g, su); /* per-layer device / host times */
  cl_graph_destroy(g);
  if (st != CL_OK) return st;
  const char *no_model_clock = cl_rt_model_clock_refusal(tb->n_users > 0, su->device_models != NULL);
  if (su->model_clock && no_model_clock) {
    cl_log_error("%s:%d: clock: model charges device nodes their device model's time, but %s", src, tb->clock_line,
                 no_model_clock);
    return CL_ERR_CONFIG;
  }
  cl_testbed resolved = *tb; /* shallow: only the model string differs, nothing is freed */
  resolved.model = su->model;
  st = cl_testbed_to_yaml(&resolved, &su->config_text);
  if (st != CL_OK) return st;
  su->config_path = malloc(strlen(src) + 1);
  if (!su->config_path) return CL_ERR_NOMEM;
  memcpy(su->config_path, src, strlen(src) + 1);
  if (tb->profile) {
    su->profile = malloc(strlen(tb->profile) + 1);
    if (!su->profile) return CL_ERR_NOMEM;
    memcpy(su->profile, tb->profile, strlen(tb->profile) + 1);
  }
  return CL_OK;
}

cl_status cl_rt_setup_load(const char *path, const char *text, cl_rt_setup *su) {
  memset(su, 0, sizeof *su);
  cl_testbed tb;
  memset(&tb, 0, sizeof tb);
  cl_status st = text ? cl_testbed_load_string(path, text, &tb) : cl_testbed_load(path, &tb);
  if (st == CL_OK) st = setup_from_testbed(&tb, su);
  if (st == CL_OK && tb.n_users > 0) { /* kept: cl_rt_run runs every user (runtime/multiuser_run.c) */
    if (!(su->users_tb = malloc(sizeof tb))) st = CL_ERR_NOMEM;
    else *su->users_tb = tb;
  }
  if (!su->users_tb) cl_testbed_free(&tb);
  if (st != CL_OK) {
    cl_rt_setup_free(su);
    return st == CL_ERR_NOMEM || st == CL_ERR_UNSUPPORTED ? st : CL_ERR_CONFIG;
  }
  return CL_OK;
}

const char *cl_rt_model_clock_refusal(int has_users, int has_device_models) {
  if (has_users) return "a testbed with users: has no single plan to charge";
  if (!has_device_models) return "no node of the testbed says device:";
  return NULL;
}
