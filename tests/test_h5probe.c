/* cl_reader_probe (runtime/store/probe.c): valid files pass and then open, a file that
 * crashes libhdf5 is refused with one line naming it (this process survives and its
 * HDF5 state is intact), CLEAVE_H5_PROBE=off and paths that are not regular files skip
 * the probe, and nothing the child logs reaches this process. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cl_test.h"
#include "cl_test_tmp.h"
#include "cleave/store.h"

/* A libhdf5 SIGFPE in H5T_copy while H5Dopen2 decodes a datatype (docs/fuzzing.md);
 * relative to the test's working directory, tests/. */
#define CRASH_FILE "fuzz/hdf5-known/h5t_copy_fpe.h5"


/* Every log line this process prints (the child's must never arrive here). */
static char g_lines[16][2200];
static int g_n_lines;

static void capture(const char *line, void *ctx) {
  (void)ctx;
  if (g_n_lines < 16) snprintf(g_lines[g_n_lines], sizeof g_lines[0], "%s", line);
  g_n_lines++;
}

static int lines_with(const char *a, const char *b) {
  int n = 0;
  for (int i = 0; i < g_n_lines && i < 16; i++) n += strstr(g_lines[i], a) && (!b || strstr(g_lines[i], b));
  return n;
}

typedef struct rec {
  int64_t seq;
  double time_s;
  int32_t model;
  char name[12];
} rec;

static const cl_field g_fields[] = {
    CL_FIELD(rec, seq, CL_F_INT64, "", "sequence number"),
    CL_FIELD(rec, time_s, CL_F_FLOAT64, "s", "wall time"),
    CL_FIELD_DICT(rec, model, "models", "model id"),
    CL_FIELD(rec, name, CL_F_STRING, "", "a name"),
};
static const cl_table_desc g_desc = {"/probe/rows", sizeof(rec), g_fields, 4, "probe rows", 0};

/* A store with provenance, a dictionary, 100 rows and attributes; closed normally or
 * discarded (complete = 0, as a killed writer leaves it). */
static void write_store(const char *path, int finish) {
  cl_store *s = NULL;
  cl_table *t = NULL;
  cl_dict *d = NULL;
  int32_t id = 0;
  cl_store_opts o = {0};
  o.force = 1;
  o.kind = "run";
  CL_CHECK_OK(cl_store_create(path, &o, &s));
  if (!s) return;
  CL_CHECK_OK(cl_store_table(s, &g_desc, &t));
  CL_CHECK_OK(cl_store_dict(s, "models", &d));
  CL_CHECK_OK(cl_dict_id(d, "lenet", &id));
  for (int i = 0; t && i < 100; i++) {
    rec r = {i, 1e-3 * i, id, "row"};
    CL_CHECK_OK(cl_table_append(t, &r, 1));
  }
  CL_CHECK_OK(cl_store_attr_str(s, "/probe", "note", "a group attribute"));
  CL_CHECK_OK(cl_store_write_text(s, "/probe/text", "some text"));
  if (finish)
    CL_CHECK_OK(cl_store_close(s));
  else
    cl_store_discard(s);
}

static void test_valid_passes(void) {
  write_store(cl_test_tmp("ok.h5"), 1);
  cl_probe_outcome out = CL_PROBE_CRASHED;
  g_n_lines = 0;
  CL_CHECK_OK(cl_reader_probe(cl_test_tmp("ok.h5"), &out));
  CL_CHECK_INT_EQ(out, CL_PROBE_PASSED);
  CL_CHECK_INT_EQ(g_n_lines, 0);
  cl_reader *r = NULL;
  CL_CHECK_OK(cl_reader_open(cl_test_tmp("ok.h5"), &r));
  const cl_table_info *ti = r ? cl_reader_find(r, "/probe/rows") : NULL;
  CL_CHECK(ti != NULL);
  if (ti) CL_CHECK_INT_EQ(ti->n_records, 100);
  cl_reader_close(r);

  /* A killed writer's file passes too; the "incomplete" warning is printed once, by
   * this process's open, not by the child's. */
  write_store(cl_test_tmp("killed.h5"), 0);
  g_n_lines = 0;
  CL_CHECK_OK(cl_reader_probe(cl_test_tmp("killed.h5"), &out));
  CL_CHECK_INT_EQ(out, CL_PROBE_PASSED);
  CL_CHECK_INT_EQ(g_n_lines, 0);
  CL_CHECK_OK(cl_reader_open(cl_test_tmp("killed.h5"), &r));
  CL_CHECK_INT_EQ(lines_with("is incomplete", NULL), 1);
  CL_CHECK_INT_EQ(g_n_lines, 1);
  cl_reader_close(r);

  /* Appending probes too, and a valid file is appended to as before. */
  cl_store *s = NULL;
  CL_CHECK_OK(cl_store_open_append(cl_test_tmp("ok.h5"), NULL, &s));
  CL_CHECK_OK(cl_store_close(s));
}

