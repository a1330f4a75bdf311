/* Internal layout of cl_netmodel, shared by runtime/netmodel.c (links, FIFO sends),
 * runtime/netroute.c (routes, shortest paths) and runtime/netflow.c (max-min flows).
 * Not part of the public API. */
#ifndef CLEAVE_RUNTIME_NETMODEL_INTERNAL_H
#define CLEAVE_RUNTIME_NETMODEL_INTERNAL_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

#include "cleave/netmodel.h"

/* Route cache and the last shortest-path tree (runtime/netroute.c). */
typedef struct cl__routes {
  int64_t *key;       /* open addressing: (src << 32 | dst), -1 = empty */
  int *val;           /* route (or link) id */
  int cap, n;
  int n_vert;         /* vertices of the adjacency (max plain-link endpoint + 1) */
  int adj_links;      /* links when the adjacency was built (rebuilt when it changes) */
  int *adj_off, *adj; /* CSR: plain links leaving each vertex */
  int *adj_dst;       /* [adj entries] their head vertex, and */
  double *adj_w;      /* their latency at t = 0 (s): compact for Dijkstra's inner loop */
  double *dist;       /* [n_vert] Dijkstra scratch, kept between runs */
  int *nhop;          /* [n_vert] */
  void *heap;         /* [adj entries + n_vert] */
  int **trees;        /* [n_vert]: shortest-path tree of each source computed so far (link into
                         each vertex, -1 = unreached), or NULL; freed together past a budget */
  int n_trees;
} cl__routes;

/* One max-min flow (runtime/netflow.c). */
typedef struct cl__flow {
  int id, tag;     /* link or route id, caller's tag */
  double start;    /* s: entered the network */
  double lat;      /* s: summed hop latency at start (+ jitter) */
  double rem;      /* bytes still to drain at `upd` */
  double upd;      /* s: time of rem */
  double rate;     /* B/s */
  double drain;    /* s: upd + rem / rate (inf if rate 0) */
  uint64_t bytes;
} cl__flow;

typedef struct cl__flows {
  cl__flow *f;
  int n, cap;
  double now;      /* s: time of the current allocation */
  int dirty;       /* allocation must be recomputed */
  /* scratch of the allocation, sized to links + media */
  double *cap_left, *weight;
  int n_res;
  int *res_off, *res_flows; /* CSR over the touched resources: flows on each */
  int *fill, *mark, *touched; /* per resource: CSR fill, epoch of last touch; touched list */
  int epoch;
  int cap_rf;
  uint8_t *frozen;
  int cap_frozen;
} cl__flows;

typedef struct cl__change {
  double at, bandwidth, latency; /* negative = unchanged */
  uint64_t seq;                  /* global insertion order: later wins at equal times */
} cl__change;

/* A piecewise-constant schedule: value v[k] holds on [t[k], t[k+1]); t[0] = -inf. */
typedef struct cl__sched {
  double *t, *v;
  int n;
} cl__sched;

typedef struct cl__link {
  char *name;
  int src, dst, medium, reorder;
  double base_bw, base_lat;
  cl_jitter jitter;
  double *trace_t, *trace_bw;
  int trace_n;
  cl__change *changes;
  int n_changes, cap_changes;
  cl__sched bw, lat; /* compiled from base + trace + changes */
  gsl_rng *rng;
  double free_at, last_arrival;
  cl_link_stats stats;
  cl_sharing sharing;
  int *hops;  /* a route: the plain links it crosses, in order (NULL for a plain link) */
  int n_hops; /* 0 for a plain link */
} cl__link;

typedef struct cl__medium {
  char *name;
  double capacity; /* B/s, 0 = no cap */
  double free_at;
  cl_sharing sharing; /* that of its links (they must agree) */
  int n_links;        /* plain links on it */
} cl__medium;

struct cl_netmodel {
  uint64_t seed;
  uint64_t change_seq;
  cl__link *links;
  int n_links, cap_links;
  cl__medium *media;
  int n_media, cap_media;
  cl__routes routes; /* runtime/netroute.c */
  cl__flows flows;   /* runtime/netflow.c */
};


/* ---- shared helpers (runtime/netmodel.c) ---- */
int cl__sched_find(const cl__sched *s, double t);
double cl__link_rate(const cl_netmodel *net, const cl__link *L, int k); /* B/s in segment k */
double cl__link_jitter(cl__link *L); /* one draw of the link's jitter (s), 0 without */
int cl__netmodel_link_ok(const cl_netmodel *net, int link);
/* Hops of a link id: a plain link is its own single hop. */
static inline const int *cl__hops(const cl__link *L, const int *self, int *n) {
  if (L->n_hops) {
    *n = L->n_hops;
    return L->hops;
  }
  *n = 1;
  return self;
}
void cl__routes_free(cl__routes *r);
void cl__flows_free(cl__flows *f);
void cl__flows_reset(cl__flows *f);
cl_status cl__route_send(cl_netmodel *net, int id, double t_send, uint64_t bytes, cl_xfer *out);
cl_status cl__route_tx_time(const cl_netmodel *net, int id, double start, uint64_t bytes, double *tx_out);

#endif
