/* `cleave run`: the MPI testbed. Ranks execute their layers for real, tensors travel
 * over MPI, rank 0 composes the virtual clock with the timeline model and writes HDF5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleave/onnx.h"
#include "cleave/outfile.h"
#include "cleave/partition.h"
#include "cleave/provenance.h"
#include "cleave/records.h"
#include "cleave/runtime.h"
#include "cleave/store.h"
#include "cleave/wallclock.h"
#include "multiuser_internal.h"
#include "rt_internal.h"
#include "rt_wall.h"

/* Wall-clock emulation (links, the network arbiter, the cross-host clock): runtime/rt_wall.c. */

/* ---- records: layouts declared in cleave/records.h ---- */
typedef cl_rec_run_layer layer_rec;
typedef cl_rec_run_transfer xfer_rec;
typedef cl_rec_run_node node_rec;

/* Write all tables from a finished timeline (rank 0). wall: [steps_total*I*3] measured
 * (cpu, start, end) per flat step; arrivals: per transfer measured arrival (NaN if none). */
static cl_status write_records(cl_store *st, const cl_graph *g, const cl_rt_setup *su, const cl_rt_tasks *t,
                               cl_timeline *tl, const double *meas, const double *xfer_wall, double t0) {
  cl_dict *dn = NULL, *dl = NULL, *dt = NULL;
  CL_TRY(cl_store_dict(st, "nodes", &dn));
  CL_TRY(cl_store_dict(st, "layers", &dl));
  CL_TRY(cl_store_dict(st, "tensors", &dt));
  int32_t *node_id = malloc(sizeof(int32_t) * (size_t)su->n_nodes);
  if (!node_id) return CL_ERR_NOMEM;
  for (int nd = 0; nd < su->n_nodes; nd++) CL_TRY(cl_dict_id(dn, su->nodes[nd].name, &node_id[nd]));
  cl_table *tlay, *txf, *tinf, *tnode;
  CL_TRY(cl_store_table(st, &CL_REC_RUN_LAYERS, &tlay));
  CL_TRY(cl_store_table(st, &CL_REC_RUN_TRANSFERS, &txf));
  CL_TRY(cl_store_table(st, &CL_REC_INFERENCES_RUN, &tinf));
  CL_TRY(cl_store_table(st, &CL_REC_RUN_NODES, &tnode));
  cl_status s = CL_OK;
  for (int i = 0; i < t->inferences && s == CL_OK; i++) {
    double wall_first = INFINITY, wall_last = -INFINITY;
    for (int nd = 0; nd < su->n_nodes && s == CL_OK; nd++)
      for (int k = 0; k < t->n_steps[nd] && s == CL_OK; k++) {
        int fs = t->step_off[nd] + k;
        cl_task_result r;
        s = cl_timeline_task(tl, t->comp_task[(size_t)i * t->steps_total + fs], &r);
        const double *m = meas + 3 * ((size_t)i * t->steps_total + fs);
        layer_rec L;
        memset(&L, 0, sizeof L);
        L.inference = i;
        L.node = node_id[nd];
        if (s == CL_OK) s = cl_dict_id(dl, t->step_label[nd][k], &L.layer);
        L.step = k;
        L.out_node = t->step_out[nd][k];
        L.cpu_time = m[0];
        L.slowdown = t->step_slowdown[nd][k];
        if (su->wall) {
          L.start = m[1] - t0;
          L.end = m[2] - t0;
          L.duration = m[2] - m[1];
          if (m[1] < wall_first) wall_first = m[1];
          if (m[2] > wall_last) wall_last = m[2];
        } else {
          L.start = r.start;
          L.end = r.end;
          L.duration = r.duration;
        }
        L.energy = L.duration * su->nodes[nd].power.busy;
        if (s == CL_OK) s = cl_table_append(tlay, &L, 1);
      }
    for (int j = 0; j < t->n_xfer && s == CL_OK; j++) {
      cl_task_result r;
      s = cl_timeline_task(tl, t->xfer_task[(size_t)i * t->n_xfer + j], &r);
      xfer_rec X;
      memset(&X, 0, sizeof X);
      X.inference = i;
      X.src_node = node_id[t->xfer_src[j]];
      X.dst_node = node_id[t->xfer_dst[j]];
      if (s == CL_OK) s = cl_dict_id(dt, cl_graph_node(g, t->xfer_node[j])->name, &X.tensor);
      X.bytes = t->xfer_bytes[j];
      X.ready = r.ready;
      X.start = r.start;
      X.arrival = r.end;
      X.tx_time = r.duration;
      X.latency = r.latency;
      X.energy = r.energy;
      X.wall_arrival = xfer_wall ? xfer_wall[2 * ((size_t)i * t->n_xfer + j)] - t0 : NAN;
      X.wall_error = xfer_wall ? xfer_wall[2 * ((size_t)i * t->n_xfer + j)] - xfer_wall[2 * ((size_t)i * t->n_xfer + j) + 1]
                               : NAN;
      if (s == CL_OK) s = cl_table_append(txf, &X, 1);
    }
    cl_inference_result ir;
    if (s == CL_OK) s = cl_timeline_inference(tl, i, &ir);
    cl_rec_inference_run R;
    memset(&R, 0, sizeof R);
    CL_REC_INFERENCE_SET_TIMELINE(R, i, ir);
    R.energy_compute = ir.energy_compute;
    R.energy_tx = ir.energy_tx;
    R.energy_rx = ir.energy_rx;
    R.energy_idle = ir.energy_idle;
    R.wall_latency = su->wall ? wall_last - wall_first : NAN;
    if (s == CL_OK) s = cl_table_append(tinf, &R, 1);
  }
  for (int nd = 0; nd < su->n_nodes && s == CL_OK; nd++) {
    cl_node_result nr;
    s = cl_timeline_node(tl, nd, &nr);
    node_rec N;
    memset(&N, 0, sizeof N);
    N.node = node_id[nd];
    snprintf(N.tier, sizeof N.tier, "%s", su->nodes[nd].tier);
    N.slowdown = su->nodes[nd].slowdown;
    N.busy_time = nr.busy_time;
    N.tx_time = nr.tx_time;
    N.rx_time = nr.rx_time;
    N.idle_time = nr.idle_time;
    N.energy = nr.energy;
    N.energy_compute = nr.energy_compute;
    N.energy_tx = nr.energy_tx;
    N.energy_rx = nr.energy_rx;
    N.energy_idle = nr.energy_idle;
    if (s == CL_OK) s = cl_table_append(tnode, &N, 1);
  }
  free(node_id);
  return s;
}

