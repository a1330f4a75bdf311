/* The planner interface (include/cleave/plan.h): every registered planner run by name on
 * small random chains and DAGs over 2-3 machines, checked against brute force over its
 * placement space under a naive twin of the common cost model, against the planners'
 * direct APIs, and the spatial planners against cl_coedge_plan. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_test_graph.h"
#include "cl_test.h"
#include "cleave/coedge.h"
#include "cleave/plan.h"
#include "cleave/zoo.h"

#define MAXU 9
#define MAXM 3

static double urand(uint64_t *s, double lo, double hi) {
  return lo + (hi - lo) * (double)(cl_rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* A random problem: n units (chain or DAG), nm machines device/edge/cloud, full links. */
typedef struct prob {
  int n, nm, dag;
  int off[MAXU + 1], idx[MAXU * MAXU];
  double sec[MAXM][MAXU], out[MAXU];
  cl_plan_machine m[MAXM];
  cl_plan_link links[MAXM * MAXM];
  cl_plan_input in;
} prob;

static void prob_make(prob *p, uint64_t *rng, int n, int nm, int dag) {
  static const char *names[MAXM] = {"dev", "box", "srv"}, *tiers[MAXM] = {"device", "edge", "cloud"};
  memset(p, 0, sizeof *p);
  p->n = n;
  p->nm = nm;
  p->dag = dag;
  int k = 0;
  for (int i = 0; i < n; i++) {
    p->off[i] = k;
    if (i > 0) p->idx[k++] = i - 1;
    for (int j = 0; dag && j + 1 < i; j++) /* skip connections */
      if (cl_rng_next(rng) % 4 == 0) p->idx[k++] = j;
    p->out[i] = floor(urand(rng, 1e3, 2e6));
  }
  p->off[n] = k;
  for (int m = 0; m < nm; m++) {
    int t = nm == 2 && m == 1 ? 2 : m; /* two machines: device and cloud */
    double speed = t == 0 ? 1 : t == 1 ? urand(rng, 1, 4) : urand(rng, 2, 20);
    for (int i = 0; i < n; i++) p->sec[m][i] = urand(rng, 0.001, 0.2) / speed;
    p->m[m] = (cl_plan_machine){names[t], tiers[t], p->sec[m], speed, urand(rng, 1, 5), urand(rng, 0.1, 0.5),
                                urand(rng, 0.5, 3), urand(rng, 0.2, 1)};
  }
  int nl = 0;
  for (int a = 0; a < nm; a++)
    for (int b = 0; b < nm; b++)
      if (a != b) p->links[nl++] = (cl_plan_link){a, b, urand(rng, 0, 0.02), urand(rng, 1e5, 1e8)};
  cl_plan_input_init(&p->in);
  p->in.model = "random";
  p->in.n_units = n;
  p->in.in_off = p->off;
  p->in.in_idx = p->idx;
  p->in.out_bytes = p->out;
  p->in.input_bytes = floor(urand(rng, 1e4, 1e6));
  p->in.n_machines = nm;
  p->in.machines = p->m;
  p->in.n_links = nl;
  p->in.links = p->links;
}

/* Naive twin of cl_plan_eval: sent[u][m] marks tensor u delivered to machine m. */
static void naive_eval(const prob *p, const int *nou, double *lat, double *energy) {
  int sent[MAXU + 1][MAXM] = {{0}}, runs[MAXM] = {0};
  double busy[MAXM] = {0}, tx[MAXM] = {0}, rx[MAXM] = {0}, t = 0;
  for (int v = 0; v < p->n; v++) {
    busy[nou[v]] += p->sec[nou[v]][v] * (p->in.load_factor ? p->in.load_factor[nou[v]] : 1);
    if (p->in.wait_s && !runs[nou[v]]) t += p->in.wait_s[nou[v]];
    runs[nou[v]] = 1;
    int nin = p->off[v + 1] - p->off[v];
    for (int j = 0; j < (nin ? nin : 1); j++) { /* a root reads the raw input (row MAXU) */
      int u = nin ? p->idx[p->off[v] + j] : MAXU, src = nin ? nou[u] : 0;
      double b = nin ? p->out[u] : p->in.input_bytes;
      int *s = &sent[u][nou[v]];
      if (src == nou[v] || *s) continue;
      *s = 1;
      const cl_plan_link *l = NULL;
      for (int k = 0; k < p->in.n_links; k++)
        if (p->links[k].from == src && p->links[k].to == nou[v]) l = &p->links[k];
      t += l->latency_s + b / l->bandwidth_Bps;
      tx[src] += b / l->bandwidth_Bps;
      rx[nou[v]] += b / l->bandwidth_Bps;
    }
  }
  for (int m = 0; m < p->nm; m++) t += busy[m];
  double e = 0;
  for (int m = 0; m < p->nm; m++)
    if (m == 0 || busy[m] > 0 || tx[m] > 0 || rx[m] > 0)
      e += p->m[m].p_comp * busy[m] + p->m[m].p_tx * tx[m] + p->m[m].p_rx * rx[m] +
           p->m[m].p_idle * fmax(0, t - busy[m] - tx[m] - rx[m]);
  *lat = t;
  *energy = e;
}

