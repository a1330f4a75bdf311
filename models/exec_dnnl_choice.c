/* oneDNN backend: per-layer choice of convolution kernel and layout.
 *
 * Each convolution has up to five candidates: nChw16c direct ("blocked": oneDNN's
 * jit / jit_1x1 kernels), nChw16c Winograd ("winograd", 3x3 stride 1 only), NHWC
 * ("nhwc": the brgemm kernels), oneDNN's own pick ("any") and, for a convolution that
 * writes a slot of a concatenation, NHWC throughout with the output copied into the
 * slot after ("nhwc_slot": brgemm needs NHWC on both sides, and the slot is nChw16c;
 * Inception-v3's 1x3 / 3x1 convolutions on 8x8 maps run at 240 GFLOP/s that way
 * against 176 with the direct kernel, so the copy pays). Which is fastest depends
 * on the shape and the host (on an AVX-512 Zen 4, NHWC brgemm wins the stride-2 3x3
 * convolutions of ResNet by ~20%, blocked jit_1x1 the 1x1 ones by ~5%), so every
 * candidate is timed once per host and layer signature, including the reorder of its
 * input from the producer's layout and of its output back to nChw16c when it writes
 * another layout (the consumer will usually want it), and the fastest kept if it beats
 * the fixed heuristic's candidate by at least 3% (else the heuristic stays: a close
 * race must not flip with noise). Choices are cached per host (models/kernel_choice.c).
 * Timing: thread CPU time on 1 thread (immune to other processes taking the core),
 * wall time otherwise; the minimum of several runs. Wall time on 2+ threads also
 * measures the host's other work, so those choices are trusted only when the
 * co-scheduling probe (cl_blas_coschedule_probe, the wait policy's) finds this
 * process's threads running together before and after the timing; otherwise they are
 * used but stored as provisional (models/kernel_choice.c) and timed again by the
 * first executor that finds the host quiet. CLEAVE_HOST_LOAD=quiet|loaded overrides
 * the probe (tests). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel_choice.h"
#ifdef CLEAVE_HAVE_DNNL
#include "exec_dnnl_internal.h"

enum { KC_BLOCKED, KC_WINOGRAD, KC_NHWC, KC_ANY, KC_NHWC_SLOT, KC_N };
static const char *const kc_name[KC_N] = {"blocked", "winograd", "nhwc", "any", "nhwc_slot"};

/* Convolution algorithm of the fixed heuristic (CLEAVE_KERNEL_CHOICE=off, and the
 * candidate to beat): Winograd on 3x3 stride-1 dense convs with >= 64 input and output
 * channels, or >= 64 inputs and >= 32 outputs on maps of at least 28x28;
 * CLEAVE_DNNL_CONV=direct|winograd overrides it. */
static int heuristic_winograd(const cl_conv_params *cp, cl_shape is, cl_shape os) {
  const char *env = getenv("CLEAVE_DNNL_CONV");
  if (env && !strcmp(env, "direct")) return 0;
  if (env && !strcmp(env, "winograd")) return 1;
  if (is.c >= 64 && cp->out_c >= 64) return 1;
  return is.c >= 64 && cp->out_c >= 32 && (int64_t)os.h * os.w >= 28 * 28;
}

static int winograd_shape(const cl_conv_params *cp) {
  return cp->kh == 3 && cp->kw == 3 && cp->sh == 1 && cp->sw == 1 && cp->dh == 1 && cp->dw == 1 && cp->groups == 1;
}

static void tag_md(dnnl_memory_desc_t *md, cl_shape s, dnnl_format_tag_t tag) {
  dnnl_dims_t dims = {s.n, s.c, s.h, s.w};
  dnnl_memory_desc_init_by_tag(md, 4, dims, dnnl_f32, tag);
}

