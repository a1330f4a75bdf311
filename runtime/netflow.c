/* Max-min fair flows (the fluid model SimGrid validates, without its TCP corrections):
 * every active flow gets one rate; rates are the max-min fair allocation of the link
 * (and medium) capacities in force, found by progressive filling; the allocation is
 * recomputed whenever a flow starts or drains or a crossed link's bandwidth changes
 * (piecewise constant), so in between every flow drains linearly. Equations and limits:
 * docs/timing-model.md ("Max-min flows"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel_internal.h"

void cl__flows_free(cl__flows *f) {
  free(f->f);
  free(f->cap_left);
  free(f->weight);
  free(f->res_off);
  free(f->res_flows);
  free(f->fill);
  free(f->mark);
  free(f->touched);
  free(f->frozen);
  memset(f, 0, sizeof *f);
}

void cl__flows_reset(cl__flows *f) {
  f->n = 0;
  f->now = -INFINITY;
  f->dirty = 0;
}

int cl_netmodel_flows_active(const cl_netmodel *net) { return net->flows.n; }

/* Resources of hop h: its link, and its medium (index n_links + m) when the medium is shared. */
static int cl__hop_res(const cl_netmodel *net, int h, int *res) {
  const cl__link *L = &net->links[h];
  res[0] = h;
  if (L->medium < 0) return 1;
  res[1] = net->n_links + L->medium;
  return 2;
}

/* Capacity of resource r at t: a link's bandwidth (medium cap applied); a medium's is the
 * largest bandwidth of its links (the channel's rate; each link still caps its own flows). */
static double cl__res_cap(const cl_netmodel *net, int r, double t) {
  if (r < net->n_links) return cl__link_rate(net, &net->links[r], cl__sched_find(&net->links[r].bw, t));
  int m = r - net->n_links;
  double c = 0.0;
  for (int i = 0; i < net->n_links; i++) {
    const cl__link *L = &net->links[i];
    if (L->medium != m || L->n_hops) continue;
    double v = cl__link_rate(net, L, cl__sched_find(&L->bw, t));
    if (v > c) c = v;
  }
  return c;
}

typedef struct cl__sent {
  double share;
  int r;
} cl__sent;

static int cl__sless(const cl__sent *a, const cl__sent *b) {
  return a->share != b->share ? a->share < b->share : a->r < b->r;
}

static void cl__spush(cl__sent *h, int *n, cl__sent e) {
  int k = (*n)++;
  while (k > 0 && cl__sless(&e, &h[(k - 1) / 2])) {
    h[k] = h[(k - 1) / 2];
    k = (k - 1) / 2;
  }
  h[k] = e;
}

static cl__sent cl__spop(cl__sent *h, int *n) {
  cl__sent top = h[0], last = h[--(*n)];
  int i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && cl__sless(&h[c + 1], &h[c])) c++;
    if (!cl__sless(&h[c], &last)) break;
    h[i] = h[c];
    i = c;
  }
  if (*n > 0) h[i] = last;
  return top;
}

/* Progressive filling: raise all unfrozen flows' rates together; the resource whose
 * remaining capacity / unfrozen users is smallest saturates first and freezes its flows
 * at that share. A heap of shares with lazy invalidation: O((R + F h) log R). */
