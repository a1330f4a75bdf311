/* Executor: step list with fused post-ops, folded weights, buffers allocated once. */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#include "cleave/exec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cleave/ops.h"
#include "exec_internal.h"

typedef cl__exec_step step_impl;

cl_exec_opts cl_exec_opts_default(void) {
  cl_exec_opts o;
  memset(&o, 0, sizeof o);
  o.threads = 1;
  o.fuse = 1;
  return o;
}

static int is_act(cl_op op) {
  return op == CL_OP_RELU || op == CL_OP_RELU6 || op == CL_OP_SIGMOID || op == CL_OP_HSWISH;
}

static cl_act act_of(cl_op op) {
  switch (op) {
    case CL_OP_RELU: return CL_ACT_RELU;
    case CL_OP_RELU6: return CL_ACT_RELU6;
    case CL_OP_SIGMOID: return CL_ACT_SIGMOID;
    case CL_OP_HSWISH: return CL_ACT_HSWISH;
    default: return CL_ACT_NONE;
  }
}

/* Memory from the OS, huge-page advised and touched now so that runs never pay
 * first-touch page faults (~12 us per 4 KiB page on the reference VM). */
float *cl__exec_alloc(size_t bytes, size_t *total) {
  if (bytes == 0) bytes = 64;
  bytes = (bytes + 4095) & ~(size_t)4095;
  void *p = NULL;
  size_t align = bytes >= (2u << 20) ? (2u << 20) : 64;
  if (posix_memalign(&p, align, bytes) != 0) return NULL;
  if (bytes >= (2u << 20)) madvise(p, bytes, MADV_HUGEPAGE);
  memset(p, 0, bytes);
  *total += bytes;
  return p;
}

void cl_exec_destroy(cl_exec *e) {
  if (!e) return;
  cl__sched_destroy(e->sched);
  cl__dnnl_destroy(e->dnnl);
  for (int l = 1; l < e->n_lane_ws; l++) free(e->lane_ws[l]);
  free(e->lane_ws);
  free(e->exported);
  for (int i = 0; i < e->n_steps; i++) free(e->steps[i].own_weights);
  if (e->buf)
    for (int i = 0; i < e->n_nodes; i++)
      if (e->buf_owned[i]) free(e->buf[i]);
  free(e->buf);
  free(e->buf_owned);
  free(e->steps);
  free(e->step_nodes);
  free(e->step_of);
  free(e->workspace);
  free(e);
}

/* Fold batch-norm @p bn into a conv/fc copy @p nd (whose weights are in w, bias appended). */
static cl_status fold_bn(cl_node *nd, const cl_node *producer, const cl_node *bn, float **own) {
  int oc = producer->op == CL_OP_CONV ? producer->p.conv.out_c : producer->p.fc.out_features;
  int has_bias = producer->op == CL_OP_CONV ? producer->p.conv.has_bias : producer->p.fc.has_bias;
  size_t per = (producer->n_weights - (has_bias ? (size_t)oc : 0)) / (size_t)oc;
  float *w = malloc(sizeof(float) * (per * (size_t)oc + (size_t)oc));
  if (!w) return CL_ERR_NOMEM;
  for (int o = 0; o < oc; o++) {
    double shift, s = cl_bn_scale_shift(bn->weights, oc, o, bn->p.bn.eps, &shift);
    for (size_t k = 0; k < per; k++) w[(size_t)o * per + k] = (float)(producer->weights[(size_t)o * per + k] * s);
    double b = has_bias ? producer->weights[per * (size_t)oc + (size_t)o] : 0.0;
    w[per * (size_t)oc + (size_t)o] = (float)(b * s + shift); /* (b - mean) s + beta */
  }
  nd->weights = w;
  nd->n_weights = per * (size_t)oc + (size_t)oc;
  if (nd->op == CL_OP_CONV) nd->p.conv.has_bias = 1;
  else nd->p.fc.has_bias = 1;
  *own = w;
  return CL_OK;
}

