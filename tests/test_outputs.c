/* Output safety of the record store: the writer lock (a second writer from another
 * process is refused), atomic outputs (PATH.part renamed on close, removed on discard),
 * the `complete` marker (a killed writer's file is reported and refused as an input),
 * append refusals (finished outputs, other kinds, non-cleave files) and the Fletcher32
 * checksum (a corrupted chunk is an error naming the table, not garbage). */
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cl_test.h"
#include "cl_test_tmp.h"
#include "cleave/store.h"
#include "../runtime/store/checksum_internal.h"

static char g_log[4096];

static void sink(const char *line, void *ctx) {
  (void)ctx;
  size_t n = strlen(g_log);
  snprintf(g_log + n, sizeof g_log - n, "%s\n", line);
}

typedef struct rec {
  int64_t seq;
  double v;
} rec;
static const cl_field g_f[] = {
    CL_FIELD(rec, seq, CL_F_INT64, "", "sequence"),
    CL_FIELD(rec, v, CL_F_FLOAT64, "s", "value"),
};
static const cl_table_desc g_d = {"/test/t", sizeof(rec), g_f, (int)(sizeof g_f / sizeof *g_f), "test", 1000};

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* Run @p fn in a child process; its exit status. The child leaves with _exit so it
 * never closes the parent's HDF5 handles. */
static int in_child(int (*fn)(const char *), const char *arg) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) _exit(fn(arg));
  int ws = 0;
  if (pid < 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws)) return -1;
  return WEXITSTATUS(ws);
}

static int try_create_force(const char *p) {
  cl_store_opts o = {0};
  o.force = 1;
  cl_store *s = NULL;
  return cl_store_create(p, &o, &s) == CL_ERR_EXISTS && !s ? 7 : 1;
}
static int try_append(const char *p) {
  cl_store *s = NULL;
  return cl_store_open_append(p, NULL, &s) == CL_ERR_EXISTS && !s ? 7 : 1;
}

static void test_lock(void) {
  const char *p = cl_test_tmp("locked.h5");
  cl_store *s = NULL;
  CL_CHECK_OK(cl_store_create(p, NULL, &s));
  CL_CHECK(exists(cl_test_tmp("locked.h5.lock")));
  /* another process: --force and --resume are both refused while this one writes */
  CL_CHECK_INT_EQ(in_child(try_create_force, p), 7);
  CL_CHECK_INT_EQ(in_child(try_append, p), 7);
  CL_CHECK_OK(cl_store_close(s));
  CL_CHECK(!exists(cl_test_tmp("locked.h5.lock")));
  CL_CHECK_OK(cl_store_open_append(p, NULL, &s)); /* free again */
  CL_CHECK_OK(cl_store_close(s));
}

static void test_atomic(void) {
  const char *p = cl_test_tmp("atomic.h5"), *part = cl_test_tmp("atomic.h5.part");
  cl_store_opts o = {0};
  o.atomic = 1;
  o.kind = "run";
  cl_store *s = NULL;
  cl_table *t = NULL;
  CL_CHECK_OK(cl_store_create(p, &o, &s));
  CL_CHECK(!exists(p));
  CL_CHECK(exists(part));
  CL_CHECK_OK(cl_store_table(s, &g_d, &t));
  rec r = {1, 2.0};
  CL_CHECK_OK(cl_table_append(t, &r, 1));
  CL_CHECK_STR_EQ(cl_store_path(s), p);
  CL_CHECK_OK(cl_store_close(s));
  CL_CHECK(exists(p));
  CL_CHECK(!exists(part));
  cl_reader *rd = NULL;
  CL_CHECK_OK(cl_reader_open(p, &rd));
  CL_CHECK_INT_EQ(cl_reader_complete(rd), 1);
  CL_CHECK_STR_EQ(cl_reader_kind(rd), "run");
  cl_reader_close(rd);
  /* a finished (atomic) output is never appended to */
  g_log[0] = '\0';
  CL_CHECK(cl_store_open_append(p, NULL, &s) == CL_ERR_INVALID && !s);
  CL_CHECK(strstr(g_log, "finished run output") != NULL);
  /* exists: refused without force, the old file untouched */
  CL_CHECK(cl_store_create(p, &o, &s) == CL_ERR_EXISTS);
  /* discard: neither the file nor its temporary remains; the old file survives --force */
  o.force = 1;
  CL_CHECK_OK(cl_store_create(p, &o, &s));
  CL_CHECK_OK(cl_store_discard(s));
  CL_CHECK(!exists(part));
  CL_CHECK(exists(p));
  CL_CHECK_OK(cl_store_create(cl_test_tmp("gone.h5"), &o, &s));
  CL_CHECK_OK(cl_store_discard(s));
  CL_CHECK(!exists(cl_test_tmp("gone.h5")) && !exists(cl_test_tmp("gone.h5.part")) && !exists(cl_test_tmp("gone.h5.lock")));
}

