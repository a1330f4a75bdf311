/* oneDNN backend of the executor: the step list of exec.c mapped onto oneDNN
 * primitives. Tensors stay in the layouts the primitives choose (nChw16c for most
 * convolutions) from layer to layer; reorders appear only where a consumer wants
 * another layout, at graph inputs, and for exported outputs (NCHW buffers the caller
 * reads). Convolution and inner-product weights are reordered (packed) once at
 * create time. Post-ops: bias and folded batch-norm (in the weights), activations,
 * and the residual add (a "sum" post-op writing into the other addend's memory).
 * A step oneDNN cannot express (or whose primitive creation fails) runs the portable
 * kernel on NCHW copies, so every graph runs; those steps are counted in the log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/status.h"
#include "exec_internal.h"

#ifndef CLEAVE_HAVE_DNNL

int cl__dnnl_available(void) { return 0; }
const char *cl__dnnl_version(void) { return "oneDNN (not built in)"; }
cl_status cl__dnnl_create(cl_exec *e) {
  (void)e;
  cl_log_error("executor: cleave was built without oneDNN (install libdnnl-dev and rebuild)");
  return CL_ERR_UNSUPPORTED;
}
void cl__dnnl_destroy(cl__dnnl *d) { (void)d; }
void cl__dnnl_stats(const cl__dnnl *d, int *fallback, int *ref) {
  (void)d;
  *fallback = *ref = 0;
}
cl_status cl__dnnl_run_step(cl_exec *e, int step, int lane, int threads) {
  (void)e, (void)step, (void)lane, (void)threads;
  return CL_ERR_UNSUPPORTED;
}
int cl__dnnl_rows_steps(const cl__dnnl *d) {
  (void)d;
  return 0;
}
int cl__dnnl_preact_steps(const cl__dnnl *d) {
  (void)d;
  return 0;
}
int cl__dnnl_dw_steps(const cl__dnnl *d) {
  (void)d;
  return 0;
}
cl_status cl__dnnl_rows_decide(cl_exec **pe) {
  (void)pe;
  return CL_OK;
}
cl_status cl__dnnl_fusions_decide(cl_exec **pe) {
  (void)pe;
  return CL_OK;
}
int cl__dnnl_step_lane_safe(const cl_exec *e, int k) {
  (void)e, (void)k;
  return 1;
}
cl_status cl__dnnl_run_range(cl_exec *e, int a, int b) {
  (void)e, (void)a, (void)b;
  return CL_ERR_UNSUPPORTED;
}
int cl__dnnl_step_spans(const cl_exec *e, int step, cl__span *out, int cap) {
  (void)e, (void)step, (void)out, (void)cap;
  return 0;
}

#else

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

int cl__dnnl_available(void) { return 1; }

const char *cl__dn_isa_name(void);

const char *cl__dnnl_version(void) {
  static char buf[64];
  const dnnl_version_t *v = dnnl_version();
  snprintf(buf, sizeof buf, "oneDNN %d.%d.%d %s", v->major, v->minor, v->patch, cl__dn_isa_name());
  return buf;
}

#include "exec_dnnl_internal.h"
#include "kern_preact1x1.h"

int grow(void **arr, int *cap, int n, size_t elem) {
  if (n < *cap) return 1;
  int nc = *cap ? *cap * 2 : 64;
  void *p = realloc(*arr, (size_t)nc * elem);
  if (!p) return 0;
  *arr = p;
  *cap = nc;
  return 1;
}

void *dn_alloc(cl_exec *e, size_t bytes) {
  cl__dnnl *d = e->dnnl;
  if (!grow((void **)&d->bufs, &d->cap_bufs, d->n_bufs, sizeof(void *))) return NULL;
  void *p = cl__exec_alloc(bytes, &e->mem_bytes);
  if (p) d->bufs[d->n_bufs++] = p;
  return p;
}

/* A memory over @p ptr (NULL: a fresh touched buffer of the descriptor's size). */
dnnl_memory_t dn_mem(cl_exec *e, const dnnl_memory_desc_t *md, void *ptr) {
  cl__dnnl *d = e->dnnl;
  if (!ptr) ptr = dn_alloc(e, dnnl_memory_desc_get_size(md));
  if (!ptr) return NULL;
  if (!grow((void **)&d->owned, &d->cap_owned, d->n_owned, sizeof(dnnl_memory_t))) return NULL;
  dnnl_memory_t m = NULL;
  if (dnnl_memory_create(&m, md, d->eng, ptr) != dnnl_success) return NULL;
  d->owned[d->n_owned++] = m;
  return m;
}

static int dn_keep_prim(cl__dnnl *d, dnnl_primitive_t p) {
  if (!grow((void **)&d->prims, &d->cap_prims, d->n_prims, sizeof(dnnl_primitive_t))) return 0;
  d->prims[d->n_prims++] = p;
  return 1;
}

/* Append a call to the step being built. Arguments are copied. */
cl_status dn_call_add(cl__dnnl *d, dn_step *st, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args) {
  if (!grow((void **)&d->calls, &d->cap_calls, d->n_calls, sizeof(dn_call))) return CL_ERR_NOMEM;
  dn_call *c = &d->calls[d->n_calls];
  c->prim = p;
  c->nargs = nargs;
  c->args = malloc(sizeof(dnnl_exec_arg_t) * (size_t)(nargs ? nargs : 1));
  if (!c->args) return CL_ERR_NOMEM;
  memcpy(c->args, args, sizeof(dnnl_exec_arg_t) * (size_t)nargs);
  d->n_calls++;
  st->n_calls++;
  return CL_OK;
}

void plain_md(dnnl_memory_desc_t *md, cl_shape s, int is2d) {
  if (is2d) {
    dnnl_dims_t dims = {s.n, (dnnl_dim_t)s.c * s.h * s.w};
    dnnl_memory_desc_init_by_tag(md, 2, dims, dnnl_f32, dnnl_nc);
  } else {
    dnnl_dims_t dims = {s.n, s.c, s.h, s.w};
    dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, dnnl_nchw);
  }
}

void any_md(dnnl_memory_desc_t *md, cl_shape s) {
  dnnl_dims_t dims = {s.n, s.c, s.h, s.w};
  dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, dnnl_format_tag_any);
}

