/* Helper for the store's script tests (not a unit test itself).
 *
 *   store_writer forever OUT.h5 K [PAUSE_US]  append 64-byte records forever; after
 *                         every K records cl_store_flush() and print the flushed count
 *   store_writer resume OUT.h5 N      reopen (recovering a killed writer's file), append
 *                         N more records continuing the sequence, print the new count
 *   store_writer sample OUT.h5 [--mpi] [--rank R --ranks N]
 *                         write a small profile-like file (dictionary, strings, units,
 *                         provenance with config); --mpi takes rank/size from MPI
 *
 * Record i of /seq has seq = i, x = 0.5 i, y = i^2 mod 1e9, name = "r<i>",
 * a = i mod 1000, b = i / 8, c = ~i: a reader can verify every field. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleave/provenance.h"
#include "cleave/store.h"

typedef struct seq_rec {
  int64_t seq;
  double x;
  double y;
  char name[24];
  int32_t a;
  float b;
  uint64_t c;
} seq_rec; /* 64 bytes */

static const cl_field g_seq_fields[] = {
    CL_FIELD(seq_rec, seq, CL_F_INT64, "", "record number"),
    CL_FIELD(seq_rec, x, CL_F_FLOAT64, "s", "0.5 * seq"),
    CL_FIELD(seq_rec, y, CL_F_FLOAT64, "", "seq^2 mod 1e9"),
    CL_FIELD(seq_rec, name, CL_F_STRING, "", "\"r<seq>\""),
    CL_FIELD(seq_rec, a, CL_F_INT32, "", "seq mod 1000"),
    CL_FIELD(seq_rec, b, CL_F_FLOAT32, "", "seq / 8"),
    CL_FIELD(seq_rec, c, CL_F_UINT64, "", "bitwise not of seq"),
};
static const cl_table_desc g_seq_desc = {"/seq", sizeof(seq_rec), g_seq_fields, 7,
                                         "store crash-test sequence", 0};

static seq_rec make(int64_t i) {
  seq_rec r;
  memset(&r, 0, sizeof r);
  r.seq = i;
  r.x = 0.5 * (double)i;
  r.y = (double)((i * i) % 1000000000);
  snprintf(r.name, sizeof r.name, "r%lld", (long long)(i % 100000000000000LL));
  r.a = (int32_t)(i % 1000);
  r.b = (float)i / 8.0f;
  r.c = ~(uint64_t)i;
  return r;
}

static int forever(const char *out, long k, long pause_us) {
  cl_store *s;
  cl_store_opts o = {0};
  o.force = 1;
  if (cl_store_create(out, &o, &s) != CL_OK) return 1;
  cl_table *t;
  if (cl_store_table(s, &g_seq_desc, &t) != CL_OK) return 1;
  seq_rec *b = malloc((size_t)k * sizeof *b);
  if (!b) return 1;
  for (int64_t i = 0;; i += k) {
    for (long j = 0; j < k; j++) b[j] = make(i + j);
    /* Mix batch and single appends. */
    if (cl_table_append(t, b, (size_t)k / 2) != CL_OK) return 1;
    for (long j = k / 2; j < k; j++)
      if (cl_table_append(t, &b[j], 1) != CL_OK) return 1;
    if (cl_store_flush(s) != CL_OK) return 1;
    printf("%lld\n", (long long)(i + k));
    fflush(stdout);
    if (pause_us > 0) {
      struct timespec ts = {pause_us / 1000000, (pause_us % 1000000) * 1000};
      nanosleep(&ts, NULL);
    }
  }
}

static int resume(const char *out, long n) {
  cl_store *s;
  if (cl_store_open_append(out, NULL, &s) != CL_OK) return 1;
  cl_table *t;
  if (cl_store_table(s, &g_seq_desc, &t) != CL_OK) return 1;
  int64_t start = (int64_t)cl_table_count(t);
  for (long j = 0; j < n; j++) {
    seq_rec r = make(start + j);
    if (cl_table_append(t, &r, 1) != CL_OK) return 1;
  }
  printf("%lld\n", (long long)cl_table_count(t));
  return cl_store_close(s) == CL_OK ? 0 : 1;
}