cl_status cl_exec_create(const cl_graph *g, const cl_exec_opts *opts, cl_exec **out) {
  *out = NULL;
  cl_exec *e = calloc(1, sizeof *e);
  if (!e) return CL_ERR_NOMEM;
  e->g = g;
  e->opts = opts ? *opts : cl_exec_opts_default();
  if (e->opts.threads < 1) e->opts.threads = 1;
  if (!cl_backend_available(e->opts.backend)) {
    cl_log_error("executor: backend '%s' is not available (cleave was built without oneDNN)",
                 cl_backend_name(e->opts.backend));
    free(e);
    return CL_ERR_UNSUPPORTED;
  }
  e->backend = cl_backend_resolve(e->opts.backend);
  int n = e->n_nodes = cl_graph_size(g);
  cl_status st = CL_ERR_NOMEM;
  int *consumers = malloc(sizeof(int) * (size_t)(n ? n : 1));
  int *sole = malloc(sizeof(int) * (size_t)(n ? n : 1)); /* sole consumer id or -1 */
  e->steps = calloc((size_t)(n ? n : 1), sizeof(step_impl));
  e->step_nodes = malloc(sizeof(int) * (size_t)(n ? n : 1));
  e->step_of = malloc(sizeof(int) * (size_t)(n ? n : 1));
  e->buf = calloc((size_t)(n ? n : 1), sizeof(float *));
  e->buf_owned = calloc((size_t)(n ? n : 1), 1);
  e->exported = calloc((size_t)(n ? n : 1), 1);
  uint8_t *done = calloc((size_t)(n ? n : 1), 1);
  if (!consumers || !sole || !e->steps || !e->step_nodes || !e->step_of || !e->buf || !e->buf_owned || !e->exported || !done)
    goto error;
  cl_graph_consumer_counts(g, consumers);
  for (int i = 0; i < n; i++) {
    sole[i] = -1;
    e->step_of[i] = -1;
  }
  for (int i = 0; i < n; i++) {
    const cl_node *nd = cl_graph_node(g, i);
    for (int j = 0; j < nd->n_inputs; j++)
      if (consumers[nd->inputs[j]] == 1) sole[nd->inputs[j]] = i;
  }
#define HERE(i) (!e->opts.run_mask || e->opts.run_mask[i])
  int used = 0;
  for (int i = 0; i < n; i++) {
    if (!HERE(i) || done[i]) continue;
    const cl_node *nd = cl_graph_node(g, i);
    if (nd->n_weights && !nd->weights && !e->opts.plan_only) {
      cl_log_error("executor: node '%s' has no weights (call cl_graph_init_weights first)", nd->name);
      st = CL_ERR_INVALID;
      goto error;
    }
    step_impl *s = &e->steps[e->n_steps];
    s->node = *nd;
    s->pub.node = i;
    s->pub.nodes = NULL;
    int first = used;
    e->step_nodes[used++] = i;
    done[i] = 1;
    snprintf(s->pub.label, sizeof s->pub.label, "%s", nd->name);
    int last = i;
    if (e->opts.fuse) {
      /* Greedy chain: producer -> sole consumer, while the consumer is here and fusable. */
      for (;;) {
        int c = sole[last];
        if (c < 0 || !HERE(c) || done[c]) break;
        const cl_node *cn = cl_graph_node(g, c);
        if (cn->n_inputs != 1) break;
        int fused = 0;
        if (cn->op == CL_OP_BATCHNORM && (s->node.op == CL_OP_CONV || s->node.op == CL_OP_FC) &&
            !s->own_weights && last == i &&
            (s->node.op == CL_OP_CONV ? s->node.p.conv.act : s->node.p.fc.act) == CL_ACT_NONE) {
          if (!e->opts.plan_only) {
            st = fold_bn(&s->node, nd, cn, &s->own_weights);
            if (st != CL_OK) goto error;
          }
          s->node.out = cn->out;
          if (cn->p.bn.act != CL_ACT_NONE) {
            if (s->node.op == CL_OP_CONV) s->node.p.conv.act = cn->p.bn.act;
            else s->node.p.fc.act = cn->p.bn.act;
          }
          fused = 1;
        } else if (is_act(cn->op)) {
          cl_act *slot = NULL;
          if (s->node.op == CL_OP_CONV) slot = &s->node.p.conv.act;
          else if (s->node.op == CL_OP_FC) slot = &s->node.p.fc.act;
          else if (s->node.op == CL_OP_BATCHNORM) slot = &s->node.p.bn.act;
          else if (s->node.op == CL_OP_ADD) slot = &s->node.p.eltwise.act;
          if (slot && *slot == CL_ACT_NONE) {
            *slot = act_of(cn->op);
            fused = 1;
          }
        } else if (cn->op == CL_OP_DROPOUT) {
          fused = 1; /* identity at inference */
        }
        if (!fused) break;
        size_t len = strlen(s->pub.label);
        const char *short_name = strrchr(cn->name, '.');
        snprintf(s->pub.label + len, sizeof s->pub.label - len, "+%s", short_name ? short_name + 1 : cn->name);
        e->step_nodes[used++] = c;
        done[c] = 1;
        last = c;
      }
    }
    if (s->node.op == CL_OP_DROPOUT && last == i) s->skip = 1;
    s->pub.out_node = last;
    s->pub.n_nodes = used - first;
    s->pub.nodes = NULL; /* patched below: step_nodes is final now, but keep offsets */
    s->pub.macs = (int64_t)first; /* temporary: offset into step_nodes */
    e->n_steps++;
  }
  /* Patch node lists and per-step counts; map nodes to steps. */
  for (int k = 0; k < e->n_steps; k++) {
    step_impl *s = &e->steps[k];
    int off = (int)s->pub.macs;
    s->pub.nodes = e->step_nodes + off;
    s->pub.macs = s->pub.flops = s->pub.params = 0;
    for (int j = 0; j < s->pub.n_nodes; j++) {
      const cl_node *nd = cl_graph_node(g, s->pub.nodes[j]);
      s->pub.macs += nd->macs;
      s->pub.flops += nd->flops;
      s->pub.params += nd->n_params;
    }
    const cl_node *on = cl_graph_node(g, s->pub.out_node);
    s->pub.out_bytes = cl_shape_numel(on->out) * (int64_t)sizeof(float);
    e->step_of[s->pub.out_node] = k;
  }
  /* Exported outputs: read by someone outside this executor (a node not in the run
   * mask, or nobody: graph outputs). Identity steps export their input too. */
  for (int i = 0; i < n; i++) {
    if (!HERE(i) || e->step_of[i] < 0) continue;
    if (consumers[i] == 0 || i == cl_graph_output(g)) e->exported[i] = 1;
  }
  for (int i = 0; i < n; i++) {
    if (HERE(i)) continue;
    const cl_node *nd = cl_graph_node(g, i);
    for (int j = 0; j < nd->n_inputs; j++)
      if (HERE(nd->inputs[j])) e->exported[nd->inputs[j]] = 1;
  }
  for (int k = e->n_steps - 1; k >= 0; k--) {
    const step_impl *s = &e->steps[k];
    if (s->skip && e->exported[s->pub.out_node]) e->exported[cl_graph_node(g, s->pub.node)->inputs[0]] = 1;
  }
  if (e->opts.plan_only) goto finish;
  /* Buffers: every step output (DNNL: only exported ones and graph inputs), and every
   * external input of the subset. */
  for (int k = 0; k < e->n_steps; k++) {
    step_impl *s = &e->steps[k];
    int o = s->pub.out_node;
    if (s->skip) continue;
    if (e->backend == CL_BACKEND_DNNL && !e->exported[o] && s->node.op != CL_OP_INPUT) continue;
    e->buf[o] = cl__exec_alloc(sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, o)->out), &e->mem_bytes);
    if (!e->buf[o]) goto error;
    e->buf_owned[o] = 1;
  }
  for (int k = 0; k < e->n_steps; k++) {
    const step_impl *s = &e->steps[k];
    const cl_node *nd = cl_graph_node(g, s->pub.node);
    for (int j = 0; j < nd->n_inputs; j++) {
      int src = nd->inputs[j];
      if (HERE(src) || e->buf[src]) continue;
      e->buf[src] = cl__exec_alloc(sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, src)->out), &e->mem_bytes);
      if (!e->buf[src]) goto error;
      e->buf_owned[src] = 1;
    }
  }
  /* Identity steps alias their input buffer. Steps are in topological order. */
  for (int k = 0; k < e->n_steps; k++) {
    step_impl *s = &e->steps[k];
    if (!s->skip) continue;
    const cl_node *nd = cl_graph_node(g, s->pub.node);
    e->buf[s->pub.out_node] = e->buf[nd->inputs[0]];
  }
  /* Workspace: the largest any step needs for its full output. */
  for (int k = 0; k < e->n_steps; k++) {
    const step_impl *s = &e->steps[k];
    const cl_op_impl *impl = cl_op_get(s->node.op);
    if (!impl->workspace) continue;
    const cl_node *nd = cl_graph_node(g, s->pub.node);
    cl_shape in[64];
    int nin = nd->n_inputs < 64 ? nd->n_inputs : 64;
    for (int j = 0; j < nin; j++) in[j] = cl_graph_node(g, nd->inputs[j])->out;
    size_t ws = impl->workspace(&s->node, in, nin, nd->out.h);
    if (ws > e->workspace_bytes) e->workspace_bytes = ws;
  }
  if (e->workspace_bytes) {
    e->workspace = cl__exec_alloc(e->workspace_bytes, &e->mem_bytes);
    if (!e->workspace) goto error;
  }
  cl_blas_set_threads(e->opts.threads);
  if (e->backend == CL_BACKEND_DNNL && (st = cl__dnnl_create(e)) != CL_OK) goto error;
  if ((st = cl__sched_create(e)) != CL_OK) goto error;
  if (e->backend == CL_BACKEND_DNNL && (st = cl__dnnl_rows_decide(&e)) != CL_OK) goto error;
  if (e->backend == CL_BACKEND_DNNL && (st = cl__dnnl_fusions_decide(&e)) != CL_OK) goto error;
