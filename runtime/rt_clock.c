/* One time base for wall mode across hosts: each rank's CLOCK_MONOTONIC offset to rank
 * 0's, measured at start by ping-pong (Cristian's method): rank r stamps t1, rank 0
 * answers with its clock c, rank r stamps t2; offset = c - (t1 + t2) / 2 is off by at most
 * (t2 - t1) / 2 (c was read somewhere inside the round trip), so the round with the
 * smallest RTT of N gives the tightest bound. Ranks on one host measure ~0 within that
 * bound; CLEAVE_CLOCK_FAKE_OFFSET injects a skew to test it (docs/runtime.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleave/wallclock.h"
#include "rt_wall.h"

/* Seconds of skew injected for @p rank by "RANK:SECONDS[,RANK:SECONDS...]" (0 if absent). */
static cl_status cl__fake_skew(const char *spec, int rank, double *out) {
  *out = 0.0;
  if (!spec || !*spec) return CL_OK;
  const char *p = spec;
  while (*p) {
    char *end = NULL;
    long r = strtol(p, &end, 10);
    if (end == p || *end != ':') goto bad;
    p = end + 1;
    double v = strtod(p, &end);
    if (end == p || !isfinite(v)) goto bad;
    if (r == rank) *out = v;
    p = end;
    if (*p == ',') p++;
    else if (*p) goto bad;
  }
  return CL_OK;
bad:
  cl_log_error("CLEAVE_CLOCK_FAKE_OFFSET='%s': expected RANK:SECONDS[,RANK:SECONDS...]", spec);
  return CL_ERR_INVALID;
}

void cl__clock_sync_fini(cl__clock_sync *cs) {
  free(cs->offset);
  free(cs->rtt);
  free(cs->applied_all);
  memset(cs, 0, sizeof *cs);
}

