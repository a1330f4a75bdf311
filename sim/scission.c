/* Scission: exhaustive search over machine choices and contiguous block ranges for a
 * pipeline of tiers (device -> edge -> cloud by default), with Scission's criteria
 * language. Distinct configurations are enumerated directly (an unused tier has no
 * machine), so nothing needs de-duplication; costs come from per-machine prefix sums
 * and a dense link table; the top N are kept in a bounded max-heap. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/planner.h"
#include "cleave/text.h"
#include "cleave/vec.h"

#define MAXT CL_SCISSION_MAX_TIERS

/* ---- criteria ---- */

typedef struct crit {
  int must_use, must_skip;  /* "!-1" / "-1" */
  int n_in, n_out;          /* layers that must / must not be in the tier's range */
  int *lay_in, *lay_out;
  int n_names, n_not;       /* machine names allowed (alternatives) / forbidden */
  char **names, **not_names;
  char *buf;                /* the name strings */
  /* names, not_names, lay_in, lay_out and buf share one block, owned by names. */
} crit;

static void crit_free(crit *c) {
  free(c->names);
  memset(c, 0, sizeof *c);
}

/* Parse one tier's list. Items: N, !N, -1, !-1, name, !name (see docs/planners.md). */
static cl_status crit_parse(const char *tier, const char *text, crit *c) {
  memset(c, 0, sizeof *c);
  if (!text) return CL_OK;
  size_t len = strlen(text);
  int items = 1;
  for (size_t i = 0; i < len; i++) items += text[i] == ',';
  size_t n = (size_t)items;
  const cl_block_part parts[] = {CL_BLOCK_PART(c->names, n), CL_BLOCK_PART(c->not_names, n),
                                 CL_BLOCK_PART(c->lay_in, n), CL_BLOCK_PART(c->lay_out, n),
                                 CL_BLOCK_PART(c->buf, len + 1)};
  CL_TRY(cl_block_alloc(parts, 5));
  memcpy(c->buf, text, len + 1);
  char *p = c->buf;
  for (;;) {
    char *comma = strchr(p, ',');
    if (comma) *comma = '\0';
    char *it = cl_text_trim(p);
    int neg = it[0] == '!';
    char *body = neg ? cl_text_trim(it + 1) : it;
    if (!*body) {
      cl_log_error("scission: %s criteria '%s': empty item", tier, text);
      crit_free(c);
      return CL_ERR_INVALID;
    }
    if (!strcmp(body, "-1")) {
      if (neg)
        c->must_use = 1;
      else
        c->must_skip = 1;
    } else if (cl_text_is_digits(body)) { /* digits are always layer numbers, never names */
      char *end;
      long v = strtol(body, &end, 10);
      if (v > 100000000L) {
        cl_log_error("scission: %s criteria '%s': layer number '%s' out of range", tier, text,
                     body);
        crit_free(c);
        return CL_ERR_INVALID;
      }
      if (neg)
        c->lay_out[c->n_out++] = (int)v;
      else
        c->lay_in[c->n_in++] = (int)v;
    } else if (neg) {
      c->not_names[c->n_not++] = body;
    } else {
      c->names[c->n_names++] = body;
    }
    if (!comma) break;
    p = comma + 1;
  }
  return CL_OK;
}

cl_status cl_scission_criteria_check(const char *tier, const char *criteria) {
  crit c;
  CL_TRY(crit_parse(tier, criteria, &c));
  crit_free(&c);
  return CL_OK;
}

void cl_scission_query_init(cl_scission_query *q) {
  memset(q, 0, sizeof *q);
  q->n_tiers = 3;
  q->tiers[0] = "device";
  q->tiers[1] = "edge";
  q->tiers[2] = "cloud";
  q->input_bytes = 150000.0; /* 0.15 MB, Scission's default */
  for (int t = 0; t < MAXT; t++) {
    q->upload_limit[t] = -1;
    q->time_limit[t] = -1;
  }
  q->result_count = 5;
  q->objective = CL_PLAN_LATENCY;
  q->weights[0] = 1.0;
}

/* ---- search context ---- */