typedef struct prof_rec {
  int32_t model;
  int32_t layer;
  char name[32];
  double median_s;
  double p90_s;
  uint64_t out_bytes;
} prof_rec;

static const cl_field g_prof_fields[] = {
    CL_FIELD_DICT(prof_rec, model, "models", "model"),
    CL_FIELD(prof_rec, layer, CL_F_INT32, "", "layer index"),
    CL_FIELD(prof_rec, name, CL_F_STRING, "", "layer name"),
    CL_FIELD(prof_rec, median_s, CL_F_FLOAT64, "s", "median latency"),
    CL_FIELD(prof_rec, p90_s, CL_F_FLOAT64, "s", "90th percentile latency"),
    CL_FIELD(prof_rec, out_bytes, CL_F_UINT64, "B", "output tensor size"),
};
static const cl_table_desc g_prof_desc = {"/profile/summary", sizeof(prof_rec), g_prof_fields, 6,
                                          "per-layer latency summary (sample)", 0};

static int sample(const char *out, int rank, int n_ranks, int argc, char **argv) {
  cl_store *s;
  cl_store_opts o = {0};
  o.force = 1;
  o.rank = rank;
  o.n_ranks = n_ranks;
  if (cl_store_create(out, &o, &s) != CL_OK) return 1;
  const char *cfg = "model: tiny\nseed: 42\n";
  cl_provenance p = {argc, argv, 1, 42, cfg, "inline"};
  if (cl_store_write_provenance(s, &p) != CL_OK) return 1;
  cl_dict *d;
  cl_table *t;
  if (cl_store_dict(s, "models", &d) != CL_OK || cl_store_table(s, &g_prof_desc, &t) != CL_OK) return 1;
  /* Rank r interns its own model first so ids differ across ranks. */
  const char *models[2] = {rank % 2 ? "vgg_tiny" : "resnet_tiny", rank % 2 ? "resnet_tiny" : "vgg_tiny"};
  for (int m = 0; m < 2; m++) {
    int32_t id;
    if (cl_dict_id(d, models[m], &id) != CL_OK) return 1;
    for (int l = 0; l < 5; l++) {
      prof_rec r;
      memset(&r, 0, sizeof r);
      r.model = id;
      r.layer = l;
      snprintf(r.name, sizeof r.name, "%s.conv%d", models[m], l);
      r.median_s = 1e-3 * (l + 1) * (m + 1) * (rank + 1);
      r.p90_s = 1.2 * r.median_s;
      r.out_bytes = (uint64_t)(4096u >> l);
      if (cl_table_append(t, &r, 1) != CL_OK) return 1;
    }
  }
  if (cl_store_attr_str(s, "/profile", "device", rank ? "edge" : "device") != CL_OK) return 1;
  printf("%s\n", cl_store_path(s));
  return cl_store_close(s) == CL_OK ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "forever"))
    return forever(argv[2], atol(argv[3]), argc > 4 ? atol(argv[4]) : 0);
  if (argc >= 4 && !strcmp(argv[1], "resume")) return resume(argv[2], atol(argv[3]));
  if (argc >= 3 && !strcmp(argv[1], "sample")) {
    int rank = 0, n = 1, mpi = 0;
    for (int i = 3; i < argc; i++) {
      if (!strcmp(argv[i], "--mpi")) mpi = 1;
      if (!strcmp(argv[i], "--rank") && i + 1 < argc) rank = atoi(argv[++i]);
      if (!strcmp(argv[i], "--ranks") && i + 1 < argc) n = atoi(argv[++i]);
    }
    if (mpi) {
      MPI_Init(&argc, &argv);
      MPI_Comm_rank(MPI_COMM_WORLD, &rank);
      MPI_Comm_size(MPI_COMM_WORLD, &n);
    }
    int rc = sample(argv[2], rank, n, argc, argv);
    if (mpi) MPI_Finalize();
    return rc;
  }
  fprintf(stderr, "usage: store_writer forever OUT K [PAUSE_US] | resume OUT N | sample OUT [--mpi]\n");
  return 2;
}