const char *cl__dn_isa_name(void) {
  switch (dnnl_get_effective_cpu_isa()) {
  case dnnl_cpu_isa_sse41: return "sse41";
  case dnnl_cpu_isa_avx: return "avx";
  case dnnl_cpu_isa_avx2: return "avx2";
  case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
  case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
  case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
  case dnnl_cpu_isa_avx512_core: return "avx512_core";
  case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
  case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
  case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
  default: return "isa_unknown";
  }
}

int cl__dn_blk(void) {
  static int blk;
  if (!blk) {
    const char *isa = cl__dn_isa_name();
    blk = !strncmp(isa, "avx512", 6) ? 16 : 8;
  }
  return blk;
}

dnnl_format_tag_t cl__dn_blk_tag(void) { return cl__dn_blk() == 16 ? dnnl_nChw16c : dnnl_nChw8c; }

void blocked_md(dnnl_memory_desc_t *md, cl_shape s) {
  dnnl_dims_t dims = {s.n, s.c, s.h, s.w};
  dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, cl__dn_blk_tag());
}

int md_is_plain(const dnnl_memory_desc_t *md) {
  dnnl_memory_desc_t p;
  if (md->ndims == 2) {
    dnnl_dims_t dims = {md->dims[0], md->dims[1]};
    dnnl_memory_desc_init_by_tag(&p, 2, dims, dnnl_f32, dnnl_nc);
  } else if (md->ndims == 4) {
    dnnl_dims_t dims = {md->dims[0], md->dims[1], md->dims[2], md->dims[3]};
    dnnl_memory_desc_init_by_tag(&p, 4, dims, dnnl_f32, dnnl_nchw);
  } else {
    return 0;
  }
  return dnnl_memory_desc_equal(md, &p);
}

/* Scratchpads: oneDNN's default ("library") scratchpad is one buffer per creating
 * thread shared by all primitives, so primitives running side by side (exec_sched.c)
 * would overwrite each other's. Every primitive that runs in cl_exec_run is created
 * with a user scratchpad instead; each lane passes its own buffer of the largest size
 * any primitive asked for (d->scratch_bytes). */
dnnl_primitive_attr_t user_scratch(dnnl_primitive_attr_t attr) {
  if (!attr && dnnl_primitive_attr_create(&attr) != dnnl_success) return NULL;
  dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  return attr;
}

static void note_scratch(cl__dnnl *d, const_dnnl_primitive_desc_t pd) {
  const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  size_t b = md ? dnnl_memory_desc_get_size(md) : 0;
  if (b > d->scratch_bytes) d->scratch_bytes = b;
}

/* A reorder primitive from @p from's layout to @p to's (caller owns it); @p run_time:
 * executed by cl_exec_run (user scratchpad), else once now. */
static cl_status dn_reorder_prim(cl__dnnl *d, dnnl_memory_t from, dnnl_memory_t to, dnnl_primitive_t *p,
                                 int run_time) {
  const dnnl_memory_desc_t *fmd, *tmd;
  dnnl_memory_get_memory_desc(from, &fmd);
  dnnl_memory_get_memory_desc(to, &tmd);
  dnnl_primitive_desc_t pd;
  dnnl_primitive_attr_t attr = run_time ? user_scratch(NULL) : NULL;
  dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, fmd, d->eng, tmd, d->eng, attr);
  if (attr) dnnl_primitive_attr_destroy(attr);
  DN_TRY(s, "reorder");
  if (run_time) note_scratch(d, pd);
  s = dnnl_primitive_create(p, pd);
  dnnl_primitive_desc_destroy(pd);
  return s == dnnl_success ? CL_OK : CL_ERR_INTERNAL;
}

/* Run a reorder now (weights packing), then free it. */
cl_status dn_reorder_now(cl__dnnl *d, dnnl_memory_t src, dnnl_memory_t dst) {
  dnnl_primitive_t p;
  CL_TRY(dn_reorder_prim(d, src, dst, &p, 0));
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
  dnnl_status_t s = dnnl_primitive_execute(p, d->strm, 2, args);
  if (s == dnnl_success) s = dnnl_stream_wait(d->strm);
  dnnl_primitive_destroy(p);
  return s == dnnl_success ? CL_OK : CL_ERR_INTERNAL;
}

/* Append a reorder call from one memory to another (layouts may differ). */
cl_status dn_reorder_call(cl_exec *e, dn_step *st, dnnl_memory_t from, dnnl_memory_t to) {
  cl__dnnl *d = e->dnnl;
  dnnl_primitive_t p;
  CL_TRY(dn_reorder_prim(d, from, to, &p, 1));
  if (!dn_keep_prim(d, p)) {
    dnnl_primitive_destroy(p);
    return CL_ERR_NOMEM;
  }
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
  return dn_call_add(d, st, p, 2, args);
}

/* Memory holding node @p src's data in layout @p want: the node's own memory if the
 * layouts agree, else a reorder call appended to @p st into a new memory. */
cl_status dn_as(cl_exec *e, dn_step *st, int src, const dnnl_memory_desc_t *want, dnnl_memory_t *out) {
  cl__dnnl *d = e->dnnl;
  if (dnnl_memory_desc_equal(&d->md[src], want)) {
    *out = d->mem[src];
    return CL_OK;
  }
  dnnl_memory_t m = dn_mem(e, want, NULL);
  if (!m) return CL_ERR_NOMEM;
  CL_TRY(dn_reorder_call(e, st, d->mem[src], m));
  d->n_layout_reorders++;
  *out = m;
  return CL_OK;
}

/* Set node @p node's output memory to a new one with descriptor @p md; exported nodes
 * with a plain layout write straight into their NCHW buffer. */
cl_status dn_set_out(cl_exec *e, int node, const dnnl_memory_desc_t *md) {
  cl__dnnl *d = e->dnnl;
  if (d->region[node]) {
    if (dnnl_memory_desc_equal(md, &d->region_md[node])) {
      d->md[node] = *md;
      d->mem[node] = d->region[node];
      return CL_OK;
    }
    d->pending[node] = 1; /* computed in its own layout, copied into the region after */
    d->md[node] = *md;
    d->mem[node] = dn_mem(e, md, NULL);
    return d->mem[node] ? CL_OK : CL_ERR_NOMEM;
  }
  void *ptr = (e->exported[node] && md_is_plain(md)) ? e->buf[node] : NULL;
  d->md[node] = *md;
  d->mem[node] = dn_mem(e, md, ptr);
  return d->mem[node] ? CL_OK : CL_ERR_NOMEM;
}

