/* Routes: link ids whose transfers cross several plain links. Shortest paths by
 * Dijkstra with a binary heap over the plain links (latency at t = 0), a hash cache of
 * (src, dst) -> id, and FIFO sends that hold every hop (the flow model: latency summed,
 * bytes through the bottleneck). Formulas: docs/timing-model.md, docs/network.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmodel_internal.h"

enum { CL__TREE_BUDGET = 64 << 20 }; /* bytes of cached shortest-path trees */

static void cl__trees_free(cl__routes *r) {
  for (int v = 0; r->trees && v < r->n_vert; v++) free(r->trees[v]);
  free(r->trees);
  r->trees = NULL;
  r->n_trees = 0;
}

/* The adjacency and everything derived from it. */
static void cl__adj_free(cl__routes *r) {
  cl__trees_free(r);
  free(r->adj_off);
  free(r->adj);
  free(r->adj_dst);
  free(r->adj_w);
  free(r->dist);
  free(r->nhop);
  free(r->heap);
  r->adj_off = r->adj = r->adj_dst = r->nhop = NULL;
  r->adj_w = r->dist = NULL;
  r->heap = NULL;
}

void cl__routes_free(cl__routes *r) {
  cl__adj_free(r);
  free(r->key);
  free(r->val);
  memset(r, 0, sizeof *r);
}

static uint64_t cl__hkey(int src, int dst) { return ((uint64_t)(uint32_t)src << 32) | (uint32_t)dst; }

static size_t cl__hslot(uint64_t k, int cap) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return (size_t)(k & (uint64_t)(cap - 1));
}

static int cl__cache_get(const cl__routes *r, int src, int dst) {
  if (!r->cap) return -1;
  int64_t k = (int64_t)cl__hkey(src, dst);
  for (size_t i = cl__hslot((uint64_t)k, r->cap);; i = (i + 1) & (size_t)(r->cap - 1)) {
    if (r->key[i] == -1) return -1;
    if (r->key[i] == k) return r->val[i];
  }
}

static cl_status cl__cache_put(cl__routes *r, int src, int dst, int id) {
  if (2 * (r->n + 1) > r->cap) {
    int nc = r->cap ? 2 * r->cap : 64;
    int64_t *nk = malloc((size_t)nc * sizeof *nk);
    int *nv = malloc((size_t)nc * sizeof *nv);
    if (!nk || !nv) {
      free(nk);
      free(nv);
      return CL_ERR_NOMEM;
    }
    for (int i = 0; i < nc; i++) nk[i] = -1;
    for (int i = 0; i < r->cap; i++) {
      if (r->key[i] == -1) continue;
      size_t j = cl__hslot((uint64_t)r->key[i], nc);
      while (nk[j] != -1) j = (j + 1) & (size_t)(nc - 1);
      nk[j] = r->key[i];
      nv[j] = r->val[i];
    }
    free(r->key);
    free(r->val);
    r->key = nk;
    r->val = nv;
    r->cap = nc;
  }
  int64_t k = (int64_t)cl__hkey(src, dst);
  size_t i = cl__hslot((uint64_t)k, r->cap);
  while (r->key[i] != -1 && r->key[i] != k) i = (i + 1) & (size_t)(r->cap - 1);
  if (r->key[i] == -1) r->n++;
  r->key[i] = k;
  r->val[i] = id;
  return CL_OK;
}

int cl_netmodel_route_hops(const cl_netmodel *net, int link, int *hops, int cap) {
  if (link < 0 || link >= net->n_links) return 0;
  int n;
  const int *h = cl__hops(&net->links[link], &link, &n);
  for (int i = 0; i < n && i < cap; i++) hops[i] = h[i];
  return n;
}

int cl_netmodel_is_fluid(const cl_netmodel *net, int link) {
  if (link < 0 || link >= net->n_links) return 0;
  int n;
  const int *h = cl__hops(&net->links[link], &link, &n);
  return net->links[h[0]].sharing == CL_SHARING_MAXMIN; /* hops agree (checked at add) */
}

