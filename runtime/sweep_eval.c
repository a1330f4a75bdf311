/* In-process evaluation of one testbed point: the virtual-clock model of cl_rt_run
 * (measured step thread-CPU time x effective slowdown, composed by the timeline) with
 * the partitions run one after another in this process instead of on MPI ranks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/exec.h"
#include "cleave/onnx.h"
#include "cleave/profiler.h"
#include "cleave/sweep.h"
#include "cleave/wallclock.h"
#include "sweep_internal.h"
#include "cleave/vec.h"

void cl_sweep_tb_result_free(cl_sweep_tb_result *r) {
  if (!r) return;
  free(r->latency); /* the block that holds every per-inference column */
  free(r->layers);
  memset(r, 0, sizeof *r);
}

/* A flat step and its place in graph order (the order a single process must run them). */
typedef struct order_item {
  int first_node, nd, k;
} order_item;

static int cmp_item(const void *a, const void *b) {
  const order_item *x = a, *y = b;
  return x->first_node != y->first_node ? (x->first_node < y->first_node ? -1 : 1) : (x->nd - y->nd);
}

cl_status cl_sweep_eval_testbed(const char *origin, const char *text, cl_sweep_poll_fn poll, void *poll_ctx,
                                cl_sweep_tb_result *res) {
  return cl__sweep_eval_testbed_cached(origin, text, NULL, poll, poll_ctx, res);
}

void cl__sweep_gcache_free(cl__sweep_gcache *gc) {
  if (!gc) return;
  cl__exec_cache_destroy(gc->ex); /* executors borrow the graph: first */
  cl_graph_destroy(gc->g);
  free(gc->prof_path);
  free(gc->prof_t);
  free(gc);
}

/* The graph of su's model: gc's when it holds this model and seed, else loaded (and kept
 * in gc, whose executors and profile times of the old graph are dropped). Weights are
 * initialised when @p weights asks (execute mode); profile mode needs only the structure. */
static cl_status point_graph(cl__sweep_gcache *gc, const cl_rt_setup *su, int weights, cl_graph **out) {
  cl_graph *g = NULL;
  cl_status st = CL_OK;
  if (gc && gc->g && !strcmp(gc->model, su->model) && gc->seed == su->seed) {
    g = gc->g;
  } else {
    int has_weights = 0; /* ONNX files bring their own */
    st = weights ? cl_model_load(su->model, &g, &has_weights) : cl_model_load_structure(su->model, &g);
    if (st == CL_OK && gc) {
      cl__exec_cache_drop_graph(gc->ex, gc->g);
      cl_graph_destroy(gc->g);
      free(gc->prof_path);
      free(gc->prof_t);
      gc->prof_path = NULL;
      gc->prof_t = NULL;
      gc->g = g;
      gc->seed = su->seed;
      gc->weights = has_weights;
      snprintf(gc->model, sizeof gc->model, "%s", su->model);
    } else if (st == CL_OK && has_weights) {
      weights = 0;
    }
  }
  if (st == CL_OK && weights && !(gc && gc->weights)) {
    st = cl_graph_init_weights(g, su->seed); /* seeded per layer name, as cleave run does */
    if (st == CL_OK && gc) gc->weights = 1;
  }
  if (st != CL_OK && !(gc && gc->g == g)) cl_graph_destroy(g);
  if (st == CL_OK) *out = g;
  return st;
}

/* Profile mode: per-graph-node host seconds of su->profile (read once per file into gc)
 * composed by cl_rt_simulate, i.e. every step costs its profiled median x the step's
 * slowdown, as `cleave run --profile` and `cleave sim` charge it. */
