/* `cleave sim` on a testbed with users: per-user latency and waiting, per-node load. */
#include <stdio.h>
#include <stdlib.h>

#include "multiuser_internal.h"

void cl__mu_print_table(const cl_testbed *tb, const cl_mu *mu) {
  const cl_timeline *tl = cl_mu_timeline(mu);
  printf("users: %d\nnodes: %d\nnetwork elements: %d\nlinks: %d\ninferences: %d\n", tb->n_users, tb->n_nodes,
         tb->n_elements, tb->n_links, cl_timeline_inferences(tl));
  printf("%-14s %-14s %6s %6s %11s %11s %11s %11s %11s %11s\n", "user", "model", "inf", "stages", "mean_ms",
         "p50_ms", "p95_ms", "p99_ms", "max_ms", "wait_ms");
  int planned = 0;
  for (int k = 0; k < tb->n_users; k++) {
    cl_mu_user_stats st;
    if (cl_mu_user_stats_get(mu, k, &st) != CL_OK) continue;
    printf("%-14s %-14s %6d %6d %11.3f %11.3f %11.3f %11.3f %11.3f %11.3f\n", tb->users[k].name, tb->users[k].model,
           st.inferences, st.stages, st.lat_mean * 1e3, st.lat_p50 * 1e3, st.lat_p95 * 1e3, st.lat_p99 * 1e3,
           st.lat_max * 1e3, st.wait_mean * 1e3);
    planned += tb->users[k].planner.name != NULL;
  }
  if (planned) {
    int conv = 0, r = cl_mu_rounds(mu, &conv);
    printf("planner users: %d, simulation rounds: %d (%s)\n", planned, r,
           conv ? "placements stable" : "stopped at the round limit, placements still changing");
    for (int k = 0; k < tb->n_users; k++)
      if (tb->users[k].planner.name)
        printf("  %-14s %-12s %s\n", tb->users[k].name, tb->users[k].planner.name, cl_mu_user_chain_text(mu, k));
  }
  double span = cl_timeline_makespan(tl);
  printf("%-14s %8s %8s %12s %8s %11s\n", "node", "tier", "tasks", "busy_s", "util_%", "wait_ms");
  for (int nd = 0; nd < tb->n_nodes; nd++) {
    cl_node_result nr;
    cl_mu_node_load ld;
    if (cl_timeline_node(tl, nd, &nr) != CL_OK || nr.tasks == 0) continue; /* idle nodes omitted */
    if (cl_mu_node_load_get(mu, nd, &ld) != CL_OK) continue;
    printf("%-14s %8s %8d %12.6f %8.2f %11.3f\n", tb->nodes[nd].name, cl_tb_tier_name(tb->nodes[nd].tier), nr.tasks,
           nr.busy_time, span > 0 ? 100.0 * nr.busy_time / span : 0.0, ld.wait_mean * 1e3);
  }
  printf("makespan_s: %.6f\n", span);
}

static void print_csv(const cl_testbed *tb, const cl_mu *mu) {
  printf("user,inference,release_s,latency_s,wait_s\n");
  for (int k = 0; k < tb->n_users; k++)
    for (int i = 0; i < tb->users[k].inferences; i++) {
      double rel, lat, w;
      if (cl_mu_inference(mu, k, i, &rel, &lat, &w) == CL_OK)
        printf("%s,%d,%.9g,%.9g,%.9g\n", tb->users[k].name, i, rel, lat, w);
    }
}

int cl_mu_cmd_sim(const char *path, const char *profile, int reps, int csv, cl_mu_plan_fn plan) {
  cl_testbed tb;
  if (cl_testbed_load(path, &tb) != CL_OK) return 2;
  if (tb.n_users == 0) {
    cl_testbed_free(&tb);
    return -1;
  }
  cl_mu_opts o = {.profile = profile, .reps = reps, .plan = plan};
  cl_mu *mu = NULL;
  cl_status s = cl_mu_create(&tb, &o, &mu);
  if (s == CL_OK) {
    if (csv)
      print_csv(&tb, mu);
    else
      cl__mu_print_table(&tb, mu);
  }
  cl_mu_destroy(mu);
  cl_testbed_free(&tb);
  return s == CL_OK ? 0 : s == CL_ERR_CONFIG || s == CL_ERR_INVALID ? 2 : 1;
}
