/* Link model: piecewise-constant bandwidth/latency schedules, per-link FIFO,
 * shared media, per-link GSL jitter streams. Formulas: docs/timing-model.md. */
#include "cleave/netmodel.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel_internal.h"

static const char *const cl__jitter_names[CL_JITTER_COUNT] = {
    "none", "normal", "uniform", "exponential", "lognormal", "pareto"};

const char *cl_jitter_dist_name(cl_jitter_dist d) {
  if ((int)d < 0 || d >= CL_JITTER_COUNT) return "?";
  return cl__jitter_names[d];
}

cl_status cl_jitter_dist_parse(const char *name, cl_jitter_dist *out) {
  for (int i = 0; name && i < CL_JITTER_COUNT; i++) {
    if (strcmp(name, cl__jitter_names[i]) == 0) {
      *out = (cl_jitter_dist)i;
      return CL_OK;
    }
  }
  cl_log_error("netmodel: unknown jitter distribution '%s' (expected none, normal, uniform, "
               "exponential, lognormal or pareto)",
               name ? name : "(null)");
  return CL_ERR_INVALID;
}

static const char *const cl__sharing_names[CL_SHARING_COUNT] = {"fifo", "maxmin"};

const char *cl_sharing_name(cl_sharing s) {
  return (int)s >= 0 && s < CL_SHARING_COUNT ? cl__sharing_names[s] : "?";
}

cl_status cl_sharing_parse(const char *name, cl_sharing *out) {
  for (int i = 0; name && i < CL_SHARING_COUNT; i++)
    if (strcmp(name, cl__sharing_names[i]) == 0) {
      *out = (cl_sharing)i;
      return CL_OK;
    }
  cl_log_error("netmodel: unknown sharing '%s' (expected fifo or maxmin)", name ? name : "(null)");
  return CL_ERR_INVALID;
}

/* splitmix64: decorrelates (seed, link id) into a per-link stream seed. */
static uint64_t cl__mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static void cl__link_reseed(const cl_netmodel *net, cl__link *L, int id) {
  uint64_t h = cl__mix(net->seed ^ cl__mix((uint64_t)id + 0x51ed2701ULL));
  /* mt19937 uses 32 seed bits: fold the hash. */
  gsl_rng_set(L->rng, (unsigned long)((h ^ (h >> 32)) & 0xffffffffULL));
}

cl_status cl_netmodel_create(uint64_t seed, cl_netmodel **out) {
  *out = NULL;
  cl_netmodel *net = calloc(1, sizeof *net);
  if (!net) {
    cl_log_error("netmodel: out of memory");
    return CL_ERR_NOMEM;
  }
  net->seed = seed;
  net->flows.now = -INFINITY;
  *out = net;
  return CL_OK;
}

static void cl__sched_free(cl__sched *s) {
  free(s->t);
  free(s->v);
  s->t = s->v = NULL;
  s->n = 0;
}

void cl_netmodel_destroy(cl_netmodel *net) {
  if (!net) return;
  for (int i = 0; i < net->n_links; i++) {
    cl__link *L = &net->links[i];
    free(L->name);
    free(L->trace_t);
    free(L->trace_bw);
    free(L->changes);
    cl__sched_free(&L->bw);
    cl__sched_free(&L->lat);
    free(L->hops);
    if (L->rng) gsl_rng_free(L->rng);
  }
  cl__routes_free(&net->routes);
  cl__flows_free(&net->flows);
  for (int i = 0; i < net->n_media; i++) free(net->media[i].name);
  free(net->links);
  free(net->media);
  free(net);
}

static char *cl__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