static cl_status cl__allocate(cl_netmodel *net) {
  cl__flows *F = &net->flows;
  int nr = net->n_links + net->n_media;
  if (nr > F->n_res) {
    double *c = realloc(F->cap_left, (size_t)nr * sizeof *c), *w = realloc(F->weight, (size_t)nr * sizeof *w);
    if (c) F->cap_left = c;
    if (w) F->weight = w;
    int *o = realloc(F->res_off, (size_t)(nr + 1) * sizeof *o), *fl = realloc(F->fill, (size_t)nr * sizeof *fl);
    if (o) F->res_off = o;
    if (fl) F->fill = fl;
    int *mk = realloc(F->mark, (size_t)nr * sizeof *mk), *tc = realloc(F->touched, (size_t)nr * sizeof *tc);
    if (mk) F->mark = mk;
    if (tc) F->touched = tc;
    if (!c || !w || !o || !fl || !mk || !tc) return CL_ERR_NOMEM;
    for (int r = F->n_res; r < nr; r++) F->mark[r] = 0;
    F->n_res = nr;
  }
  if (F->n > F->cap_frozen) {
    uint8_t *z = realloc(F->frozen, (size_t)F->n);
    if (!z) return CL_ERR_NOMEM;
    F->frozen = z;
    F->cap_frozen = F->n;
  }
  /* Only the resources the active flows touch: O(F h), not O(links). */
  if (++F->epoch == 0) {
    for (int r = 0; r < nr; r++) F->mark[r] = 0;
    F->epoch = 1;
  }
  int res[2], total = 0, nt = 0;
  for (int i = 0; i < F->n; i++) {
    int nh, self = F->f[i].id;
    const int *h = cl__hops(&net->links[self], &self, &nh);
    for (int k = 0; k < nh; k++) {
      int m = cl__hop_res(net, h[k], res);
      for (int q = 0; q < m; q++) {
        int r = res[q];
        if (F->mark[r] != F->epoch) {
          F->mark[r] = F->epoch;
          F->touched[nt++] = r;
          F->weight[r] = 0;
        }
        F->weight[r] += 1.0; /* a flow may use a resource twice: weight 2 */
      }
      total += m;
    }
    F->frozen[i] = 0;
  }
  if (total > F->cap_rf) {
    int *z = realloc(F->res_flows, (size_t)total * sizeof *z);
    if (!z) return CL_ERR_NOMEM;
    F->res_flows = z;
    F->cap_rf = total;
  }
  cl__sent *heap = malloc((size_t)(total + nt + 1) * sizeof *heap);
  if (!heap) return CL_ERR_NOMEM;
  for (int q = 0, off = 0; q < nt; q++) { /* res_off[r] .. res_off[r] + weight[r] */
    int r = F->touched[q];
    F->res_off[r] = F->fill[r] = off;
    off += (int)F->weight[r];
  }
  for (int i = 0; i < F->n; i++) {
    int nh, self = F->f[i].id;
    const int *h = cl__hops(&net->links[self], &self, &nh);
    for (int k = 0; k < nh; k++) {
      int m = cl__hop_res(net, h[k], res);
      for (int q = 0; q < m; q++) F->res_flows[F->fill[res[q]]++] = i;
    }
  }
  int nh = 0;
  for (int q = 0; q < nt; q++) {
    int r = F->touched[q];
    F->cap_left[r] = cl__res_cap(net, r, F->now);
    cl__spush(heap, &nh, (cl__sent){F->cap_left[r] / F->weight[r], r});
  }
  while (nh > 0) {
    cl__sent e = cl__spop(heap, &nh);
    int r = e.r;
    if (F->weight[r] <= 0 || e.share != F->cap_left[r] / F->weight[r]) continue; /* stale */
    double share = e.share > 0 ? e.share : 0.0;
    for (int p = F->res_off[r]; p < F->fill[r]; p++) {
      int i = F->res_flows[p];
      if (F->frozen[i]) continue;
      F->frozen[i] = 1;
      F->f[i].rate = share;
      int nhop, self = F->f[i].id;
      const int *h = cl__hops(&net->links[self], &self, &nhop);
      for (int k = 0; k < nhop; k++) {
        int m = cl__hop_res(net, h[k], res);
        for (int q = 0; q < m; q++) {
          int r2 = res[q];
          F->cap_left[r2] -= share;
          F->weight[r2] -= 1.0;
          if (r2 != r && F->weight[r2] > 0) cl__spush(heap, &nh, (cl__sent){F->cap_left[r2] / F->weight[r2], r2});
        }
      }
    }
    F->weight[r] = 0;
  }
  free(heap);
  for (int i = 0; i < F->n; i++) {
    cl__flow *f = &F->f[i];
    f->upd = F->now;
    f->drain = f->rem <= 0 ? F->now : f->rate > 0 ? F->now + f->rem / f->rate : INFINITY;
  }
  F->dirty = 0;
  return CL_OK;
}

/* Drain every flow's bytes from its last update to t at its current rate. */
static void cl__progress(cl__flows *F, double t) {
  for (int i = 0; i < F->n; i++) {
    cl__flow *f = &F->f[i];
    if (t > f->upd) {
      f->rem -= f->rate * (t - f->upd);
      if (f->rem < 0) f->rem = 0;
      f->upd = t;
    }
  }
  F->now = t;
}

double cl_netmodel_flow_next(cl_netmodel *net) {
  cl__flows *F = &net->flows;
  if (F->n == 0) return INFINITY;
  if (F->dirty && cl__allocate(net) != CL_OK) {
    cl_log_error("netmodel: out of memory allocating %d flows", F->n);
    return NAN;
  }
  double next = INFINITY;
  for (int i = 0; i < F->n; i++) {
    const cl__flow *f = &F->f[i];
    if (f->drain < next) next = f->drain;
    int nh, self = f->id;
    const int *h = cl__hops(&net->links[self], &self, &nh);
    for (int k = 0; k < nh; k++) { /* the next bandwidth change of a crossed link */
      const cl__link *H = &net->links[h[k]];
      int s = cl__sched_find(&H->bw, F->now);
      if (s + 1 < H->bw.n && H->bw.t[s + 1] < next) next = H->bw.t[s + 1];
    }
  }
  return next;
}

