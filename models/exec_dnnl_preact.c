/* oneDNN backend: a batch norm (+ ReLU) step fused into the 1x1 convolution that is its
 * only reader, run by cleave's own kernel (models/kern_preact1x1.c).
 *
 * DenseNet's layers are BN-ReLU-Conv1x1-BN-ReLU-Conv3x3: the second batch norm folds
 * into the 1x1 convolution's weights, the first cannot (the ReLU sits between it and
 * the convolution), so it ran as its own step that reads the whole concatenated map and
 * writes it again. Here the batch-norm step computes nothing and the convolution step
 * applies it to its input on the fly. The batch norm's output is never materialised,
 * so only a batch norm whose output nobody else reads (not exported, not a concat
 * input, one consumer) is fused.
 *
 * Whether it pays is decided per graph by racing whole executors (exec_dnnl_fuse.c):
 * every such batch norm fused, none, and only those on maps up to 14x14 (on 2 threads
 * the fused kernel loses to oneDNN's pair on DenseNet's 56x56 and 28x28 maps and wins on
 * 14x14 and 7x7: bench_preact1x1 -t 2). Timing single layers in isolation does not work
 * here: with its input and weights in cache oneDNN's pair is within a few percent of
 * the fused kernel (bench_preact1x1), while in the running network, where the batch
 * norm reads a map evicted since it was written, fusing every such layer made
 * DenseNet-121 10% faster on 1 thread. CLEAVE_DNNL_PREACT=off|on|auto. */
#include <stdlib.h>
#include <string.h>

#ifdef CLEAVE_HAVE_DNNL
#include <omp.h>

#include "exec_dnnl_internal.h"
#include "kern_preact1x1.h"

struct cl__dn_preact {
  cl_preact1x1 p;
  const float *x;
  size_t xcs;
  float *y;
  size_t ycs;
};

enum { SMALL_POS = 196 }; /* the partial variant: maps up to 14x14 (cl__dn_fuse_here) */

/* A batch-1 nChw16c activation (or a channel prefix of one) with positions contiguous:
 * the channel-block stride (floats) and the byte offset of its first element. */
static int blocked16(const dnnl_memory_desc_t *md, size_t *cs, size_t *off) {
  if (md->ndims != 4 || md->dims[0] != 1 || md->format_kind != dnnl_blocked || md->data_type != dnnl_f32)
    return 0;
  const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
  dnnl_dim_t h = md->dims[2], w = md->dims[3];
  if (b->inner_nblks != 1 || b->inner_idxs[0] != 1 || b->inner_blks[0] != 16 || md->dims[1] % 16) return 0;
  for (int i = 1; i < 4; i++)
    if (md->padded_dims[i] != md->dims[i] || md->padded_offsets[i] != 0) return 0;
  if (b->strides[2] != w * 16 || b->strides[3] != 16 || b->strides[1] < h * w * 16) return 0;
  *cs = (size_t)b->strides[1];
  *off = (size_t)md->offset0 * sizeof(float);
  return 1;
}

/* The output descriptor the convolution of step @p k2 writes: its concat slot, else a
 * fresh nChw16c map. */
static void conv_dst_md(const cl_exec *e, int k2, dnnl_memory_desc_t *md) {
  const cl__dnnl *d = e->dnnl;
  int o2 = e->steps[k2].pub.out_node;
  if (d->region[o2])
    *md = d->region_md[o2];
  else
    blocked_md(md, e->steps[k2].node.out);
}

/* Threads of one fused call: positions split when there are enough (at least two
 * 14-position blocks each), else output-channel pairs. */
static void thread_range(const cl_preact1x1 *p, int t, int nt, int *p0, int *p1, int *o0, int *o1) {
  int pairs = p->cout / 32;
  *p0 = 0, *p1 = p->npos, *o0 = 0, *o1 = pairs;
  if (nt <= 1) return;
  if (p->npos >= 28 * nt || pairs < nt) {
    *p0 = (int)((long long)p->npos * t / nt), *p1 = (int)((long long)p->npos * (t + 1) / nt);
  } else {
    *o0 = pairs * t / nt, *o1 = pairs * (t + 1) / nt;
  }
}

static void run_threads(const cl_preact1x1 *p, const float *x, size_t xcs, float *y, size_t ycs,
                        float **scratch, int nt) {
  if (nt <= 1) {
    cl_preact1x1_run(p, x, xcs, y, ycs, 0, p->npos, 0, p->cout / 32, scratch[0]);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num(), team = omp_get_num_threads();
    for (int h = t; h < nt; h += team) { /* a smaller team than asked runs every share */
      int p0, p1, o0, o1;
      thread_range(p, h, nt, &p0, &p1, &o0, &o1);
      cl_preact1x1_run(p, x, xcs, y, ycs, p0, p1, o0, o1, scratch[t]);
    }
  }
}