cl_status cl_netmodel_add_route(cl_netmodel *net, const int *links, int n, int *id_out) {
  if (n < 1 || !links) {
    cl_log_error("netmodel: a route needs at least one link (got %d)", n);
    return CL_ERR_INVALID;
  }
  for (int i = 0; i < n; i++) {
    if (links[i] < 0 || links[i] >= net->n_links || net->links[links[i]].n_hops) {
      cl_log_error("netmodel: route hop %d: %d is not a plain link id (have %d ids)", i, links[i], net->n_links);
      return CL_ERR_INVALID;
    }
    const cl__link *L = &net->links[links[i]], *P = i ? &net->links[links[i - 1]] : NULL;
    if (P && P->dst != L->src) {
      cl_log_error("netmodel: route hop %d: link '%s' does not start where '%s' ends", i, L->name, P->name);
      return CL_ERR_INVALID;
    }
    if (P && P->sharing != L->sharing) {
      cl_log_error("netmodel: route crosses '%s' (%s) and '%s' (%s): a route's links must share one way "
                   "(all fifo or all maxmin)",
                   P->name, cl_sharing_name(P->sharing), L->name, cl_sharing_name(L->sharing));
      return CL_ERR_INVALID;
    }
  }
  const cl__link *F = &net->links[links[0]], *E = &net->links[links[n - 1]];
  if (n == 1) {
    if (id_out) *id_out = links[0];
    return cl__cache_put(&net->routes, F->src, F->dst, links[0]) == CL_OK ? CL_OK : CL_ERR_NOMEM;
  }
  /* The route's name: the nodes it visits, "a->b->c" (from the hops' own names). */
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(net->links[links[i]].name) + 2;
  char *name = malloc(len);
  cl_link_desc d;
  memset(&d, 0, sizeof d);
  d.src = F->src;
  d.dst = E->dst;
  d.medium = -1;
  d.bandwidth = 1; /* unused: a route's schedule is its hops' */
  d.sharing = F->sharing;
  if (!name) return CL_ERR_NOMEM;
  size_t o = 0;
  for (int i = 0; i < n; i++) {
    const char *hn = net->links[links[i]].name, *arrow = strstr(hn, "->");
    if (i && arrow) hn = arrow + 2; /* "a->b" + "b->c" -> "a->b->c" */
    o += (size_t)snprintf(name + o, len - o, "%s%s", i ? "->" : "", hn);
  }
  d.name = name;
  int id, adj_fresh = net->routes.adj_off && net->routes.adj_links == net->n_links;
  cl_status s = cl_netmodel_add_link(net, &d, &id);
  free(name);
  if (s != CL_OK) return s;
  if (adj_fresh) net->routes.adj_links = net->n_links; /* a route adds no plain link: trees stay valid */
  cl__link *R = &net->links[id];
  R->hops = malloc((size_t)n * sizeof *R->hops);
  if (!R->hops) return CL_ERR_NOMEM;
  memcpy(R->hops, links, (size_t)n * sizeof *links);
  R->n_hops = n;
  if (cl__cache_put(&net->routes, d.src, d.dst, id) != CL_OK) return CL_ERR_NOMEM;
  if (id_out) *id_out = id;
  return CL_OK;
}

typedef struct cl__dent {
  double d;
  int hops, v;
} cl__dent;

static int cl__dless(const cl__dent *a, const cl__dent *b) {
  if (a->d != b->d) return a->d < b->d;
  if (a->hops != b->hops) return a->hops < b->hops;
  return a->v < b->v;
}

/* CSR of the plain links leaving every vertex, rebuilt when links were added. */
static cl_status cl__adjacency(cl_netmodel *net) {
  cl__routes *r = &net->routes;
  if (r->adj_off && r->adj_links == net->n_links) return CL_OK;
  int nv = 0;
  for (int i = 0; i < net->n_links; i++) {
    const cl__link *L = &net->links[i];
    if (L->n_hops) continue;
    if (L->src + 1 > nv) nv = L->src + 1;
    if (L->dst + 1 > nv) nv = L->dst + 1;
  }
  cl__adj_free(r);
  r->dist = malloc((size_t)(nv + 1) * sizeof *r->dist);
  r->nhop = malloc((size_t)(nv + 1) * sizeof *r->nhop);
  r->heap = malloc((size_t)(net->n_links + nv + 1) * sizeof(cl__dent));
  r->adj_off = calloc((size_t)nv + 1, sizeof *r->adj_off);
  r->adj = malloc((size_t)(net->n_links + 1) * sizeof *r->adj);
  r->adj_dst = malloc((size_t)(net->n_links + 1) * sizeof *r->adj_dst);
  r->adj_w = malloc((size_t)(net->n_links + 1) * sizeof *r->adj_w);
  r->trees = calloc((size_t)nv + 1, sizeof *r->trees);
  if (!r->adj_off || !r->adj || !r->adj_dst || !r->adj_w || !r->trees || !r->dist || !r->nhop || !r->heap)
    return CL_ERR_NOMEM;
  for (int i = 0; i < net->n_links; i++)
    if (!net->links[i].n_hops) r->adj_off[net->links[i].src + 1]++;
  for (int v = 0; v < nv; v++) r->adj_off[v + 1] += r->adj_off[v];
  int *fill = malloc((size_t)(nv + 1) * sizeof *fill);
  if (!fill) return CL_ERR_NOMEM;
  memcpy(fill, r->adj_off, (size_t)nv * sizeof *fill);
  for (int i = 0; i < net->n_links; i++) { /* in id order: ties resolve by link id */
    const cl__link *L = &net->links[i];
    if (L->n_hops) continue;
    int p = fill[L->src]++;
    r->adj[p] = i;
    r->adj_dst[p] = L->dst;
    r->adj_w[p] = L->lat.v[cl__sched_find(&L->lat, 0.0)];
  }
  free(fill);
  r->n_vert = nv;
  r->adj_links = net->n_links;
  return CL_OK;
}