/* Naive twin of cl_plan_max_stage: machine busy times and per machine pair transfer sums. */
static double naive_stage(const prob *p, const int *nou) {
  double busy[MAXM] = {0}, pair[MAXM][MAXM] = {{0}}, mx = 0;
  int sent[MAXU + 1][MAXM] = {{0}};
  for (int v = 0; v < p->n; v++) {
    busy[nou[v]] += p->sec[nou[v]][v] * (p->in.load_factor ? p->in.load_factor[nou[v]] : 1);
    int nin = p->off[v + 1] - p->off[v];
    for (int j = 0; j < (nin ? nin : 1); j++) {
      int u = nin ? p->idx[p->off[v] + j] : MAXU, src = nin ? nou[u] : 0;
      if (src == nou[v] || sent[u][nou[v]]) continue;
      sent[u][nou[v]] = 1;
      for (int k = 0; k < p->in.n_links; k++)
        if (p->links[k].from == src && p->links[k].to == nou[v])
          pair[src][nou[v]] += p->links[k].latency_s + (nin ? p->out[u] : p->in.input_bytes) / p->links[k].bandwidth_Bps;
    }
  }
  for (int a = 0; a < MAXM; a++) {
    mx = fmax(mx, busy[a]);
    for (int b = 0; b < MAXM; b++) mx = fmax(mx, pair[a][b]);
  }
  return mx;
}

/* Legal single-tensor cut before unit s (independent of the library's cut_points). */
static int legal_cut(const prob *p, int s) {
  for (int v = s; v < p->n; v++)
    for (int k = p->off[v]; k < p->off[v + 1]; k++)
      if (p->idx[k] < s - 1) return 0;
  return 1;
}

typedef enum space { SP_SPLIT, SP_CLOSED, SP_PIPELINE } space;

/* Brute force: the best objective over every placement of @p sp (energy: 0 latency,
 * 1 energy, 2 max stage). Machines of the space: SP_SPLIT and SP_CLOSED use machine 0
 * and @p c; SP_PIPELINE all, in index order. */
static double brute(const prob *p, space sp, int c, int energy) {
  int nou[MAXU];
  double best = INFINITY;
  long total = 1;
  int base = sp == SP_PIPELINE ? p->nm : 2;
  for (int i = 0; i < p->n; i++) total *= base;
  for (long code = 0; code < total; code++) {
    long x = code;
    int ok = 1;
    for (int i = 0; i < p->n; i++, x /= base) {
      int d = (int)(x % base);
      nou[i] = sp == SP_PIPELINE ? d : d ? c : 0;
    }
    for (int i = 1; ok && i < p->n; i++) {
      if (sp == SP_PIPELINE || sp == SP_SPLIT) ok = nou[i] >= nou[i - 1] && (nou[i] == nou[i - 1] || legal_cut(p, i));
      if (sp == SP_CLOSED)
        for (int k = p->off[i]; k < p->off[i + 1]; k++) ok &= !(nou[p->idx[k]] == c && nou[i] == 0);
    }
    if (!ok) continue;
    double l, e;
    naive_eval(p, nou, &l, &e);
    double v = energy == 2 ? naive_stage(p, nou) : energy ? e : l;
    if (v < best) best = v;
  }
  return best;
}

