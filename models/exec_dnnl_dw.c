/* oneDNN backend: a 3x3 depthwise convolution fused into the 1x1 convolution that is
 * its only input (oneDNN's depthwise post-op, jit_1x1 + jit_uni_dw on nChw16c).
 *
 * MobileNet-v2's inverted residual blocks expand the channels six times with a 1x1
 * convolution and filter the result with a 3x3 depthwise one. On the large maps the
 * expanded tensor (96 x 112 x 112 floats = 4.8 MB in the second block) is written to
 * memory by the first convolution and read back by the second. With the post-op the
 * 1x1 convolution keeps a few rows of it in a per-thread buffer and the depthwise
 * convolution consumes them there: the expanded map is never materialised.
 *
 * The depthwise step then computes nothing; the 1x1 step writes its output. Only a
 * pair where the 1x1 output has no other reader (not exported, no concat slot) and the
 * depthwise step comes right after it is fused. Whether it pays is decided per graph
 * by racing whole executors (exec_dnnl_fuse.c): every such pair fused, or none.
 * CLEAVE_DNNL_DW=off|on|auto.
 *
 * oneDNN itself fuses only where the expanded map would not stay in L2 (MobileNet-v2's
 * three blocks on 112x112 and 56x56 maps); elsewhere it offers "ref_fused_convolution",
 * the two primitives run one after the other through a scratchpad, which is not taken
 * (it saved nothing, and is the reference path by name). */
#include <string.h>

#ifdef CLEAVE_HAVE_DNNL
#include "exec_dnnl_internal.h"

/* The depthwise convolution step that 1x1 convolution step @p k can absorb, or -1. */
int cl__dn_dw_target(cl_exec *e, int k, const int *consumers) {
  cl__dnnl *d = e->dnnl;
  if (d->rows || !d->blocked || cl__dn_blk() != 16 || !cl__dn_fuse_mode(e, CL__FUSE_DW) || k + 1 >= e->n_steps) return -1;
  const cl__exec_step *s = &e->steps[k];
  const cl_conv_params *cp = &s->node.p.conv;
  if (s->skip || s->node.op != CL_OP_CONV || cp->groups != 1 || cp->kh != 1 || cp->kw != 1 || cp->sh != 1 ||
      cp->sw != 1 || cp->pt || cp->pb || cp->pl || cp->pr || cp->dh != 1 || cp->dw != 1)
    return -1;
  if (cp->act != CL_ACT_NONE && cp->act != CL_ACT_RELU && cp->act != CL_ACT_RELU6) return -1;
  int o = s->pub.out_node;
  if (consumers[o] != 1 || e->exported[o] || d->region[o] || d->place_root[o] >= 0) return -1;
  int k2 = k + 1;
  const cl__exec_step *c = &e->steps[k2];
  const cl_node *cn = cl_graph_node(e->g, c->pub.node);
  const cl_conv_params *dp = &c->node.p.conv;
  if (c->skip || c->node.op != CL_OP_CONV || cn->n_inputs != 1 || cn->inputs[0] != o) return -1;
  cl_shape is = s->node.out, os = c->node.out;
  if (dp->groups != is.c || dp->out_c != is.c || is.c % 16 || dp->kh != 3 || dp->kw != 3 || dp->sh != dp->sw ||
      (dp->sh != 1 && dp->sh != 2) || dp->dh != 1 || dp->dw != 1 || dp->pt != 1 || dp->pl != 1 || dp->pb > 1 ||
      dp->pr > 1)
    return -1;
  /* oneDNN derives the output from the left padding: it must be the node's */
  if (os.h != (is.h + 2 - 3) / dp->sh + 1 || os.w != (is.w + 2 - 3) / dp->sw + 1) return -1;
  if (dp->act != CL_ACT_NONE && dp->act != CL_ACT_RELU && dp->act != CL_ACT_RELU6) return -1;
  int o2 = c->pub.out_node;
  if (d->region[o2]) return -1;
  return k2;
}

/* Build 1x1 step @p k with depthwise step @p k2 inside it. CL_ERR_UNSUPPORTED (nothing
 * added): oneDNN has no jit kernel for the pair; build them separately. */