cl_status cl_netmodel_add_medium(cl_netmodel *net, const char *name, double capacity, int *id_out) {
  if (!(capacity >= 0) || !isfinite(capacity)) {
    cl_log_error("netmodel: medium '%s': capacity %g B/s must be finite and >= 0 (0 = no cap)",
                 name ? name : "?", capacity);
    return CL_ERR_INVALID;
  }
  if (net->n_media == net->cap_media) {
    int nc = net->cap_media ? 2 * net->cap_media : 4;
    cl__medium *m = realloc(net->media, (size_t)nc * sizeof *m);
    if (!m) goto nomem;
    net->media = m;
    net->cap_media = nc;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "medium%d", net->n_media);
  cl__medium *M = &net->media[net->n_media];
  M->name = cl__strdup(name ? name : buf);
  if (!M->name) goto nomem;
  M->capacity = capacity;
  M->free_at = -INFINITY;
  M->sharing = CL_SHARING_FIFO;
  M->n_links = 0;
  if (id_out) *id_out = net->n_media;
  net->n_media++;
  return CL_OK;
nomem:
  cl_log_error("netmodel: out of memory adding a medium");
  return CL_ERR_NOMEM;
}

static cl_status cl__jitter_check(const char *lname, const cl_jitter *j) {
  const char *d = cl_jitter_dist_name(j->dist);
  int ok = 1;
  const char *what = "";
  switch (j->dist) {
    case CL_JITTER_NONE: break;
    case CL_JITTER_NORMAL:
      ok = isfinite(j->mean) && isfinite(j->sigma) && j->sigma >= 0;
      what = "mean finite and sigma >= 0";
      break;
    case CL_JITTER_UNIFORM:
      ok = isfinite(j->lo) && isfinite(j->hi) && j->lo <= j->hi;
      what = "finite lo <= hi";
      break;
    case CL_JITTER_EXPONENTIAL:
      ok = isfinite(j->mean) && j->mean > 0;
      what = "mean > 0";
      break;
    case CL_JITTER_LOGNORMAL:
      ok = isfinite(j->scale) && j->scale > 0 && isfinite(j->sigma) && j->sigma >= 0;
      what = "scale (median) > 0 and sigma >= 0";
      break;
    case CL_JITTER_PARETO:
      ok = isfinite(j->scale) && j->scale > 0 && isfinite(j->shape) && j->shape > 0;
      what = "scale > 0 and shape > 0";
      break;
    default:
      cl_log_error("netmodel: link '%s': field 'jitter.dist': invalid value %d", lname, (int)j->dist);
      return CL_ERR_INVALID;
  }
  if (!ok) {
    cl_log_error("netmodel: link '%s': jitter '%s' needs %s (mean=%g sigma=%g lo=%g hi=%g "
                 "scale=%g shape=%g)",
                 lname, d, what, j->mean, j->sigma, j->lo, j->hi, j->scale, j->shape);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

/* Sort helper for schedule events: (time, class, seq). */
typedef struct cl__ev {
  double t, v;
  int cls;
  uint64_t seq;
} cl__ev;

static int cl__ev_cmp(const void *a, const void *b) {
  const cl__ev *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
  if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
  return 0;
}

/* Build a schedule from a base value and events (sorted here). Consumes nothing. */
static cl_status cl__sched_build(double base, cl__ev *ev, int nev, cl__sched *out) {
  qsort(ev, (size_t)nev, sizeof *ev, cl__ev_cmp);
  out->t = malloc((size_t)(nev + 1) * sizeof(double));
  out->v = malloc((size_t)(nev + 1) * sizeof(double));
  if (!out->t || !out->v) {
    cl__sched_free(out);
    return CL_ERR_NOMEM;
  }
  out->t[0] = -INFINITY;
  out->v[0] = base;
  int n = 1;
  for (int i = 0; i < nev; i++) {
    if (ev[i].t == out->t[n - 1]) {
      out->v[n - 1] = ev[i].v; /* same instant: later class / seq wins */
    } else if (ev[i].v != out->v[n - 1]) {
      out->t[n] = ev[i].t;
      out->v[n] = ev[i].v;
      n++;
    }
  }
  /* Coalesce equal neighbours created by same-instant overrides. */
  int m = 1;
  for (int i = 1; i < n; i++) {
    if (out->v[i] == out->v[m - 1]) continue;
    out->t[m] = out->t[i];
    out->v[m] = out->v[i];
    m++;
  }
  out->n = m;
  return CL_OK;
}

/* Compile bandwidth and latency schedules of a link from base, trace and a change list. */
static cl_status cl__link_compile(const cl__link *L, const cl__change *ch, int nch, cl__sched *bw,
                                  cl__sched *lat) {
  memset(bw, 0, sizeof *bw);
  memset(lat, 0, sizeof *lat);
  int nev = L->trace_n + nch;
  cl__ev *ev = malloc((size_t)(nev > 0 ? nev : 1) * sizeof *ev);
  if (!ev) return CL_ERR_NOMEM;
  int k = 0;
  for (int i = 0; i < L->trace_n; i++)
    ev[k++] = (cl__ev){L->trace_t[i], L->trace_bw[i], 0, (uint64_t)i};
  for (int i = 0; i < nch; i++)
    if (ch[i].bandwidth >= 0) ev[k++] = (cl__ev){ch[i].at, ch[i].bandwidth, 1, ch[i].seq};
  cl_status s = cl__sched_build(L->base_bw, ev, k, bw);
  if (s == CL_OK) {
    k = 0;
    for (int i = 0; i < nch; i++)
      if (ch[i].latency >= 0) ev[k++] = (cl__ev){ch[i].at, ch[i].latency, 1, ch[i].seq};
    s = cl__sched_build(L->base_lat, ev, k, lat);
  }
  free(ev);
  if (s != CL_OK) {
    cl__sched_free(bw);
    cl__sched_free(lat);
    return s;
  }
  return CL_OK;
}

static cl_status cl__check_not_down_forever(const cl__link *L, const cl__sched *bw) {
  if (bw->v[bw->n - 1] > 0) return CL_OK;
  if (bw->n == 1)
    cl_log_error("netmodel: link '%s': field 'bandwidth': 0 B/s and no trace or change raises it "
                 "(the link would never deliver)",
                 L->name);
  else
    cl_log_error("netmodel: link '%s': bandwidth is 0 B/s from t=%g s on forever (trace or "
                 "changes end at 0; the link would never deliver)",
                 L->name, bw->t[bw->n - 1]);
  return CL_ERR_INVALID;
}

int cl_netmodel_links(const cl_netmodel *net) { return net->n_links; }
int cl_netmodel_media(const cl_netmodel *net) { return net->n_media; }

cl_status cl_netmodel_add_link(cl_netmodel *net, const cl_link_desc *d, int *id_out) {
  char namebuf[64];
  const char *name = d->name;
  if (!name) {
    snprintf(namebuf, sizeof namebuf, "%d->%d", d->src, d->dst);
    name = namebuf;
  }
  if (d->src < 0 || d->dst < 0) {
    cl_log_error("netmodel: link '%s': fields 'src'/'dst': node indices must be >= 0 (got %d, %d)",
                 name, d->src, d->dst);
    return CL_ERR_INVALID;
  }
  if (!(d->latency >= 0) || !isfinite(d->latency)) {
    cl_log_error("netmodel: link '%s': field 'latency': %g s, expected finite >= 0", name,
                 d->latency);
    return CL_ERR_INVALID;
  }
  if (!(d->bandwidth >= 0) || !isfinite(d->bandwidth)) {
    cl_log_error("netmodel: link '%s': field 'bandwidth': %g B/s, expected finite >= 0", name,
                 d->bandwidth);
    return CL_ERR_INVALID;
  }
  if (d->medium < -1 || d->medium >= net->n_media) {
    cl_log_error("netmodel: link '%s': field 'medium': %d is not a medium id (have %d)", name,
                 d->medium, net->n_media);
    return CL_ERR_INVALID;
  }
  if (d->trace_n < 0 || (d->trace_n > 0 && (!d->trace_t || !d->trace_bw))) {
    cl_log_error("netmodel: link '%s': field 'trace': %d points with missing arrays", name,
                 d->trace_n);
    return CL_ERR_INVALID;
  }
  for (int i = 0; i < d->trace_n; i++) {
    if (!isfinite(d->trace_t[i]) || (i > 0 && !(d->trace_t[i] > d->trace_t[i - 1]))) {
      cl_log_error("netmodel: link '%s': trace point %d: time %g s must be finite and strictly "
                   "after the previous point",
                   name, i, d->trace_t[i]);
      return CL_ERR_INVALID;
    }
    if (!(d->trace_bw[i] >= 0) || !isfinite(d->trace_bw[i])) {
      cl_log_error("netmodel: link '%s': trace point %d (t=%g s): bandwidth %g B/s, expected "
                   "finite >= 0",
                   name, i, d->trace_t[i], d->trace_bw[i]);
      return CL_ERR_INVALID;
    }
  }
  CL_TRY(cl__jitter_check(name, &d->jitter));
  if ((int)d->sharing < 0 || d->sharing >= CL_SHARING_COUNT) {
    cl_log_error("netmodel: link '%s': field 'sharing': invalid value %d", name, (int)d->sharing);
    return CL_ERR_INVALID;
  }
  if (d->medium >= 0 && net->media[d->medium].n_links > 0 && net->media[d->medium].sharing != d->sharing) {
    cl_log_error("netmodel: link '%s': sharing '%s' differs from the other links of medium '%s' ('%s'); a "
                 "medium is shared one way",
                 name, cl_sharing_name(d->sharing), net->media[d->medium].name,
                 cl_sharing_name(net->media[d->medium].sharing));
    return CL_ERR_INVALID;
  }

  if (net->n_links == net->cap_links) {
    int nc = net->cap_links ? 2 * net->cap_links : 8;
    cl__link *l = realloc(net->links, (size_t)nc * sizeof *l);
    if (!l) {
      cl_log_error("netmodel: out of memory adding link '%s'", name);
      return CL_ERR_NOMEM;
    }
    net->links = l;
    net->cap_links = nc;
  }
  cl__link L;
  memset(&L, 0, sizeof L);
  L.src = d->src;
  L.dst = d->dst;
  L.medium = d->medium;
  L.reorder = d->reorder != 0;
  L.base_bw = d->bandwidth;
  L.base_lat = d->latency;
  L.jitter = d->jitter;
  L.sharing = d->sharing;
  L.trace_n = d->trace_n;
  L.name = cl__strdup(name);
  L.rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (d->trace_n > 0) {
    L.trace_t = malloc((size_t)d->trace_n * sizeof(double));
    L.trace_bw = malloc((size_t)d->trace_n * sizeof(double));
  }
  cl_status s = CL_ERR_NOMEM;
  if (!L.name || !L.rng || (d->trace_n > 0 && (!L.trace_t || !L.trace_bw))) goto fail;
  if (d->trace_n > 0) {
    memcpy(L.trace_t, d->trace_t, (size_t)d->trace_n * sizeof(double));
    memcpy(L.trace_bw, d->trace_bw, (size_t)d->trace_n * sizeof(double));
  }
  s = cl__link_compile(&L, NULL, 0, &L.bw, &L.lat);
  if (s != CL_OK) goto fail;
  s = cl__check_not_down_forever(&L, &L.bw);
  if (s != CL_OK) goto fail;
  int id = net->n_links;
  net->links[id] = L;
  net->n_links++;
  cl__link *P = &net->links[id];
  P->free_at = P->last_arrival = -INFINITY;
  cl__link_reseed(net, P, id);
  if (d->medium >= 0) {
    net->media[d->medium].sharing = d->sharing;
    net->media[d->medium].n_links++;
  }
  if (id_out) *id_out = id;
  return CL_OK;
fail:
  if (s == CL_ERR_NOMEM) cl_log_error("netmodel: out of memory adding link '%s'", name);
  free(L.name);
  free(L.trace_t);
  free(L.trace_bw);
  cl__sched_free(&L.bw);
  cl__sched_free(&L.lat);
  if (L.rng) gsl_rng_free(L.rng);
  return s;
}

cl_status cl_netmodel_add_changes(cl_netmodel *net, const cl_link_change *ch, int n) {
  if (n < 0 || (n > 0 && !ch)) return CL_ERR_INVALID;
  for (int i = 0; i < n; i++) {
    const cl_link_change *c = &ch[i];
    if (c->link < 0 || c->link >= net->n_links) {
      cl_log_error("netmodel: change %d: field 'link': %d is not a link id (have %d)", i, c->link,
                   net->n_links);
      return CL_ERR_INVALID;
    }
    const char *ln = net->links[c->link].name;
    if (net->links[c->link].n_hops) {
      cl_log_error("netmodel: change %d: '%s' is a route; change its links instead", i, ln);
      return CL_ERR_INVALID;
    }
    if (!isfinite(c->at)) {
      cl_log_error("netmodel: change %d on link '%s': field 'at': %g is not finite", i, ln, c->at);
      return CL_ERR_INVALID;
    }
    if (!isfinite(c->bandwidth) || !isfinite(c->latency)) {
      cl_log_error("netmodel: change %d on link '%s' at %g s: bandwidth %g / latency %g must be "
                   "finite (negative = unchanged)",
                   i, ln, c->at, c->bandwidth, c->latency);
      return CL_ERR_INVALID;
    }
    if (c->bandwidth < 0 && c->latency < 0) cl_log_warn("netmodel: change %d on link '%s' at %g s changes nothing", i, ln, c->at);
  }
  /* Per affected link: build the would-be change list and schedules; commit only if all pass. */
  int nl = net->n_links;
  cl__change **newch = calloc((size_t)(nl ? nl : 1), sizeof *newch);
  int *newn = calloc((size_t)(nl ? nl : 1), sizeof *newn);
  cl__sched *nbw = calloc((size_t)(nl ? nl : 1), sizeof *nbw);
  cl__sched *nlat = calloc((size_t)(nl ? nl : 1), sizeof *nlat);
  cl_status s = CL_OK;
  if (!newch || !newn || !nbw || !nlat) {
    s = CL_ERR_NOMEM;
    goto done;
  }
  for (int i = 0; i < n; i++) newn[ch[i].link]++;
  for (int l = 0; l < nl && s == CL_OK; l++) {
    if (!newn[l]) continue;
    const cl__link *L = &net->links[l];
    newch[l] = malloc((size_t)(L->n_changes + newn[l]) * sizeof(cl__change));
    if (!newch[l]) {
      s = CL_ERR_NOMEM;
      break;
    }
    if (L->n_changes) memcpy(newch[l], L->changes, (size_t)L->n_changes * sizeof(cl__change));
    int k = L->n_changes;
    for (int i = 0; i < n; i++) {
      if (ch[i].link != l) continue;
      newch[l][k++] = (cl__change){ch[i].at, ch[i].bandwidth, ch[i].latency, net->change_seq + (uint64_t)i};
    }
    newn[l] = k;
    s = cl__link_compile(L, newch[l], k, &nbw[l], &nlat[l]);
    if (s == CL_OK) s = cl__check_not_down_forever(L, &nbw[l]);
  }
  if (s == CL_OK) {
    for (int l = 0; l < nl; l++) {
      if (!newch[l]) continue;
      cl__link *L = &net->links[l];
      free(L->changes);
      L->changes = newch[l];
      L->n_changes = L->cap_changes = newn[l];
      newch[l] = NULL;
      cl__sched_free(&L->bw);
      cl__sched_free(&L->lat);
      L->bw = nbw[l];
      L->lat = nlat[l];
      memset(&nbw[l], 0, sizeof nbw[l]);
      memset(&nlat[l], 0, sizeof nlat[l]);
    }
    net->change_seq += (uint64_t)n;
    net->routes.adj_links = -1; /* latencies at t = 0 may have changed: new paths see them */
  }
done:
  if (s == CL_ERR_NOMEM) cl_log_error("netmodel: out of memory adding %d link changes", n);
  for (int l = 0; newch && l < nl; l++) {
    free(newch[l]);
    cl__sched_free(&nbw[l]);
    cl__sched_free(&nlat[l]);
  }
  free(newch);
  free(newn);
  free(nbw);
  free(nlat);
  return s;
}

cl_status cl_netmodel_link_ends(const cl_netmodel *net, int link, int *src, int *dst) {
  if (link < 0 || link >= net->n_links) {
    cl_log_error("netmodel: link id %d out of range (have %d)", link, net->n_links);
    return CL_ERR_INVALID;
  }
  if (src) *src = net->links[link].src;
  if (dst) *dst = net->links[link].dst;
  return CL_OK;
}

const char *cl_netmodel_link_name(const cl_netmodel *net, int link) {
  if (link < 0 || link >= net->n_links) return NULL;
  return net->links[link].name;
}

cl_status cl_netmodel_find_link(const cl_netmodel *net, int src, int dst, int *link_out) {
  for (int i = 0; i < net->n_links; i++) {
    if (net->links[i].src == src && net->links[i].dst == dst) {
      *link_out = i;
      return CL_OK;
    }
  }
  return CL_ERR_NOTFOUND;
}

/* Index of the segment in force at t: last k with s->t[k] <= t (t[0] = -inf). */
int cl__sched_find(const cl__sched *s, double t) {
  int lo = 0, hi = s->n - 1;
  while (lo < hi) {
    int mid = lo + (hi - lo + 1) / 2;
    if (s->t[mid] <= t)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

double cl__link_rate(const cl_netmodel *net, const cl__link *L, int k) {
  double r = L->bw.v[k];
  if (L->medium >= 0) {
    double cap = net->media[L->medium].capacity;
    if (cap > 0 && cap < r) r = cap;
  }
  return r;
}

/* Time to push `bytes` from `start` (inside segment k) on. Exact bytes / rate when the
 * transfer fits in the first segment. The last segment has rate > 0 (checked at build). */
static double cl__integrate(const cl_netmodel *net, const cl__link *L, int k, double start,
                            uint64_t bytes) {
  if (bytes == 0) return 0.0;
  double remaining = (double)bytes, elapsed = 0.0, cur = start;
  for (;;) {
    double r = cl__link_rate(net, L, k);
    if (k + 1 == L->bw.n) return elapsed + remaining / r;
    double seg_end = L->bw.t[k + 1];
    double span = seg_end - cur;
    if (r > 0) {
      double cap = r * span; /* bytes this segment can carry */
      if (remaining <= cap) return elapsed + remaining / r;
      remaining -= cap;
    }
    elapsed += span;
    cur = seg_end;
    k++;
  }
}

int cl__netmodel_link_ok(const cl_netmodel *net, int link) {
  if (link >= 0 && link < net->n_links) return 1;
  cl_log_error("netmodel: link id %d out of range (have %d)", link, net->n_links);
  return 0;
}

double cl_netmodel_bandwidth_at(const cl_netmodel *net, int link, double t) {
  if (!cl__netmodel_link_ok(net, link)) return 0;
  const cl__link *L = &net->links[link];
  int n;
  const int *h = cl__hops(L, &link, &n);
  double r = INFINITY; /* a route: its bottleneck */
  for (int i = 0; i < n; i++) {
    const cl__link *H = &net->links[h[i]];
    double v = cl__link_rate(net, H, cl__sched_find(&H->bw, t));
    if (v < r) r = v;
  }
  return r;
}

double cl_netmodel_latency_at(const cl_netmodel *net, int link, double t) {
  if (!cl__netmodel_link_ok(net, link)) return 0;
  const cl__link *L = &net->links[link];
  int n;
  const int *h = cl__hops(L, &link, &n);
  double sum = 0.0; /* a route: its hops' latencies add up */
  for (int i = 0; i < n; i++) sum += net->links[h[i]].lat.v[cl__sched_find(&net->links[h[i]].lat, t)];
  return sum;
}

cl_status cl_netmodel_tx_time(const cl_netmodel *net, int link, double start, uint64_t bytes,
                              double *tx_out) {
  if (!cl__netmodel_link_ok(net, link)) return CL_ERR_INVALID;
  if (!isfinite(start)) {
    cl_log_error("netmodel: tx_time on link '%s': start %g is not finite", net->links[link].name,
                 start);
    return CL_ERR_INVALID;
  }
  const cl__link *L = &net->links[link];
  if (L->n_hops) return cl__route_tx_time(net, link, start, bytes, tx_out);
  int k = cl__sched_find(&L->bw, start);
  *tx_out = cl__integrate(net, L, k, start, bytes);
  if (!isfinite(*tx_out)) {
    cl_log_error("netmodel: link '%s': %llu bytes at %g B/s (t=%g s) take no finite time", L->name,
                 (unsigned long long)bytes, cl__link_rate(net, L, k), start);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

double cl__link_jitter(cl__link *L) {
  const cl_jitter *j = &L->jitter;
  switch (j->dist) {
    case CL_JITTER_NORMAL: return j->mean + gsl_ran_gaussian(L->rng, j->sigma);
    case CL_JITTER_UNIFORM: return j->lo == j->hi ? j->lo : gsl_ran_flat(L->rng, j->lo, j->hi);
    case CL_JITTER_EXPONENTIAL: return gsl_ran_exponential(L->rng, j->mean);
    case CL_JITTER_LOGNORMAL: return gsl_ran_lognormal(L->rng, log(j->scale), j->sigma);
    case CL_JITTER_PARETO: return gsl_ran_pareto(L->rng, j->shape, j->scale);
    default: return 0.0;
  }
}

cl_status cl_netmodel_send(cl_netmodel *net, int link, double t_send, uint64_t bytes, cl_xfer *out) {
  if (!cl__netmodel_link_ok(net, link)) return CL_ERR_INVALID;
  cl__link *L = &net->links[link];
  if (!isfinite(t_send)) {
    cl_log_error("netmodel: send on link '%s': t_send %g is not finite", L->name, t_send);
    return CL_ERR_INVALID;
  }
  if (cl_netmodel_is_fluid(net, link)) {
    cl_log_error("netmodel: link '%s' shares its bandwidth max-min: transfers on it are flows "
                 "(cl_netmodel_flow_start), not FIFO sends",
                 L->name);
    return CL_ERR_INVALID;
  }
  if (L->n_hops) return cl__route_send(net, link, t_send, bytes, out);
  cl__medium *M = L->medium >= 0 ? &net->media[L->medium] : NULL;
  double start = t_send;
  if (L->free_at > start) start = L->free_at;
  if (M && M->free_at > start) start = M->free_at;
  int k = cl__sched_find(&L->bw, start);
  while (cl__link_rate(net, L, k) <= 0) { /* link down: wait for the next segment (last one is up) */
    k++;
    start = L->bw.t[k];
  }
  double tx = cl__integrate(net, L, k, start, bytes);
  double lat = L->lat.v[cl__sched_find(&L->lat, start)];
  if (L->jitter.dist != CL_JITTER_NONE) {
    lat += cl__link_jitter(L);
    if (!(lat > 0)) lat = 0.0; /* truncated at -latency: time never runs backwards */
  }
  double arrival = start + lat + tx;
  if (!isfinite(arrival)) {
    /* Input, not a bug: a bandwidth near 0 or a latency near DBL_MAX overflows virtual time. */
    cl_log_error("netmodel: link '%s': %llu bytes sent at t=%g s never arrive in finite virtual time "
                 "(bandwidth %g B/s, latency %g s at t=%g s): virtual time overflows",
                 L->name, (unsigned long long)bytes, t_send, cl__link_rate(net, L, k), lat, start);
    return CL_ERR_INVALID;
  }
  if (!L->reorder && arrival < L->last_arrival) arrival = L->last_arrival;
  L->last_arrival = arrival;
  L->free_at = start + tx;
  if (M) M->free_at = L->free_at;
  L->stats.sends++;
  L->stats.bytes += bytes;
  L->stats.busy += tx;
  L->stats.wait += start - t_send;
  if (out) {
    out->start = start;
    out->tx_time = tx;
    out->latency = lat;
    out->arrival = arrival;
  }
  return CL_OK;
}

void cl_netmodel_reset(cl_netmodel *net) {
  if (!net) return;
  for (int i = 0; i < net->n_links; i++) {
    cl__link *L = &net->links[i];
    L->free_at = L->last_arrival = -INFINITY;
    memset(&L->stats, 0, sizeof L->stats);
    cl__link_reseed(net, L, i);
  }
  for (int i = 0; i < net->n_media; i++) net->media[i].free_at = -INFINITY;
  cl__flows_reset(&net->flows);
}

cl_status cl_netmodel_link_stats(const cl_netmodel *net, int link, cl_link_stats *out) {
  if (!cl__netmodel_link_ok(net, link)) return CL_ERR_INVALID;
  *out = net->links[link].stats;
  return CL_OK;
}