static void check_result(const prob *p, const cl_plan_result *r, double want, int energy, const char *what) {
  double l, e;
  naive_eval(p, r->node_of_unit, &l, &e);
  CL_CHECK_NEAR(r->latency, l, 1e-9 * (1 + l));
  CL_CHECK_NEAR(r->energy, e, 1e-9 * (1 + e));
  CL_CHECK_NEAR(r->max_stage, naive_stage(p, r->node_of_unit), 1e-9 * (1 + l));
  double got = energy ? e : l;
  if (fabs(got - want) > 1e-9 * (1 + want)) {
    fprintf(stderr, "%s: n %d machines %d dag %d: planner %.9g, brute force %.9g\n", what, p->n, p->nm, p->dag, got,
            want);
    CL_CHECK(0);
  }
}

static void test_layer_planners_vs_brute(void) {
  uint64_t rng = 12;
  for (int trial = 0; trial < 240; trial++) {
    prob p;
    int nm = 2 + trial % 2, dag = (trial / 2) % 2, n = 1 + (int)(cl_rng_next(&rng) % (nm == 3 ? 7 : MAXU));
    prob_make(&p, &rng, n, nm, dag);
    int energy = (trial / 4) % 2, c = nm - 1;
    p.in.objective = energy ? CL_PLAN_ENERGY : CL_PLAN_LATENCY;
    cl_plan_result r;
    /* Neurosurgeon minimises the mobile's energy: give the other machines no power */
    if (energy)
      for (int m = 1; m < nm; m++) p.m[m].p_comp = p.m[m].p_idle = p.m[m].p_tx = p.m[m].p_rx = 0;
    CL_CHECK_OK(cl_plan_run("neurosurgeon", &p.in, &r));
    if (r.node_of_unit) check_result(&p, &r, brute(&p, SP_SPLIT, c, energy), energy, "neurosurgeon");
    cl_plan_result_fini(&r);
    if (!energy) { /* DADS minimises latency */
      CL_CHECK_OK(cl_plan_run("dads", &p.in, &r));
      if (r.node_of_unit) check_result(&p, &r, brute(&p, SP_CLOSED, c, 0), 0, "dads");
      cl_plan_result_fini(&r);
    }
    /* Scission's energy is compute + send power only */
    if (energy)
      for (int m = 0; m < nm; m++) p.m[m].p_idle = p.m[m].p_rx = 0;
    CL_CHECK_OK(cl_plan_run("scission", &p.in, &r));
    if (r.node_of_unit) check_result(&p, &r, brute(&p, SP_PIPELINE, c, energy), energy, "scission");
    cl_plan_result_fini(&r);
    /* baselines */
    int all0[MAXU] = {0}, allc[MAXU];
    for (int i = 0; i < n; i++) allc[i] = c;
    double l, e;
    CL_CHECK_OK(cl_plan_run("local", &p.in, &r));
    naive_eval(&p, all0, &l, &e);
    CL_CHECK_NEAR(r.latency, l, 1e-12 * (1 + l));
    CL_CHECK_NEAR(r.energy, e, 1e-12 * (1 + e));
    CL_CHECK_NEAR(r.bytes, 0, 0);
    cl_plan_result_fini(&r);
    CL_CHECK_OK(cl_plan_run("cloud", &p.in, &r));
    naive_eval(&p, allc, &l, &e);
    CL_CHECK_NEAR(r.latency, l, 1e-12 * (1 + l));
    CL_CHECK_NEAR(r.bytes, p.in.input_bytes, 0);
    cl_plan_result_fini(&r);
  }
}

/* Server load (issue 16): Neurosurgeon and DADS (light mode) with random load factors and
 * queueing waits are exact against brute force under the loaded cost model. */
static void test_load_vs_brute(void) {
  uint64_t rng = 77;
  for (int trial = 0; trial < 300; trial++) {
    prob p;
    int nm = 2 + trial % 2, n = 1 + (int)(cl_rng_next(&rng) % (nm == 3 ? 7 : MAXU)), c = nm - 1;
    prob_make(&p, &rng, n, nm, (trial / 2) % 2);
    double lf[MAXM], w[MAXM];
    for (int m = 0; m < nm; m++) {
      lf[m] = urand(&rng, 1, 4);
      w[m] = trial % 3 ? urand(&rng, 0, 0.3) : 0;
    }
    p.in.load_factor = lf;
    p.in.wait_s = w;
    p.in.mode = CL_PLAN_MODE_LATENCY;
    cl_plan_result r;
    CL_CHECK_OK(cl_plan_run("neurosurgeon", &p.in, &r));
    check_result(&p, &r, brute(&p, SP_SPLIT, c, 0), 0, "neurosurgeon (load)");
    cl_plan_result_fini(&r);
    CL_CHECK_OK(cl_plan_run("dads", &p.in, &r));
    check_result(&p, &r, brute(&p, SP_CLOSED, c, 0), 0, "dads (load)");
    CL_CHECK_INT_EQ(r.heavy, 0);
    cl_plan_result_fini(&r);
  }
}