/* Exported node whose memory is not its NCHW buffer: append a reorder into it. */
cl_status dn_export(cl_exec *e, dn_step *st, int node) {
  cl__dnnl *d = e->dnnl;
  if (d->pending[node]) {
    d->pending[node] = 0;
    CL_TRY(dn_reorder_call(e, st, d->mem[node], d->region[node]));
    d->mem[node] = d->region[node];
    d->md[node] = d->region_md[node];
  }
  if (!e->exported[node] || !e->buf[node]) return CL_OK;
  void *h = NULL;
  dnnl_memory_get_data_handle(d->mem[node], &h);
  if (h == e->buf[node] && md_is_plain(&d->md[node])) return CL_OK;
  dnnl_memory_desc_t pmd;
  plain_md(&pmd, cl_graph_node(e->g, node)->out, d->md[node].ndims == 2);
  dnnl_memory_t dst = dn_mem(e, &pmd, e->buf[node]);
  if (!dst) return CL_ERR_NOMEM;
  return dn_reorder_call(e, st, d->mem[node], dst);
}

int act_alg(cl_act a, dnnl_alg_kind_t *alg, float *alpha, float *beta) {
  *alpha = 0.f;
  *beta = 0.f;
  switch (a) {
    case CL_ACT_RELU: *alg = dnnl_eltwise_relu; return 1;
    case CL_ACT_RELU6: *alg = dnnl_eltwise_clip_v2; *beta = 6.f; return 1;
    case CL_ACT_SIGMOID: *alg = dnnl_eltwise_logistic; return 1;
    case CL_ACT_HSWISH: *alg = dnnl_eltwise_hardswish; return 1;
    case CL_ACT_NONE: break;
  }
  return 0;
}

/* Attribute with post-ops [sum] [eltwise act] [3x3 depthwise convolution of stride
 * @p dw_stride (0: none), its eltwise dw_act]; NULL when there are none or on failure. */
dnnl_primitive_attr_t make_attr_dw(int sum, cl_act act, int dw_stride, cl_act dw_act) {
  dnnl_alg_kind_t alg = dnnl_alg_kind_undef, dw_alg = dnnl_alg_kind_undef;
  float a = 0, b = 0, dw_a = 0, dw_b = 0;
  int has_act = act_alg(act, &alg, &a, &b), has_dw_act = dw_stride > 0 && act_alg(dw_act, &dw_alg, &dw_a, &dw_b);
  if (!sum && !has_act && dw_stride <= 0) return NULL;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t po = NULL;
  if (dnnl_primitive_attr_create(&attr) != dnnl_success) return NULL;
  if (dnnl_post_ops_create(&po) != dnnl_success) {
    dnnl_primitive_attr_destroy(attr);
    return NULL;
  }
  int ok = 1;
  if (sum) ok = ok && dnnl_post_ops_append_sum(po, 1.f) == dnnl_success;
  if (has_act) ok = ok && dnnl_post_ops_append_eltwise(po, 1.f, alg, a, b) == dnnl_success;
  if (dw_stride > 0)
    ok = ok && dnnl_post_ops_append_dw(po, dnnl_f32, dnnl_f32, dnnl_f32, 3, dw_stride, 1, 0, 0, NULL) == dnnl_success;
  if (has_dw_act) ok = ok && dnnl_post_ops_append_eltwise(po, 1.f, dw_alg, dw_a, dw_b) == dnnl_success;
  ok = ok && dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
  dnnl_post_ops_destroy(po);
  if (!ok) {
    dnnl_primitive_attr_destroy(attr);
    return NULL;
  }
  return attr;
}

dnnl_primitive_attr_t make_attr(int sum, cl_act act) { return make_attr_dw(sum, act, 0, CL_ACT_NONE); }

/* Create a primitive from an op descriptor; returns NULL pd on failure (no log). */
dnnl_primitive_desc_t pd_create(cl__dnnl *d, const void *desc, dnnl_primitive_attr_t attr) {
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_attr_t a = user_scratch(attr);
  dnnl_status_t s = dnnl_primitive_desc_create(&pd, desc, a, d->eng, NULL);
  if (!attr && a) dnnl_primitive_attr_destroy(a);
  return s == dnnl_success ? pd : NULL;
}

/* Create the primitive of @p pd and free @p pd (also on failure). */
cl_status prim_from(cl__dnnl *d, dnnl_primitive_desc_t pd, dnnl_primitive_t *out) {
  const char *impl = NULL;
  /* Reference kernels are correct but 10-100x slower: count them (cl_exec_dnnl_stats). */
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
      !strncmp(impl, "ref", 3)) {
    d->n_ref++;
    cl_log_info("executor (oneDNN): reference implementation '%s' in use", impl);
  }
  note_scratch(d, pd);
  dnnl_status_t s = dnnl_primitive_create(out, pd);
  dnnl_primitive_desc_destroy(pd);
  if (s != dnnl_success || !dn_keep_prim(d, *out)) {
    cl_log_error("executor (oneDNN): primitive creation failed (status %d)", (int)s);
    return CL_ERR_INTERNAL;
  }
  return CL_OK;
}

/* In-place eltwise on node @p node's memory (an activation oneDNN could not fuse). */
cl_status dn_act_inplace(cl_exec *e, dn_step *st, int node, cl_act act) {
  cl__dnnl *d = e->dnnl;
  dnnl_alg_kind_t alg;
  float a, b;
  if (!act_alg(act, &alg, &a, &b)) return CL_OK;
  dnnl_eltwise_desc_t ed;
  DN_TRY(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, alg, &d->md[node], a, b), "eltwise desc");
  dnnl_primitive_desc_t pd = pd_create(d, &ed, NULL);
  if (!pd) return CL_ERR_UNSUPPORTED;
  dnnl_primitive_t p;
  CL_TRY(prim_from(d, pd, &p));
  dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, d->mem[node]}, {DNNL_ARG_DST, d->mem[node]}};
  return dn_call_add(d, st, p, 2, args);
}

/* ---- residual-add fusion ---------------------------------------------------------- */

/* For conv step k: the add step whose sum it can absorb, with the other addend. */
typedef struct fuse_info {
  int add_step;  /* -1: none */
  int other;     /* graph node of the other addend */
} fuse_info;