finish:
#undef HERE
  free(consumers);
  free(sole);
  free(done);
  *out = e;
  return CL_OK;
error:
  if (st == CL_ERR_NOMEM) cl_log_error("executor: out of memory building '%s'", cl_graph_name(g));
  free(consumers);
  free(sole);
  free(done);
  cl_exec_destroy(e);
  return st;
}

int cl_exec_step_count(const cl_exec *e) { return e->n_steps; }
const cl_exec_step *cl_exec_step_get(const cl_exec *e, int i) {
  return (i >= 0 && i < e->n_steps) ? &e->steps[i].pub : NULL;
}
int cl_exec_step_of(const cl_exec *e, int node) {
  return (node >= 0 && node < e->n_nodes) ? e->step_of[node] : -1;
}
float *cl_exec_buffer(cl_exec *e, int node) {
  return (node >= 0 && node < e->n_nodes) ? e->buf[node] : NULL;
}
size_t cl_exec_memory_bytes(const cl_exec *e) { return e->mem_bytes; }
cl_backend cl_exec_backend(const cl_exec *e) { return e->backend; }

void cl_exec_dnnl_stats(const cl_exec *e, int *fallback_steps, int *ref_primitives) {
  cl__dnnl_stats(e->dnnl, fallback_steps, ref_primitives);
}

