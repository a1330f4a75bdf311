/* oneDNN backend: row-split execution on two threads ("rows" mode).
 *
 * oneDNN splits each primitive's work over the threads by its own rule, which changes
 * from layer to layer (a 1x1 convolution by output-channel blocks and pixels, a
 * depthwise one by channel blocks and rows), so on two cores half of a layer's input
 * sits in the other core's cache. On small maps this is what holds 2-thread speed-ups
 * to 1.2-1.5x (docs/onnx.md). Rows mode keeps one split for a whole chain of layers,
 * like CoEdge's halos inside one process: activations are NHWC, where the rows
 * [r0, r1) of a batch-1 tensor are themselves a dense tensor at an offset, so each
 * convolution or pooling step gets two single-threaded primitives over row views of
 * the same buffers (thread 0 the top half of the output rows, thread 1 the bottom
 * half, each reading its input rows plus the halo its kernel needs, with the padding
 * of the outer edge only), and a chain of such steps runs inside one parallel region
 * with a barrier only where a thread reads rows the other one wrote since the last
 * barrier (a halo) or writes rows the other may still read. A 1x1 convolution after a
 * 1x1 or a residual sum needs none. Every other step runs between regions as usual.
 *
 * Exact: each output element is computed once, by the same kind of kernel, over the
 * same inputs (row views change where a thread starts, not what it sums), so outputs
 * equal the unsplit ones to rounding (`test_exec_dnnl` checks every zoo model).
 *
 * Requires batch 1 and two threads; zero-copy concatenation is off in this mode (a
 * channel slice of an NHWC buffer is strided, and oneDNN 2.6 has only reference
 * kernels for strided NHWC), so concats copy. Chosen per executor
 * (cl_exec_opts / CLEAVE_DNNL_ROWS, see exec.h). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CLEAVE_HAVE_DNNL
#include <omp.h>

#include "exec_dnnl_internal.h"
#include "kernel_choice.h"

enum { RS_RUN = 0, RS_SPLIT = 1, RS_NOP = 2 };

/* A byte range a thread touches in one split step. */
typedef struct rs_range {
  const char *p;
  size_t n;
} rs_range;

struct cl__dn_rows {
  int n_steps;
  uint8_t *mode;    /* per step: RS_RUN (whole step, between regions), RS_SPLIT, RS_NOP */
  uint8_t *barrier; /* split step: a barrier before it (inside a region) */
  int *call;        /* split step: d->calls index of thread 0's call; thread 1's is next */
  int n_split, n_barriers;
  int all_barriers; /* CLEAVE_DNNL_ROWS_BARRIERS=all: one before every split step */
};

/* Rows [r0, r1) of a batch-1 plain tensor whose H stride is outside C and W (NHWC, or
 * a channel slice of NHWC): its descriptor and byte offset. 0 if not viewable. */
static int row_view(const dnnl_memory_desc_t *md, int r0, int r1, dnnl_memory_desc_t *out, size_t *off) {
  if (md->ndims != 4 || md->dims[0] != 1 || md->format_kind != dnnl_blocked || md->data_type != dnnl_f32) return 0;
  const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
  if (b->inner_nblks != 0 || md->offset0 != 0) return 0;
  for (int i = 0; i < 4; i++)
    if (md->padded_dims[i] != md->dims[i] || md->padded_offsets[i] != 0) return 0;
  if (b->strides[2] < b->strides[1] * md->dims[1] || b->strides[2] < b->strides[3] * md->dims[3]) return 0;
  dnnl_dims_t dims = {1, md->dims[1], r1 - r0, md->dims[3]};
  /* With one image the N stride is free: the view's own extent, as a dense NHWC tensor
   * of r1 - r0 rows has it (oneDNN's kernels compare strides with their formats'). */
  dnnl_dims_t strides = {b->strides[0], b->strides[1], b->strides[2], b->strides[3]};
  strides[0] = (dnnl_dim_t)(r1 - r0) * b->strides[2];
  if (dnnl_memory_desc_init_by_strides(out, 4, dims, dnnl_f32, strides) != dnnl_success) return 0;
  *off = (size_t)r0 * (size_t)b->strides[2] * sizeof(float);
  return 1;
}