static fuse_info find_sum_fusion(const cl_exec *e, int k, const int *consumers) {
  fuse_info fi = {-1, -1};
  const cl__dnnl *d = e->dnnl;
  const cl__exec_step *s = &e->steps[k];
  if (s->node.op != CL_OP_CONV || s->node.p.conv.act != CL_ACT_NONE) return fi;
  int o = s->pub.out_node;
  if (consumers[o] != 1 || e->exported[o]) return fi;
  for (int a = k + 1; a < e->n_steps; a++) {
    const cl__exec_step *as = &e->steps[a];
    if (as->node.op != CL_OP_ADD || as->skip) continue;
    const cl_node *an = cl_graph_node(e->g, as->pub.node);
    if (an->n_inputs != 2) continue;
    int j = an->inputs[0] == o ? 0 : an->inputs[1] == o ? 1 : -1;
    if (j < 0) continue;
    if (as->node.p.eltwise.scale != 0.0f) return fi; /* scaled residual: not a plain sum post-op */
    int other = an->inputs[1 - j];
    if (other == o) return fi;
    cl_shape so = cl_graph_node(e->g, other)->out, sc = cl_graph_node(e->g, o)->out;
    if (so.n != sc.n || so.c != sc.c || so.h != sc.h || so.w != sc.w) return fi;
    /* The other addend must be produced here before step k (an external input is
     * written by the caller just before its first consumer, the add, runs). */
    int ps = e->step_of[other];
    if (ps < 0 || ps >= k) return fi;
    if (d->region[as->pub.out_node]) return fi; /* the sum would land outside the concat slot */
    fi.add_step = a;
    fi.other = other;
    return fi;
  }
  return fi;
}

/* ---- per-op builders ----------------------------------------------------------------- */

/* Weights of a conv / inner product: the node's plain [out][in...] floats packed once
 * into the primitive's layout @p want; the bias (n_bias floats after the weights, 0 =
 * none) used in place. */
static cl_status dn_weights(cl_exec *e, const float *w, size_t n_w, const dnnl_memory_desc_t *plain,
                            const dnnl_memory_desc_t *want, const dnnl_memory_desc_t *bias_md, int has_bias,
                            dnnl_memory_t *wmem, dnnl_memory_t *bmem) {
  dnnl_memory_t wsrc = dn_mem(e, plain, (void *)w);
  *wmem = dn_mem(e, want, NULL);
  if (!wsrc || !*wmem) return CL_ERR_NOMEM;
  CL_TRY(dn_reorder_now(e->dnnl, wsrc, *wmem));
  *bmem = NULL;
  if (has_bias && !(*bmem = dn_mem(e, bias_md, (void *)(w + n_w)))) return CL_ERR_NOMEM;
  return CL_OK;
}

/* The conv / inner-product call: src, packed weights, optional bias, dst (@p args has
 * room for 4; returns how many). */
int weighted_args(dnnl_exec_arg_t *args, dnnl_memory_t src, dnnl_memory_t w, dnnl_memory_t b, dnnl_memory_t dst) {
  int na = 0;
  args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, src};
  args[na++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, w};
  if (b) args[na++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, b};
  args[na++] = (dnnl_exec_arg_t){DNNL_ARG_DST, dst};
  return na;
}

static cl_status dn_weighted_call(cl__dnnl *d, dn_step *st, dnnl_primitive_t p, dnnl_memory_t src, dnnl_memory_t w,
                                  dnnl_memory_t b, dnnl_memory_t dst) {
  dnnl_exec_arg_t args[4];
  return dn_call_add(d, st, p, weighted_args(args, src, w, b, dst), args);
}