static cl_status profile_point(cl__sweep_gcache *gc, const cl_rt_setup *su, const cl_graph *g, cl_rt_tasks *tasks,
                               cl_timeline **tl) {
  double *t = gc && gc->prof_path && !strcmp(gc->prof_path, su->profile) ? gc->prof_t : NULL;
  cl_status st = CL_OK;
  if (!t) {
    t = malloc(sizeof(double) * (size_t)cl_graph_size(g));
    if (!t) return CL_ERR_NOMEM;
    st = cl_rt_node_times_for_setup(su->profile, su, g, t);
    if (st == CL_OK && gc) {
      char *p = cl__sdup(su->profile);
      if (p) {
        free(gc->prof_path);
        free(gc->prof_t);
        gc->prof_path = p;
        gc->prof_t = t;
      }
    }
  }
  if (st == CL_OK) st = cl_rt_simulate(g, su, t, tasks, tl);
  if (!gc || gc->prof_t != t) free(t);
  return st;
}

cl_status cl__sweep_eval_testbed_cached(const char *origin, const char *text, cl__sweep_gcache *gc,
                                        cl_sweep_poll_fn poll, void *poll_ctx, cl_sweep_tb_result *res) {
  memset(res, 0, sizeof *res);
  cl_rt_setup su;
  CL_TRY(cl_rt_setup_load(origin, text, &su));
  cl_graph *g = NULL;
  cl_rt_tasks tasks;
  memset(&tasks, 0, sizeof tasks);
  cl_timeline *tl = NULL;
  cl_exec **ex = NULL;
  uint8_t *mask = NULL;
  order_item *order = NULL;
  int n = 0, N = su.n_nodes, I = 0;
  cl__exec_cache *cache = NULL; /* NULL: executors made and destroyed here */
  cl_status st = point_graph(gc, &su, !su.profile, &g);
  if (st != CL_OK) g = NULL;
  if (st == CL_OK && su.profile) {
    st = profile_point(gc, &su, g, &tasks, &tl);
    I = tasks.inferences > 0 ? tasks.inferences : su.inferences;
    goto results;
  }
  if (st == CL_OK && gc && !gc->ex) st = cl__exec_cache_create(cl__exec_cache_default_bytes(), &gc->ex);
  if (gc) cache = gc->ex;
  if (st == CL_OK) st = cl_rt_build(g, &su, &tasks, &tl);
  if (st != CL_OK) goto done;
  n = cl_graph_size(g);
  I = tasks.inferences > 0 ? tasks.inferences : su.inferences;
  ex = calloc((size_t)N, sizeof *ex);
  mask = malloc((size_t)n);
  order = malloc(sizeof *order * (size_t)(tasks.steps_total + 1));
  if (!ex || !mask || !order) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  int m = 0;
  for (int nd = 0; nd < N && st == CL_OK; nd++) {
    int any = 0;
    for (int i = 0; i < n; i++) any |= (mask[i] = su.node_of_layer[i] == nd);
    if (!any) continue;
    cl_exec_opts o = cl_exec_opts_default();
    o.run_mask = mask;
    o.backend = (cl_backend)su.backend;
    o.threads = su.nodes[nd].threads > 0 ? su.nodes[nd].threads : 1;
    o.row_split = CL_ROWS_OFF; /* timed step by step: whole-layer primitives (rows mode splits only whole runs) */
    o.preact = CL_PREACT_OFF;   /* and a batch norm keeps its own step time (not fused into its 1x1) */
    st = cache ? cl__exec_cache_get(cache, g, &o, &ex[nd]) : cl_exec_create(g, &o, &ex[nd]);
    if (st != CL_OK) break;
    if (cl_exec_step_count(ex[nd]) != tasks.n_steps[nd]) {
      cl_log_error("sweep: node '%s' has %d executor steps but %d timeline steps", su.nodes[nd].name,
                   cl_exec_step_count(ex[nd]), tasks.n_steps[nd]);
      st = CL_ERR_INTERNAL;
      break;
    }
    if (su.node_of_layer[0] == nd) cl_exec_fill_input(ex[nd], su.seed);
    for (int k = 0; k < tasks.n_steps[nd]; k++) {
      CL_ASSERT(cl_exec_step_get(ex[nd], k)->node == tasks.step_node[nd][k]);
      order[m++] = (order_item){tasks.step_node[nd][k], nd, k};
    }
  }
  if (st != CL_OK) goto done;
  qsort(order, (size_t)m, sizeof *order, cmp_item);
  for (int i = 0; i < I && st == CL_OK; i++) {
    /* tensors produced by no step (the graph input) cross before anything runs */
    for (int j = 0; j < tasks.n_xfer; j++)
      if (tasks.node_step[tasks.xfer_node[j]] < 0) {
        float *src = cl_exec_buffer(ex[tasks.xfer_src[j]], tasks.xfer_node[j]);
        float *dst = cl_exec_buffer(ex[tasks.xfer_dst[j]], tasks.xfer_node[j]);
        if (src && dst) memcpy(dst, src, (size_t)tasks.xfer_bytes[j]);
      }
    for (int q = 0; q < m && st == CL_OK; q++) {
      int nd = order[q].nd, k = order[q].k, fs = tasks.step_off[nd] + k;
      double c0 = cl_thread_cpu_now();
      st = cl_exec_run_step(ex[nd], k);
      double cpu = cl_thread_cpu_now() - c0;
      if (st != CL_OK) break;
      st = cl_timeline_set_duration(tl, tasks.comp_task[(size_t)i * tasks.steps_total + fs], cl_rt_step_charge(&tasks, nd, k, cpu));
      /* real tensors cross the cut (so later steps see the values a real run would) */
      for (int j = 0; j < tasks.n_xfer; j++)
        if (tasks.xfer_src[j] == nd && tasks.node_step[tasks.xfer_node[j]] == fs) {
          float *src = cl_exec_buffer(ex[nd], tasks.xfer_node[j]);
          float *dst = cl_exec_buffer(ex[tasks.xfer_dst[j]], tasks.xfer_node[j]);
          if (src && dst) memcpy(dst, src, (size_t)tasks.xfer_bytes[j]);
        }
      if (poll) poll(poll_ctx);
    }
  }
  if (st == CL_OK) st = cl_timeline_run(tl);
results:
  if (st != CL_OK) goto done;
  res->inferences = I;
  size_t ni = (size_t)I;
  const cl_block_part cols[] = {CL_BLOCK_PART(res->latency, ni), CL_BLOCK_PART(res->release, ni),
                                CL_BLOCK_PART(res->finish, ni), CL_BLOCK_PART(res->inf_energy, ni),
                                CL_BLOCK_PART(res->inf_bytes, ni)};
  if ((st = cl_block_alloc(cols, 5)) != CL_OK) goto done;
  double *tmp = malloc(sizeof(double) * ni);
  if (!tmp) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  double sum = 0;
  for (int i = 0; i < I && st == CL_OK; i++) {
    cl_inference_result ir;
    st = cl_timeline_inference(tl, i, &ir);
    res->latency[i] = tmp[i] = ir.latency;
    res->release[i] = ir.release;
    res->finish[i] = ir.finish;
    res->inf_energy[i] = ir.energy;
    res->inf_bytes[i] = ir.bytes;
    sum += ir.latency;
    if (i == 0 || ir.latency > res->latency_max) res->latency_max = ir.latency;
  }
  res->latency_median = cl_stat_median(tmp, I);
  free(tmp);
  res->latency_mean = sum / I;
  res->makespan = cl_timeline_makespan(tl);
  res->energy = cl_timeline_energy(tl);
  st = cl__sweep_tb_layers(&su, &tasks, tl, res); /* per-layer records (runtime/kind_testbed.c) */
done:
  if (ex)
    for (int nd = 0; nd < N; nd++) {
      if (cache) cl__exec_cache_release(cache, ex[nd]);
      else cl_exec_destroy(ex[nd]);
    }
  free(ex);
  free(mask);
  free(order);
  cl_timeline_destroy(tl);
  cl_rt_tasks_free(&tasks);
  if (!gc || gc->g != g) cl_graph_destroy(g);
  cl_rt_setup_free(&su);
  if (st != CL_OK) cl_sweep_tb_result_free(res);
  return st;
}