static void test_skipped(void) {
  cl_probe_outcome out = CL_PROBE_CRASHED;
  CL_CHECK_OK(setenv("CLEAVE_H5_PROBE", "off", 1));
  CL_CHECK_OK(cl_reader_probe(cl_test_tmp("ok.h5"), &out));
  CL_CHECK_INT_EQ(out, CL_PROBE_SKIPPED);
  cl_reader *r = NULL;
  CL_CHECK_OK(cl_reader_open(cl_test_tmp("ok.h5"), &r)); /* opens without it */
  cl_reader_close(r);
  CL_CHECK_OK(setenv("CLEAVE_H5_PROBE", "on", 1)); /* anything but off/0 probes */
  out = CL_PROBE_SKIPPED;
  CL_CHECK_OK(cl_reader_probe(cl_test_tmp("ok.h5"), &out));
  CL_CHECK_INT_EQ(out, CL_PROBE_PASSED);
  CL_CHECK_OK(unsetenv("CLEAVE_H5_PROBE"));

  /* Not a regular file: the real open reports it. */
  out = CL_PROBE_CRASHED;
  CL_CHECK_OK(cl_reader_probe(cl_test_tmp("missing.h5"), &out));
  CL_CHECK_INT_EQ(out, CL_PROBE_SKIPPED);
  out = CL_PROBE_CRASHED;
  CL_CHECK_OK(cl_reader_probe(cl_test_dir, &out));
  CL_CHECK_INT_EQ(out, CL_PROBE_SKIPPED);
  g_n_lines = 0;
  CL_CHECK(cl_reader_open(cl_test_tmp("missing.h5"), &r) == CL_ERR_IO);
  CL_CHECK_INT_EQ(lines_with("no such file", "missing.h5"), 1);

  /* Not HDF5: the child's open fails quietly, it exits 0, and the real open says so. */
  FILE *f = fopen(cl_test_tmp("junk.h5"), "w");
  if (f) {
    fputs("not hdf5 at all", f);
    fclose(f);
  }
  g_n_lines = 0;
  out = CL_PROBE_CRASHED;
  CL_CHECK_OK(cl_reader_probe(cl_test_tmp("junk.h5"), &out));
  CL_CHECK_INT_EQ(out, CL_PROBE_PASSED);
  CL_CHECK(cl_reader_open(cl_test_tmp("junk.h5"), &r) == CL_ERR_HDF5);
  CL_CHECK_INT_EQ(lines_with("not an HDF5 file, or damaged", "junk.h5"), 1);
  CL_CHECK_INT_EQ(g_n_lines, 1);
}