static cl_status build_conv(cl_exec *e, int k, dn_step *st, fuse_info fi) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  const cl_node *gn = cl_graph_node(e->g, s->pub.node);
  const cl_conv_params *cp = &s->node.p.conv;
  int src = gn->inputs[0];
  cl_shape is = cl_graph_node(e->g, src)->out, os = s->node.out;
  int g = cp->groups;
  dnnl_memory_desc_t src_md, wei_md, bias_md, dst_md;
  any_md(&src_md, is);
  if (d->blocked && is.c % cl__dn_blk() == 0) blocked_md(&src_md, is);
  if (g == 1) {
    dnnl_dims_t wd = {cp->out_c, is.c, cp->kh, cp->kw};
    dnnl_memory_desc_init_by_tag(&wei_md, 4, wd, dnnl_f32, dnnl_format_tag_any);
  } else {
    dnnl_dims_t wd = {g, cp->out_c / g, is.c / g, cp->kh, cp->kw};
    dnnl_memory_desc_init_by_tag(&wei_md, 5, wd, dnnl_f32, dnnl_format_tag_any);
  }
  dnnl_dims_t bd = {cp->out_c};
  dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_f32, dnnl_x);
  int sum = fi.add_step >= 0;
  cl_act act = cp->act;
  if (sum) act = e->steps[fi.add_step].node.p.eltwise.act;
  if (sum && d->blocked && os.c % cl__dn_blk() == 0) blocked_md(&dst_md, os); /* other may be NCHW (received) */
  else if (sum) dst_md = d->md[fi.other];
  else if (d->region[s->pub.out_node]) dst_md = d->region_md[s->pub.out_node];
  else if (d->blocked && os.c % cl__dn_blk() == 0) blocked_md(&dst_md, os);
  else any_md(&dst_md, os);
  /* Kernel and layouts: exec_dnnl_choice.c (measured per host, or the fixed heuristic). */
  cl__conv_req rq = {.cp = cp, .is = is, .os = os, .have_src = d->md[src], .src_md = src_md, .wei_md = wei_md,
                     .dst_md = dst_md, .bias_md = cp->has_bias ? &bias_md : NULL,
                     .dst_fixed = sum || d->region[s->pub.out_node], .sum = sum, .act = act,
                     .strides = {cp->sh, cp->sw}, .dil = {cp->dh - 1, cp->dw - 1}, .pl = {cp->pt, cp->pl},
                     .pr = {cp->pb, cp->pr}, .attr = make_attr(sum, act)};
  dnnl_primitive_desc_t pd = cl__dn_conv_choose(e, &rq);
  if (rq.attr) dnnl_primitive_attr_destroy(rq.attr);
  if (!pd) return CL_ERR_UNSUPPORTED;
  const dnnl_memory_desc_t *q_src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *q_wei = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t *q_dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  dnnl_memory_desc_t want_src = *q_src, want_wei = *q_wei, got_dst = *q_dst;
  dnnl_primitive_t p;
  CL_TRY(prim_from(d, pd, &p));
  /* Weights: plain [oc][ic/g][kh][kw] packed once into the primitive's layout. */
  dnnl_memory_desc_t wplain;
  if (g == 1) {
    dnnl_dims_t wd = {cp->out_c, is.c, cp->kh, cp->kw};
    dnnl_memory_desc_init_by_tag(&wplain, 4, wd, dnnl_f32, dnnl_oihw);
  } else {
    dnnl_dims_t wd = {g, cp->out_c / g, is.c / g, cp->kh, cp->kw};
    dnnl_memory_desc_init_by_tag(&wplain, 5, wd, dnnl_f32, dnnl_goihw);
  }
  dnnl_memory_t wmem, bmem;
  size_t n_w = (size_t)(is.c / g) * (size_t)cp->kh * (size_t)cp->kw * (size_t)cp->out_c;
  CL_TRY(dn_weights(e, s->node.weights, n_w, &wplain, &want_wei, &bias_md, cp->has_bias, &wmem, &bmem));
  dnnl_memory_t smem;
  CL_TRY(dn_as(e, st, src, &want_src, &smem));
  int o = s->pub.out_node;
  if (sum) {
    /* Write into the other addend in place when nobody reads it after this step and
     * it is this executor's own internal tensor; else into a copy of it. */
    int other = fi.other;
    int inplace = d->last_use[other] <= fi.add_step && !e->exported[other] && e->step_of[other] >= 0 &&
                  !d->region[other] && dnnl_memory_desc_equal(&d->md[other], &got_dst) &&
                  e->steps[e->step_of[other]].node.op != CL_OP_INPUT && !e->steps[e->step_of[other]].skip;
    /* The add is other's reader at fi.add_step; any other reader must come before k. */
    for (int r = 0; r < e->n_steps && inplace; r++) /* aliases (dropout) read it unseen */
      if (e->steps[r].skip && cl_graph_node(e->g, e->steps[r].pub.node)->inputs[0] == other) inplace = 0;
    if (inplace) {
      for (int r = k; r < fi.add_step && inplace; r++) {
        const cl_node *rn = cl_graph_node(e->g, e->steps[r].pub.node);
        for (int j = 0; j < rn->n_inputs; j++)
          if (rn->inputs[j] == other) inplace = 0;
      }
    }
    dnnl_memory_t acc;
    if (inplace) {
      acc = d->mem[other];
    } else {
      acc = dn_mem(e, &got_dst, NULL);
      if (!acc) return CL_ERR_NOMEM;
      CL_TRY(dn_reorder_call(e, st, d->mem[other], acc)); /* copy, converting the layout */
    }
    /* The conv's own output node and the add's output share the accumulator. */
    d->md[o] = got_dst;
    d->mem[o] = acc;
    int ao = e->steps[fi.add_step].pub.out_node;
    d->md[ao] = got_dst;
    d->mem[ao] = acc;
  } else {
    CL_TRY(dn_set_out(e, o, &got_dst));
  }
  CL_TRY(dn_weighted_call(d, st, p, smem, wmem, bmem, d->mem[o]));
  if (!sum) CL_TRY(dn_export(e, st, o));
  return CL_OK;
}

static cl_status build_fc(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  const cl_node *gn = cl_graph_node(e->g, s->pub.node);
  const cl_fc_params *fp = &s->node.p.fc;
  int src = gn->inputs[0];
  cl_shape is = cl_graph_node(e->g, src)->out;
  const dnnl_memory_desc_t *smd = &d->md[src];
  dnnl_memory_desc_t wei_md, wplain, bias_md, dst_md;
  if (smd->ndims == 4) {
    dnnl_dims_t wd = {fp->out_features, is.c, is.h, is.w};
    dnnl_memory_desc_init_by_tag(&wei_md, 4, wd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&wplain, 4, wd, dnnl_f32, dnnl_oihw);
  } else {
    dnnl_dims_t wd = {fp->out_features, (dnnl_dim_t)is.c * is.h * is.w};
    dnnl_memory_desc_init_by_tag(&wei_md, 2, wd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&wplain, 2, wd, dnnl_f32, dnnl_oi);
  }
  dnnl_dims_t bd = {fp->out_features};
  dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_f32, dnnl_x);
  dnnl_dims_t dd = {is.n, fp->out_features};
  dnnl_memory_desc_init_by_tag(&dst_md, 2, dd, dnnl_f32, dnnl_nc);
  dnnl_inner_product_desc_t ipd;
  DN_TRY(dnnl_inner_product_forward_desc_init(&ipd, dnnl_forward_inference, smd, &wei_md,
                                              fp->has_bias ? &bias_md : NULL, &dst_md),
         "inner product desc");
  dnnl_primitive_attr_t attr = make_attr(0, fp->act);
  dnnl_primitive_desc_t pd = pd_create(d, &ipd, attr);
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (!pd) return CL_ERR_UNSUPPORTED;
  dnnl_memory_desc_t want_src = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  dnnl_memory_desc_t want_wei = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_memory_desc_t got_dst = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  dnnl_primitive_t p;
  CL_TRY(prim_from(d, pd, &p));
  dnnl_memory_t wmem, bmem;
  size_t n_w = (size_t)fp->out_features * (size_t)is.c * is.h * is.w;
  CL_TRY(dn_weights(e, s->node.weights, n_w, &wplain, &want_wei, &bias_md, fp->has_bias, &wmem, &bmem));
  dnnl_memory_t smem;
  CL_TRY(dn_as(e, st, src, &want_src, &smem));
  int o = s->pub.out_node;
  CL_TRY(dn_set_out(e, o, &got_dst));
  CL_TRY(dn_weighted_call(d, st, p, smem, wmem, bmem, d->mem[o]));
  return dn_export(e, st, o);
}