typedef struct cand {
  int machine;    /* profile-set index */
  int allowed;    /* passes the tier's name items */
  double *prefix; /* [L+1] prefix sums of block seconds */
  const cl_profile_block *blocks;
} cand;

typedef struct search {
  const cl_scission_query *q;
  int k, L;
  const cl_profile_block *ref; /* block layer ranges (identical on all machines) */
  int n_cand[MAXT];
  cand *cands[MAXT];
  int base[MAXT]; /* global candidate index of cands[t][0] */
  int n_all;
  double *lat, *bw; /* [n_all * n_all], bw <= 0: no link */
  crit cr[MAXT];
  /* current configuration */
  int c[MAXT]; /* candidate index within the tier, -1 unused (tier 0: always set) */
  int s[MAXT], e[MAXT];
  /* results */
  cl_scission_config *heap;
  int n_heap, cap, alloc, nomem;
  int64_t seq, feasible;
  int missing_link;
} search;

static int better(const cl_scission_config *a, const cl_scission_config *b) {
  if (a->objective != b->objective) return a->objective < b->objective;
  if (a->latency != b->latency) return a->latency < b->latency;
  return a->seq < b->seq;
}

/* Bounded max-heap keyed by "worse is on top". */
static void heap_push(search *S, const cl_scission_config *x) {
  if (S->n_heap == S->alloc && S->alloc < S->cap) { /* grow lazily: cap may be huge */
    int a = S->alloc > S->cap / 2 ? S->cap : 2 * S->alloc;
    cl_scission_config *p = realloc(S->heap, (size_t)a * sizeof *p);
    if (!p) {
      S->nomem = 1;
      return;
    }
    S->heap = p;
    S->alloc = a;
  }
  cl_scission_config *h = S->heap;
  if (S->n_heap == S->cap) {
    if (!better(x, &h[0])) return;
    int i = 0; /* replace the root and sift down */
    for (;;) {
      int l = 2 * i + 1, r = l + 1, w = i;
      const cl_scission_config *wv = x;
      if (l < S->n_heap && better(wv, &h[l])) w = l, wv = &h[l];
      if (r < S->n_heap && better(wv, &h[r])) w = r;
      if (w == i) break;
      h[i] = h[w];
      i = w;
    }
    h[i] = *x;
    return;
  }
  int i = S->n_heap++;
  while (i > 0) {
    int p = (i - 1) / 2;
    if (!better(&h[p], x)) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = *x;
}

static int crit_ok(const search *S, int t, int used, int first_layer, int last_layer, int cidx) {
  const crit *c = &S->cr[t];
  if (c->must_skip && used) return 0;
  if (c->must_use && !used) return 0;
  if ((c->n_names || c->n_not) && (!used || !S->cands[t][cidx].allowed)) return 0;
  for (int i = 0; i < c->n_in; i++)
    if (!used || c->lay_in[i] < first_layer || c->lay_in[i] > last_layer) return 0;
  if (used)
    for (int i = 0; i < c->n_out; i++)
      if (c->lay_out[i] >= first_layer && c->lay_out[i] <= last_layer) return 0;
  return 1;
}

static void leaf(search *S) {
  const cl_scission_query *q = S->q;
  const int k = S->k;
  cl_scission_config r;
  r.seq = S->seq++;
  int used[MAXT] = {0};
  double compute = 0.0;
  for (int t = 0; t < k; t++) {
    used[t] = S->e[t] > S->s[t];
    int fl = used[t] ? S->ref[S->s[t]].first_layer : -1;
    int ll = used[t] ? S->ref[S->e[t] - 1].last_layer : -1;
    if (!crit_ok(S, t, used[t], fl, ll, S->c[t] < 0 ? 0 : S->c[t])) return;
    r.first_layer[t] = fl;
    r.last_layer[t] = ll;
    r.first_block[t] = used[t] ? S->s[t] : -1;
    r.last_block[t] = used[t] ? S->e[t] - 1 : -1;
    r.machine[t] = (t == 0 || used[t]) ? S->cands[t][S->c[t]].machine : -1;
    r.seconds[t] = used[t] ? S->cands[t][S->c[t]].prefix[S->e[t]] -
                                 S->cands[t][S->c[t]].prefix[S->s[t]]
                           : 0.0;
    r.upload[t] = 0.0;
    compute += r.seconds[t];
  }
  /* Hop bytes: what each sending tier sends to the next used tier. */
  double send[MAXT];
  for (int t = 0; t < k; t++)
    send[t] = used[t] ? (double)S->cands[t][S->c[t]].blocks[S->e[t] - 1].output_bytes : 0.0;
  if (!used[0]) send[0] = q->input_bytes; /* the first hop starts at tier 0 regardless */
  double shown = -1.0;
  if (q->scission_compat) {
    /* Scission decides "tier present" by compute time != 0 for the byte counts only:
     * device bytes become 0 if edge and cloud times are both 0, else the edge's bytes
     * become 0 if the cloud time is 0. The printed MB is device + edge bytes. */
    double et = r.seconds[1], ct = r.seconds[2];
    if (!used[1]) send[1] = 0.0;
    if (et == 0.0 && ct == 0.0)
      send[0] = 0.0;
    else if (ct == 0.0)
      send[1] = 0.0;
    shown = send[0] + send[1];
  }
  double comm = 0.0, bytes = 0.0, energy = 0.0;
  for (int t = 0; t < k; t++) energy += q->power_w[t] * r.seconds[t];
  int holder = 0;
  for (int t = 1; t < k; t++) {
    if (!used[t]) continue;
    int a = S->base[holder] + S->c[holder], b = S->base[t] + S->c[t];
    double bw = S->bw[a * S->n_all + b];
    if (bw <= 0) {
      S->missing_link = 1;
      return;
    }
    double tt = send[holder] / bw;
    comm += S->lat[a * S->n_all + b] + tt;
    bytes += send[holder];
    r.upload[holder] = send[holder];
    energy += q->tx_power_w[holder] * tt;
    holder = t;
  }
  if (q->scission_compat) {
    r.upload[0] = send[0];
    r.upload[1] = send[1];
    bytes = shown;
  }
  for (int t = 0; t < k; t++) {
    if (q->upload_limit[t] >= 0 && r.upload[t] > q->upload_limit[t]) return;
    if (q->time_limit[t] >= 0) {
      if (q->time_limit_pct[t]) {
        double pct = compute > 0 ? r.seconds[t] / compute * 100.0 : 0.0;
        if (pct > q->time_limit[t]) return;
      } else if (r.seconds[t] > q->time_limit[t]) {
        return;
      }
    }
  }
  r.compute = compute;
  r.comm = comm;
  r.latency = compute + comm;
  r.energy = energy;
  r.bytes = bytes;
  switch (q->objective) {
    case CL_PLAN_ENERGY: r.objective = energy; break;
    case CL_PLAN_BYTES: r.objective = bytes; break;
    case CL_PLAN_WEIGHTED:
      r.objective = q->weights[0] * r.latency + q->weights[1] * energy + q->weights[2] * bytes / 1e6;
      break;
    default: r.objective = r.latency; break;
  }
  for (int t = k; t < MAXT; t++) {
    r.machine[t] = r.first_block[t] = r.last_block[t] = r.first_layer[t] = r.last_layer[t] = -1;
    r.seconds[t] = r.upload[t] = 0.0;
  }
  S->feasible++;
  heap_push(S, &r);
}

/* Tier t takes blocks starting at s (or nothing); recurse to the next tier. */
static void enumerate(search *S, int t, int s) {
  CL_ASSERT(t >= 0 && t < S->k && S->k <= MAXT);
  const int L = S->L, last = t == S->k - 1;
  if (t > 0) S->c[t] = -1;
  S->s[t] = S->e[t] = s; /* unused */
  if (last) {
    if (s == L) {
      leaf(S);
      return;
    }
  } else {
    enumerate(S, t + 1, s);
  }
  if (s == L) return;
  int j0 = 0, j1 = S->n_cand[t];
  if (t == 0) j0 = S->c[0], j1 = j0 + 1; /* tier 0's machine is fixed by the caller */
  for (int j = j0; j < j1; j++) {
    S->c[t] = j;
    S->s[t] = s;
    if (last) {
      S->e[t] = L;
      leaf(S);
      continue;
    }
    for (int e = s + 1; e <= L; e++) {
      S->e[t] = e;
      enumerate(S, t + 1, e);
    }
  }
  if (t > 0) S->c[t] = -1;
}

static void search_free(search *S) {
  for (int t = 0; t < MAXT; t++) {
    for (int j = 0; j < S->n_cand[t]; j++) free(S->cands[t][j].prefix);
    free(S->cands[t]);
    crit_free(&S->cr[t]);
  }
  free(S->lat);
  free(S->bw);
  free(S->heap);
}

static cl_status search_setup(search *S, const cl_profile_set *set, const cl_netstats *net,
                              const char *model) {
  const cl_scission_query *q = S->q;
  int nm = cl_profile_set_n_machines(set);
  const cl_profile_model *refm = NULL;
  const char *refname = NULL;
  for (int t = 0; t < S->k; t++) {
    CL_TRY(crit_parse(q->tiers[t], q->criteria[t], &S->cr[t]));
    S->cands[t] = calloc((size_t)(nm ? nm : 1), sizeof(cand));
    if (!S->cands[t]) return CL_ERR_NOMEM;
    S->base[t] = S->n_all;
    for (int i = 0; i < nm; i++) {
      const cl_profile_machine *m = cl_profile_set_machine(set, i);
      if (strcmp(m->tier, q->tiers[t])) continue;
      const cl_profile_model *md = cl_profile_machine_model(m, model);
      if (!md || md->n_blocks == 0) {
        cl_log_warn("scission: %s machine '%s' has no profile for model '%s'; skipped",
                    m->tier, m->name, model);
        continue;
      }
      if (!refm) {
        refm = md;
        refname = m->name;
      } else {
        int same = md->n_blocks == refm->n_blocks;
        for (int b = 0; same && b < md->n_blocks; b++)
          same = md->blocks[b].first_layer == refm->blocks[b].first_layer &&
                 md->blocks[b].last_layer == refm->blocks[b].last_layer;
        if (!same) {
          cl_log_error("scission: model '%s' has different block boundaries on '%s' and '%s'",
                       model, refname, m->name);
          return CL_ERR_INVALID;
        }
      }
      cand *c = &S->cands[t][S->n_cand[t]++];
      c->machine = i;
      c->blocks = md->blocks;
      c->prefix = malloc((size_t)(md->n_blocks + 1) * sizeof *c->prefix);
      if (!c->prefix) return CL_ERR_NOMEM;
      c->prefix[0] = 0.0;
      for (int b = 0; b < md->n_blocks; b++) c->prefix[b + 1] = c->prefix[b] + md->blocks[b].seconds;
      /* name items: allowed iff (no positive names or named) and not excluded */
      const crit *cr = &S->cr[t];
      int ok = cr->n_names == 0;
      for (int n = 0; n < cr->n_names; n++) ok |= !strcmp(cr->names[n], m->name);
      for (int n = 0; n < cr->n_not; n++) ok &= strcmp(cr->not_names[n], m->name) != 0;
      c->allowed = ok;
    }
    S->n_all += S->n_cand[t];
    const crit *cr = &S->cr[t];
    for (int n = 0; n < cr->n_names + cr->n_not; n++) {
      const char *nmn = n < cr->n_names ? cr->names[n] : cr->not_names[n - cr->n_names];
      int found = 0;
      for (int j = 0; j < S->n_cand[t]; j++)
        found |= !strcmp(cl_profile_set_machine(set, S->cands[t][j].machine)->name, nmn);
      if (!found)
        cl_log_warn("scission: %s criteria name '%s' matches no %s machine with model '%s'",
                    q->tiers[t], nmn, q->tiers[t], model);
    }
  }
  if (!refm) {
    cl_log_error("scission: no machine of tiers %s... has a profile for model '%s'", q->tiers[0],
                 model);
    return CL_ERR_NOTFOUND;
  }
  if (S->n_cand[0] == 0) {
    cl_log_error("scission: no '%s' machine has a profile for model '%s' (tier 0 holds the input)",
                 q->tiers[0], model);
    return CL_ERR_NOTFOUND;
  }
  S->ref = refm->blocks;
  S->L = refm->n_blocks;
  size_t nn = (size_t)S->n_all * (size_t)S->n_all;
  S->lat = calloc(nn, sizeof *S->lat);
  S->bw = calloc(nn, sizeof *S->bw);
  if (!S->lat || !S->bw) return CL_ERR_NOMEM;
  for (int ta = 0; ta < S->k; ta++)
    for (int tb = ta + 1; tb < S->k; tb++)
      for (int a = 0; a < S->n_cand[ta]; a++)
        for (int b = 0; b < S->n_cand[tb]; b++) {
          const cl_netstats_link *l = cl_netstats_find(
              net, cl_profile_set_machine(set, S->cands[ta][a].machine)->name,
              cl_profile_set_machine(set, S->cands[tb][b].machine)->name);
          size_t idx = (size_t)(S->base[ta] + a) * (size_t)S->n_all + (size_t)(S->base[tb] + b);
          if (l) {
            S->lat[idx] = l->latency_s;
            S->bw[idx] = l->bandwidth_Bps;
          }
        }
  S->cap = q->result_count;
  S->alloc = S->cap < 64 ? S->cap : 64;
  S->heap = malloc((size_t)S->alloc * sizeof *S->heap);
  return S->heap ? CL_OK : CL_ERR_NOMEM;
}

static int cmp_cfg(const void *a, const void *b) {
  const cl_scission_config *x = a, *y = b;
  return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

cl_status cl_scission_search(const cl_profile_set *set, const cl_netstats *net,
                             const cl_scission_query *q, cl_scission_config *out, int *n_out,
                             cl_scission_stats *st) {
  *n_out = 0;
  if (!q->model || !*q->model || q->n_tiers < 1 || q->n_tiers > MAXT || q->result_count < 1) {
    cl_log_error("scission: query needs a model, 1..%d tiers and result_count >= 1", MAXT);
    return CL_ERR_INVALID;
  }
  if (q->scission_compat && q->n_tiers != 3) {
    cl_log_error("scission: --scission-compat needs exactly 3 tiers (device, edge, cloud)");
    return CL_ERR_INVALID;
  }
  if (!(q->input_bytes >= 0)) {
    cl_log_error("scission: input size %g bytes is negative", q->input_bytes);
    return CL_ERR_INVALID;
  }
  for (int t = 0; t < q->n_tiers; t++) {
    if (!q->tiers[t] || !*q->tiers[t]) {
      cl_log_error("scission: tier %d has no name", t);
      return CL_ERR_INVALID;
    }
    for (int u = 0; u < t; u++)
      if (!strcmp(q->tiers[u], q->tiers[t])) {
        cl_log_error("scission: tier '%s' listed twice", q->tiers[t]);
        return CL_ERR_INVALID;
      }
  }
  char model[256];
  size_t ml = strlen(q->model);
  if (ml >= sizeof model) {
    cl_log_error("scission: model name too long");
    return CL_ERR_INVALID;
  }
  for (size_t i = 0; i <= ml; i++) model[i] = (char)tolower((unsigned char)q->model[i]);

  search S;
  memset(&S, 0, sizeof S);
  S.q = q;
  S.k = q->n_tiers;
  cl_status rc = search_setup(&S, set, net, model);
  if (rc == CL_OK) {
    for (int j = 0; j < S.n_cand[0]; j++) {
      S.c[0] = j;
      enumerate(&S, 0, 0);
    }
    if (S.nomem) {
      cl_log_error("scission: out of memory keeping %d results", S.cap);
      rc = CL_ERR_NOMEM;
    }
    if (rc == CL_OK && S.missing_link)
      cl_log_warn("scission: some configurations were skipped: no network link between "
                  "their machines");
    qsort(S.heap, (size_t)S.n_heap, sizeof *S.heap, cmp_cfg);
    if (rc == CL_OK) {
      memcpy(out, S.heap, (size_t)S.n_heap * sizeof *out);
      *n_out = S.n_heap;
    }
    if (st) {
      st->enumerated = S.seq;
      st->feasible = S.feasible;
    }
  }
  search_free(&S);
  return rc;
}