/* The 1x1 convolution step that can absorb batch-norm step @p k, or -1. */
int cl__dn_preact_target(cl_exec *e, int k, const int *consumers) {
  cl__dnnl *d = e->dnnl;
  const cl__exec_step *s = &e->steps[k];
  if (d->rows || cl__dn_blk() != 16 || !cl_preact1x1_available() || !cl__dn_fuse_mode(e, CL__FUSE_PREACT)) return -1;
  if (s->skip || s->node.op != CL_OP_BATCHNORM ||
      (s->node.p.bn.act != CL_ACT_NONE && s->node.p.bn.act != CL_ACT_RELU))
    return -1;
  const cl_node *gn = cl_graph_node(e->g, s->pub.node);
  int src = gn->inputs[0], o = s->pub.out_node;
  size_t xcs, xoff;
  if (!d->mem[src] || !blocked16(&d->md[src], &xcs, &xoff)) return -1;
  if (consumers[o] != 1 || e->exported[o] || d->region[o] || d->place_root[o] >= 0) return -1;
  int k2 = -1;
  for (int j = k + 1; j < e->n_steps && k2 < 0; j++) {
    const cl_node *n2 = cl_graph_node(e->g, e->steps[j].pub.node);
    for (int i = 0; i < n2->n_inputs; i++)
      if (n2->inputs[i] == o) k2 = j;
  }
  if (k2 < 0) return -1;
  const cl__exec_step *c = &e->steps[k2];
  const cl_node *cn = cl_graph_node(e->g, c->pub.node);
  const cl_conv_params *cp = &c->node.p.conv;
  if (c->skip || c->node.op != CL_OP_CONV || cn->n_inputs != 1 || cp->groups != 1 || cp->kh != 1 ||
      cp->kw != 1 || cp->sh != 1 || cp->sw != 1 || cp->pt || cp->pb || cp->pl || cp->pr || cp->dh != 1 ||
      cp->dw != 1 || cp->out_c % 32 || (cp->act != CL_ACT_NONE && cp->act != CL_ACT_RELU))
    return -1;
  cl_shape is = cl_graph_node(e->g, src)->out;
  if (is.n != 1 || is.c % 16 || c->node.out.h != is.h || c->node.out.w != is.w) return -1;
  if (!cl__dn_fuse_here(CL__FUSE_PREACT, is.h * is.w)) return -1;
  dnnl_memory_desc_t ymd;
  size_t ycs, yoff;
  conv_dst_md(e, k2, &ymd);
  if (!blocked16(&ymd, &ycs, &yoff)) return -1;
  return k2;
}

