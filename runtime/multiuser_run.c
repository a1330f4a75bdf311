/* `cleave run` on a testbed with `users:` (issue 16): every user's inferences execute for
 * real on the MPI ranks of its placement (one partition per user, real tensors over MPI,
 * thread-CPU time measured per step), then rank 0 composes the virtual clock with the
 * multi-user model of `cleave sim` (runtime/multiuser.c): one shared timeline, every
 * compute node a FIFO server, routes and max-min links, waiting recorded per request.
 * Stage durations are the measured CPU sums x the node's slowdown (or, with --profile,
 * the profile's layer times: then the result equals `cleave sim --profile` exactly).
 *
 * The real execution runs user after user; order does not matter in the virtual clock,
 * whose queueing is computed from the releases, not from when the kernels ran. Wall
 * clock mode with users is not supported yet (docs/network.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave/outfile.h"
#include "cleave/multiuser.h"
#include "cleave/onnx.h"
#include "cleave/partition.h"
#include "cleave/records.h"
#include "cleave/runtime.h"
#include "cleave/store.h"
#include "multiuser_internal.h"
#include "rt_internal.h"

typedef struct run_times {
  const double *all; /* [size][n_inf]: rank r's CPU seconds for each global inference */
  int n_inf;
  const int *inf0;   /* [users] first global inference of each user */
} run_times;

static double stage_measured(void *ctx, int user, int k, int node) {
  const run_times *rt = ctx;
  return rt->all[(size_t)node * (size_t)rt->n_inf + (size_t)(rt->inf0[user] + k)];
}

static double stage_zero(void *ctx, int user, int k, int node) {
  (void)ctx, (void)user, (void)k, (void)node;
  return 0.0;
}

