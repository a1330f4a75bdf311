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
  cl_status st = CL_OK;
  if (gc && gc->g && !strcmp(gc->model, su.model) && gc->seed == su.seed) {
    g = gc->g; /* weights of this model and seed are already initialised */
  } else {
    int has_weights = 0; /* ONNX files bring their own */
    st = cl_model_load(su.model, &g, &has_weights);
    if (st == CL_OK && !has_weights) st = cl_graph_init_weights(g, su.seed);
    if (st == CL_OK && gc) {
      cl_graph_destroy(gc->g);
      gc->g = g;
      gc->seed = su.seed;
      snprintf(gc->model, sizeof gc->model, "%s", su.model);
    }
  }
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
    o.threads = su.nodes[nd].threads > 0 ? su.nodes[nd].threads : 1;
    if ((st = cl_exec_create(g, &o, &ex[nd])) != CL_OK) break;
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
      st = cl_timeline_set_duration(tl, tasks.comp_task[(size_t)i * tasks.steps_total + fs], cpu * tasks.step_slowdown[nd][k]);
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
    for (int nd = 0; nd < N; nd++) cl_exec_destroy(ex[nd]);
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