static long file_size(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* Copies @p from to @p to; returns the copy's size (-1 if it is missing). */
static long copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *o = fopen(to, "wb");
  char buf[4096];
  size_t n;
  while (in && o && (n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, o);
  if (in) fclose(in);
  if (o) fclose(o);
  return file_size(to);
}

static void test_crash_refused(void) {
  cl_probe_outcome out = CL_PROBE_PASSED;
  g_n_lines = 0;
  CL_CHECK(cl_reader_probe(CRASH_FILE, &out) == CL_ERR_HDF5);
  CL_CHECK_INT_EQ(out, CL_PROBE_CRASHED);
  CL_CHECK_INT_EQ(g_n_lines, 1);
  CL_CHECK_INT_EQ(lines_with("'" CRASH_FILE "': damaged HDF5 file: libhdf5 crashed (SIGFPE)", NULL), 1);
  if (g_n_lines != 1) fprintf(stderr, "log: %s\n", g_n_lines ? g_lines[0] : "(none)");

  /* Through the readers: refused, no reader, one line. */
  cl_reader *r = (cl_reader *)1;
  g_n_lines = 0;
  CL_CHECK(cl_reader_open(CRASH_FILE, &r) == CL_ERR_HDF5);
  CL_CHECK(r == NULL);
  r = (cl_reader *)1;
  CL_CHECK(cl_reader_open_input(CRASH_FILE, "profile", &r) == CL_ERR_HDF5);
  CL_CHECK(r == NULL);
  CL_CHECK_INT_EQ(g_n_lines, 2);
  CL_CHECK_INT_EQ(lines_with("libhdf5 crashed (SIGFPE)", CRASH_FILE), 2);

  /* --resume of such a file: refused before this process opens it; the file is untouched. */
  long size = copy_file(CRASH_FILE, cl_test_tmp("resume.h5"));
  CL_CHECK(size > 0);
  cl_store *s = (cl_store *)1;
  g_n_lines = 0;
  CL_CHECK(cl_store_open_append(cl_test_tmp("resume.h5"), NULL, &s) == CL_ERR_HDF5);
  CL_CHECK(s == NULL);
  CL_CHECK_INT_EQ(lines_with("libhdf5 crashed (SIGFPE)", "resume.h5"), 1);
  CL_CHECK_INT_EQ(g_n_lines, 1);
  CL_CHECK_INT_EQ(file_size(cl_test_tmp("resume.h5")), size);

  /* This process's HDF5 is unharmed: a valid file still opens. */
  CL_CHECK_OK(cl_reader_open(cl_test_tmp("ok.h5"), &r));
  cl_reader_close(r);
}

/* A fuzzed profile whose /profile/layers records are 272 bytes but declare a field at
 * byte ~63,000: libhdf5's struct conversion copied out of bounds on H5Dread, and
 * whether the probe's child faulted first depended on the heap (`cleave report` died
 * of SIGSEGV). Refused by the record-type check, in the child and in process. */
#define DAMAGED_FILE "data/h5/compound_field_outside_record.h5"
static void test_damaged_layout(void) {
  cl_probe_outcome out = CL_PROBE_PASSED;
  g_n_lines = 0;
  CL_CHECK(cl_reader_probe(DAMAGED_FILE, &out) == CL_ERR_HDF5);
  CL_CHECK_INT_EQ(out, CL_PROBE_DAMAGED);
  CL_CHECK_INT_EQ(g_n_lines, 1);
  CL_CHECK_INT_EQ(lines_with("'" DAMAGED_FILE "': damaged HDF5 file: a table has a record type with fields outside",
                             NULL),
                  1);
  /* without the probe: the reader's own check names the table */
  CL_CHECK_OK(setenv("CLEAVE_H5_PROBE", "off", 1));
  cl_reader *r = (cl_reader *)1;
  g_n_lines = 0;
  CL_CHECK(cl_reader_open(DAMAGED_FILE, &r) == CL_ERR_HDF5);
  CL_CHECK(r == NULL);
  CL_CHECK_INT_EQ(g_n_lines, 1);
  CL_CHECK_INT_EQ(lines_with("a table has a record type with fields outside its records (at /profile/layers)", DAMAGED_FILE),
                  1);
  CL_CHECK_OK(unsetenv("CLEAVE_H5_PROBE"));
  /* --resume: refused by the probe, the file untouched */
  long size = copy_file(DAMAGED_FILE, cl_test_tmp("damaged.h5"));
  CL_CHECK(size > 0);
  cl_store *s = (cl_store *)1;
  g_n_lines = 0;
  CL_CHECK(cl_store_open_append(cl_test_tmp("damaged.h5"), NULL, &s) == CL_ERR_HDF5);
  CL_CHECK(s == NULL);
  CL_CHECK_INT_EQ(g_n_lines, 1);
  CL_CHECK_INT_EQ(file_size(cl_test_tmp("damaged.h5")), size);
}

/* A fuzzed 21 KB profile whose /profile/blocks declares 17,179,869,189 records (2.5 KB
 * of storage): `cleave merge` wrote terabytes of fill values. Refused in the child and
 * in process. */
#define UNBACKED_FILE "data/h5/table_records_without_data.h5"
static void test_unbacked_records(void) {
  cl_probe_outcome out = CL_PROBE_PASSED;
  g_n_lines = 0;
  CL_CHECK(cl_reader_probe(UNBACKED_FILE, &out) == CL_ERR_HDF5);
  CL_CHECK_INT_EQ(out, CL_PROBE_DAMAGED);
  CL_CHECK_INT_EQ(g_n_lines, 1);
  CL_CHECK_INT_EQ(lines_with("damaged HDF5 file: a table declares far more records than it holds data for", UNBACKED_FILE),
                  1);
  CL_CHECK_OK(setenv("CLEAVE_H5_PROBE", "off", 1));
  cl_reader *r = (cl_reader *)1;
  g_n_lines = 0;
  CL_CHECK(cl_reader_open(UNBACKED_FILE, &r) == CL_ERR_HDF5);
  CL_CHECK(r == NULL);
  CL_CHECK_INT_EQ(lines_with("a table declares far more records than it holds data for (at /profile/blocks)", UNBACKED_FILE), 1);
  CL_CHECK_OK(unsetenv("CLEAVE_H5_PROBE"));
}

int main(void) {
  if (!cl_test_tmp_init("h5probe_test")) return 1;
  setenv("CLEAVE_NO_GIT", "1", 0);
  unsetenv("CLEAVE_H5_PROBE"); /* the probe is what is tested */
  cl_log_set_sink(capture, NULL);
  test_valid_passes();
  test_skipped();
  test_crash_refused();
  test_damaged_layout();
  test_unbacked_records();
  cl_log_set_sink(NULL, NULL);
  /* No HDF5 object of any file may still be open. */
  CL_CHECK_INT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
  cl_test_tmp_remove();
  return cl_test_finish("test_h5probe");
}