int cl_exec_row_split_steps(const cl_exec *e) { return e->dnnl ? cl__dnnl_rows_steps(e->dnnl) : 0; }
int cl_exec_preact_steps(const cl_exec *e) { return e->dnnl ? cl__dnnl_preact_steps(e->dnnl) : 0; }
int cl_exec_dw_steps(const cl_exec *e) { return e->dnnl ? cl__dnnl_dw_steps(e->dnnl) : 0; }

const char *cl_backend_name(cl_backend b) {
  switch (b) {
    case CL_BACKEND_AUTO: return "auto";
    case CL_BACKEND_PORTABLE: return "portable";
    case CL_BACKEND_DNNL: return "dnnl";
  }
  return "?";
}

int cl_backend_parse(const char *name) {
  if (!name) return -1;
  if (!strcmp(name, "auto")) return CL_BACKEND_AUTO;
  if (!strcmp(name, "portable")) return CL_BACKEND_PORTABLE;
  if (!strcmp(name, "dnnl") || !strcmp(name, "onednn")) return CL_BACKEND_DNNL;
  return -1;
}

int cl_backend_available(cl_backend b) {
  if (b == CL_BACKEND_DNNL) return cl__dnnl_available();
  return b == CL_BACKEND_AUTO || b == CL_BACKEND_PORTABLE;
}