static int killed_writer(const char *p) {
  cl_store *s = NULL;
  cl_table *t = NULL;
  if (cl_store_create(p, NULL, &s) != CL_OK || cl_store_table(s, &g_d, &t) != CL_OK) return 1;
  rec r = {5, 6.0};
  if (cl_table_append(t, &r, 1) != CL_OK || cl_store_flush(s) != CL_OK) return 1;
  return 0; /* "killed": never closed */
}

static void test_incomplete(void) {
  const char *p = cl_test_tmp("killed.h5");
  CL_CHECK_INT_EQ(in_child(killed_writer, p), 0);
  cl_reader *rd = NULL;
  g_log[0] = '\0';
  CL_CHECK_OK(cl_reader_open(p, &rd));
  CL_CHECK(strstr(g_log, "incomplete") != NULL);
  CL_CHECK_INT_EQ(cl_reader_complete(rd), 0);
  cl_reader_close(rd);
  CL_CHECK(cl_reader_open_input(p, NULL, &rd) == CL_ERR_INVALID && !rd);
  /* the dead writer's lock is gone: the file can be resumed, and is complete after */
  cl_store *s = NULL;
  CL_CHECK_OK(cl_store_open_append(p, NULL, &s));
  CL_CHECK_OK(cl_store_close(s));
  CL_CHECK_OK(cl_reader_open_input(p, NULL, &rd));
  CL_CHECK_INT_EQ(cl_reader_complete(rd), 1);
  cl_reader_close(rd);
}

static void test_append_kind(void) {
  cl_store_opts o = {0};
  o.kind = "sweep";
  cl_store *s = NULL;
  CL_CHECK_OK(cl_store_create(cl_test_tmp("sweep.h5"), &o, &s));
  CL_CHECK_OK(cl_store_close(s));
  CL_CHECK_OK(cl_store_open_append(cl_test_tmp("sweep.h5"), &o, &s));
  CL_CHECK_OK(cl_store_close(s));
  o.kind = "profile";
  g_log[0] = '\0';
  CL_CHECK(cl_store_open_append(cl_test_tmp("sweep.h5"), &o, &s) == CL_ERR_INVALID);
  CL_CHECK(strstr(g_log, "is a sweep output, not a profile output") != NULL);
  /* a plain HDF5 file (no /provenance) is not a cleave output */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST); /* SWMR-capable */
  hid_t f = H5Fcreate(cl_test_tmp("plain.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  CL_CHECK(f >= 0);
  H5Fclose(f);
  H5Pclose(fapl);
  g_log[0] = '\0';
  CL_CHECK(cl_store_open_append(cl_test_tmp("plain.h5"), NULL, &s) == CL_ERR_INVALID);
  CL_CHECK(strstr(g_log, "not a cleave output") != NULL);
}

static void test_checksum(void) {
  const char *p = cl_test_tmp("sum.h5");
  cl_store *s = NULL;
  cl_table *t = NULL;
  CL_CHECK_OK(cl_store_create(p, NULL, &s));
  CL_CHECK_OK(cl_store_table(s, &g_d, &t));
  enum { N = 3000 }; /* three chunks of 1000 */
  static rec w[N], rd_[N];
  for (int i = 0; i < N; i++) w[i] = (rec){i, 0.25 * i};
  CL_CHECK_OK(cl_table_append(t, w, N));
  CL_CHECK_OK(cl_store_close(s));
  /* the table carries per-block CRC-32 attributes (one block per chunk, no filter: an
   * append never rewrites a chunk); find chunk 1's bytes in the file */
  hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "/test/t", H5P_DEFAULT);
  hid_t pl = H5Dget_create_plist(d);
  CL_CHECK(H5Pget_nfilters(pl) == 0);
  CL_CHECK(H5Aexists(d, "crc32") > 0 && H5Aexists(d, "crc32_block") > 0);
  hid_t sp = H5Dget_space(d);
  haddr_t addr = 0;
  hsize_t size = 0, off[1];
  unsigned mask = 0;
  CL_CHECK(H5Dget_chunk_info(d, sp, 1, off, &mask, &addr, &size) >= 0);
  H5Sclose(sp);
  H5Pclose(pl);
  H5Dclose(d);
  H5Fclose(f);
  CL_CHECK_INT_EQ(off[0], 1000);
  cl_reader *r = NULL;
  CL_CHECK_OK(cl_reader_open(p, &r));
  CL_CHECK_OK(cl_reader_read(r, "/test/t", &g_d, 0, N, rd_));
  CL_CHECK(memcmp(w, rd_, sizeof w) == 0);
  cl_reader_close(r);
  int fd = open(p, O_RDWR);
  unsigned char b = 0;
  CL_CHECK(fd >= 0 && pread(fd, &b, 1, (off_t)addr + 100) == 1);
  b ^= 0x40;
  CL_CHECK(pwrite(fd, &b, 1, (off_t)addr + 100) == 1);
  close(fd);
  CL_CHECK_OK(cl_reader_open(p, &r));
  g_log[0] = '\0';
  CL_CHECK(cl_reader_read(r, "/test/t", &g_d, 0, N, rd_) == CL_ERR_HDF5);
  CL_CHECK(strstr(g_log, "table '/test/t' is corrupted") != NULL);
  CL_CHECK(strstr(g_log, "checksum") != NULL);
  /* the intact chunks still read */
  CL_CHECK_OK(cl_reader_read(r, "/test/t", &g_d, 2000, 1000, rd_));
  CL_CHECK_INT_EQ(rd_[999].seq, 2999);
  cl_reader_close(r);
}