/* DADS heavy-load mode (min max stage, a heuristic) against brute force over closed
 * cloud sets on two machines: never below the optimum (a sanity bound), never worse than
 * the light-load plan, and equal to the optimum on at least 95% of the problems. */
static void test_dads_heavy_vs_brute(void) {
  uint64_t rng = 31;
  int hits = 0, trials = 400;
  for (int trial = 0; trial < trials; trial++) {
    prob p;
    prob_make(&p, &rng, 2 + (int)(cl_rng_next(&rng) % (MAXU - 1)), 2, trial % 2);
    double lf[2] = {1, urand(&rng, 1, 3)};
    p.in.load_factor = lf;
    cl_plan_result light, heavy;
    p.in.mode = CL_PLAN_MODE_LATENCY;
    CL_CHECK_OK(cl_plan_run("dads", &p.in, &light));
    p.in.mode = CL_PLAN_MODE_THROUGHPUT;
    CL_CHECK_OK(cl_plan_run("dads", &p.in, &heavy));
    CL_CHECK_INT_EQ(heavy.heavy, 1);
    double want = brute(&p, SP_CLOSED, 1, 2), got = heavy.max_stage;
    CL_CHECK_NEAR(got, naive_stage(&p, heavy.node_of_unit), 1e-12 * (1 + got));
    CL_CHECK(got >= want * (1 - 1e-9));
    CL_CHECK(got <= light.max_stage * (1 + 1e-9));
    hits += got <= want * (1 + 1e-9);
    cl_plan_result_fini(&light);
    cl_plan_result_fini(&heavy);
  }
  printf("dads heavy mode: optimal max stage on %d of %d random problems\n", hits, trials);
  CL_CHECK(hits >= trials * 95 / 100);
}

/* A case where load changes the chosen cut: a slow device and a fast cloud. Unloaded,
 * Neurosurgeon and DADS offload after unit 0; with the cloud queue at 0.5 s both keep
 * everything local; with a high arrival rate DADS (auto) switches to its heavy-load mode
 * and balances the pipeline instead of minimising latency. */