cl_status cl_netmodel_flow_start(cl_netmodel *net, int link, double t, uint64_t bytes, int tag) {
  if (!cl__netmodel_link_ok(net, link)) return CL_ERR_INVALID;
  cl__flows *F = &net->flows;
  cl__link *R = &net->links[link];
  if (!cl_netmodel_is_fluid(net, link)) {
    cl_log_error("netmodel: flow on '%s': the link is FIFO (use cl_netmodel_send)", R->name);
    return CL_ERR_INVALID;
  }
  if (!isfinite(t) || t < F->now || (F->n && t > F->now && t > cl_netmodel_flow_next(net))) {
    cl_log_error("netmodel: flow on '%s' (tag %d) starts at t=%g s: must be finite, >= %g s and not past "
                 "the next flow event (advance first)",
                 R->name, tag, t, F->now);
    return CL_ERR_INVALID;
  }
  if (F->n == F->cap) {
    int nc = F->cap ? 2 * F->cap : 64;
    cl__flow *z = realloc(F->f, (size_t)nc * sizeof *z);
    if (!z) {
      cl_log_error("netmodel: out of memory for %d flows", nc);
      return CL_ERR_NOMEM;
    }
    F->f = z;
    F->cap = nc;
  }
  cl__progress(F, t);
  int nh, self = link;
  const int *h = cl__hops(R, &self, &nh);
  double lat = 0.0;
  for (int k = 0; k < nh; k++) {
    cl__link *H = &net->links[h[k]];
    double l = H->lat.v[cl__sched_find(&H->lat, t)];
    if (H->jitter.dist != CL_JITTER_NONE) {
      l += cl__link_jitter(H);
      if (!(l > 0)) l = 0.0;
    }
    lat += l;
  }
  if (!isfinite(lat)) {
    cl_log_error("netmodel: flow on '%s' at t=%g s: latency %g s is not finite", R->name, t, lat);
    return CL_ERR_INVALID;
  }
  F->f[F->n++] = (cl__flow){link, tag, t, lat, (double)bytes, t, 0.0, INFINITY, bytes};
  F->dirty = 1;
  return CL_OK;
}

static void cl__account(cl_netmodel *net, const cl__flow *f, double tx) {
  int nh, self = f->id;
  const int *h = cl__hops(&net->links[self], &self, &nh);
  for (int k = 0; k < nh; k++) {
    cl_link_stats *s = &net->links[h[k]].stats;
    s->sends++;
    s->bytes += f->bytes;
    s->busy += tx;
  }
  if (net->links[f->id].n_hops) {
    cl_link_stats *s = &net->links[f->id].stats;
    s->sends++;
    s->bytes += f->bytes;
    s->busy += tx;
  }
}

cl_status cl_netmodel_flow_advance(cl_netmodel *net, double t, cl_flow_done_fn done, void *ctx) {
  cl__flows *F = &net->flows;
  if (F->n == 0) {
    if (isfinite(t) && t > F->now) F->now = t;
    return CL_OK;
  }
  double next = cl_netmodel_flow_next(net);
  if (!isfinite(t) || t > next || t < F->now) {
    cl_log_error("netmodel: flows advanced to t=%g s, but the next flow event is at %g s (now %g s)%s", t, next,
                 F->now, isfinite(next) ? "" : ": a flow never drains (virtual time overflows)");
    return CL_ERR_INVALID;
  }
  cl__progress(F, t);
  int k = 0;
  for (int i = 0; i < F->n; i++) {
    cl__flow f = F->f[i];
    if (f.drain <= t) {
      double tx = f.drain - f.start;
      cl_xfer x = {f.start, tx, f.lat, f.drain + f.lat};
      if (!isfinite(x.arrival)) {
        cl_log_error("netmodel: flow on '%s' (tag %d): arrival %g s is not finite", net->links[f.id].name, f.tag,
                     x.arrival);
        return CL_ERR_INVALID;
      }
      cl__account(net, &f, tx);
      if (done) done(ctx, f.tag, &x);
      F->dirty = 1;
    } else {
      F->f[k++] = f;
    }
  }
  F->n = k;
  F->dirty = 1; /* a bandwidth change at t, or a drain: recompute */
  return CL_OK;
}

cl_status cl_netmodel_flow_rate(cl_netmodel *net, int tag, double *rate_out) {
  cl__flows *F = &net->flows;
  if (F->dirty && cl__allocate(net) != CL_OK) return CL_ERR_NOMEM;
  for (int i = 0; i < F->n; i++)
    if (F->f[i].tag == tag) {
      *rate_out = F->f[i].rate;
      return CL_OK;
    }
  return CL_ERR_NOTFOUND;
}
