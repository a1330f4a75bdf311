/* oneDNN backend, op builders other than convolution and inner product (which live
 * in exec_dnnl.c with the helpers and the executor glue), and the zero-copy
 * concatenation planner. Each builder appends the calls of step k to @p st and sets
 * the output node's memory; CL_ERR_UNSUPPORTED makes the step run the portable kernel. */
#ifdef CLEAVE_HAVE_DNNL
#include <stdlib.h>
#include <string.h>

#include "exec_dnnl_internal.h"

/* Generic single-source primitive: desc already initialised on the source's md. */
static cl_status finish_unary(cl_exec *e, dn_step *st, int src, int o, const void *desc, dnnl_primitive_attr_t attr,
                              int extra_arg, dnnl_memory_t extra_mem) {
  cl__dnnl *d = e->dnnl;
  dnnl_primitive_desc_t pd = pd_create(d, desc, attr);
  if (!pd) return CL_ERR_UNSUPPORTED;
  dnnl_memory_desc_t want_src = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  dnnl_memory_desc_t got_dst = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  dnnl_primitive_t p;
  CL_TRY(prim_from(d, pd, &p));
  dnnl_memory_t smem;
  CL_TRY(dn_as(e, st, src, &want_src, &smem));
  CL_TRY(dn_set_out(e, o, &got_dst));
  dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, smem}, {DNNL_ARG_DST, d->mem[o]}, {extra_arg, extra_mem}};
  return dn_call_add(d, st, p, extra_mem ? 3 : 2, args);
}

cl_status build_pool(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  const cl_node *gn = cl_graph_node(e->g, s->pub.node);
  int src = gn->inputs[0];
  cl_shape is = cl_graph_node(e->g, src)->out, os = s->node.out;
  dnnl_alg_kind_t alg;
  dnnl_dims_t kern, str, pl, pr, dil = {0, 0};
  if (s->node.op == CL_OP_GAP) {
    alg = dnnl_pooling_avg_exclude_padding;
    kern[0] = is.h, kern[1] = is.w, str[0] = 1, str[1] = 1;
    pl[0] = pl[1] = pr[0] = pr[1] = 0;
  } else {
    const cl_pool_params *pp = &s->node.p.pool;
    kern[0] = pp->kh, kern[1] = pp->kw, str[0] = pp->sh, str[1] = pp->sw;
    pl[0] = pp->pt, pl[1] = pp->pl;
    /* Right/bottom padding that yields the IR's output size (ceil mode adds some). */
    pr[0] = (dnnl_dim_t)(os.h - 1) * pp->sh + pp->kh - is.h - pp->pt;
    pr[1] = (dnnl_dim_t)(os.w - 1) * pp->sw + pp->kw - is.w - pp->pl;
    if (pr[0] < 0) pr[0] = 0;
    if (pr[1] < 0) pr[1] = 0;
    if (s->node.op == CL_OP_MAXPOOL) {
      alg = dnnl_pooling_max;
    } else {
      int padded = pp->pt || pp->pl || pr[0] || pr[1];
      if (pp->count_include_pad && padded) {
        /* PyTorch counts the declared padding but not ceil-mode overhang. */
        if (pr[0] != pp->pb || pr[1] != pp->pr) return CL_ERR_UNSUPPORTED;
        alg = dnnl_pooling_avg_include_padding;
      } else {
        alg = dnnl_pooling_avg_exclude_padding;
      }
    }
  }
  dnnl_memory_desc_t dst_md, src_md = d->md[src];
  any_md(&dst_md, os);
  if (d->region[s->pub.out_node]) {
    /* Written into a concat slot: the input in the slot's layout too (oneDNN has only a
     * reference kernel for, e.g., NHWC in and nChw16c out, where the producer chose
     * NHWC: exec_dnnl_choice.c). */
    int root = d->place_root[s->pub.out_node];
    dst_md = d->region_md[s->pub.out_node];
    if (src_md.ndims == 4 && (!d->root_blocked[root] || is.c % cl__dn_blk() == 0)) {
      if (d->root_blocked[root]) blocked_md(&src_md, is);
      else plain_md(&src_md, is, 0);
    }
  }
  dnnl_pooling_v2_desc_t pdsc;
  DN_TRY(dnnl_pooling_v2_forward_desc_init(&pdsc, dnnl_forward_inference, alg, &src_md, &dst_md, str, kern, dil, pl,
                                           pr),
         "pooling desc");
  CL_TRY(finish_unary(e, st, src, s->pub.out_node, &pdsc, NULL, 0, NULL));
  return dn_export(e, st, s->pub.out_node);
}