static void test_load_changes_cut(void) {
  static const double dev[4] = {0.02, 0.1, 0.1, 0.1}, srv[4] = {0.002, 0.01, 0.01, 0.01}, out[4] = {1e4, 1e6, 1e6, 1e3};
  cl_plan_machine m[2] = {{"dev", "device", dev, 1, 0, 0, 0, 0}, {"srv", "cloud", srv, 10, 0, 0, 0, 0}};
  cl_plan_link l[1] = {{0, 1, 0.005, 1e6}};
  cl_plan_input in;
  cl_plan_input_init(&in);
  in.n_units = 4;
  in.out_bytes = out;
  in.input_bytes = 1e5;
  in.n_machines = 2;
  in.machines = m;
  in.n_links = 1;
  in.links = l;
  const char *pl[2] = {"neurosurgeon", "dads"};
  for (int k = 0; k < 2; k++) {
    cl_plan_result r;
    CL_CHECK_OK(cl_plan_run(pl[k], &in, &r));
    int want[4] = {0, 1, 1, 1};
    for (int i = 0; i < 4; i++) CL_CHECK_INT_EQ(r.node_of_unit[i], want[i]);
    CL_CHECK_NEAR(r.latency, 0.02 + 0.005 + 0.01 + 0.03, 1e-12);
    cl_plan_result_fini(&r);
    double w[2] = {0, 0.5};
    in.wait_s = w;
    CL_CHECK_OK(cl_plan_run(pl[k], &in, &r));
    for (int i = 0; i < 4; i++) CL_CHECK_INT_EQ(r.node_of_unit[i], 0);
    CL_CHECK_NEAR(r.latency, 0.32, 1e-12);
    cl_plan_result_fini(&r);
    in.wait_s = NULL;
  }
  /* light plan: split after unit 0 (94 ms; stages 20 / 15 / 59 ms); 40 requests/s need
   * a max stage below 25 ms: the heavy mode splits after unit 1 (95 ms; 40 / 15 / 40 ms) */
  in.arrival_rate = 40;
  static const double dev2[4] = {0.02, 0.02, 0.1, 0.1}, srv2[4] = {0.002, 0.019, 0.02, 0.02};
  static const double out2[4] = {1e4, 1e4, 1e6, 1e3};
  m[0].seconds = dev2;
  m[1].seconds = srv2;
  in.out_bytes = out2;
  cl_plan_result r;
  in.mode = CL_PLAN_MODE_LATENCY;
  CL_CHECK_OK(cl_plan_run("dads", &in, &r));
  int light[4] = {r.node_of_unit[0], r.node_of_unit[1], r.node_of_unit[2], r.node_of_unit[3]};
  double light_stage = r.max_stage;
  CL_CHECK_INT_EQ(r.heavy, 0);
  cl_plan_result_fini(&r);
  in.mode = CL_PLAN_MODE_AUTO;
  CL_CHECK_OK(cl_plan_run("dads", &in, &r));
  CL_CHECK_INT_EQ(r.heavy, light_stage * 40 >= 1);
  CL_CHECK(r.heavy);
  CL_CHECK(r.max_stage < light_stage);
  int want_light[4] = {0, 1, 1, 1}, want_heavy[4] = {0, 0, 1, 1};
  for (int i = 0; i < 4; i++) {
    CL_CHECK_INT_EQ(light[i], want_light[i]);
    CL_CHECK_INT_EQ(r.node_of_unit[i], want_heavy[i]);
  }
  CL_CHECK_NEAR(r.max_stage, 0.04, 1e-12);
  cl_plan_result_fini(&r);
  in.arrival_rate = 1; /* lightly loaded: auto keeps the latency plan */
  CL_CHECK_OK(cl_plan_run("dads", &in, &r));
  CL_CHECK_INT_EQ(r.heavy, 0);
  cl_plan_result_fini(&r);
}

/* The adapters agree with the direct APIs on chains (the direct results are brute-force
 * tested in tests/test_planners.c and tests/test_scission.c). */
static void test_direct_apis(void) {
  uint64_t rng = 99;
  for (int trial = 0; trial < 50; trial++) {
    prob p;
    prob_make(&p, &rng, 1 + (int)(cl_rng_next(&rng) % MAXU), 2, 0);
    const cl_plan_link *l = &p.links[0]; /* 0 -> 1 */
    cl_ns_input ns = {p.n, p.sec[0], p.sec[1], p.out, NULL, p.in.input_bytes, l->latency_s, l->bandwidth_Bps, 0,
                      CL_NS_LATENCY, 0, 0, 0};
    cl_ns_result best;
    CL_CHECK_OK(cl_neurosurgeon_plan(&ns, &best, NULL));
    cl_plan_result r;
    CL_CHECK_OK(cl_plan_run("neurosurgeon", &p.in, &r));
    CL_CHECK_NEAR(r.latency, best.latency, 1e-12 * (1 + best.latency));
    CL_CHECK_NEAR(r.bytes, best.bytes, 0);
    cl_plan_result_fini(&r);
    /* DADS with the raw input as node 0 */
    int off[MAXU + 2], idx[MAXU + 1];
    double ta[MAXU + 1] = {0}, tb[MAXU + 1] = {0}, ob[MAXU + 1];
    ob[0] = p.in.input_bytes;
    off[0] = off[1] = 0;
    for (int i = 0; i < p.n; i++) {
      ta[i + 1] = p.sec[0][i];
      tb[i + 1] = p.sec[1][i];
      ob[i + 1] = p.out[i];
      idx[i] = i;
      off[i + 2] = i + 1;
    }
    cl_dads_input d = {p.n + 1, off, idx, ta, tb, ob, l->bandwidth_Bps, l->latency_s};
    unsigned char cloud[MAXU + 1];
    cl_dads_result dr;
    CL_CHECK_OK(cl_dads_plan(&d, cloud, &dr));
    CL_CHECK_OK(cl_plan_run("dads", &p.in, &r));
    CL_CHECK_NEAR(r.latency, dr.latency, 1e-12 * (1 + dr.latency));
    cl_plan_result_fini(&r);
  }
}