void cl__dnnl_destroy(cl__dnnl *d) {
  if (!d) return;
  cl__dn_rows_destroy(d->rows_plan);
  cl__dn_preact_destroy(d);
  for (int i = 0; i < d->n_calls; i++) free(d->calls[i].args);
  free(d->calls);
  for (int i = 0; i < d->n_prims; i++) dnnl_primitive_destroy(d->prims[i]);
  free(d->prims);
  for (int i = 0; i < d->n_owned; i++) dnnl_memory_destroy(d->owned[i]);
  free(d->owned);
  for (int i = 0; i < d->n_bufs; i++) free(d->bufs[i]);
  free(d->bufs);
  if (d->steps) {
    for (int i = 0; i < d->n_nodes; i++) free(d->steps[i].fb_in);
  }
  free(d->steps);
  free(d->mem);
  free(d->md);
  free(d->is2d);
  free(d->last_use);
  free(d->place_root);
  free(d->place_off);
  free(d->root_blocked);
  free(d->root_ptr);
  free(d->region);
  free(d->region_md);
  free(d->pending);
  for (int l = 1; l < d->n_lanes; l++) dnnl_stream_destroy(d->lane_strm[l]);
  free(d->lane_strm);
  free(d->lane_scratch);
  free(d->argv);
  if (d->strm) dnnl_stream_destroy(d->strm);
  if (d->eng) dnnl_engine_destroy(d->eng);
  free(d);
}

/* Activation layout policy: nChw16c wherever the channel count allows (concat slices
 * stay dense and zero-copy; depthwise, Winograd and the direct kernels want it; on
 * ResNet-50/101, where oneDNN's NHWC brgemm 1x1 kernels are the alternative, the two
 * measured within 1-3% of each other here). CLEAVE_DNNL_LAYOUT=any lets each
 * convolution pick instead (for experiments). */
static int choose_blocked(void) {
  const char *env = getenv("CLEAVE_DNNL_LAYOUT");
  return !(env && !strcmp(env, "any"));
}

/* Per-lane scratchpads and argument arrays, once every primitive exists. */
static cl_status dn_lanes(cl_exec *e) {
  cl__dnnl *d = e->dnnl;
  for (int c = 0; c < d->n_calls; c++)
    if (d->calls[c].nargs > d->max_args) d->max_args = d->calls[c].nargs;
  d->lane_scratch = calloc((size_t)d->n_lanes, sizeof(dnnl_memory_t));
  d->argv = malloc(sizeof(dnnl_exec_arg_t) * (size_t)d->n_lanes * (size_t)(d->max_args + 1));
  if (!d->lane_scratch || !d->argv) return CL_ERR_NOMEM;
  dnnl_memory_desc_t md;
  dnnl_dims_t dims = {(dnnl_dim_t)(d->scratch_bytes ? d->scratch_bytes : 64)};
  dnnl_memory_desc_init_by_tag(&md, 1, dims, dnnl_u8, dnnl_x);
  /* One block, each lane's scratchpad cl_apart_bytes after the previous one: buffers
   * two cores rewrite close together cost up to 25-35% on 2 cores of this VM
   * (kern_preact1x1.h); here googlenet on 2 threads, whose branch groups run on two
   * lanes, went 8.08 -> 7.89 ms (medians of 7 alternating processes). */
  size_t stride = cl_apart_bytes(dnnl_memory_desc_get_size(&md));
  char *block = dn_alloc(e, stride * (size_t)d->n_lanes);
  if (!block) return CL_ERR_NOMEM;
  for (int l = 0; l < d->n_lanes; l++)
    if (!(d->lane_scratch[l] = dn_mem(e, &md, block + stride * (size_t)l))) return CL_ERR_NOMEM;
  return CL_OK;
}