cl_backend cl_backend_resolve(cl_backend b) {
  if (b != CL_BACKEND_AUTO) return b;
  const char *env = getenv("CLEAVE_BACKEND");
  int p = cl_backend_parse(env);
  if (p > 0 && cl_backend_available((cl_backend)p)) return (cl_backend)p;
  return cl__dnnl_available() ? CL_BACKEND_DNNL : CL_BACKEND_PORTABLE;
}

const char *cl_backend_version(cl_backend b) {
  static char portable[96];
  b = cl_backend_resolve(b);
  if (b == CL_BACKEND_DNNL) return cl__dnnl_version();
  if (!portable[0]) snprintf(portable, sizeof portable, "portable (im2col + %s)", cl_blas_id());
  return portable;
}

void cl_exec_fill_input(cl_exec *e, uint64_t seed) {
  for (int i = 0; i < e->n_nodes; i++) {
    const cl_node *nd = cl_graph_node(e->g, i);
    if (nd->op != CL_OP_INPUT || !e->buf[i]) continue;
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + (uint64_t)i;
    int64_t n = cl_shape_numel(nd->out);
    for (int64_t k = 0; k < n; k++) e->buf[i][k] = cl_rng_uniform(&rng, -1.0f, 1.0f);
  }
}

cl_status cl__exec_run_lane(cl_exec *e, int k, int lane, int threads) {
  CL_ASSERT(k >= 0 && k < e->n_steps);
  if (e->dnnl) return cl__dnnl_run_step(e, k, lane, threads);
  step_impl *s = &e->steps[k];
  if (s->skip || s->node.op == CL_OP_INPUT) return CL_OK;
  const cl_node *nd = cl_graph_node(e->g, s->pub.node);
  enum { MAXIN = 256 };
  cl_tensor tin[MAXIN];
  const cl_tensor *pin[MAXIN];
  if (nd->n_inputs > MAXIN) {
    cl_log_error("executor: node '%s' has %d inputs (max %d)", nd->name, nd->n_inputs, MAXIN);
    return CL_ERR_UNSUPPORTED;
  }
  for (int j = 0; j < nd->n_inputs; j++) {
    int src = nd->inputs[j];
    CL_ASSERT(e->buf[src] != NULL);
    tin[j].data = e->buf[src];
    tin[j].shape = cl_graph_node(e->g, src)->out;
    tin[j].y0 = 0;
    tin[j].rows = tin[j].shape.h;
    pin[j] = &tin[j];
  }
  cl_tensor tout;
  tout.data = e->buf[s->pub.out_node];
  tout.shape = s->node.out;
  tout.y0 = 0;
  tout.rows = tout.shape.h;
  cl_op_ctx ctx = {lane ? e->lane_ws[lane] : e->workspace, e->workspace_bytes, threads};
  return cl_op_get(s->node.op)->run(&s->node, pin, nd->n_inputs, &tout, 0, tout.shape.h, &ctx);
}

cl_status cl_exec_run_step(cl_exec *e, int k) { return cl__exec_run_lane(e, k, 0, e->opts.threads); }

int cl__exec_step_spans(const cl_exec *e, int k, cl__span *out, int cap) {
  if (e->dnnl) return cl__dnnl_step_spans(e, k, out, cap);
  const step_impl *s = &e->steps[k];
  if (s->skip || s->node.op == CL_OP_INPUT) return 0;
  const cl_node *nd = cl_graph_node(e->g, s->pub.node);
  int n = 0;
  for (int j = 0; j <= nd->n_inputs; j++, n++) {
    int node = j < nd->n_inputs ? nd->inputs[j] : s->pub.out_node;
    if (n < cap)
      out[n] = (cl__span){(const char *)e->buf[node],
                          sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(e->g, node)->out), j == nd->n_inputs};
  }
  return n;
}

cl_status cl_exec_run(cl_exec *e) {
  if (e->sched) return cl__sched_run(e);
  if (e->dnnl) return cl__dnnl_run_range(e, 0, e->n_steps);
  for (int k = 0; k < e->n_steps; k++) CL_TRY(cl_exec_run_step(e, k));
  return CL_OK;
}

double cl_exec_checksum(const float *x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += x[i];
  return s;
}