/* Layout class of an activation descriptor, for signatures. */
static const char *layout_name(const dnnl_memory_desc_t *md) {
  if (md->ndims != 4) return md->ndims == 2 ? "nc" : "other";
  static const struct {
    dnnl_format_tag_t tag;
    const char *name;
  } tags[] = {{dnnl_nchw, "nchw"}, {dnnl_nhwc, "nhwc"}, {dnnl_nChw16c, "16c"}, {dnnl_nChw8c, "8c"}};
  for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
    dnnl_memory_desc_t t;
    dnnl_dims_t dims = {md->dims[0], md->dims[1], md->dims[2], md->dims[3]};
    dnnl_memory_desc_init_by_tag(&t, 4, dims, dnnl_f32, tags[i].tag);
    if (dnnl_memory_desc_equal(md, &t)) return tags[i].name;
  }
  return md->format_kind == dnnl_format_kind_any ? "any" : "other";
}

/* One candidate primitive descriptor (possibly a reference kernel), or NULL. */
static dnnl_primitive_desc_t make_candidate(cl__dnnl *d, const cl__conv_req *rq, int v) {
  cl_shape is = rq->is, os = rq->os;
  dnnl_memory_desc_t src = rq->src_md, dst = rq->dst_md;
  if (v == KC_NHWC_SLOT) { /* NHWC throughout, then copied into the concat slot */
    if (!rq->dst_fixed || rq->sum) return NULL;
    tag_md(&src, is, dnnl_nhwc);
    tag_md(&dst, os, dnnl_nhwc);
  } else if (v == KC_NHWC) {
    tag_md(&src, is, dnnl_nhwc);
    if (!rq->dst_fixed) tag_md(&dst, os, dnnl_nhwc);
  } else if (v == KC_ANY) {
    tag_md(&src, is, dnnl_format_tag_any);
    if (!rq->dst_fixed) tag_md(&dst, os, dnnl_format_tag_any);
  } else {
    if (is.c % cl__dn_blk() == 0) tag_md(&src, is, cl__dn_blk_tag());
    if (!rq->dst_fixed && os.c % cl__dn_blk() == 0) tag_md(&dst, os, cl__dn_blk_tag());
  }
  if (v == KC_WINOGRAD && !winograd_shape(rq->cp)) return NULL;
  dnnl_convolution_desc_t cd;
  if (dnnl_dilated_convolution_forward_desc_init(
          &cd, dnnl_forward_inference, v == KC_WINOGRAD ? dnnl_convolution_winograd : dnnl_convolution_direct, &src,
          &rq->wei_md, rq->bias_md, &dst, rq->strides, rq->dil, rq->pl, rq->pr) != dnnl_success)
    return NULL;
  return pd_create(d, &cd, rq->attr);
}

/* Is the host quiet enough for wall-clock timings on 2+ threads? Probed once per
 * executor (@p again: probe anew), ~30 ms. */
int cl__dn_host_quiet(cl__dnnl *d, int again) {
  if (d->kc_host && !again) return d->kc_host == 1;
  d->kc_host = cl__kc_host_quiet(&d->kc_stalled) ? 1 : 2;
  return d->kc_host == 1;
}

static const char *impl_of(const_dnnl_primitive_desc_t pd) {
  const char *impl = NULL;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl) return "?";
  return impl;
}

static int is_ref(const_dnnl_primitive_desc_t pd) { return !strncmp(impl_of(pd), "ref", 3); }

/* Candidate @p v if oneDNN has a real (jit / gemm / brgemm) kernel for it, else NULL. */
static dnnl_primitive_desc_t real_candidate(cl__dnnl *d, const cl__conv_req *rq, int v) {
  dnnl_primitive_desc_t pd = make_candidate(d, rq, v);
  if (pd && is_ref(pd)) {
    dnnl_primitive_desc_destroy(pd);
    pd = NULL;
  }
  return pd;
}