static cl_status agree(MPI_Comm comm, cl_status mine) {
  int v = (int)mine, worst = 0;
  CL_TRY(cl_mpi_check(MPI_Allreduce(&v, &worst, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce(status)"));
  return (cl_status)worst;
}

/* Run user @p k's inferences on this rank's share of placement @p nol; add this rank's
 * thread-CPU seconds of inference i to host[i]. Collective over @p comm. */
static cl_status run_user(MPI_Comm comm, int rank, const cl_rt_setup *su, const cl_tb_user *tu, const int *nol,
                          double *host) {
  cl_graph *g = NULL;
  cl_part *part = NULL;
  int has_weights = 0;
  cl_status st = cl_model_load(tu->model, &g, &has_weights);
  int n = g ? cl_graph_size(g) : 0;
  uint8_t *mask = st == CL_OK ? calloc((size_t)n + 1, 1) : NULL;
  if (st == CL_OK && !mask) st = CL_ERR_NOMEM;
  for (int i = 0; st == CL_OK && i < n; i++) mask[i] = nol[i] == rank;
  if (st == CL_OK && has_weights) {
    for (int i = 0; i < n; i++)
      if (!mask[i]) {
        cl_node *nd = cl_graph_node_mut(g, i);
        free(nd->weights);
        nd->weights = NULL;
      }
  } else if (st == CL_OK) {
    st = cl_graph_init_weights_mask(g, su->seed, mask);
  }
  int threads = rank < su->n_nodes ? su->nodes[rank].threads : 1;
  if (st == CL_OK) st = cl_part_create_backend(g, nol, comm, threads, (cl_backend)su->backend, &part);
  st = agree(comm, st);
  /* one untimed warm-up inference (first touch, connections), as cl_rt_run */
  if (st == CL_OK) st = cl_part_run(part, 0, su->seed, NULL);
  if (st == CL_OK) st = cl_part_finish(part);
  if (st == CL_OK) cl_part_reset_samples(part);
  for (int i = 0; st == CL_OK && i < tu->inferences; i++) st = cl_part_run(part, i, su->seed, NULL);
  if (st == CL_OK) st = cl_part_finish(part);
  if (st == CL_OK) {
    int ns = 0;
    const cl_part_sample *smp = cl_part_samples(part, &ns);
    for (int q = 0; q < ns; q++)
      if (smp[q].inference >= 0 && smp[q].inference < tu->inferences) host[smp[q].inference] += smp[q].cpu;
  }
  cl_part_destroy(part);
  cl_graph_destroy(g);
  free(mask);
  return st;
}

/* /inferences of a users run: one row per inference of every user. */
static cl_status write_inferences(cl_store *store, const cl_testbed *tb, const cl_mu *mu) {
  cl_dict *du = NULL, *dm = NULL;
  cl_table *t = NULL;
  CL_TRY(cl_store_dict(store, "users", &du));
  CL_TRY(cl_store_dict(store, "models", &dm));
  CL_TRY(cl_store_table(store, &CL_REC_INFERENCES_USERS, &t));
  const cl_timeline *tl = cl_mu_timeline(mu);
  for (int k = 0, g = 0; k < tb->n_users; k++) {
    cl_mu_user_stats us;
    CL_TRY(cl_mu_user_stats_get(mu, k, &us));
    for (int i = 0; i < tb->users[k].inferences; i++, g++) {
      cl_rec_inference_users R;
      memset(&R, 0, sizeof R);
      cl_inference_result ir;
      CL_TRY(cl_dict_id(du, tb->users[k].name, &R.user));
      CL_TRY(cl_dict_id(dm, tb->users[k].model, &R.model));
      CL_TRY(cl_timeline_inference(tl, g, &ir));
      CL_TRY(cl_mu_inference(mu, k, i, NULL, NULL, &R.wait));
      CL_REC_INFERENCE_SET_TIMELINE(R, i, ir);
      R.stages = us.stages;
      CL_TRY(cl_table_append(t, &R, 1));
    }
  }
  return CL_OK;
}

/* /devices: every device node's catalogue model and the host calibration its stages
 * were charged against (as a single plan's run writes them, rt_device.c). */
static cl_status write_devices(cl_store *store, const cl_testbed *tb, const cl_mu *mu) {
  const char *times = cl_calib_layers_enabled() ? "each model's layers measured through the executor (cl_calib_layers)"
                                                : "class model of the host calibration (CLEAVE_CALIB_LAYERS=0)";
  for (int nd = 0; nd < tb->n_nodes; nd++) {
    const cl_device *host = NULL, *dev = cl_mu_node_device(mu, nd, &host);
    if (!dev) continue;
    char key[96];
    snprintf(key, sizeof key, "device_%s", tb->nodes[nd].name);
    CL_TRY(cl_device_write_attr(store, "/devices", key, dev));
    snprintf(key, sizeof key, "speed_%s", tb->nodes[nd].name);
    if (!host) {
      char v[160];
      snprintf(v, sizeof v, "override %.9g (config speed:, the device model only sets power)", tb->nodes[nd].speed);
      CL_TRY(cl_store_attr_str(store, "/devices", key, v));
      continue;
    }
    CL_TRY(cl_store_attr_str(store, "/devices", key, "per-stage factors: device model / host time of the stage's layers"));
    snprintf(key, sizeof key, "host_%s", tb->nodes[nd].name);
    CL_TRY(cl_device_write_attr(store, "/devices", key, host));
    snprintf(key, sizeof key, "host_times_%s", tb->nodes[nd].name);
    CL_TRY(cl_store_attr_str(store, "/devices", key, times));
  }
  return CL_OK;
}

/* Rank 0: the virtual clock from the measurements, the table, the records. */
static cl_status compose(const cl_rt_setup *su, const cl_rt_opts *opts, int size, const run_times *rt,
                         const int *const *place) {
  const cl_testbed *tb = su->users_tb;
  cl_mu_opts o;
  memset(&o, 0, sizeof o);
  o.reps = 1;
  o.fixed = place; /* planner users keep what the planning chose */
  o.profile = opts->profile;
  if (!opts->profile) { /* measured: each stage = its ranks' CPU sums x slowdown */
    o.stage_host = stage_measured;
    o.stage_ctx = (void *)rt;
  }
  cl_mu *mu = NULL;
  cl_store *store = NULL;
  cl_status st = cl_mu_create(tb, &o, &mu);
  if (st == CL_OK && opts->out_path) {
    st = cl__rt_store_open(opts, &store);
  }
  if (st == CL_OK && store) {
    st = cl__rt_write_provenance(store, su, opts, size);
    if (st == CL_OK) st = write_inferences(store, tb, mu);
    if (st == CL_OK) st = write_devices(store, tb, mu);
    if (st == CL_OK) st = cl_store_attr_str(store, "/", "clock", "virtual");
    if (st == CL_OK) st = cl_store_attr_str(store, "/", "durations", opts->profile ? "profile" : "measured");
    if (st == CL_OK) st = cl_store_attr_i64(store, "/", "users", tb->n_users);
  }
  if (st == CL_OK && !opts->quiet) {
    printf("clock: virtual (%s stage times)\n", opts->profile ? "profile" : "measured");
    cl__mu_print_table(tb, mu);
    if (store) printf("output: %s\n", cl_store_path(store));
  }
  if (store) {
    cl_status cs = st == CL_OK ? cl_store_close(store) : cl_store_discard(store);
    if (st == CL_OK) st = cs;
  }
  cl_mu_destroy(mu);
  return st;
}

cl_status cl__rt_run_users(MPI_Comm comm, const cl_rt_setup *su, const cl_rt_opts *opts) {
  int rank = 0, size = 0;
  CL_TRY(cl_mpi_check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank"));
  CL_TRY(cl_mpi_check(MPI_Comm_size(comm, &size), "MPI_Comm_size"));
  const cl_testbed *tb = su->users_tb;
  const char *src = su->config_path ? su->config_path : "config";
  if (size < tb->n_nodes) {
    if (rank == 0)
      cl_log_error("%s: the testbed has %d nodes; run with at least %d MPI ranks (mpirun -n %d), got %d", src,
                   tb->n_nodes, tb->n_nodes, tb->n_nodes, size);
    return CL_ERR_CONFIG;
  }
  if (su->wall || opts->verify || opts->save_output || opts->input) {
    if (rank == 0)
      cl_log_error("%s: a testbed with users runs in the virtual clock only (no wall clock, --verify, "
                   "--save-output or --input yet; docs/network.md)", src);
    return CL_ERR_CONFIG;
  }

  cl_status st = CL_OK;
  if (rank == 0 && opts->out_path)
    st = cl_output_check("run", opts->out_path, opts->force); /* before any work (agreed below) */
  /* Placements: rank 0 resolves the plans and runs the planner users' planning (with the
   * load of the multi-user simulation, on profile or measured layer times), then every
   * rank receives every user's graph node -> node placement. */
  int n_planned = 0, n_inf = 0;
  for (int k = 0; k < tb->n_users; k++) n_planned += tb->users[k].planner.name != NULL;
  cl_mu *plan = NULL;
  if (st == CL_OK && rank == 0) {
    cl_mu_opts po;
    memset(&po, 0, sizeof po);
    po.reps = 3;
    po.profile = opts->profile;
    po.plan = opts->plan_users;
    if (!n_planned) po.stage_host = stage_zero; /* fixed plans: no layer times needed */
    st = cl_mu_create(tb, &po, &plan);
    if (st == CL_OK && n_planned && !opts->quiet) {
      int conv = 0, r = cl_mu_rounds(plan, &conv);
      printf("planning: %d planner users, %d simulation rounds (%s)\n", n_planned, r,
             conv ? "placements stable" : "round limit, placements still changing");
    }
  }
  st = agree(comm, st);
  int **place = calloc((size_t)tb->n_users + 1, sizeof *place), *inf0 = calloc((size_t)tb->n_users + 1, sizeof(int));
  if (!place || !inf0) st = CL_ERR_NOMEM;
  for (int k = 0; st == CL_OK && k < tb->n_users; k++) {
    int n = 0;
    const int *nol = rank == 0 ? cl_mu_user_layers(plan, k, &n) : NULL;
    st = cl_mpi_check(MPI_Bcast(&n, 1, MPI_INT, 0, comm), "MPI_Bcast(placement size)");
    if (st == CL_OK && !(place[k] = malloc(sizeof(int) * ((size_t)n + 1)))) st = CL_ERR_NOMEM;
    if (st == CL_OK && rank == 0) memcpy(place[k], nol, sizeof(int) * (size_t)n);
    if (st == CL_OK) st = cl_mpi_check(MPI_Bcast(place[k], n, MPI_INT, 0, comm), "MPI_Bcast(placement)");
    inf0[k] = n_inf;
    n_inf += tb->users[k].inferences;
  }
  double *host = calloc((size_t)n_inf + 1, sizeof(double));
  double *all = rank == 0 ? calloc((size_t)size * (size_t)n_inf + 1, sizeof(double)) : NULL;
  if (st == CL_OK && (!host || (rank == 0 && !all))) st = CL_ERR_NOMEM;
  st = agree(comm, st);
  for (int k = 0; st == CL_OK && k < tb->n_users; k++) {
    st = run_user(comm, rank, su, &tb->users[k], place[k], host + inf0[k]);
    if (st != CL_OK) {
      /* peers may be blocked in receives of this user's tensors: only main can end the job */
      cl_log_error("rank %d: user '%s' failed (%s); the other ranks may be waiting for it", rank, tb->users[k].name,
                   cl_status_str(st));
      st = CL_ERR_ABORTED;
    }
  }
  if (st == CL_OK)
    st = cl_mpi_check(MPI_Gather(host, n_inf, MPI_DOUBLE, all, n_inf, MPI_DOUBLE, 0, comm), "MPI_Gather(stage times)");
  if (st == CL_OK && rank == 0) {
    run_times rt = {all, n_inf, inf0};
    st = compose(su, opts, size, &rt, (const int *const *)place);
  }
  if (st != CL_ERR_ABORTED) st = agree(comm, st);
  cl_mu_destroy(plan);
  for (int k = 0; place && k < tb->n_users; k++) free(place[k]);
  free(place);
  free(inf0);
  free(host);
  free(all);
  return st;
}