cl_status cl__dn_build_dw(cl_exec *e, int k, int k2, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  const cl__exec_step *s = &e->steps[k], *s2 = &e->steps[k2];
  const cl_conv_params *cp = &s->node.p.conv, *dp = &s2->node.p.conv;
  int src = cl_graph_node(e->g, s->pub.node)->inputs[0];
  cl_shape is = cl_graph_node(e->g, src)->out, os = s->node.out, os2 = s2->node.out;
  dnnl_memory_desc_t wei_md, bias_md, dst_md, srcs[2];
  dnnl_dims_t wd = {cp->out_c, is.c, 1, 1}, bd = {cp->out_c};
  dnnl_memory_desc_init_by_tag(&wei_md, 4, wd, dnnl_f32, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_f32, dnnl_x);
  blocked_md(&dst_md, os);
  /* the producer's layout first (no reorder), else oneDNN's pick */
  srcs[0] = d->md[src];
  any_md(&srcs[1], is);
  dnnl_primitive_attr_t attr = make_attr_dw(0, cp->act, dp->sh, dp->act);
  if (!attr) return CL_ERR_NOMEM;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_dims_t one = {1, 1}, zero = {0, 0};
  for (int v = 0; v < 2 && !pd; v++) {
    dnnl_convolution_desc_t cd;
    if (srcs[v].ndims != 4 ||
        dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &srcs[v], &wei_md,
                                           cp->has_bias ? &bias_md : NULL, &dst_md, one, zero,
                                           zero) != dnnl_success)
      continue;
    pd = pd_create(d, &cd, attr);
    const char *impl = NULL;
    if (pd && (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl ||
               strncmp(impl, "jit_1x1", 7))) { /* not "ref_fused_convolution": two primitives */
      dnnl_primitive_desc_destroy(pd);
      pd = NULL;
    }
  }
  dnnl_primitive_attr_destroy(attr);
  if (!pd) return CL_ERR_UNSUPPORTED;
  dnnl_memory_desc_t want_src = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  dnnl_memory_desc_t want_wei = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_memory_desc_t got_dst = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  const dnnl_memory_desc_t *q_dw =
      dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS);
  if (!q_dw || q_dw->ndims == 0 || got_dst.dims[2] != os2.h || got_dst.dims[3] != os2.w ||
      got_dst.dims[1] != os2.c) {
    dnnl_primitive_desc_destroy(pd);
    return CL_ERR_UNSUPPORTED;
  }
  dnnl_memory_desc_t want_dw = *q_dw;
  dnnl_primitive_t p;
  CL_TRY(prim_from(d, pd, &p));
  /* weights: the 1x1's [oc][ic], the depthwise [c][1][1][3][3], packed once */
  dnnl_memory_desc_t plain1, plain2, dbias_md;
  dnnl_memory_desc_init_by_tag(&plain1, 4, wd, dnnl_f32, dnnl_oihw);
  dnnl_dims_t dwd = {os2.c, 1, 1, 3, 3}, dbd = {os2.c};
  dnnl_memory_desc_init_by_tag(&plain2, 5, dwd, dnnl_f32, dnnl_goihw);
  dnnl_memory_desc_init_by_tag(&dbias_md, 1, dbd, dnnl_f32, dnnl_x);
  size_t n_w1 = (size_t)cp->out_c * (size_t)is.c, n_w2 = (size_t)os2.c * 9;
  dnnl_memory_t w1 = dn_mem(e, &want_wei, NULL), w2 = dn_mem(e, &want_dw, NULL);
  dnnl_memory_t w1s = dn_mem(e, &plain1, (void *)s->node.weights), w2s = dn_mem(e, &plain2, (void *)s2->node.weights);
  if (!w1 || !w2 || !w1s || !w2s) return CL_ERR_NOMEM;
  CL_TRY(cl__dn_reorder_now(d, w1s, w1));
  CL_TRY(cl__dn_reorder_now(d, w2s, w2));
  dnnl_memory_t b1 = NULL, b2;
  if (cp->has_bias && !(b1 = dn_mem(e, &bias_md, (void *)(s->node.weights + n_w1)))) return CL_ERR_NOMEM;
  if (dp->has_bias) {
    b2 = dn_mem(e, &dbias_md, (void *)(s2->node.weights + n_w2));
  } else {
    float *z = dn_alloc(e, sizeof(float) * (size_t)os2.c); /* zeroed */
    b2 = z ? dn_mem(e, &dbias_md, z) : NULL;
  }
  if (!b2) return CL_ERR_NOMEM;
  dnnl_memory_t smem;
  CL_TRY(dn_as(e, st, src, &want_src, &smem));
  int o2 = s2->pub.out_node;
  CL_TRY(dn_set_out(e, o2, &got_dst));
  dnnl_exec_arg_t args[6];
  int na = weighted_args(args, smem, w1, b1, d->mem[o2]);
  args[na++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_WEIGHTS, w2};
  args[na++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_POST_OP_DW | DNNL_ARG_BIAS, b2};
  CL_TRY(dn_call_add(d, st, p, na, args));
  d->n_dw++;
  return CL_OK;
}
#else
typedef int cl__dn_dw_not_built; /* ISO C: a translation unit is not empty */
#endif