cl_status build_bn(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  const cl_node *gn = cl_graph_node(e->g, s->pub.node);
  int src = gn->inputs[0];
  int c = cl_graph_node(e->g, src)->out.c;
  cl_act act = s->node.p.bn.act;
  unsigned flags = dnnl_use_global_stats | dnnl_use_scaleshift;
  if (act == CL_ACT_RELU) flags |= dnnl_fuse_norm_relu;
  dnnl_batch_normalization_desc_t bd;
  DN_TRY(dnnl_batch_normalization_forward_desc_init(&bd, dnnl_forward_inference, &d->md[src], s->node.p.bn.eps, flags),
         "batch-norm desc");
  dnnl_primitive_desc_t pd = pd_create(d, &bd, NULL);
  if (!pd) return CL_ERR_UNSUPPORTED;
  dnnl_memory_desc_t want_src = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  dnnl_memory_desc_t got_dst = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  dnnl_primitive_t p;
  CL_TRY(prim_from(d, pd, &p));
  dnnl_memory_desc_t ss_md, v_md;
  dnnl_dims_t ssd = {2, c}, vd = {c};
  dnnl_memory_desc_init_by_tag(&ss_md, 2, ssd, dnnl_f32, dnnl_nc);
  dnnl_memory_desc_init_by_tag(&v_md, 1, vd, dnnl_f32, dnnl_x);
  float *w = s->node.weights; /* gamma, beta, mean, var */
  dnnl_memory_t ss = dn_mem(e, &ss_md, w), mean = dn_mem(e, &v_md, w + 2 * c), var = dn_mem(e, &v_md, w + 3 * c);
  if (!ss || !mean || !var) return CL_ERR_NOMEM;
  dnnl_memory_t smem;
  CL_TRY(dn_as(e, st, src, &want_src, &smem));
  int o = s->pub.out_node;
  CL_TRY(dn_set_out(e, o, &got_dst));
  dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, smem},
                             {DNNL_ARG_MEAN, mean},
                             {DNNL_ARG_VARIANCE, var},
                             {DNNL_ARG_SCALE_SHIFT, ss},
                             {DNNL_ARG_DST, d->mem[o]}};
  CL_TRY(dn_call_add(d, st, p, 5, args));
  if (act != CL_ACT_NONE && act != CL_ACT_RELU) CL_TRY(dn_act_inplace(e, st, o, act));
  return dn_export(e, st, o);
}

cl_status build_eltwise_act(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  const cl_node *gn = cl_graph_node(e->g, s->pub.node);
  int src = gn->inputs[0];
  cl_act act = s->node.op == CL_OP_RELU      ? CL_ACT_RELU
               : s->node.op == CL_OP_RELU6   ? CL_ACT_RELU6
               : s->node.op == CL_OP_SIGMOID ? CL_ACT_SIGMOID
                                             : CL_ACT_HSWISH;
  dnnl_alg_kind_t alg;
  float a, b;
  act_alg(act, &alg, &a, &b);
  dnnl_eltwise_desc_t ed;
  DN_TRY(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, alg, &d->md[src], a, b), "eltwise desc");
  CL_TRY(finish_unary(e, st, src, s->pub.out_node, &ed, NULL, 0, NULL));
  return dn_export(e, st, s->pub.out_node);
}

cl_status build_binary(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  const cl_node *gn = cl_graph_node(e->g, s->pub.node);
  if (gn->n_inputs != 2) return CL_ERR_UNSUPPORTED;
  if (s->node.op == CL_OP_ADD && s->node.p.eltwise.scale != 0.0f) return CL_ERR_UNSUPPORTED; /* portable kernel */
  int a = gn->inputs[0], b = gn->inputs[1];
  if (d->md[a].ndims != d->md[b].ndims) return CL_ERR_UNSUPPORTED;
  dnnl_binary_desc_t bd;
  dnnl_memory_desc_t dst_md = d->md[a], a_md = d->md[a], b_md = d->md[b];
  cl_shape as = cl_graph_node(e->g, a)->out, bs = cl_graph_node(e->g, b)->out;
  /* Keep the blocked layout: an NCHW addend (a tensor received from another rank)
   * would otherwise make the sum, and every consumer after it, NCHW. */
  if (d->blocked && a_md.ndims == 4 && as.c % cl__dn_blk() == 0) {
    blocked_md(&dst_md, s->node.out);
    a_md = dst_md;
    if (bs.h == as.h && bs.w == as.w) b_md = dst_md;
  }
  dnnl_memory_t am, bm;
  CL_TRY(dn_as(e, st, a, &a_md, &am));
  CL_TRY(dn_as(e, st, b, &b_md, &bm));
  DN_TRY(dnnl_binary_desc_init(&bd, s->node.op == CL_OP_ADD ? dnnl_binary_add : dnnl_binary_mul, &a_md, &b_md,
                               &dst_md),
         "binary desc");
  dnnl_primitive_attr_t attr = make_attr(0, s->node.p.eltwise.act);
  dnnl_primitive_desc_t pd = pd_create(d, &bd, attr);
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (!pd) return CL_ERR_UNSUPPORTED;
  dnnl_primitive_t p;
  CL_TRY(prim_from(d, pd, &p));
  int o = s->pub.out_node;
  CL_TRY(dn_set_out(e, o, &dst_md));
  dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, am}, {DNNL_ARG_SRC_1, bm}, {DNNL_ARG_DST, d->mem[o]}};
  CL_TRY(dn_call_add(d, st, p, 3, args));
  return dn_export(e, st, o);
}

