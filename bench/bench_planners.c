/* Planner benchmark: Scission search over all models of the Scission data (top 5 and
 * a full ranking of every configuration), and DADS min-cut on random DAGs.
 * usage: bench_planners [SCISSION_DIR] [REPEATS]   (default tests/data/scission, 5) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleave/planner.h"
#include "cleave/profile.h"
#include "bench_util.h"

int main(int argc, char **argv) {
  char dir[4096];
  const char *src = getenv("CL_SOURCE_DIR");
  if (argc > 1) snprintf(dir, sizeof dir, "%s", argv[1]);
  else snprintf(dir, sizeof dir, "%s/tests/data/scission", src ? src : ".");
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  if (reps < 1) reps = 1;
  cl_profile_set *set;
  cl_netstats *net;
  char p[4200];
  snprintf(p, sizeof p, "%s/network_stats.csv", dir);
  if (cl_profile_set_create(&set) || cl_profile_load_scission_dir(set, dir) ||
      cl_netstats_load_csv(p, &net)) {
    fprintf(stderr, "bench_planners: cannot load %s (pass the Scission data folder)\n", dir);
    return 1;
  }
  /* the distinct model names */
  const cl_profile_machine *m0 = cl_profile_set_machine(set, 0);
  int n_models = m0->n_models;
  /* size the full ranking from a first pass */
  int full = 1;
  for (int i = 0; i < n_models; i++) {
    cl_scission_query q;
    cl_scission_query_init(&q);
    q.model = m0->models[i].name;
    q.result_count = 1;
    cl_scission_config one;
    cl_scission_stats st;
    int n;
    if (cl_scission_search(set, net, &q, &one, &n, &st)) return 1;
    if (st.enumerated > full) full = (int)st.enumerated;
  }
  cl_scission_config *res = malloc((size_t)full * sizeof *res);
  if (!res) return 1;
  printf("scission: %d models, %d machines, %d repeats (medians)\n", n_models,
         cl_profile_set_n_machines(set), reps);
  for (int mode = 0; mode < 2; mode++) {
    double *t = malloc((size_t)reps * sizeof *t);
    long long configs = 0;
    for (int r = 0; r < reps; r++) {
      double t0 = cl_wall_now();
      configs = 0;
      for (int i = 0; i < n_models; i++) {
        cl_scission_query q;
        cl_scission_query_init(&q);
        q.model = m0->models[i].name;
        q.result_count = mode ? full : 5;
        cl_scission_stats st;
        int n;
        if (cl_scission_search(set, net, &q, res, &n, &st)) return 1;
        configs += st.enumerated;
      }
      t[r] = cl_wall_now() - t0;
    }
    double med = bench_median(t, reps);
    printf("  %-22s %8lld configs  %8.2f ms  %10.3g configs/s\n",
           mode ? "full ranking:" : "top 5:", configs, med * 1e3, (double)configs / med);
    free(t);
  }
  free(res);

  /* DADS on random layered DAGs */
  uint64_t rng = 1;
  for (int n = 100; n <= 1600; n *= 4) {
    int *off = malloc((size_t)(n + 1) * sizeof *off), *idx = malloc((size_t)n * 3 * sizeof *idx);
    double *td = malloc((size_t)n * sizeof *td), *tc = malloc((size_t)n * sizeof *tc),
           *ob = malloc((size_t)n * sizeof *ob);
    unsigned char *cloud = malloc((size_t)n);
    int k = 0;
    off[0] = 0;
    for (int v = 0; v < n; v++) {
      int ni = v == 0 ? 0 : 1 + (int)(cl_rng_next(&rng) % 2);
      for (int j = 0; j < ni; j++) {
        int u = v - 1 - (int)(cl_rng_next(&rng) % (v < 8 ? v : 8));
        if (j == 0 || idx[k - 1] != u) idx[k++] = u;
      }
      off[v + 1] = k;
      td[v] = v ? cl_rng_uniform(&rng, 1e-4f, 1e-2f) : 0;
      tc[v] = td[v] * cl_rng_uniform(&rng, 0.05f, 0.5f);
      ob[v] = (double)(1000 + cl_rng_next(&rng) % 2000000);
    }
    cl_dads_input in = {n, off, idx, td, tc, ob, 2.5e6, 0.01};
    double *t = malloc((size_t)reps * sizeof *t);
    cl_dads_result r;
    for (int rep = 0; rep < reps; rep++) {
      double t0 = cl_wall_now();
      if (cl_dads_plan(&in, cloud, &r)) return 1;
      t[rep] = cl_wall_now() - t0;
    }
    printf("dads: %5d nodes %5d edges  %8.3f ms  (latency %.4f s, %d on cloud)\n", n, k,
           bench_median(t, reps) * 1e3, r.latency, r.n_cloud);
    free(t);
    free(off);
    free(idx);
    free(td);
    free(tc);
    free(ob);
    free(cloud);
  }
  cl_netstats_destroy(net);
  cl_profile_set_destroy(set);
  return 0;
}