/* Step @p k2 (the convolution) as the fused kernel over batch-norm step @p kb's input. */
cl_status cl__dn_build_preact(cl_exec *e, int k2, int kb, dn_step *st) {
  cl__dnnl *d = e->dnnl;
  const cl__exec_step *b = &e->steps[kb], *c = &e->steps[k2];
  const cl_conv_params *cp = &c->node.p.conv;
  int src = cl_graph_node(e->g, b->pub.node)->inputs[0], o2 = c->pub.out_node;
  cl_shape is = cl_graph_node(e->g, src)->out;
  int cin = is.c, cout = cp->out_c, npos = is.h * is.w;
  if (!grow((void **)&d->pa, &d->cap_pa, d->n_pa, sizeof *d->pa)) return CL_ERR_NOMEM;
  cl__dn_preact *pa = &d->pa[d->n_pa++];
  memset(pa, 0, sizeof *pa);
  /* batch norm as scale and shift: s = gamma / sqrt(var + eps), t = beta - mean * s */
  const float *bw = b->node.weights;
  float *sb = dn_alloc(e, sizeof(float) * 2 * (size_t)cin),
        *wp = dn_alloc(e, sizeof(float) * (size_t)cin * (size_t)cout);
  if (!sb || !wp) return CL_ERR_NOMEM;
  for (int i = 0; i < cin; i++) {
    double shift, scale = cl_bn_scale_shift(bw, cin, i, b->node.p.bn.eps, &shift);
    sb[i] = (float)scale;
    sb[cin + i] = (float)shift;
  }
  pa->p = (cl_preact1x1){.cin = cin,
                         .cout = cout,
                         .npos = npos,
                         .s = sb,
                         .t = sb + cin,
                         .pre_relu = b->node.p.bn.act == CL_ACT_RELU,
                         .wp = wp,
                         .bias = cp->has_bias ? c->node.weights + (size_t)cin * (size_t)cout : NULL,
                         .post_relu = cp->act == CL_ACT_RELU};
  cl_preact1x1_pack(&pa->p, c->node.weights, wp); /* 1x1 weights: plain [cout][cin] */
  size_t xoff, yoff;
  void *xh = NULL, *yh = NULL;
  if (!blocked16(&d->md[src], &pa->xcs, &xoff)) return CL_ERR_UNSUPPORTED;
  dnnl_memory_get_data_handle(d->mem[src], &xh);
  pa->x = (const float *)((const char *)xh + xoff);
  dnnl_memory_desc_t ymd;
  conv_dst_md(e, k2, &ymd);
  CL_TRY(dn_set_out(e, o2, &ymd));
  if (!blocked16(&d->md[o2], &pa->ycs, &yoff)) return CL_ERR_UNSUPPORTED;
  dnnl_memory_get_data_handle(d->mem[o2], &yh);
  pa->y = (float *)((char *)yh + yoff);
  size_t stride = cl_preact1x1_scratch_stride(&pa->p); /* the threads' scratch: cl__dn_preact_scratch */
  if (stride > d->pa_stride) d->pa_stride = stride;
  st->preact = d->n_pa; /* index + 1 */
  st->n_pre = 0;        /* the kernel runs first, an export reorder after it */
  return dn_export(e, st, o2);
}

/* One scratch block for every fused step (they never run at once on one thread): per
 * thread or lane, cl_preact1x1_scratch_stride floats apart. Threads whose scratch lay
 * back to back ran 25-35% slower on 2 cores (kern_preact1x1.h). */
cl_status cl__dn_preact_scratch(cl_exec *e) {
  cl__dnnl *d = e->dnnl;
  if (!d->n_pa) return CL_OK;
  int n = e->opts.threads > d->n_lanes ? e->opts.threads : d->n_lanes;
  float *block = dn_alloc(e, sizeof(float) * d->pa_stride * (size_t)n);
  if (!block || !(d->pa_scr = calloc((size_t)n, sizeof(float *)))) return CL_ERR_NOMEM;
  for (int t = 0; t < n; t++) d->pa_scr[t] = block + d->pa_stride * (size_t)t;
  d->n_pa_scr = n;
  return CL_OK;
}

/* Run fused step @p i on @p lane: all @p threads, or this thread alone inside a lane. */
void cl__dn_run_preact(cl__dnnl *d, int i, int lane, int threads) {
  const cl__dn_preact *pa = &d->pa[i];
  int nt = lane > 0 || omp_in_parallel() ? 1 : threads;
  if (nt > d->n_pa_scr) nt = d->n_pa_scr;
  if (lane >= d->n_pa_scr) lane = 0; /* cannot happen: one scratch per lane */
  run_threads(&pa->p, pa->x, pa->xcs, pa->y, pa->ycs, nt == 1 ? d->pa_scr + lane : d->pa_scr, nt);
}

/* Byte ranges of fused step @p i: its input (read) and output (written). */
int cl__dn_preact_spans(const cl__dnnl *d, int i, cl__span *out, int cap) {
  const cl__dn_preact *pa = &d->pa[i];
  size_t xn = ((size_t)(pa->p.cin / 16 - 1) * pa->xcs + (size_t)pa->p.npos * 16) * sizeof(float);
  size_t yn = ((size_t)(pa->p.cout / 16 - 1) * pa->ycs + (size_t)pa->p.npos * 16) * sizeof(float);
  if (cap >= 1) out[0] = (cl__span){(const char *)pa->x, xn, 0};
  if (cap >= 2) out[1] = (cl__span){(const char *)pa->y, yn, 1};
  return 2;
}

int cl__dn_preact_part(const cl__dnnl *d) {
  int n = 0;
  for (int i = 0; i < d->n_pa; i++) n += d->pa[i].p.npos <= SMALL_POS;
  return n;
}

void cl__dn_preact_destroy(cl__dnnl *d) {
  free(d->pa);
  free(d->pa_scr);
  d->pa_scr = NULL;
  d->pa = NULL;
  d->n_pa = d->cap_pa = 0;
}
#else
typedef int cl__dn_preact_not_built; /* ISO C: a translation unit is not empty */
#endif