static double now_s(int cpu) {
  struct timespec ts;
  clock_gettime(cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A library-allocated memory filled with small non-zero values. */
static dnnl_memory_t scratch_mem(cl__dnnl *d, const dnnl_memory_desc_t *md) {
  dnnl_memory_t m = NULL;
  if (dnnl_memory_create(&m, md, d->eng, DNNL_MEMORY_ALLOCATE) != dnnl_success) return NULL;
  void *h = NULL;
  dnnl_memory_get_data_handle(m, &h);
  size_t n = dnnl_memory_desc_get_size(md) / sizeof(float);
  float *f = h;
  for (size_t i = 0; i < n; i++) f[i] = (float)((i * 2654435761u) % 1000u) * 1e-3f - 0.5f;
  return m;
}

/* Seconds of one run of @p p (minimum over runs: at least 3, more while under ~20 ms). */
static double time_prim(cl__dnnl *d, dnnl_primitive_t p, int nargs, dnnl_exec_arg_t *args, int cpu) {
  double best = 1e30, spent = 0;
  for (int r = 0; r < 12 && (r < 4 || spent < 0.02); r++) {
    double t0 = now_s(cpu);
    if (dnnl_primitive_execute(p, d->strm, nargs, args) != dnnl_success || dnnl_stream_wait(d->strm) != dnnl_success)
      return 1e30;
    double t = now_s(cpu) - t0;
    spent += t;
    if (r > 0 && t < best) best = t; /* run 0 warms caches and the JIT */
  }
  return best;
}

/* Seconds of a reorder between two layouts of one tensor (0 when they are equal). */
static double time_reorder(cl__dnnl *d, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, int cpu) {
  if (dnnl_memory_desc_equal(from, to)) return 0;
  dnnl_primitive_desc_t pd = NULL;
  if (dnnl_reorder_primitive_desc_create(&pd, from, d->eng, to, d->eng, NULL) != dnnl_success) return 1e30;
  dnnl_primitive_t p = NULL;
  dnnl_memory_t a = scratch_mem(d, from), b = scratch_mem(d, to);
  double t = 1e30;
  if (a && b && dnnl_primitive_create(&p, pd) == dnnl_success) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
    t = time_prim(d, p, 2, args, cpu);
  }
  if (p) dnnl_primitive_destroy(p);
  if (a) dnnl_memory_destroy(a);
  if (b) dnnl_memory_destroy(b);
  dnnl_primitive_desc_destroy(pd);
  return t;
}

/* Seconds of candidate @p pd in place: its input reorder, the convolution, and the
 * reorder of its output to nChw16c when it writes another layout by choice. */
static double time_candidate(cl__dnnl *d, const cl__conv_req *rq, const_dnnl_primitive_desc_t pd, int cpu) {
  const dnnl_memory_desc_t *s = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *w = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t *o = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  dnnl_memory_t ms = scratch_mem(d, s), mw = scratch_mem(d, w), mo = scratch_mem(d, o);
  dnnl_memory_t mb = rq->bias_md ? scratch_mem(d, rq->bias_md) : NULL, msp = sp ? scratch_mem(d, sp) : NULL;
  dnnl_primitive_t p = NULL;
  double t = 1e30;
  if (ms && mw && mo && (!rq->bias_md || mb) && (!sp || msp) && dnnl_primitive_create(&p, pd) == dnnl_success) {
    dnnl_exec_arg_t args[5];
    int n = weighted_args(args, ms, mw, mb, mo);
    if (msp) args[n++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, msp};
    t = time_prim(d, p, n, args, cpu);
    t += time_reorder(d, &rq->have_src, s, cpu);
    if (rq->dst_fixed && !rq->sum) {
      t += time_reorder(d, o, &rq->dst_md, cpu); /* into its concat slot (0 when written there) */
    } else if (!rq->dst_fixed && rq->os.c % cl__dn_blk() == 0) {
      dnnl_memory_desc_t blk;
      tag_md(&blk, rq->os, cl__dn_blk_tag());
      t += time_reorder(d, o, &blk, cpu);
    }
  }
  if (p) dnnl_primitive_destroy(p);
  dnnl_memory_t all[5] = {ms, mw, mo, mb, msp};
  for (int i = 0; i < 5; i++)
    if (all[i]) dnnl_memory_destroy(all[i]);
  return t;
}

static void signature(const cl__conv_req *rq, char *sig, size_t cap) {
  const cl_conv_params *cp = rq->cp;
  snprintf(sig, cap, "conv in %dx%dx%d out %dx%dx%d k %dx%d s %dx%d p %d,%d,%d,%d d %dx%d g %d bias %d post %d/%d src %s dst %s%s",
           rq->is.c, rq->is.h, rq->is.w, rq->os.c, rq->os.h, rq->os.w, cp->kh, cp->kw, cp->sh, cp->sw, cp->pt, cp->pl,
           cp->pb, cp->pr, cp->dh, cp->dw, cp->groups, rq->bias_md != NULL, rq->sum, (int)rq->act,
           layout_name(&rq->have_src), rq->dst_fixed ? (rq->sum ? "" : "slot-") : "",
           rq->dst_fixed ? layout_name(&rq->dst_md) : "free");
}

dnnl_primitive_desc_t cl__dn_conv_choose(cl_exec *e, const cl__conv_req *rq) {
  cl__dnnl *d = e->dnnl;
  int base = !d->blocked ? KC_ANY : winograd_shape(rq->cp) && heuristic_winograd(rq->cp, rq->is, rq->os) ? KC_WINOGRAD
                                                                                                      : KC_BLOCKED;
  const char *mode = cl__kc_mode();
  int forced = -1;
  for (int v = 0; v < KC_N; v++)
    if (!strcmp(mode, kc_name[v])) forced = v;
  if (d->rows) forced = KC_NHWC; /* rows mode: NHWC throughout (exec_dnnl_rows.c) */
  dnnl_primitive_desc_t pd = forced >= 0 ? make_candidate(d, rq, forced) : NULL;
  if (pd && strncmp(impl_of(pd), "ref", 3)) return pd; /* forced where it has a real kernel */
  if (pd) dnnl_primitive_desc_destroy(pd);
  cl__kc *kc = strcmp(mode, "auto") ? NULL : cl__kc_shared(CL_BACKEND_DNNL, e->opts.threads);
  char sig[512];
  signature(rq, sig, sizeof sig);
  int firm = 1;
  int want = kc ? cl__kc_get_firm(kc, sig, &firm) : -1;
  int multi = e->opts.threads > 1;
  if (want >= 0 && !firm && multi && cl__dn_host_quiet(d, 0)) want = -1; /* provisional: time it again now */
  /* A cached choice stands only where it still has a real kernel (the cache is keyed by
   * the ISA oneDNN uses, so this is a guard, not the rule); else it is measured again. */
  if (want >= 0 && want < KC_N && (pd = real_candidate(d, rq, want))) {
    d->kc_layers++;
    d->kc_changed += want != base;
    return pd;
  }
  if (!kc) { /* the heuristic, or the first other candidate with a real kernel (Winograd
              * and nChw16c have none below AVX-512 / AVX2); a reference kernel only if no
              * candidate has better */
    static const int order[] = {KC_BLOCKED, KC_ANY, KC_NHWC, KC_WINOGRAD};
    if ((pd = real_candidate(d, rq, base))) return pd;
    for (int i = 0; i < 4; i++)
      if (order[i] != base && (pd = real_candidate(d, rq, order[i]))) return pd;
    pd = make_candidate(d, rq, base);
    return pd ? pd : make_candidate(d, rq, KC_BLOCKED);
  }
  /* Measure every distinct candidate (two variants may give the same kernel and layouts). */
  if (multi) cl__dn_host_quiet(d, 0); /* probed before the first timing */
  double t0 = now_s(0), cost[KC_N];
  dnnl_primitive_desc_t cand[KC_N] = {0};
  int cpu = e->opts.threads == 1, best = -1;
  for (int v = 0; v < KC_N; v++) {
    cost[v] = 1e30;
    cand[v] = make_candidate(d, rq, v);
    if (!cand[v] || !strncmp(impl_of(cand[v]), "ref", 3)) {
      if (cand[v]) dnnl_primitive_desc_destroy(cand[v]);
      cand[v] = NULL;
      continue;
    }
    int dup = -1;
    for (int u = 0; u < v && dup < 0; u++)
      if (cand[u] && !strcmp(impl_of(cand[u]), impl_of(cand[v])) &&
          dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(cand[u], dnnl_query_src_md, 0),
                                 dnnl_primitive_desc_query_md(cand[v], dnnl_query_src_md, 0)) &&
          dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(cand[u], dnnl_query_dst_md, 0),
                                 dnnl_primitive_desc_query_md(cand[v], dnnl_query_dst_md, 0)))
        dup = u;
    cost[v] = dup >= 0 ? cost[dup] * 1.0001 : time_candidate(d, rq, cand[v], cpu); /* ties: the earlier */
  }
  int keep = cand[base] ? base : cand[KC_BLOCKED] ? KC_BLOCKED : -1;
  for (int v = 0; v < KC_N; v++)
    if (cand[v] && (best < 0 || cost[v] < cost[best])) best = v;
  if (keep < 0 || (best >= 0 && cost[best] < 0.97 * cost[keep])) keep = best;
  for (int v = 0; v < KC_N; v++)
    if (v != keep && cand[v]) dnnl_primitive_desc_destroy(cand[v]);
  if (keep < 0) return NULL;
  if (!d->kc_measured) d->kc_gen = cl__kc_generation(kc);
  int now_firm = !multi || cl__dn_host_quiet(d, 0);
  if (cl__kc_put_firm(kc, sig, keep, now_firm) != CL_OK) cl_log_warn("kernel choices: cannot record '%s'", sig);
  d->kc_provisional += !now_firm;
  d->kc_layers++;
  d->kc_measured++;
  d->kc_changed += keep != base;
  d->kc_seconds += now_s(0) - t0;
  return cand[keep];
}