/* The first inference's output as raw little-endian float32 (as `cleave infer --save-output`):
 * written whole beside the path and linked into place (never a partial file; an existing
 * file is kept unless --force, checked again here: no check-then-create race). */
static cl_status save_output(const char *path, const float *y, int64_t n, int force) {
  return cl_outfile_write(path, y, sizeof(float) * (size_t)n, force);
}

/* --input: the raw little-endian float32 input tensor of @p n values (as `cleave infer
 * --input`) into *out (malloc'd), on @p rank. A missing file or one of another size is
 * bad input (one line). */
static cl_status read_input(const char *path, int64_t n, const cl_shape s, int rank, float **out) {
  *out = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  if (!*out) return CL_ERR_NOMEM;
  cl_status st = cl_infile_read_f32(path, *out, (size_t)n);
  char who[64] = ""; /* another rank fails only where rank 0 read it: another host's file */
  if (rank) snprintf(who, sizeof who, " on rank %d (rank 0 read it: is it on every host?)", rank);
  if (st == CL_ERR_IO) cl_log_error("run: cannot open the --input file '%s'%s", path, who);
  else if (st != CL_OK)
    cl_log_error("run: --input file '%s'%s must hold exactly %lld float32 values (%dx%dx%dx%d, the model's input)",
                 path, who, (long long)n, s.n, s.c, s.h, s.w);
  if (st != CL_OK) {
    free(*out);
    *out = NULL;
    return CL_ERR_CONFIG; /* bad input */
  }
  return CL_OK;
}