/* A memory over channels [off, off + c) of placed root @p root's buffer. */
static dnnl_memory_t region_view(cl_exec *e, int root, int off, cl_shape sh, dnnl_memory_desc_t *md) {
  cl__dnnl *d = e->dnnl;
  if (d->root_blocked[root]) blocked_md(md, sh);
  else plain_md(md, sh, 0);
  return dn_mem(e, md, d->root_ptr[root] + (size_t)off * (size_t)sh.h * (size_t)sh.w);
}

cl_status build_concat(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  const cl_node *gn = cl_graph_node(e->g, s->pub.node);
  int n = gn->n_inputs;
  int o = s->pub.out_node;
  if (d->region[o]) { /* inputs were written into their slots; copy the others */
    int root = d->place_root[o], off = d->place_off[o];
    for (int j = 0; j < n; j++) {
      int src = gn->inputs[j];
      cl_shape sh = cl_graph_node(e->g, src)->out;
      if (!(d->place_root[src] == root && d->place_off[src] == off && d->region[src])) {
        dnnl_memory_desc_t vmd;
        dnnl_memory_t v = region_view(e, root, off, sh, &vmd);
        if (!v) return CL_ERR_NOMEM;
        CL_TRY(dn_reorder_call(e, st, d->mem[src], v));
        d->n_concat_copies++;
      }
      off += sh.c;
    }
    d->md[o] = d->region_md[o];
    d->mem[o] = d->region[o];
    return dn_export(e, st, o);
  }
  dnnl_memory_desc_t *mds = malloc(sizeof *mds * (size_t)n);
  dnnl_exec_arg_t *args = malloc(sizeof *args * (size_t)(n + 1));
  if (!mds || !args) {
    free(mds);
    free(args);
    return CL_ERR_NOMEM;
  }
  cl_status rc = CL_OK;
  for (int j = 0; j < n; j++) {
    mds[j] = d->md[gn->inputs[j]];
    if (mds[j].ndims != 4) rc = CL_ERR_UNSUPPORTED;
  }
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_attr_t attr = user_scratch(NULL);
  if (rc == CL_OK && dnnl_concat_primitive_desc_create(&pd, NULL, n, 1, mds, attr, d->eng) != dnnl_success)
    rc = CL_ERR_UNSUPPORTED;
  if (attr) dnnl_primitive_attr_destroy(attr);
  dnnl_primitive_t p = NULL;
  if (rc == CL_OK) {
    dnnl_memory_desc_t got_dst = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    rc = prim_from(d, pd, &p);
    if (rc == CL_OK) rc = dn_set_out(e, s->pub.out_node, &got_dst);
  }
  if (rc == CL_OK) {
    for (int j = 0; j < n; j++) args[j] = (dnnl_exec_arg_t){DNNL_ARG_MULTIPLE_SRC + j, d->mem[gn->inputs[j]]};
    args[n] = (dnnl_exec_arg_t){DNNL_ARG_DST, d->mem[s->pub.out_node]};
    rc = dn_call_add(d, st, p, n + 1, args);
    d->n_concat_copies += n;
  }
  free(mds);
  free(args);
  CL_TRY(rc);
  return dn_export(e, st, s->pub.out_node);
}