cl_status cl__dnnl_create(cl_exec *e) {
  const cl_graph *g = e->g;
  int n = e->n_nodes;
  cl__dnnl *d = calloc(1, sizeof *d);
  if (!d) return CL_ERR_NOMEM;
  e->dnnl = d;
  d->n_nodes = n;
  d->blocked = choose_blocked();
  d->rows = cl__dn_rows_wanted(e);
  if (d->rows) d->blocked = 0; /* NHWC: a row range of a batch-1 tensor is a dense tensor */
  omp_set_num_threads(e->opts.threads);
  if (dnnl_engine_create(&d->eng, dnnl_cpu, 0) != dnnl_success ||
      dnnl_stream_create(&d->strm, d->eng, dnnl_stream_default_flags) != dnnl_success) {
    cl_log_error("executor (oneDNN): cannot create the CPU engine");
    return CL_ERR_INTERNAL;
  }
  if (!(d->lane_strm = calloc((size_t)e->opts.threads, sizeof(dnnl_stream_t)))) return CL_ERR_NOMEM;
  d->lane_strm[0] = d->strm;
  for (d->n_lanes = 1; d->n_lanes < e->opts.threads; d->n_lanes++)
    if (dnnl_stream_create(&d->lane_strm[d->n_lanes], d->eng, dnnl_stream_default_flags) != dnnl_success)
      return CL_ERR_INTERNAL;
  d->mem = calloc((size_t)(n ? n : 1), sizeof *d->mem);
  d->md = calloc((size_t)(n ? n : 1), sizeof *d->md);
  d->is2d = calloc((size_t)(n ? n : 1), 1);
  d->last_use = malloc(sizeof(int) * (size_t)(n ? n : 1));
  d->steps = calloc((size_t)(n ? n : 1), sizeof *d->steps); /* indexed by step, n >= n_steps */
  d->place_root = malloc(sizeof(int) * (size_t)(n ? n : 1));
  d->place_off = calloc((size_t)(n ? n : 1), sizeof(int));
  d->root_blocked = calloc((size_t)(n ? n : 1), 1);
  d->root_ptr = calloc((size_t)(n ? n : 1), sizeof(float *));
  d->region = calloc((size_t)(n ? n : 1), sizeof(dnnl_memory_t));
  d->region_md = calloc((size_t)(n ? n : 1), sizeof(dnnl_memory_desc_t));
  d->pending = calloc((size_t)(n ? n : 1), 1);
  if (!d->place_root || !d->place_off || !d->root_blocked || !d->root_ptr || !d->region || !d->region_md ||
      !d->pending)
    return CL_ERR_NOMEM;
  for (int i = 0; i < n; i++) d->place_root[i] = -1;
  int *consumers = malloc(sizeof(int) * (size_t)(n ? n : 1));
  if (!d->mem || !d->md || !d->is2d || !d->last_use || !d->steps || !consumers) {
    free(consumers);
    return CL_ERR_NOMEM;
  }
  cl_graph_consumer_counts(g, consumers);
  for (int i = 0; i < n; i++) {
    const cl_node *nd = cl_graph_node(g, i);
    d->last_use[i] = -1;
    d->is2d[i] = nd->op == CL_OP_FC || nd->op == CL_OP_FLATTEN ||
                 (nd->op != CL_OP_INPUT && nd->n_inputs > 0 && d->is2d[nd->inputs[0]] && nd->out.h == 1 && nd->out.w == 1);
  }
  for (int k = 0; k < e->n_steps; k++) {
    const cl_node *nd = cl_graph_node(g, e->steps[k].pub.node);
    for (int j = 0; j < nd->n_inputs; j++) d->last_use[nd->inputs[j]] = k;
  }
  if ((getenv("CLEAVE_DNNL_CONCAT") && !strcmp(getenv("CLEAVE_DNNL_CONCAT"), "copy")) || d->rows) {
    /* keep every concat a copy (for comparison; in rows mode a channel slice of an NHWC
     * buffer is strided, where oneDNN 2.6 has only reference kernels) */
  } else if (plan_concat(e) != CL_OK) {
    free(consumers);
    return CL_ERR_NOMEM;
  }
  /* External inputs and graph inputs: plain memories over the caller's NCHW buffers. */
  for (int i = 0; i < n; i++) {
    if (!e->buf[i]) continue;
    int ext = e->step_of[i] < 0 || cl_graph_node(g, i)->op == CL_OP_INPUT;
    if (!ext) continue;
    plain_md(&d->md[i], cl_graph_node(g, i)->out, d->is2d[i]);
    if (!(d->mem[i] = dn_mem(e, &d->md[i], e->buf[i]))) {
      free(consumers);
      return CL_ERR_NOMEM;
    }
  }
  uint8_t *absorbed = calloc((size_t)(e->n_steps ? e->n_steps : 1), 1); /* add steps fused into a conv */
  int *fused_bn = malloc(sizeof(int) * (size_t)(e->n_steps ? e->n_steps : 1)); /* conv step -> its batch norm */
  if (!absorbed || !fused_bn) {
    free(absorbed);
    free(fused_bn);
    free(consumers);
    return CL_ERR_NOMEM;
  }
  for (int k = 0; k < e->n_steps; k++) fused_bn[k] = -1;
  cl_status rc = CL_OK;
  for (int k = 0; k < e->n_steps && rc == CL_OK; k++) {
    cl__exec_step *s = &e->steps[k];
    dn_step *st = &d->steps[k];
    st->first_call = d->n_calls;
    int o = s->pub.out_node;
    if (s->node.op == CL_OP_INPUT) continue;
    if (s->skip) { /* dropout: alias */
      int src = cl_graph_node(g, s->pub.node)->inputs[0];
      d->md[o] = d->md[src];
      d->mem[o] = d->mem[src];
      rc = dn_export(e, st, o);
      continue;
    }
    if (absorbed[k]) { /* residual add done by a conv's sum post-op, or a depthwise convolution by its 1x1 */
      rc = dn_export(e, st, o);
      st->n_pre = st->n_calls;
      continue;
    }
    int first_call = d->n_calls;
    switch (s->node.op) {
      case CL_OP_CONV: {
        if (fused_bn[k] >= 0) { /* batch norm + 1x1 convolution, cleave's kernel */
          rc = cl__dn_build_preact(e, k, fused_bn[k], st);
          if (rc == CL_ERR_UNSUPPORTED) rc = CL_ERR_INTERNAL; /* the batch norm was not built */
          break;
        }
        fuse_info fi = find_sum_fusion(e, k, consumers);
        int k2 = fi.add_step < 0 ? cl__dn_dw_target(e, k, consumers) : -1;
        if (k2 >= 0) { /* 1x1 + depthwise convolution in one primitive */
          rc = cl__dn_build_dw(e, k, k2, st);
          if (rc == CL_OK) {
            absorbed[k2] = 1;
            break;
          }
          if (rc != CL_ERR_UNSUPPORTED) break;
        }
        rc = build_conv(e, k, st, fi);
        if (rc == CL_OK && fi.add_step >= 0) absorbed[fi.add_step] = 1;
        if (rc == CL_ERR_UNSUPPORTED && fi.add_step >= 0) {
          d->n_calls = first_call, st->n_calls = 0;
          fi.add_step = -1;
          rc = build_conv(e, k, st, fi);
        }
        break;
      }
      case CL_OP_FC: rc = build_fc(e, k, st); break;
      case CL_OP_MAXPOOL:
      case CL_OP_AVGPOOL:
      case CL_OP_GAP: rc = build_pool(e, k, st); break;
      case CL_OP_BATCHNORM: {
        int k2 = cl__dn_preact_target(e, k, consumers);
        if (k2 >= 0 && find_sum_fusion(e, k2, consumers).add_step < 0) {
          fused_bn[k2] = k; /* computed by the convolution step: nothing here */
          break;
        }
        rc = build_bn(e, k, st);
        break;
      }
      case CL_OP_RELU:
      case CL_OP_RELU6:
      case CL_OP_SIGMOID:
      case CL_OP_HSWISH: rc = build_eltwise_act(e, k, st); break;
      case CL_OP_ADD:
      case CL_OP_MUL: rc = build_binary(e, k, st); break;
      case CL_OP_CONCAT: rc = build_concat(e, k, st); break;
      case CL_OP_LRN: rc = build_lrn(e, k, st); break;
      case CL_OP_SOFTMAX: rc = build_softmax(e, k, st); break;
      case CL_OP_FLATTEN: rc = build_flatten(e, k, st); break;
      default: rc = CL_ERR_UNSUPPORTED; break;
    }
    if (rc == CL_ERR_UNSUPPORTED) {
      for (int c = first_call; c < d->n_calls; c++) free(d->calls[c].args);
      d->n_calls = first_call;
      st->n_calls = 0;
      rc = build_fallback(e, k, st);
      if (rc == CL_OK) {
        int pre = st->n_calls;
        rc = dn_export(e, st, o);
        st->n_pre = pre;
      }
    } else if (!st->preact) {
      st->n_pre = st->n_calls;
    }
  }
  free(absorbed);
  free(fused_bn);
  free(consumers);
  if (rc != CL_OK) return rc;
  cl__dn_choices_done(e);
  CL_TRY(cl__dn_preact_scratch(e));
  if (d->rows) CL_TRY(cl__dn_rows_create(e));
  CL_TRY(dn_lanes(e));
  if (d->n_fallback)
    cl_log_info("executor (oneDNN): %d of %d steps of '%s' run the portable kernel", d->n_fallback, e->n_steps,
                cl_graph_name(g));
  return CL_OK;
}