static dnnl_memory_t arg_mem(const dn_call *c, int arg) {
  for (int i = 0; i < c->nargs; i++)
    if (c->args[i].arg == arg) return c->args[i].memory;
  return NULL;
}

/* Input rows an output row range needs: [i0, i1) clipped to [0, ih), and the padding
 * the view keeps at its top and bottom. */
static void in_rows(int r0, int r1, int ih, dnnl_dim_t stride, dnnl_dim_t kh_eff, dnnl_dim_t pad_top, int *i0, int *i1,
                    dnnl_dim_t *pt, dnnl_dim_t *pb) {
  dnnl_dim_t lo = (dnnl_dim_t)r0 * stride - pad_top, hi = (dnnl_dim_t)(r1 - 1) * stride - pad_top + kh_eff;
  *pt = lo < 0 ? -lo : 0;
  *pb = hi > ih ? hi - ih : 0;
  *i0 = (int)(lo < 0 ? 0 : lo);
  *i1 = (int)(hi > ih ? ih : hi);
}

/* The two single-threaded calls of step @p k (one call: a convolution or pooling over
 * viewable tensors), appended to d->calls; byte ranges each thread reads and writes. */
static cl_status split_step(cl_exec *e, int k, int min_rows, int *first, rs_range rd[2][2], rs_range wr[2]) {
  cl__dnnl *d = e->dnnl;
  const dn_step *st = &d->steps[k];
  const dn_call *c = &d->calls[st->first_call]; /* d->calls moves when calls are added */
  const_dnnl_primitive_desc_t cpd = NULL;
  if (dnnl_primitive_get_primitive_desc(c->prim, &cpd) != dnnl_success) return CL_ERR_UNSUPPORTED;
  enum { MAXARG = 8 };
  if (c->nargs > MAXARG) return CL_ERR_UNSUPPORTED;
  int nargs = c->nargs;
  dnnl_exec_arg_t args0[MAXARG];
  memcpy(args0, c->args, sizeof *args0 * (size_t)nargs);
  dnnl_primitive_kind_t kind;
  if (dnnl_primitive_desc_query(cpd, dnnl_query_primitive_kind, 0, &kind) != dnnl_success) return CL_ERR_UNSUPPORTED;
  if (kind != dnnl_convolution && kind != dnnl_pooling_v2) return CL_ERR_UNSUPPORTED;
  dnnl_memory_t src = arg_mem(c, DNNL_ARG_SRC), dst = arg_mem(c, DNNL_ARG_DST);
  if (!src || !dst) return CL_ERR_UNSUPPORTED;
  const dnnl_memory_desc_t *smd, *dmd;
  void *sh = NULL, *dh = NULL;
  dnnl_memory_get_memory_desc(src, &smd);
  dnnl_memory_get_memory_desc(dst, &dmd);
  dnnl_memory_get_data_handle(src, &sh);
  dnnl_memory_get_data_handle(dst, &dh);
  int ih = (int)smd->dims[2], oh = (int)dmd->dims[2];
  if (oh < 2 * min_rows) return CL_ERR_UNSUPPORTED;
  dnnl_memory_desc_t tmp;
  size_t off;
  if (!row_view(smd, 0, ih, &tmp, &off) || !row_view(dmd, 0, oh, &tmp, &off)) return CL_ERR_UNSUPPORTED;
  int sum = 0; /* a residual sum post-op reads the destination rows too */
  const_dnnl_primitive_attr_t cattr = NULL;
  dnnl_primitive_desc_get_attr(cpd, &cattr);
  const_dnnl_post_ops_t po = NULL;
  if (cattr && dnnl_primitive_attr_get_post_ops(cattr, &po) == dnnl_success && po)
    for (int i = 0; i < dnnl_post_ops_len(po); i++) sum |= dnnl_post_ops_get_kind(po, i) == dnnl_sum;
  int mid = (oh + 1) / 2;
  dnnl_primitive_desc_t pd[2] = {NULL, NULL};
  dnnl_memory_t sv[2] = {NULL, NULL}, dv[2] = {NULL, NULL};
  cl_status rc = CL_OK;
  omp_set_num_threads(1); /* oneDNN sizes a primitive's work split at creation */
  for (int t = 0; t < 2 && rc == CL_OK; t++) {
    int r0 = t ? mid : 0, r1 = t ? oh : mid, i0, i1;
    dnnl_dim_t pt, pb;
    dnnl_memory_desc_t svmd, dvmd;
    size_t soff, doff;
    dnnl_primitive_attr_t attr = NULL;
    if (dnnl_primitive_attr_clone(&attr, cattr) != dnnl_success) {
      rc = CL_ERR_NOMEM;
      break;
    }
    if (kind == dnnl_convolution) {
      const dnnl_convolution_desc_t *cd0 = NULL;
      dnnl_primitive_desc_query(cpd, dnnl_query_convolution_d, 0, &cd0);
      dnnl_convolution_desc_t cd = *cd0;
      dnnl_dim_t kh_eff = (cd.weights_desc.ndims == 5 ? cd.weights_desc.dims[3] : cd.weights_desc.dims[2]);
      kh_eff = (kh_eff - 1) * (cd.dilates[0] + 1) + 1;
      in_rows(r0, r1, ih, cd.strides[0], kh_eff, cd.padding[0][0], &i0, &i1, &pt, &pb);
      row_view(smd, i0, i1, &svmd, &soff);
      row_view(dmd, r0, r1, &dvmd, &doff);
      cd.src_desc = svmd;
      cd.dst_desc = dvmd;
      cd.weights_desc = *dnnl_primitive_desc_query_md(cpd, dnnl_query_weights_md, 0); /* share the packed weights */
      cd.padding[0][0] = pt;
      cd.padding[1][0] = pb;
      if (dnnl_primitive_desc_create(&pd[t], &cd, attr, d->eng, NULL) != dnnl_success) pd[t] = NULL;
    } else {
      const dnnl_pooling_v2_desc_t *pd0 = NULL;
      dnnl_primitive_desc_query(cpd, dnnl_query_pooling_v2_d, 0, &pd0);
      dnnl_pooling_v2_desc_t pdsc = *pd0;
      dnnl_dim_t kh_eff = (pdsc.kernel[0] - 1) * (pdsc.dilation[0] + 1) + 1;
      in_rows(r0, r1, ih, pdsc.strides[0], kh_eff, pdsc.padding[0][0], &i0, &i1, &pt, &pb);
      row_view(smd, i0, i1, &svmd, &soff);
      row_view(dmd, r0, r1, &dvmd, &doff);
      pdsc.src_desc = svmd;
      pdsc.dst_desc = dvmd;
      pdsc.padding[0][0] = pt;
      pdsc.padding[1][0] = pb;
      if (dnnl_primitive_desc_create(&pd[t], &pdsc, attr, d->eng, NULL) != dnnl_success) pd[t] = NULL;
    }
    dnnl_primitive_attr_destroy(attr);
    const char *impl = NULL;
    if (!pd[t] || dnnl_primitive_desc_query(pd[t], dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl ||
        !strncmp(impl, "ref", 3)) {
      rc = CL_ERR_UNSUPPORTED; /* no row kernel, or only oneDNN's slow reference one */
      break;
    }
    if (!(sv[t] = dn_mem(e, &svmd, (char *)sh + soff)) || !(dv[t] = dn_mem(e, &dvmd, (char *)dh + doff))) {
      rc = CL_ERR_NOMEM;
      break;
    }
    size_t srow = (size_t)smd->format_desc.blocking.strides[2] * sizeof(float);
    size_t drow = (size_t)dmd->format_desc.blocking.strides[2] * sizeof(float);
    rd[t][0] = (rs_range){(const char *)sh + (size_t)i0 * srow, (size_t)(i1 - i0) * srow};
    wr[t] = (rs_range){(const char *)dh + (size_t)r0 * drow, (size_t)(r1 - r0) * drow};
    rd[t][1] = sum ? wr[t] : (rs_range){NULL, 0};
  }
  omp_set_num_threads(e->opts.threads);
  if (rc != CL_OK) {
    for (int t = 0; t < 2; t++)
      if (pd[t]) dnnl_primitive_desc_destroy(pd[t]);
    return rc;
  }
  *first = d->n_calls;
  for (int t = 0; t < 2; t++) {
    dnnl_primitive_t p;
    CL_TRY(prim_from(d, pd[t], &p)); /* frees pd[t] */
    pd[t] = NULL;
    dnnl_exec_arg_t args[MAXARG];
    memcpy(args, args0, sizeof *args * (size_t)nargs);
    for (int i = 0; i < nargs; i++) {
      if (args[i].arg == DNNL_ARG_SRC) args[i].memory = sv[t];
      if (args[i].arg == DNNL_ARG_DST) args[i].memory = dv[t];
    }
    dn_step none = {0}; /* the calls belong to no step's range */
    CL_TRY(dn_call_add(d, &none, p, nargs, args));
  }
  return CL_OK;
}

static int overlap(rs_range a, rs_range b) { return a.n && b.n && a.p < b.p + b.n && b.p < a.p + a.n; }

static int rows_mode(const cl_exec_opts *o);

int cl__dn_rows_wanted(const cl_exec *e) { return e->opts.threads == 2 && rows_mode(&e->opts) == CL_ROWS_ON; }

void cl__dn_rows_destroy(cl__dn_rows *r) {
  if (!r) return;
  free(r->mode);
  free(r->barrier);
  free(r->call);
  free(r);
}

int cl__dn_rows_min(void) {
  const char *env = getenv("CLEAVE_DNNL_ROWS_MIN");
  int v = env ? atoi(env) : 0;
  return v >= 1 && v <= 4096 ? v : 4;
}

cl_status cl__dn_rows_create(cl_exec *e) {
  cl__dnnl *d = e->dnnl;
  int n = e->n_steps, min_rows = cl__dn_rows_min();
  cl__dn_rows *r = calloc(1, sizeof *r);
  if (!r) return CL_ERR_NOMEM;
  d->rows_plan = r;
  r->n_steps = n;
  r->all_barriers = getenv("CLEAVE_DNNL_ROWS_BARRIERS") && !strcmp(getenv("CLEAVE_DNNL_ROWS_BARRIERS"), "all");
  r->mode = calloc((size_t)(n ? n : 1), 1);
  r->barrier = calloc((size_t)(n ? n : 1), 1);
  r->call = calloc((size_t)(n ? n : 1), sizeof(int));
  /* Ranges touched since the last barrier, per thread: reads, writes. */
  int cap = 4 * (n ? n : 1);
  rs_range *since_r[2], *since_w[2];
  int nr[2] = {0, 0}, nw[2] = {0, 0};
  for (int t = 0; t < 2; t++) {
    since_r[t] = malloc(sizeof(rs_range) * (size_t)cap);
    since_w[t] = malloc(sizeof(rs_range) * (size_t)cap);
  }
  cl_status rc = (r->mode && r->barrier && r->call && since_r[0] && since_r[1] && since_w[0] && since_w[1])
                     ? CL_OK
                     : CL_ERR_NOMEM;
  for (int k = 0; k < n && rc == CL_OK; k++) {
    const dn_step *st = &d->steps[k];
    if (!st->fallback && st->n_calls == 0) {
      r->mode[k] = RS_NOP;
      continue;
    }
    rs_range rd[2][2], wr[2];
    int first = -1;
    cl_status s = (!st->fallback && st->n_calls == 1) ? split_step(e, k, min_rows, &first, rd, wr) : CL_ERR_UNSUPPORTED;
    if (s == CL_ERR_UNSUPPORTED) { /* runs whole: a region ends here */
      r->mode[k] = RS_RUN;
      nr[0] = nr[1] = nw[0] = nw[1] = 0;
      continue;
    }
    if (s != CL_OK) {
      rc = s;
      break;
    }
    r->mode[k] = RS_SPLIT;
    r->call[k] = first;
    r->n_split++;
    int need = 0;
    for (int t = 0; t < 2 && !need; t++) {
      int o = 1 - t;
      for (int i = 0; i < nw[o] && !need; i++) /* reads or writes what the other thread wrote */
        need = overlap(rd[t][0], since_w[o][i]) || overlap(rd[t][1], since_w[o][i]) || overlap(wr[t], since_w[o][i]);
      for (int i = 0; i < nr[o] && !need; i++) /* writes what the other thread read */
        need = overlap(wr[t], since_r[o][i]);
    }
    if (need || nr[0] + 2 > cap || nw[0] + 1 > cap) {
      r->barrier[k] = 1;
      r->n_barriers++;
      nr[0] = nr[1] = nw[0] = nw[1] = 0;
    }
    for (int t = 0; t < 2; t++) {
      since_r[t][nr[t]++] = rd[t][0];
      if (rd[t][1].n) since_r[t][nr[t]++] = rd[t][1];
      since_w[t][nw[t]++] = wr[t];
    }
  }
  for (int t = 0; t < 2; t++) {
    free(since_r[t]);
    free(since_w[t]);
  }
  if (rc == CL_OK)
    cl_log_info("executor (oneDNN): rows mode: %d of %d steps split over 2 threads, %d barriers", r->n_split, n,
                r->n_barriers);
  return rc;
}

int cl__dn_rows_split_steps(const cl__dnnl *d) { return d && d->rows_plan ? d->rows_plan->n_split : 0; }

cl_status cl__dn_rows_run(cl_exec *e, int a, int b) {
  cl__dnnl *d = e->dnnl;
  const cl__dn_rows *r = d->rows_plan;
  int k = a;
  while (k < b) {
    if (!r || r->mode[k] != RS_SPLIT) {
      CL_TRY(cl__dnnl_run_step(e, k, 0, e->opts.threads));
      k++;
      continue;
    }
    int end = k;
    while (end < b && r->mode[end] != RS_RUN) end++;
    atomic_int err;
    atomic_init(&err, 0);
    int all = r->all_barriers;
#pragma omp parallel num_threads(2)
    {
      int t = omp_get_thread_num(), team = omp_get_num_threads();
      for (int j = k; j < end; j++) {
        if (r->mode[j] != RS_SPLIT) continue;
        if (j > k && (r->barrier[j] || all)) {
#pragma omp barrier
        }
        /* A team of one (OpenMP may give fewer threads than asked) runs both halves. */
        for (int h = t; h < 2; h += team)
          if (!atomic_load(&err) && dn_exec_calls(d, t, r->call[j] + h, r->call[j] + h + 1) != CL_OK) atomic_store(&err, 1);
      }
    }
    if (atomic_load(&err)) {
      cl_log_error("executor (oneDNN): primitive execution failed (rows mode)");
      return CL_ERR_INTERNAL;
    }
    k = end;
  }
  return CL_OK;
}
/* ---- the per-model choice (CL_ROWS_AUTO) ----------------------------------------- */

static int rows_mode(const cl_exec_opts *o) {
  if (o->row_split != CL_ROWS_AUTO) return o->row_split;
  const char *env = getenv("CLEAVE_DNNL_ROWS");
  if (env && !strcmp(env, "off")) return CL_ROWS_OFF;
  if (env && !strcmp(env, "on")) return CL_ROWS_ON;
  return CL_ROWS_AUTO;
}

/* Worth timing: a grouped (depthwise) convolution and no concat (rows mode copies
 * concats and has no Winograd, so ResNet, VGG, Inception and DenseNet lose: 5-30% on
 * 2 threads here, docs/onnx.md). */
static int rows_candidate(const cl_exec *e) {
  int grouped = 0;
  for (int k = 0; k < e->n_steps; k++) {
    const cl_node *nd = &e->steps[k].node;
    if (nd->op == CL_OP_CONCAT) return 0;
    if (nd->op == CL_OP_CONV && nd->p.conv.groups > 1) grouped = 1;
    if (nd->op != CL_OP_INPUT && nd->out.n != 1) return 0;
  }
  return grouped;
}

uint64_t cl__dn_graph_signature(const cl_exec *e) {
  uint64_t h = 1469598103934665603ull;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ull)
  MIX(e->n_steps);
  for (int k = 0; k < e->n_steps; k++) {
    const cl_exec_step *p = &e->steps[k].pub;
    MIX(e->steps[k].node.op);
    MIX(p->macs);
    MIX(p->out_bytes);
    MIX(e->exported[p->out_node]);
  }
#undef MIX
  return h;
}