cl_status build_lrn(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  const cl_lrn_params *lp = &s->node.p.lrn;
  if (lp->size % 2 == 0) return CL_ERR_UNSUPPORTED; /* PyTorch's even window is asymmetric */
  int src = cl_graph_node(e->g, s->pub.node)->inputs[0];
  dnnl_lrn_desc_t ld;
  DN_TRY(dnnl_lrn_forward_desc_init(&ld, dnnl_forward_inference, dnnl_lrn_across_channels, &d->md[src], lp->size,
                                    lp->alpha, lp->beta, lp->k),
         "lrn desc");
  CL_TRY(finish_unary(e, st, src, s->pub.out_node, &ld, NULL, 0, NULL));
  return dn_export(e, st, s->pub.out_node);
}

cl_status build_softmax(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  int src = cl_graph_node(e->g, s->pub.node)->inputs[0];
  dnnl_softmax_desc_t sd;
  DN_TRY(dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &d->md[src], 1), "softmax desc");
  CL_TRY(finish_unary(e, st, src, s->pub.out_node, &sd, NULL, 0, NULL));
  return dn_export(e, st, s->pub.out_node);
}

/* Flatten: NCHW order, i.e. a reorder to plain then a 2-D view of the same bytes. */
cl_status build_flatten(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  int src = cl_graph_node(e->g, s->pub.node)->inputs[0];
  int o = s->pub.out_node;
  cl_shape is = cl_graph_node(e->g, src)->out;
  dnnl_memory_desc_t p4, p2;
  plain_md(&p4, is, d->md[src].ndims == 2);
  plain_md(&p2, s->node.out, 1);
  void *ptr = NULL;
  if (md_is_plain(&d->md[src])) {
    dnnl_memory_get_data_handle(d->mem[src], &ptr);
    if (e->exported[o] && e->buf[o]) { /* the caller wants its own buffer */
      d->md[o] = p2;
      d->mem[o] = dn_mem(e, &p2, e->buf[o]);
      if (!d->mem[o]) return CL_ERR_NOMEM;
      dnnl_memory_t from = dn_mem(e, &p2, ptr);
      if (!from) return CL_ERR_NOMEM;
      return dn_reorder_call(e, st, from, d->mem[o]);
    }
    d->md[o] = p2;
    d->mem[o] = dn_mem(e, &p2, ptr);
    return d->mem[o] ? CL_OK : CL_ERR_NOMEM;
  }
  ptr = e->exported[o] && e->buf[o] ? (void *)e->buf[o] : dn_alloc(e, dnnl_memory_desc_get_size(&p4));
  if (!ptr) return CL_ERR_NOMEM;
  dnnl_memory_t m4 = dn_mem(e, &p4, ptr);
  if (!m4) return CL_ERR_NOMEM;
  CL_TRY(dn_reorder_call(e, st, d->mem[src], m4));
  d->md[o] = p2;
  d->mem[o] = dn_mem(e, &p2, ptr);
  return d->mem[o] ? CL_OK : CL_ERR_NOMEM;
}

/* Portable kernel on NCHW copies of the inputs. */
cl_status build_fallback(cl_exec *e, int k, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  cl__exec_step *s = &e->steps[k];
  const cl_node *gn = cl_graph_node(e->g, s->pub.node);
  int o = s->pub.out_node;
  st->fallback = 1;
  st->fb_in = calloc((size_t)(gn->n_inputs ? gn->n_inputs : 1), sizeof(float *));
  if (!st->fb_in) return CL_ERR_NOMEM;
  for (int j = 0; j < gn->n_inputs; j++) {
    int src = gn->inputs[j];
    dnnl_memory_desc_t pmd;
    plain_md(&pmd, cl_graph_node(e->g, src)->out, d->md[src].ndims == 2);
    dnnl_memory_t m;
    CL_TRY(dn_as(e, st, src, &pmd, &m));
    void *h = NULL;
    dnnl_memory_get_data_handle(m, &h);
    st->fb_in[j] = h;
  }
  st->n_pre = st->n_calls;
  int is2d = d->is2d[o];
  dnnl_memory_desc_t omd;
  plain_md(&omd, s->node.out, is2d);
  CL_TRY(dn_set_out(e, o, &omd));
  void *h = NULL;
  dnnl_memory_get_data_handle(d->mem[o], &h);
  st->fb_out = h;
  d->n_fallback++;
  return CL_OK;
}

/* Zero-copy concatenation for batch 1: with N = 1, channels [a, b) of an NCHW tensor,
 * or of an nChw16c tensor when a and b are multiples of 16, are themselves a dense
 * tensor of that layout. So a concat's inputs can be computed straight into its
 * buffer, and a concat that is itself an input of a later concat (DenseNet's growing
 * feature maps, Inception's nested branches) becomes a prefix view of that concat's
 * buffer. Concats are visited consumers-first; each node is placed at most once (the
 * first placement wins; other concats copy it), so the written regions are disjoint. */