static cl_status agree(MPI_Comm comm, cl_status mine) {
  int v = (int)mine, worst = 0;
  CL_TRY(cl_mpi_check(MPI_Allreduce(&v, &worst, 1, MPI_INT, MPI_MIN, comm), "MPI_Allreduce(status)"));
  return (cl_status)worst;
}

cl_status cl_rt_run(MPI_Comm comm, const cl_rt_setup *su, const cl_rt_opts *opts) {
  if (su->users_tb) return cl__rt_run_users(comm, su, opts); /* `users:` (runtime/multiuser_run.c) */
  int rank = 0, size = 0;
  CL_TRY(cl_mpi_check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank"));
  CL_TRY(cl_mpi_check(MPI_Comm_size(comm, &size), "MPI_Comm_size"));
  cl_graph *g = NULL;
  cl_part *part = NULL;
  cl_store *store = NULL;
  cl_rt_tasks tasks;
  memset(&tasks, 0, sizeof tasks);
  cl_timeline *tl = NULL;
  double *meas = NULL, *xfer_wall = NULL, *mine = NULL;
  float *input = NULL; /* --input, on the ranks that read it */
  int *counts = NULL, *displs = NULL;
  cl__wall *wall = NULL;
  int N = su->n_nodes;
  cl_status st = CL_OK;
  if (size < N) {
    if (rank == 0)
      cl_log_error("%s: the testbed has %d nodes; run with at least %d MPI ranks (mpirun -n %d), got %d",
                   su->config_path ? su->config_path : "config", N, N, N, size);
    return CL_ERR_CONFIG;
  }
  /* Every rank builds the graph and keeps the weights of its own layers only (all of
   * them on the output rank when verifying: it runs the monolithic reference). Zoo
   * models: seeded per node, identical to a full init. ONNX files: every rank imports
   * the file and frees the other ranks' weights (docs/onnx.md, memory). */
  int has_weights = 0;
  st = cl_model_load(su->model, &g, &has_weights);
  int n = g ? cl_graph_size(g) : 0;
  uint8_t *mask = NULL;
  if (st == CL_OK) {
    mask = calloc((size_t)n, 1);
    if (!mask) st = CL_ERR_NOMEM;
  }
  if (st == CL_OK) {
    for (int i = 0; i < n; i++) mask[i] = su->node_of_layer[i] == rank;
    if (opts->verify && su->node_of_layer[cl_graph_output(g)] == rank) memset(mask, 1, (size_t)n);
    if (has_weights) {
      for (int i = 0; i < n; i++)
        if (!mask[i]) {
          cl_node *nd = cl_graph_node_mut(g, i);
          free(nd->weights);
          nd->weights = NULL;
        }
    } else {
      st = cl_graph_init_weights_mask(g, su->seed, mask);
    }
  }
  if (st == CL_OK) st = cl_part_create_backend(g, su->node_of_layer, comm, rank < N ? su->nodes[rank].threads : 1,
                                             (cl_backend)su->backend, &part);
  /* --input: rank 0 checks the file first (a bad file: one line, from rank 0); then the
   * input rank uses it, and the output rank too when verifying (its monolithic reference
   * takes the same input). Every rank reaches the broadcast. */
  if (opts->input) {
    const cl_shape is = g ? cl_graph_node(g, 0)->out : (cl_shape){0, 0, 0, 0};
    int64_t ni = cl_shape_numel(is);
    int r0 = CL_OK;
    if (rank == 0 && st == CL_OK) r0 = (int)read_input(opts->input, ni, is, 0, &input);
    if (cl_mpi_check(MPI_Bcast(&r0, 1, MPI_INT, 0, comm), "MPI_Bcast(input status)") != CL_OK) r0 = CL_ERR_MPI;
    if (st == CL_OK) st = (cl_status)r0;
    int needs = st == CL_OK && (su->node_of_layer[0] == rank ||
                                (opts->verify && su->node_of_layer[cl_graph_output(g)] == rank));
    if (needs && rank != 0) st = read_input(opts->input, ni, is, rank, &input);
    if (st == CL_OK && su->node_of_layer[0] == rank) cl_part_set_input(part, input);
  }
  /* Rank 0 also builds the task graph now, so link errors (and a profile that does not
   * match the testbed) surface before any work. */
  if (st == CL_OK && rank == 0) st = cl_rt_build(g, su, &tasks, &tl);
  if (st == CL_OK && rank == 0 && opts->profile) {
    double *nt = calloc((size_t)n + 1, sizeof(double));
    st = nt ? cl_rt_node_times_for_setup(opts->profile, su, g, nt) : CL_ERR_NOMEM;
    if (st != CL_OK && st != CL_ERR_NOMEM) st = CL_ERR_CONFIG; /* bad input: exit 2 */
    free(nt);
  }
  if (st == CL_OK && rank == 0 && opts->save_output)
    st = cl_output_check("run: --save-output", opts->save_output, opts->force); /* before any work;
                                                    the atomic write still guards the race */
  /* Device models: wall ranks stretch each step by its own factor (runtime/rt_device.c). */
  int n_fast = 0;
  if (st == CL_OK && su->wall && rank != 0 && rank < N) st = cl_rt_build(g, su, &tasks, &tl);
  if (st == CL_OK && rank == 0) st = cl_rt_check_wall(su, &tasks, opts->strict, &n_fast);
  if (st == CL_OK && rank == 0 && opts->out_path) {
    st = cl__rt_store_open(opts, &store);
  }
  st = agree(comm, st);
  if (st != CL_OK) goto done;
  if (su->wall) { /* clock offsets, the arbiter if links are shared, warmed-up connections */
    st = cl__wall_create(comm, su, rank < N ? &tasks : NULL, &wall);
    if (st == CL_OK) st = cl__wall_warm_up(wall);
  }
  st = agree(comm, st);
  if (st != CL_OK) goto done;
  cl_part_hooks hooks = wall ? cl__wall_hooks(wall, g) : (cl_part_hooks){0};
  const cl_part_hooks *hp = su->wall && rank < N ? &hooks : NULL;
  /* One untimed warm-up inference: first-touch of weights and caches, MPI connection
   * set-up and lazy library initialisation would otherwise inflate inference 0. */
  if (st == CL_OK) st = cl_part_run(part, 0, su->seed, NULL);
  if (st == CL_OK) st = cl_part_finish(part);
  cl_part_reset_samples(part);
  st = agree(comm, st);
  if (st != CL_OK) goto done;
  /* Wall mode: the node's background conditions run for real on this rank. */
  cl_wall_load *load = NULL;
  if (su->wall && rank < N && (su->nodes[rank].cpu_load > 0 || su->nodes[rank].mem_pressure > 0)) {
    const cl_rt_node *me = &su->nodes[rank];
    double cap = me->memory > 0 ? me->memory : 256.0 * 1024 * 1024; /* no cap given: 256 MiB */
    cl_wall_load_params lp = {me->threads, me->cpu_load, 0.0, (size_t)(me->mem_pressure * cap)};
    if (me->cpu_load <= 0) lp.threads = 0;
    if (cl_wall_load_start(&lp, &load) != CL_OK) load = NULL;
  }
  double t0 = 0.0; /* global s: rank 0's clock (cross-host offsets applied) */
  if (wall)
    st = cl__wall_start(wall, &t0);
  else
    st = cl_mpi_check(MPI_Barrier(comm), "MPI_Barrier(start)");
  int I = su->inferences > 0 ? su->inferences : 1;
  for (int i = 0; i < I && st == CL_OK; i++) {
    if (su->wall) {
      /* release: rate-based arrivals are honoured by the input's rank; back-to-back
       * (and explicit) inferences run one at a time. */
      if (su->arrival.kind == CL_ARRIVAL_FIXED_RATE && su->node_of_layer[0] == rank)
        cl__wall_sleep_until(wall, t0 + su->arrival.t0 + (double)i / su->arrival.rate);
      else if (su->arrival.kind != CL_ARRIVAL_FIXED_RATE)
        st = cl__wall_barrier(wall); /* release */
    }
    if (st == CL_OK) st = cl_part_run(part, i, su->seed, hp);
    if (st == CL_OK && opts->save_output && i == 0 && cl_part_output(part))
      st = save_output(opts->save_output, cl_part_output(part),
                       cl_shape_numel(cl_graph_node(g, cl_graph_output(g))->out), opts->force);
    if (st == CL_OK && opts->verify && i == 0) {
      /* after the first inference the output rank compares with a monolithic run */
      const float *y = cl_part_output(part);
      if (y) {
        cl_exec *e = NULL;
        st = cl_exec_create(g, NULL, &e);
        if (st == CL_OK) {
          if (input)
            memcpy(cl_exec_buffer(e, 0), input, sizeof(float) * (size_t)cl_shape_numel(cl_graph_node(g, 0)->out));
          else
            cl_exec_fill_input(e, su->seed);
          st = cl_exec_run(e);
        }
        if (st == CL_OK) {
          const float *ref = cl_exec_buffer(e, cl_graph_output(g));
          int64_t m = cl_shape_numel(cl_graph_node(g, cl_graph_output(g))->out);
          double num = 0, den = 0;
          for (int64_t q = 0; q < m; q++) {
            num = fmax(num, fabs((double)y[q] - ref[q]));
            den = fmax(den, fabs((double)ref[q]));
          }
          double rel = den > 0 ? num / den : num;
          printf("verify: max relative difference to the monolithic run: %.3g\n", rel);
          fflush(stdout);
          if (rel > 1e-5) {
            cl_log_error("verify: partitioned output differs from the monolithic run (%.3g > 1e-5)", rel);
            st = CL_ERR_INTERNAL;
          }
        }
        cl_exec_destroy(e);
      }
    }
  }
  if (st == CL_OK) st = cl_part_finish(part);
  if (st == CL_OK && wall) st = cl__wall_stop(wall); /* every transfer delivered; arbiter stopped */
  if (load) {
    cl_wall_load_stop(load);
    cl_wall_load_destroy(load);
  }
  if (st != CL_OK) {
    /* Peers may be blocked in receives: this cannot be unwound collectively. Library
     * code does not end the job; the caller (apps/cmd_run.c) does, on CL_ERR_ABORTED. */
    cl_log_error("rank %d: run failed (%s); the other ranks may be waiting for it", rank, cl_status_str(st));
    st = CL_ERR_ABORTED;
    goto done;
  }
  /* Gather measurements: counts first, then payload. */
  int ns = 0;
  const cl_part_sample *smp = cl_part_samples(part, &ns);
  mine = malloc(sizeof(double) * 3 * (size_t)(ns + 1));
  if (!mine) st = CL_ERR_NOMEM;
  double off = wall ? cl__wall_offset(wall) : 0.0; /* this rank's clock -> rank 0's */
  for (int q = 0; q < ns && mine; q++) {
    mine[3 * q] = smp[q].cpu;
    mine[3 * q + 1] = smp[q].wall_start + off;
    mine[3 * q + 2] = smp[q].wall_end + off;
  }
  st = agree(comm, st);
  if (st != CL_OK) goto done;
  int cnt = 3 * ns;
  if (rank == 0) {
    counts = malloc(sizeof(int) * (size_t)size);
    displs = malloc(sizeof(int) * (size_t)size);
  }
  st = cl_mpi_check(MPI_Gather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, 0, comm), "MPI_Gather(sample counts)");
  if (rank == 0) {
    int tot = 0;
    for (int r = 0; r < size; r++) {
      displs[r] = tot;
      tot += counts[r];
    }
    meas = malloc(sizeof(double) * (size_t)(tot + 1));
  }
  /* Samples arrive per rank as [inference][step]; rank r = node r. */
  double *raw = rank == 0 ? malloc(sizeof(double) * (size_t)(3 * tasks.steps_total * I + 1)) : NULL;
  if (st == CL_OK)
    st = cl_mpi_check(MPI_Gatherv(mine, cnt, MPI_DOUBLE, raw, counts, displs, MPI_DOUBLE, 0, comm), "MPI_Gatherv(samples)");
  /* Wall mode: measured arrivals, 6 doubles each. */
  int n_arr = 0;
  const double *my_arr = wall ? cl__wall_arrivals(wall, &n_arr) : NULL;
  int acnt = 6 * n_arr;
  double *arr_all = NULL;
  int *acounts = NULL, *adispls = NULL;
  if (rank == 0) {
    acounts = malloc(sizeof(int) * (size_t)size);
    adispls = malloc(sizeof(int) * (size_t)size);
  }
  if (st == CL_OK)
    st = cl_mpi_check(MPI_Gather(&acnt, 1, MPI_INT, acounts, 1, MPI_INT, 0, comm), "MPI_Gather(arrival counts)");
  int atot = 0;
  if (rank == 0) {
    for (int r = 0; r < size; r++) {
      adispls[r] = atot;
      atot += acounts[r];
    }
    arr_all = malloc(sizeof(double) * (size_t)(atot + 1));
  }
  if (st == CL_OK)
    st = cl_mpi_check(MPI_Gatherv(my_arr, acnt, MPI_DOUBLE, arr_all, acounts, adispls, MPI_DOUBLE, 0, comm),
                      "MPI_Gatherv(arrivals)");
  if (rank == 0 && st == CL_OK) {
    /* reorder to [inference][flat step] */
    for (int nd = 0; nd < N; nd++)
      for (int i = 0; i < I; i++)
        for (int k = 0; k < tasks.n_steps[nd]; k++) {
          const double *src = raw + displs[nd] + 3 * ((size_t)i * tasks.n_steps[nd] + k);
          double *dst = meas + 3 * ((size_t)i * tasks.steps_total + tasks.step_off[nd] + k);
          memcpy(dst, src, sizeof(double) * 3);
        }
    double *prof = NULL; /* per flat step host seconds from a profile */
    if (opts->profile) {
      double *nt = calloc((size_t)n, sizeof(double));
      prof = calloc((size_t)tasks.steps_total + 1, sizeof(double));
      if (!nt || !prof) st = CL_ERR_NOMEM;
      if (st == CL_OK) st = cl_rt_node_times_for_setup(opts->profile, su, g, nt);
      for (int y = 0; st == CL_OK && y < n; y++)
        if (tasks.node_step[y] >= 0) prof[tasks.node_step[y]] += nt[y];
      free(nt);
    }
    for (int i = 0; st == CL_OK && i < I; i++)
      for (int fs = 0; fs < tasks.steps_total; fs++) {
        int nd = 0;
        while (nd + 1 < N && tasks.step_off[nd + 1] <= fs) nd++;
        double host = prof ? prof[fs] : meas[3 * ((size_t)i * tasks.steps_total + fs)];
        cl_timeline_set_duration(tl, tasks.comp_task[(size_t)i * tasks.steps_total + fs],
                                 cl_rt_step_charge(&tasks, nd, fs - tasks.step_off[nd], host));
      }
    free(prof);
    if (st == CL_OK) st = cl_timeline_run(tl);
    if (su->wall && st == CL_OK) {
      xfer_wall = malloc(sizeof(double) * 2 * (size_t)(I * tasks.n_xfer + 1));
      for (int q = 0; q < 2 * I * tasks.n_xfer; q++) xfer_wall[q] = NAN;
      for (int a = 0; a < atot / 6; a++) {
        const double *r = arr_all + 6 * (size_t)a;
        for (int j = 0; j < tasks.n_xfer; j++)
          if (tasks.xfer_node[j] == (int)r[1] && tasks.xfer_dst[j] == (int)r[2])
          {
            xfer_wall[2 * ((size_t)r[0] * tasks.n_xfer + j)] = r[5];
            xfer_wall[2 * ((size_t)r[0] * tasks.n_xfer + j) + 1] = r[4];
          }
      }
    }
    if (st == CL_OK && store) {
      st = cl__rt_write_provenance(store, su, opts, size);
      if (st == CL_OK && cl_onnx_is_path(su->model)) st = cl_store_write_model_provenance(store, su->model);
      if (st == CL_OK) st = write_records(store, g, su, &tasks, tl, meas, xfer_wall, t0);
      if (st == CL_OK && su->device_models) st = cl_rt_write_devices(store, su, &tasks, n_fast);
      if (st == CL_OK) st = cl_store_attr_str(store, "/", "clock", su->wall ? "wall" : "virtual");
      if (st == CL_OK && wall) st = cl__wall_write_provenance(wall, store);
      if (st == CL_OK)
        st = cl_store_attr_str(store, "/", "backend", cl_backend_name(cl_backend_resolve((cl_backend)su->backend)));
      if (st == CL_OK) st = cl_store_attr_str(store, "/", "model", su->model);
    }
    if (st == CL_OK && !opts->quiet) {
      printf("model: %s\nnodes: %d\ninferences: %d\nclock: %s\n", su->model, N, I, su->wall ? "wall" : "virtual");
      printf("%-10s %12s %12s %12s %12s\n", "inference", "latency_ms", "energy_J", "bytes", su->wall ? "wall_ms" : "");
      for (int i = 0; i < I; i++) {
        cl_inference_result ir;
        cl_timeline_inference(tl, i, &ir);
        double wl = NAN;
        if (su->wall) {
          double a = INFINITY, b = -INFINITY;
          for (int fs = 0; fs < tasks.steps_total; fs++) {
            const double *m = meas + 3 * ((size_t)i * tasks.steps_total + fs);
            if (m[1] < a) a = m[1];
            if (m[2] > b) b = m[2];
          }
          wl = (b - a) * 1e3;
        }
        printf("%-10d %12.3f %12.4f %12llu", i, ir.latency * 1e3, ir.energy, (unsigned long long)ir.bytes);
        if (su->wall) printf(" %12.3f", wl);
        printf("\n");
      }
      printf("%-10s %10s %12s %12s %12s %12s\n", "node", "tier", "busy_s", "energy_J", "compute_J", "radio_J");
      for (int nd = 0; nd < N; nd++) {
        cl_node_result nr;
        cl_timeline_node(tl, nd, &nr);
        printf("%-10s %10s %12.4f %12.4f %12.4f %12.4f\n", su->nodes[nd].name, su->nodes[nd].tier, nr.busy_time,
               nr.energy, nr.energy_compute, nr.energy_tx + nr.energy_rx);
      }
      printf("makespan_s: %.6f\n", cl_timeline_makespan(tl));
      if (store) printf("output: %s\n", cl_store_path(store));
    }
  }
  free(raw);
  free(arr_all);
  free(acounts);
  free(adispls);
  st = agree(comm, st);
done:
  if (store) {
    cl_status cs = st == CL_OK ? cl_store_close(store) : cl_store_discard(store);
    if (st == CL_OK) st = cs;
  }
  free(mask);
  free(mine);
  free(meas);
  free(xfer_wall);
  free(counts);
  free(displs);
  cl__wall_destroy(wall);
  cl_timeline_destroy(tl);
  cl_rt_tasks_free(&tasks);
  cl_part_destroy(part);
  free(input);
  cl_graph_destroy(g);
  return st;
}