/* Shortest-path tree from src into r->trees[src]: link into each v (-1 unreached). Weight = latency at
 * t = 0; ties: fewer hops, then first found (vertices settle in (dist, hops, index) order,
 * their links relax in id order). O((V + E) log V). */
static cl_status cl__dijkstra(cl_netmodel *net, int src) {
  cl__routes *r = &net->routes;
  int nv = r->n_vert;
  if ((size_t)(r->n_trees + 1) * (size_t)nv * sizeof(int) > CL__TREE_BUDGET) { /* start over */
    for (int v = 0; v < nv; v++) {
      free(r->trees[v]);
      r->trees[v] = NULL;
    }
    r->n_trees = 0;
  }
  int *pred = r->trees[src] = malloc((size_t)nv * sizeof *pred);
  double *dist = r->dist;
  int *hops = r->nhop;
  cl__dent *h = r->heap;
  if (!pred) return CL_ERR_NOMEM;
  for (int v = 0; v < nv; v++) {
    dist[v] = INFINITY;
    hops[v] = 0;
    pred[v] = -1;
  }
  int n = 0;
  dist[src] = 0;
  h[n++] = (cl__dent){0, 0, src};
  while (n > 0) {
    cl__dent top = h[0], last = h[--n];
    int i = 0; /* sift down */
    for (;;) {
      int c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && cl__dless(&h[c + 1], &h[c])) c++;
      if (!cl__dless(&h[c], &last)) break;
      h[i] = h[c];
      i = c;
    }
    if (n > 0) h[i] = last;
    int u = top.v;
    if (top.d != dist[u] || top.hops != hops[u]) continue; /* stale */
    for (int p = r->adj_off[u]; p < r->adj_off[u + 1]; p++) {
      int v = r->adj_dst[p];
      double nd = dist[u] + r->adj_w[p];
      int nh = hops[u] + 1;
      if (nd < dist[v] || (nd == dist[v] && nh < hops[v])) {
        dist[v] = nd;
        hops[v] = nh;
        pred[v] = r->adj[p];
        cl__dent e = {nd, nh, v};
        int k = n++; /* sift up */
        while (k > 0 && cl__dless(&e, &h[(k - 1) / 2])) {
          h[k] = h[(k - 1) / 2];
          k = (k - 1) / 2;
        }
        h[k] = e;
      }
    }
  }
  r->n_trees++;
  return CL_OK;
}

cl_status cl_netmodel_route(cl_netmodel *net, int src, int dst, int *id_out) {
  if (src < 0 || dst < 0 || src == dst) {
    cl_log_error("netmodel: route %d->%d: endpoints must be two different node indices >= 0", src, dst);
    return CL_ERR_INVALID;
  }
  int id = cl__cache_get(&net->routes, src, dst);
  if (id >= 0) {
    *id_out = id;
    return CL_OK;
  }
  cl_status s = cl__adjacency(net);
  cl__routes *r = &net->routes;
  if (s == CL_OK && src < r->n_vert) {
    for (int p = r->adj_off[src]; p < r->adj_off[src + 1]; p++) /* a direct link always wins */
      if (net->links[r->adj[p]].dst == dst) {
        *id_out = r->adj[p];
        return cl__cache_put(r, src, dst, r->adj[p]) == CL_OK ? CL_OK : CL_ERR_NOMEM;
      }
    if (!r->trees[src]) s = cl__dijkstra(net, src);
  }
  if (s != CL_OK) {
    cl_log_error("netmodel: out of memory computing routes");
    return s;
  }
  if (src >= r->n_vert || dst >= r->n_vert || r->trees[src][dst] < 0) return CL_ERR_NOTFOUND;
  const int *pred = r->trees[src];
  int n = 0;
  for (int v = dst; v != src; v = net->links[pred[v]].src) n++;
  int *hops = malloc((size_t)n * sizeof *hops);
  if (!hops) return CL_ERR_NOMEM;
  int k = n;
  for (int v = dst; v != src; v = net->links[pred[v]].src) hops[--k] = pred[v];
  s = cl_netmodel_add_route(net, hops, n, id_out);
  free(hops);
  return s;
}