static int placeable(const cl_exec *e, int node) {
  int k = e->step_of[node];
  if (k < 0) return 0; /* external input: the caller's buffer */
  const cl__exec_step *s = &e->steps[k];
  if (s->skip) return 0;
  switch (s->node.op) {
    case CL_OP_CONV:
    case CL_OP_MAXPOOL:
    case CL_OP_AVGPOOL:
    case CL_OP_BATCHNORM:
    case CL_OP_RELU:
    case CL_OP_RELU6:
    case CL_OP_SIGMOID:
    case CL_OP_HSWISH:
    case CL_OP_ADD:
    case CL_OP_MUL:
    case CL_OP_CONCAT:
    case CL_OP_LRN: return 1;
    default: return 0;
  }
}

/* The concat's inputs already sit in one placed buffer, side by side in its order. */
static int inputs_in_place(const cl__dnnl *d, const cl_graph *g, const cl_node *cn) {
  int root = d->place_root[cn->inputs[0]], off = d->place_off[cn->inputs[0]];
  if (root < 0) return 0;
  for (int j = 0; j < cn->n_inputs; j++) {
    int src = cn->inputs[j];
    if (d->place_root[src] != root || d->place_off[src] != off) return 0;
    off += cl_graph_node(g, src)->out.c;
  }
  return 1;
}

cl_status plan_concat(cl_exec *e) {
  cl__dnnl *d = e->dnnl;
  const cl_graph *g = e->g;
  for (int k = e->n_steps - 1; k >= 0; k--) {
    const cl__exec_step *s = &e->steps[k];
    if (s->node.op != CL_OP_CONCAT) continue;
    int c = s->pub.out_node;
    const cl_node *cn = cl_graph_node(g, s->pub.node);
    if (cn->out.n != 1) continue;
    int ok = 1;
    for (int j = 0; j < cn->n_inputs; j++) {
      const cl_node *in = cl_graph_node(g, cn->inputs[j]);
      if (in->out.n != 1 || in->out.h != cn->out.h || in->out.w != cn->out.w || d->is2d[cn->inputs[j]]) ok = 0;
    }
    if (!ok) continue;
    if (d->place_root[c] < 0 && inputs_in_place(d, g, cn)) {
      /* DenseNet: every concat of a block lists all earlier feature maps, which the
       * block's last concat has already placed side by side: this one is a prefix of
       * that buffer and copies nothing (531 copies per densenet121 inference before). */
      d->place_root[c] = d->place_root[cn->inputs[0]];
      d->place_off[c] = d->place_off[cn->inputs[0]];
      continue;
    }
    if (d->place_root[c] < 0) {
      d->place_root[c] = c;
      d->place_off[c] = 0;
    }
    int root = d->place_root[c], off = d->place_off[c];
    for (int j = 0; j < cn->n_inputs; j++) {
      int src = cn->inputs[j];
      if (d->place_root[src] < 0 && placeable(e, src)) {
        d->place_root[src] = root;
        d->place_off[src] = off;
      }
      off += cl_graph_node(g, src)->out.c;
    }
  }
  /* Per root: blocked (nChw16c / nChw8c) if every member's offset and width are multiples of the block. */
  for (int r = 0; r < d->n_nodes; r++) {
    if (d->place_root[r] != r) continue;
    int blocked = 1;
    for (int i = 0; i < d->n_nodes; i++)
      if (d->place_root[i] == r && (d->place_off[i] % cl__dn_blk() || cl_graph_node(g, i)->out.c % cl__dn_blk())) blocked = 0;
    d->root_blocked[r] = (uint8_t)blocked;
    cl_shape sh = cl_graph_node(g, r)->out;
    d->root_ptr[r] = dn_alloc(e, sizeof(float) * (size_t)cl_shape_numel(sh));
    if (!d->root_ptr[r]) return CL_ERR_NOMEM;
  }
  for (int i = 0; i < d->n_nodes; i++) {
    int r = d->place_root[i];
    if (r < 0) continue;
    d->region[i] = region_view(e, r, d->place_off[i], cl_graph_node(g, i)->out, &d->region_md[i]);
    if (!d->region[i]) return CL_ERR_NOMEM;
  }
  return CL_OK;
}

#else
typedef int cl__exec_dnnl_ops_unused; /* ISO C: no empty translation unit */
#endif