static double wall_s(void) { return omp_get_wtime(); }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Steady-state times of @p n executors: @p rounds rounds, each running every executor
 * three times in turn (the first run of a block refills the caches the other executors
 * evicted; steady state is what a run of inferences sees), the best of the last two
 * per block; the median over rounds. Strict alternation measured rows mode at 3.1 ms
 * for mobilenet_v2 where it runs at 2.7 ms. */
cl_status cl__dn_race(cl_exec **ex, int n, int rounds, double *t) {
  double *x = malloc(sizeof(double) * (size_t)rounds * (size_t)n);
  if (!x) return CL_ERR_NOMEM;
  cl_status s = CL_OK;
  for (int i = 0; i < rounds && s == CL_OK; i++)
    for (int v = 0; v < n && s == CL_OK; v++) {
      double best = 1e30;
      for (int r = 0; r < 3 && s == CL_OK; r++) {
        double t0 = wall_s();
        s = cl_exec_run(ex[v]);
        double dt = wall_s() - t0;
        if (r > 0 && dt < best) best = dt;
      }
      x[(size_t)v * (size_t)rounds + (size_t)i] = best;
    }
  for (int v = 0; v < n && s == CL_OK; v++) {
    qsort(x + (size_t)v * (size_t)rounds, (size_t)rounds, sizeof *x, cmp_double);
    t[v] = x[(size_t)v * (size_t)rounds + (size_t)rounds / 2];
  }
  free(x);
  return s;
}