void cl__dn_choices_done(cl_exec *e) {
  cl__dnnl *d = e->dnnl;
  if (d->kc_measured) {
    cl__kc *kc = cl__kc_shared(CL_BACKEND_DNNL, e->opts.threads);
    /* Quiet before the timings, but loaded by their end: not trusted either. */
    if (kc && e->opts.threads > 1 && d->kc_provisional < d->kc_measured && !cl__dn_host_quiet(d, 1))
      d->kc_provisional += cl__kc_demote(kc, d->kc_gen);
    if (kc) cl__kc_save(kc);
    cl_log_info("executor (oneDNN): timed kernel candidates of %d layers in %.2f s (cached in %s)", d->kc_measured,
                d->kc_seconds, kc ? cl__kc_path(kc) : "nowhere");
    if (d->kc_provisional)
      cl_log_info("executor (oneDNN): %d of them on a loaded host (co-scheduling probe: %.0f%% stalled): kept as "
                  "provisional, timed again when the host is quiet", d->kc_provisional, 100 * d->kc_stalled);
  }
}

cl_status cl__kc_exec_stats(const cl_exec *e, cl__kc_stats *out) {
  memset(out, 0, sizeof *out);
  const cl__dnnl *d = e ? e->dnnl : NULL;
  if (!d) return CL_ERR_INVALID;
  out->layers = d->kc_layers;
  out->measured = d->kc_measured;
  out->changed = d->kc_changed;
  out->provisional = d->kc_provisional;
  out->layout_reorders = d->n_layout_reorders;
  out->concat_copies = d->n_concat_copies;
  out->preact = d->n_pa;
  out->dw = d->n_dw;
  out->seconds = d->kc_seconds;
  return CL_OK;
}

#else
cl_status cl__kc_exec_stats(const cl_exec *e, cl__kc_stats *out) {
  (void)e;
  memset(out, 0, sizeof *out);
  return CL_ERR_UNSUPPORTED;
}
#endif