cl_status dn_exec_calls(cl__dnnl *d, int lane, int from, int to) {
  dnnl_exec_arg_t *argv = d->argv + (size_t)lane * (size_t)(d->max_args + 1);
  for (int c = from; c < to; c++) {
    int n = d->calls[c].nargs;
    memcpy(argv, d->calls[c].args, sizeof *argv * (size_t)n);
    argv[n] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, d->lane_scratch[lane]};
    dnnl_status_t s = dnnl_primitive_execute(d->calls[c].prim, d->lane_strm[lane], n + 1, argv);
    if (s != dnnl_success) {
      cl_log_error("executor (oneDNN): primitive execution failed (status %d)", (int)s);
      return CL_ERR_INTERNAL;
    }
  }
  return CL_OK;
}

/* Lane > 0 runs inside an OpenMP team (exec_sched.c), where oneDNN runs each
 * primitive on the calling thread only. */
cl_status cl__dnnl_run_step(cl_exec *e, int k, int lane, int threads) {
  cl__dnnl *d = e->dnnl;
  dn_step *st = &d->steps[k];
  int c0 = st->first_call;
  CL_TRY(dn_exec_calls(d, lane, c0, c0 + st->n_pre));
  if (st->fallback) {
    cl__exec_step *s = &e->steps[k];
    const cl_node *nd = cl_graph_node(e->g, s->pub.node);
    enum { MAXIN = 256 };
    cl_tensor tin[MAXIN];
    const cl_tensor *pin[MAXIN];
    if (nd->n_inputs > MAXIN) return CL_ERR_UNSUPPORTED;
    for (int j = 0; j < nd->n_inputs; j++) {
      tin[j].data = st->fb_in[j];
      tin[j].shape = cl_graph_node(e->g, nd->inputs[j])->out;
      tin[j].y0 = 0;
      tin[j].rows = tin[j].shape.h;
      pin[j] = &tin[j];
    }
    cl_tensor tout = {st->fb_out, s->node.out, 0, s->node.out.h};
    cl_op_ctx ctx = {lane ? e->lane_ws[lane] : e->workspace, e->workspace_bytes, threads};
    CL_TRY(cl_op_get(s->node.op)->run(&s->node, pin, nd->n_inputs, &tout, 0, tout.shape.h, &ctx));
  } else if (st->preact) {
    cl__dn_run_preact(d, st->preact - 1, lane, threads);
  }
  CL_TRY(dn_exec_calls(d, lane, c0 + st->n_pre, c0 + st->n_calls));
  return CL_OK;
}

/* Byte ranges of step k: every call argument (DST/TO written, the rest read; weights
 * are read-only and never conflict) and a fallback kernel's NCHW input/output. */
int cl__dnnl_step_spans(const cl_exec *e, int k, cl__span *out, int cap) {
  const cl__dnnl *d = e->dnnl;
  const dn_step *st = &d->steps[k];
  int n = 0;
  for (int c = st->first_call; c < st->first_call + st->n_calls; c++)
    for (int a = 0; a < d->calls[c].nargs; a++, n++) {
      if (n >= cap) continue;
      const dnnl_exec_arg_t *arg = &d->calls[c].args[a];
      const dnnl_memory_desc_t *md;
      void *h = NULL;
      dnnl_memory_get_memory_desc(arg->memory, &md);
      dnnl_memory_get_data_handle(arg->memory, &h);
      out[n] = (cl__span){h, dnnl_memory_desc_get_size(md), arg->arg == DNNL_ARG_DST};
    }
  if (st->preact) {
    cl__span two[2];
    cl__dn_preact_spans(d, st->preact - 1, two, 2);
    for (int j = 0; j < 2; j++, n++)
      if (n < cap) out[n] = two[j];
  }
  if (st->fallback) {
    const cl_node *nd = cl_graph_node(e->g, e->steps[k].pub.node);
    for (int j = 0; j <= nd->n_inputs; j++, n++) {
      int node = j < nd->n_inputs ? nd->inputs[j] : e->steps[k].pub.out_node;
      if (n < cap)
        out[n] = (cl__span){j < nd->n_inputs ? (const char *)st->fb_in[j] : (const char *)st->fb_out,
                            sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(e->g, node)->out), j == nd->n_inputs};
    }
  }
  return n;
}

void cl__dnnl_stats(const cl__dnnl *d, int *fallback, int *ref) {
  *fallback = d ? d->n_fallback : 0;
  *ref = d ? d->n_ref : 0;
}

int cl__dnnl_rows_steps(const cl__dnnl *d) { return cl__dn_rows_split_steps(d); }
int cl__dnnl_preact_steps(const cl__dnnl *d) { return d ? d->n_pa : 0; }
int cl__dnnl_dw_steps(const cl__dnnl *d) { return d ? d->n_dw : 0; }

/* Implementations whose work split is fixed at creation by the thread count: run by
 * one thread of a team, they leave part of their output unwritten (exec_dnnl_avx2 runs
 * every zoo model with every branch group forced parallel, NHWC layers included). */
static int team_unsafe_impl(const char *impl) { return impl && strstr(impl, "tbb") != NULL; }

int cl__dnnl_step_lane_safe(const cl_exec *e, int k) {
  const cl__dnnl *d = e->dnnl;
  const dn_step *st = &d->steps[k];
  for (int c = st->first_call; c < st->first_call + st->n_calls; c++) {
    const_dnnl_primitive_desc_t pd = NULL;
    const char *impl = NULL;
    if (dnnl_primitive_get_primitive_desc(d->calls[c].prim, &pd) != dnnl_success ||
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || team_unsafe_impl(impl))
      return 0;
  }
  return 1;
}

cl_status cl__dnnl_run_range(cl_exec *e, int a, int b) {
  if (e->dnnl->rows_plan) return cl__dn_rows_run(e, a, b);
  for (int k = a; k < b; k++) CL_TRY(cl__dnnl_run_step(e, k, 0, e->opts.threads));
  return CL_OK;
}

#endif