/* The block CRC: zlib's CRC-32 (check value of "123456789"), and a record type with
 * padding between fields round-trips (padding is not checksummed) and its damage is
 * found. */
typedef struct prec {
  int32_t a;
  double b;
  char s[3];
} prec;
static void test_crc_padded(void) {
  CL_CHECK(cl__crc32(0, "123456789", 9) == 0xCBF43926u);
  CL_CHECK(cl__crc32(cl__crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
  static const cl_field pf[] = {
      CL_FIELD(prec, a, CL_F_INT32, "", "a"),
      CL_FIELD(prec, b, CL_F_FLOAT64, "s", "b"),
      CL_FIELD(prec, s, CL_F_STRING, "", "s"),
  };
  const cl_table_desc pd = {"/pad/t", sizeof(prec), pf, 3, "padded", 64};
  const char *p = cl_test_tmp("pad.h5");
  cl_store *st = NULL;
  cl_table *t = NULL;
  CL_CHECK_OK(cl_store_create(p, NULL, &st));
  CL_CHECK_OK(cl_store_table(st, &pd, &t));
  enum { N = 200 };
  static prec w[N], r[N];
  memset(w, 0xAB, sizeof w); /* padding bytes are garbage on purpose */
  for (int i = 0; i < N; i++) {
    w[i].a = i;
    w[i].b = 1.5 * i;
    memcpy(w[i].s, "xyz", 3);
  }
  for (int i = 0; i < N; i += 7) CL_CHECK_OK(cl_table_append(t, w + i, (size_t)(N - i < 7 ? N - i : 7)));
  CL_CHECK_OK(cl_store_close(st));
  cl_reader *rd = NULL;
  CL_CHECK_OK(cl_reader_open(p, &rd));
  CL_CHECK_OK(cl_reader_read(rd, "/pad/t", &pd, 0, N, r));
  CL_CHECK(r[N - 1].a == N - 1 && r[N - 1].b == 1.5 * (N - 1) && !memcmp(r[5].s, "xyz", 3));
  cl_reader_close(rd);
  /* flip the 'b' field of record 70 (block 1 of 64-record blocks) */
  hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "/pad/t", H5P_DEFAULT);
  hid_t sp = H5Dget_space(d), ft = H5Dget_type(d);
  haddr_t addr = 0;
  hsize_t size = 0, off[1];
  unsigned mask = 0;
  CL_CHECK(H5Dget_chunk_info(d, sp, 1, off, &mask, &addr, &size) >= 0);
  size_t rs = H5Tget_size(ft), bo = H5Tget_member_offset(ft, 1);
  H5Tclose(ft);
  H5Sclose(sp);
  H5Dclose(d);
  H5Fclose(f);
  int fd = open(p, O_RDWR);
  unsigned char b = 0;
  off_t at = (off_t)addr + (off_t)(6 * rs + bo + 2);
  CL_CHECK(fd >= 0 && pread(fd, &b, 1, at) == 1);
  b ^= 0x01;
  CL_CHECK(pwrite(fd, &b, 1, at) == 1);
  close(fd);
  CL_CHECK_OK(cl_reader_open(p, &rd));
  g_log[0] = '\0';
  CL_CHECK_OK(cl_reader_read(rd, "/pad/t", &pd, 0, 64, r));
  CL_CHECK(cl_reader_read(rd, "/pad/t", &pd, 100, 1, r) == CL_ERR_HDF5);
  CL_CHECK(strstr(g_log, "records 64..127 fail their checksum") != NULL);
  cl_reader_close(rd);
}

int main(void) {
  if (!cl_test_tmp_init("outputs_test")) return 1;
  cl_log_set_sink(sink, NULL);
  test_lock();
  test_crc_padded();
  test_atomic();
  test_incomplete();
  test_append_kind();
  test_checksum();
  cl_log_set_sink(NULL, NULL);
  cl_test_tmp_remove();
  return cl_test_finish("test_outputs");
}