cl_status cl__clock_sync_run(MPI_Comm comm, int rounds, cl__clock_sync *out) {
  memset(out, 0, sizeof *out);
  int rank = 0, size = 1;
  CL_TRY(cl_mpi_check(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank"));
  CL_TRY(cl_mpi_check(MPI_Comm_size(comm, &size), "MPI_Comm_size"));
  const char *env = getenv("CLEAVE_CLOCK_ROUNDS");
  if (env && atoi(env) > 0) rounds = atoi(env);
  if (rounds < 1) rounds = 1;
  cl_status st = cl__fake_skew(getenv("CLEAVE_CLOCK_FAKE_OFFSET"), rank, &out->skew);
  int bad = st != CL_OK, any = 0;
  CL_TRY(cl_mpi_check(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm), "MPI_Allreduce(clock skew)"));
  if (any) return CL_ERR_CONFIG;
  if (out->skew != 0.0) cl_wall_set_skew(out->skew);
  out->n_ranks = size;
  out->rounds = rounds;
  out->offset = calloc((size_t)size, sizeof(double));
  out->rtt = calloc((size_t)size, sizeof(double));
  bad = !out->offset || !out->rtt;
  CL_TRY(cl_mpi_check(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm), "MPI_Allreduce(clock sync)"));
  if (any) {
    cl__clock_sync_fini(out);
    return CL_ERR_NOMEM;
  }
  /* Rank 0 serves one rank at a time ("go", then the rounds), so a round's RTT is the
   * network's and the two processes', not a queue behind other ranks. */
  for (int r = 1; r < size && st == CL_OK; r++) {
    double msg[2] = {0, 0};
    if (rank == 0) {
      st = cl_mpi_check(MPI_Send(msg, 1, MPI_DOUBLE, r, CL_TAG_CTRL, comm), "MPI_Send(clock go)");
      for (int k = 0; k < rounds && st == CL_OK; k++) {
        st = cl_mpi_check(MPI_Recv(msg, 1, MPI_DOUBLE, r, CL_TAG_CTRL, comm, MPI_STATUS_IGNORE), "MPI_Recv(clock ping)");
        msg[0] = cl_wall_now();
        if (st == CL_OK) st = cl_mpi_check(MPI_Send(msg, 1, MPI_DOUBLE, r, CL_TAG_CTRL, comm), "MPI_Send(clock pong)");
      }
      if (st == CL_OK)
        st = cl_mpi_check(MPI_Recv(msg, 2, MPI_DOUBLE, r, CL_TAG_CTRL, comm, MPI_STATUS_IGNORE), "MPI_Recv(clock result)");
      out->offset[r] = msg[0];
      out->rtt[r] = msg[1];
    } else if (rank == r) {
      /* Waiting for our turn sleeps (a spinning MPI_Recv would take the core the measured
       * pair needs on an oversubscribed host); the rounds themselves block in MPI. */
      MPI_Request req;
      st = cl_mpi_check(MPI_Irecv(msg, 1, MPI_DOUBLE, 0, CL_TAG_CTRL, comm, &req), "MPI_Irecv(clock go)");
      for (int done = 0; st == CL_OK && !done;) {
        st = cl_mpi_check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), "MPI_Test(clock go)");
        struct timespec ts = {0, 100000};
        if (!done) nanosleep(&ts, NULL);
      }
      double best = INFINITY, off = 0.0;
      for (int k = 0; k < rounds && st == CL_OK; k++) {
        double t1 = cl_wall_now();
        msg[0] = t1;
        st = cl_mpi_check(MPI_Send(msg, 1, MPI_DOUBLE, 0, CL_TAG_CTRL, comm), "MPI_Send(clock ping)");
        if (st == CL_OK)
          st = cl_mpi_check(MPI_Recv(msg, 1, MPI_DOUBLE, 0, CL_TAG_CTRL, comm, MPI_STATUS_IGNORE), "MPI_Recv(clock pong)");
        double t2 = cl_wall_now();
        if (t2 - t1 < best) {
          best = t2 - t1;
          off = msg[0] - 0.5 * (t1 + t2);
        }
      }
      out->offset[r] = off;
      out->rtt[r] = best;
      msg[0] = off;
      msg[1] = best;
      if (st == CL_OK) st = cl_mpi_check(MPI_Send(msg, 2, MPI_DOUBLE, 0, CL_TAG_CTRL, comm), "MPI_Send(clock result)");
    }
  }
  /* Apply: ranks on rank 0's host read the same CLOCK_MONOTONIC, so their offset is 0
   * exactly (the measurement, kept in provenance, is 0 within its bound); an injected
   * skew makes a rank another host. */
  char host[MPI_MAX_PROCESSOR_NAME + 1] = {0}, host0[MPI_MAX_PROCESSOR_NAME + 1] = {0};
  int len = 0;
  if (st == CL_OK) st = cl_mpi_check(MPI_Get_processor_name(host, &len), "MPI_Get_processor_name");
  memcpy(host0, host, sizeof host);
  if (st == CL_OK) st = cl_mpi_check(MPI_Bcast(host0, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, comm), "MPI_Bcast(host)");
  double skew0 = out->skew;
  if (st == CL_OK) st = cl_mpi_check(MPI_Bcast(&skew0, 1, MPI_DOUBLE, 0, comm), "MPI_Bcast(skew)");
  int same = st == CL_OK && strcmp(host, host0) == 0 && out->skew == skew0;
  out->applied = same ? 0.0 : out->offset[rank];
  if (st == CL_OK && rank == 0) {
    out->applied_all = calloc((size_t)size, sizeof(double));
    if (!out->applied_all) st = CL_ERR_NOMEM;
  }
  if (st == CL_OK)
    st = cl_mpi_check(MPI_Gather(&out->applied, 1, MPI_DOUBLE, out->applied_all, 1, MPI_DOUBLE, 0, comm),
                      "MPI_Gather(clock offsets)");
  if (st != CL_OK) cl__clock_sync_fini(out);
  return st;
}