cl_status cl__dnnl_rows_decide(cl_exec **pe) {
  cl_exec *e = *pe;
  if (!e->dnnl || e->opts.threads != 2 || e->opts.plan_only || rows_mode(&e->opts) != CL_ROWS_AUTO ||
      !rows_candidate(e))
    return CL_OK;
  /* CLEAVE_KERNEL_CHOICE other than auto: fixed heuristics, nothing timed (rows off). */
  cl__kc *kc = strcmp(cl__kc_mode(), "auto") ? NULL : cl__kc_shared(CL_BACKEND_DNNL, e->opts.threads);
  if (!kc) return CL_OK;
  char sig[96];
  snprintf(sig, sizeof sig, "rows graph %016llx steps %d", (unsigned long long)cl__dn_graph_signature(e), e->n_steps);
  int firm = 0, want = cl__kc_get_firm(kc, sig, &firm);
  if (want >= 0 && !firm && cl__dn_host_quiet(e->dnnl, 0)) want = -1; /* provisional: time again */
  cl_exec_opts o = e->opts;
  o.row_split = CL_ROWS_ON;
  cl_exec *alt = NULL;
  if (want == 0) return CL_OK;
  cl_status st = cl_exec_create(e->g, &o, &alt);
  if (st != CL_OK || cl__dn_rows_split_steps(alt->dnnl) == 0) { /* nothing to split: keep e */
    if (alt) cl_exec_destroy(alt);
    return st == CL_ERR_NOMEM ? st : CL_OK;
  }
  int use = want;
  if (use < 0) {
    int quiet = cl__dn_host_quiet(e->dnnl, 0);
    cl_exec *both[2] = {e, alt};
    double t[2] = {0, 0};
    st = cl__dn_race(both, 2, 5, t);
    double tb = t[0], tr = t[1];
    if (st != CL_OK) {
      cl_exec_destroy(alt);
      return st;
    }
    use = tr < 0.97 * tb;
    quiet = quiet && cl__dn_host_quiet(e->dnnl, 1);
    if (cl__kc_put_firm(kc, sig, use, quiet) != CL_OK || cl__kc_save(kc) != CL_OK)
      cl_log_warn("executor (oneDNN): the rows-mode choice of '%s' is not cached", cl_graph_name(e->g));
    cl_log_info("executor (oneDNN): '%s' on 2 threads: %.3f ms whole-layer, %.3f ms split by rows: %s%s",
                cl_graph_name(e->g), 1e3 * tb, 1e3 * tr, use ? "rows" : "whole layers",
                quiet ? "" : " (provisional: the host was loaded)");
  }
  if (use) {
    cl_exec_destroy(e);
    *pe = alt;
  } else {
    cl_exec_destroy(alt);
  }
  return CL_OK;
}
#else
typedef int cl__dn_rows_not_built; /* ISO C: a translation unit is not empty */
#endif