/* Spatial planners through the interface equal cl_coedge_plan on the same problem. */
static void test_spatial(void) {
  cl_graph *g = NULL;
  CL_CHECK_OK(cl_zoo_build("alexnet", &g));
  if (!g) return;
  cl_plan_machine m[3] = {{"cam", "device", NULL, 0.5, 3, 1, 2, 1},
                          {"tx2", "edge", NULL, 2, 10, 2, 2.5, 1.5},
                          {"pc", "edge", NULL, 6, 60, 20, 3, 2}};
  cl_plan_input in;
  CL_CHECK_OK(cl_plan_input_from_graph(g, NULL, 20, 3, m, 0, NULL, &in));
  CL_CHECK_INT_EQ(in.n_units, cl_graph_size(g));
  CL_CHECK_NEAR(in.machines[1].seconds[1], (double)cl_graph_node(g, 1)->flops / 20e9 / 2, 1e-15);
  in.bandwidth_Bps = 300e6 / 8;
  in.latency_s = 1e-3;
  in.deadline_s = 0.5;
  const char *names[3] = {"coedge", "modnn", "deepthings"};
  cl_coedge_planner which[3] = {CL_COEDGE_COEDGE, CL_COEDGE_PROPORTIONAL, CL_COEDGE_TILES2X2};
  double *host = cl_test_flop_seconds(g, 20e9);
  cl_coedge_device dev[3];
  for (int d = 0; d < 3; d++) dev[d] = (cl_coedge_device){m[d].name, m[d].speed, m[d].p_comp, m[d].p_idle,
                                                         m[d].p_tx, m[d].p_rx, NULL, NULL};
  for (int k = 0; host && k < 3; k++) {
    cl_coedge_problem pb = {g, -1, -1, host, 3, dev, 0, in.bandwidth_Bps, in.latency_s, in.deadline_s,
                            k == 2 ? CL_SPATIAL_FUSED : CL_SPATIAL_LAYER, 0, 0};
    cl_coedge_result want;
    CL_CHECK_OK(cl_coedge_plan(&pb, which[k], &want));
    cl_plan_result r;
    CL_CHECK_OK(cl_plan_run(names[k], &in, &r));
    CL_CHECK(r.share != NULL && r.node_of_unit == NULL);
    CL_CHECK_NEAR(r.latency, want.latency, 1e-12);
    CL_CHECK_NEAR(r.energy, want.energy, 1e-12);
    double sum = 0;
    for (int d = 0; r.share && d < 3; d++) sum += r.share[d];
    CL_CHECK_NEAR(sum, 1.0, 1e-12);
    CL_CHECK_INT_EQ(r.sink, want.plan->sink);
    char text[256];
    CL_CHECK(cl_plan_placement_text(&in, &r, text, sizeof text) > 0 && strstr(text, "tx2="));
    cl_plan_result_fini(&r);
    cl_coedge_result_fini(&want);
  }
  /* every planner applies to a graph input; the layer planners agree with brute force
   * elsewhere, here they must at least not lose to the local baseline */
  cl_plan_result loc;
  CL_CHECK_OK(cl_plan_run("local", &in, &loc));
  for (int i = 0; i < cl_planner_count(); i++) {
    cl_plan_result r;
    CL_CHECK_OK(cl_plan_run(cl_planner_get(i)->name, &in, &r));
    if (r.node_of_unit && strcmp(r.planner, "cloud")) CL_CHECK(r.latency <= loc.latency * (1 + 1e-12));
    cl_plan_result_fini(&r);
  }
  cl_plan_result_fini(&loc);
  free(host);
  cl_plan_input_fini(&in);
  cl_graph_destroy(g);
}