/* Minimum rate over the hops at t and the next time any hop's bandwidth changes. */
static double cl__route_rate(const cl_netmodel *net, const cl__link *R, double t, double *next) {
  double r = INFINITY;
  *next = INFINITY;
  for (int i = 0; i < R->n_hops; i++) {
    const cl__link *H = &net->links[R->hops[i]];
    int k = cl__sched_find(&H->bw, t);
    double v = cl__link_rate(net, H, k);
    if (v < r) r = v;
    if (k + 1 < H->bw.n && H->bw.t[k + 1] < *next) *next = H->bw.t[k + 1];
  }
  return r;
}

/* Time to push bytes through the route's bottleneck schedule from start (start up). */
static double cl__route_integrate(const cl_netmodel *net, const cl__link *R, double start, uint64_t bytes) {
  if (bytes == 0) return 0.0;
  double remaining = (double)bytes, cur = start;
  for (;;) {
    double next, r = cl__route_rate(net, R, cur, &next);
    if (!isfinite(next)) return cur - start + remaining / r; /* last segments are all up */
    if (r > 0) {
      double cap = r * (next - cur);
      if (remaining <= cap) return cur - start + remaining / r;
      remaining -= cap;
    }
    cur = next;
  }
}

cl_status cl__route_tx_time(const cl_netmodel *net, int id, double start, uint64_t bytes, double *tx_out) {
  const cl__link *R = &net->links[id];
  if (!isfinite(start)) {
    cl_log_error("netmodel: tx_time on route '%s': start %g is not finite", R->name, start);
    return CL_ERR_INVALID;
  }
  *tx_out = cl__route_integrate(net, R, start, bytes);
  if (!isfinite(*tx_out)) {
    cl_log_error("netmodel: route '%s': %llu bytes from t=%g s take no finite time", R->name,
                 (unsigned long long)bytes, start);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

/* FIFO over a route: the transfer waits until every hop (and its medium) is free, holds
 * them all for tx = bytes through the bottleneck, latency = sum of the hops' (each with
 * its jitter, each truncated at 0). */
cl_status cl__route_send(cl_netmodel *net, int id, double t_send, uint64_t bytes, cl_xfer *out) {
  cl__link *R = &net->links[id];
  double start = t_send;
  for (int i = 0; i < R->n_hops; i++) {
    const cl__link *H = &net->links[R->hops[i]];
    if (H->free_at > start) start = H->free_at;
    if (H->medium >= 0 && net->media[H->medium].free_at > start) start = net->media[H->medium].free_at;
  }
  double next;
  while (!(cl__route_rate(net, R, start, &next) > 0)) start = next; /* a hop is down */
  double tx = cl__route_integrate(net, R, start, bytes), lat = 0.0;
  for (int i = 0; i < R->n_hops; i++) {
    cl__link *H = &net->links[R->hops[i]];
    double l = H->lat.v[cl__sched_find(&H->lat, start)];
    if (H->jitter.dist != CL_JITTER_NONE) {
      l += cl__link_jitter(H);
      if (!(l > 0)) l = 0.0;
    }
    lat += l;
  }
  double arrival = start + lat + tx;
  if (!isfinite(arrival)) {
    cl_log_error("netmodel: route '%s': %llu bytes sent at t=%g s never arrive in finite virtual time "
                 "(bottleneck %g B/s, latency %g s): virtual time overflows",
                 R->name, (unsigned long long)bytes, t_send, cl__route_rate(net, R, start, &next), lat);
    return CL_ERR_INVALID;
  }
  if (arrival < R->last_arrival) arrival = R->last_arrival; /* in order per route (TCP-like) */
  R->last_arrival = arrival;
  for (int i = 0; i < R->n_hops; i++) {
    cl__link *H = &net->links[R->hops[i]];
    H->free_at = start + tx;
    if (H->medium >= 0) net->media[H->medium].free_at = start + tx;
    H->stats.sends++;
    H->stats.bytes += bytes;
    H->stats.busy += tx;
    H->stats.wait += start - t_send;
  }
  R->stats.sends++;
  R->stats.bytes += bytes;
  R->stats.busy += tx;
  R->stats.wait += start - t_send;
  if (out) *out = (cl_xfer){start, tx, lat, arrival};
  return CL_OK;
}
