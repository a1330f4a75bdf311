/* Record store throughput: 64-byte records through cl_table_append, single-record
 * appends and 4096-record batches, against raw fwrite of the same bytes to the same
 * directory (the disk/page-cache ceiling). Median of 3 runs.
 *
 *   bench_store [--records N] [--dir DIR] [--runs R]      (default 10000000, ., 3) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleave/store.h"
#include "bench_util.h"

typedef struct bench_rec { /* a layer-timing-like record, 64 bytes */
  int64_t seq;
  int32_t model;
  int32_t layer;
  double start_s;
  double end_s;
  uint64_t out_bytes;
  float flops;
  int32_t node;
  char tag[16];
} bench_rec;
_Static_assert(sizeof(bench_rec) == 64, "64-byte record");

static const cl_field g_fields[] = {
    CL_FIELD(bench_rec, seq, CL_F_INT64, "", "sequence"),
    CL_FIELD(bench_rec, model, CL_F_INT32, "", "model id"),
    CL_FIELD(bench_rec, layer, CL_F_INT32, "", "layer index"),
    CL_FIELD(bench_rec, start_s, CL_F_FLOAT64, "s", "start"),
    CL_FIELD(bench_rec, end_s, CL_F_FLOAT64, "s", "end"),
    CL_FIELD(bench_rec, out_bytes, CL_F_UINT64, "B", "output size"),
    CL_FIELD(bench_rec, flops, CL_F_FLOAT32, "FLOP", "work"),
    CL_FIELD(bench_rec, node, CL_F_INT32, "", "node"),
    CL_FIELD(bench_rec, tag, CL_F_STRING, "", "tag"),
};
static const cl_table_desc g_desc = {"/bench/layers", sizeof(bench_rec), g_fields, 9, "bench", 0};

static void fill(bench_rec *b, size_t n, int64_t base) {
  for (size_t i = 0; i < n; i++) {
    bench_rec *r = &b[i];
    memset(r, 0, sizeof *r);
    r->seq = base + (int64_t)i;
    r->model = 3;
    r->layer = (int32_t)(i % 57);
    r->start_s = 1e-3 * (double)r->seq;
    r->end_s = r->start_s + 5e-4;
    r->out_bytes = 4096u * (uint64_t)(i % 13);
    r->flops = 1e6f;
    r->node = (int32_t)(i % 3);
    memcpy(r->tag, "conv", 4);
  }
}

enum { BATCH = 4096 };

/* Seconds to write n records via the store; batch = records per append call. */
static double run_store(const char *path, const bench_rec *src, size_t n, size_t batch, long *size) {
  cl_store_opts o = {0};
  o.force = 1;
  o.no_provenance = 1;
  cl_store *s;
  cl_table *t;
  double t0 = cl_wall_now();
  if (cl_store_create(path, &o, &s) != CL_OK || cl_store_table(s, &g_desc, &t) != CL_OK) return -1;
  for (size_t i = 0; i < n; i += batch) {
    size_t k = n - i < batch ? n - i : batch;
    /* The same 4096-record source block is reused (a record is a record). */
    if (cl_table_append(t, src + (i % BATCH), k) != CL_OK) return -1;
  }
  if (cl_store_close(s) != CL_OK) return -1;
  double el = cl_wall_now() - t0;
  struct stat sb;
  *size = stat(path, &sb) == 0 ? (long)sb.st_size : -1;
  unlink(path);
  return el;
}

static double run_fwrite(const char *path, const bench_rec *src, size_t n) {
  double t0 = cl_wall_now();
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  for (size_t i = 0; i < n; i += BATCH) {
    size_t k = n - i < BATCH ? n - i : BATCH;
    if (fwrite(src, sizeof *src, k, f) != k) return -1;
  }
  if (fclose(f) != 0) return -1;
  double el = cl_wall_now() - t0;
  unlink(path);
  return el;
}

int main(int argc, char **argv) {
  size_t n = 10000000;
  const char *dir = ".";
  int runs = 3;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--records") && i + 1 < argc) n = (size_t)atoll(argv[++i]);
    else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_store [--records N] [--dir DIR] [--runs R]\n");
      return 2;
    }
  }
  if (runs < 1 || runs > 20 || n < BATCH) {
    fprintf(stderr, "bench_store: need 1..20 runs and at least %d records\n", BATCH);
    return 2;
  }
  /* Records are appended in order, so a single-record source array must cover BATCH
   * consecutive records; both modes read src + (i % BATCH). */
  bench_rec *src = malloc(2 * BATCH * sizeof *src);
  if (!src) return 1;
  fill(src, 2 * BATCH, 0);
  char hp[4096], rp[4096];
  snprintf(hp, sizeof hp, "%s/bench_store.%d.h5", dir, (int)getpid());
  snprintf(rp, sizeof rp, "%s/bench_store.%d.raw", dir, (int)getpid());
  double ts1[20], tsb[20], tr[20];
  long size = 0;
  for (int r = 0; r < runs; r++) {
    tr[r] = run_fwrite(rp, src, n);
    tsb[r] = run_store(hp, src, n, BATCH, &size);
    ts1[r] = run_store(hp, src, n, 1, &size);
    if (tr[r] < 0 || tsb[r] < 0 || ts1[r] < 0) {
      fprintf(stderr, "bench_store: writing in '%s' failed\n", dir);
      return 1;
    }
  }
  double mr = bench_median(tr, runs), mb = bench_median(tsb, runs), m1 = bench_median(ts1, runs);
  double mb_bytes = (double)n * sizeof(bench_rec) / 1e6;
  printf("bench_store: %zu records x %zu B (%.0f MB) in %s, median of %d runs\n", n, sizeof(bench_rec), mb_bytes,
         dir, runs);
  printf("  %-34s %8.2f M rec/s  %8.0f MB/s\n", "raw fwrite (reference)", n / mr / 1e6, mb_bytes / mr);
  printf("  %-34s %8.2f M rec/s  %8.0f MB/s  (%.2fx fwrite)\n", "store, 4096-record appends", n / mb / 1e6,
         mb_bytes / mb, mr / mb);
  printf("  %-34s %8.2f M rec/s  %8.0f MB/s  (%.2fx fwrite)\n", "store, single-record appends", n / m1 / 1e6,
         mb_bytes / m1, mr / m1);
  printf("  HDF5 file size %.1f MB (%.3f x raw bytes)\n", size / 1e6, size / (mb_bytes * 1e6));
  free(src);
  return 0;
}