static void test_registry(void) {
  int n = 0;
  const char *const *names = cl_planner_list(&n);
  CL_CHECK_INT_EQ(n, cl_planner_count());
  CL_CHECK(names[n] == NULL);
  const char *want[] = {"scission", "neurosurgeon", "dads", "coedge", "modnn", "deepthings", "local", "cloud"};
  for (int i = 0; i < 8; i++) CL_CHECK(cl_planner_find(want[i]) != NULL);
  for (int i = 0; i < n; i++) CL_CHECK(cl_planner_find(names[i]) == cl_planner_get(i));
  CL_CHECK(cl_planner_find("nosuch") == NULL);
  uint64_t rng = 5;
  prob p;
  prob_make(&p, &rng, 4, 2, 0);
  cl_plan_result r;
  CL_CHECK_INT_EQ(cl_plan_run("nosuch", &p.in, &r), CL_ERR_NOTFOUND);
  CL_CHECK_INT_EQ(cl_plan_run("coedge", &p.in, &r), CL_ERR_UNSUPPORTED); /* no graph */
  p.in.n_machines = 1;
  p.in.n_links = 0;
  CL_CHECK_INT_EQ(cl_plan_run("dads", &p.in, &r), CL_ERR_UNSUPPORTED);
  CL_CHECK_OK(cl_plan_run("local", &p.in, &r));
  char text[128];
  cl_plan_placement_text(&p.in, &r, text, sizeof text);
  CL_CHECK_STR_EQ(text, "dev:0-3");
  cl_plan_result_fini(&r);
  p.in.n_machines = 2;
  p.in.n_links = 2;
  p.links[0].to = 7; /* bad link */
  CL_CHECK_INT_EQ(cl_plan_run("local", &p.in, &r), CL_ERR_INVALID);
  cl_plan_result_fini(&r);
}

/* Profiles -> input: the first device machine becomes machine 0, links from netstats. */
static void test_from_profiles(void) {
  cl_profile_set *set = NULL;
  cl_netstats *net = NULL;
  CL_CHECK_OK(cl_profile_set_create(&set));
  CL_CHECK_OK(cl_netstats_create(&net));
  const char *tiers[3] = {"cloud", "device", "edge"}, *names[3] = {"srv", "pi", "box"};
  double speed[3] = {10, 1, 3};
  for (int m = 0; m < 3; m++) {
    int idx;
    CL_CHECK_OK(cl_profile_set_add_machine(set, tiers[m], names[m], &idx));
    for (int b = 0; b < 4; b++) {
      cl_profile_block blk = {2 * b, 2 * b + 1, 0.1 * (b + 1) / speed[m], 1000 * (4 - b)};
      CL_CHECK_OK(cl_profile_set_add_block(set, idx, "net", &blk));
    }
  }
  CL_CHECK_OK(cl_netstats_add(net, "pi", "box", 0.002, 1e6));
  CL_CHECK_OK(cl_netstats_add(net, "box", "srv", 0.005, 1e7));
  cl_plan_input in;
  CL_CHECK_OK(cl_plan_input_from_profiles(set, "net", net, &in));
  CL_CHECK_INT_EQ(in.n_units, 4);
  CL_CHECK_INT_EQ(in.n_machines, 3);
  CL_CHECK_STR_EQ(in.machines[0].name, "pi");
  CL_CHECK_STR_EQ(in.machines[1].name, "srv");
  CL_CHECK_INT_EQ(in.n_links, 2);
  CL_CHECK_INT_EQ(in.last_layer[3], 7);
  CL_CHECK_NEAR(in.machines[1].speed, 10, 1e-12);
  cl_plan_result r;
  CL_CHECK_OK(cl_plan_run("scission", &in, &r));
  CL_CHECK(r.detail && strstr(r.detail, "Device(pi)"));
  cl_plan_result_fini(&r);
  /* no link pi -> srv: the cloud-only baseline is infeasible */
  CL_CHECK_INT_EQ(cl_plan_run("cloud", &in, &r), CL_ERR_INFEASIBLE);
  cl_plan_result_fini(&r);
  cl_plan_input_fini(&in);
  CL_CHECK_INT_EQ(cl_plan_input_from_profiles(set, "other", net, &in), CL_ERR_NOTFOUND);
  cl_netstats_destroy(net);
  cl_profile_set_destroy(set);
}

int main(void) {
  test_load_vs_brute();
  test_dads_heavy_vs_brute();
  test_load_changes_cut();
  test_registry();
  test_layer_planners_vs_brute();
  test_direct_apis();
  test_spatial();
  test_from_profiles();
  return cl_test_finish("test_plan");
}
