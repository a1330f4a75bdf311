/* Record store: SHA-256 vectors, tables, buffering/flush bounds, errors, resume,
 * dictionaries, provenance, the reader and merge. Every check reads the file back
 * through an independent path (the reader or raw HDF5), and no handle may leak. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cl_test.h"
#include "cl_test_tmp.h"
#include "cleave/provenance.h"
#include "cleave/store.h"


typedef struct lrec {
  int64_t seq;
  double time_s;
  float ratio;
  int32_t model;
  uint64_t bytes;
  char name[20];
  uint8_t flag;
} lrec;

static const cl_field g_lfields[] = {
    CL_FIELD(lrec, seq, CL_F_INT64, "", "sequence number"),
    CL_FIELD(lrec, time_s, CL_F_FLOAT64, "s", "wall time"),
    CL_FIELD(lrec, ratio, CL_F_FLOAT32, "1", "a ratio"),
    CL_FIELD_DICT(lrec, model, "models", "model id"),
    CL_FIELD(lrec, bytes, CL_F_UINT64, "B", "output bytes"),
    CL_FIELD(lrec, name, CL_F_STRING, "", "layer name"),
    CL_FIELD(lrec, flag, CL_F_UINT8, "", "a flag"),
};
static const cl_table_desc g_ldesc = {"/test/layers", sizeof(lrec), g_lfields, 7, "test layers", 0};

static lrec make_rec(int64_t i, int32_t model) {
  lrec r;
  memset(&r, 0, sizeof r);
  r.seq = i;
  r.time_s = 0.5 * (double)i;
  r.ratio = (float)i / 4.0f;
  r.model = model;
  r.bytes = (uint64_t)i * 1000u;
  snprintf(r.name, sizeof r.name, "layer%d", (int)(i % 1000000000));
  r.flag = (uint8_t)(i & 1);
  return r;
}

static void test_sha256(void) {
  char hex[65];
  cl_sha256_hex("", 0, hex);
  CL_CHECK_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  cl_sha256_hex("abc", 3, hex);
  CL_CHECK_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  cl_sha256_hex(m448, strlen(m448), hex);
  CL_CHECK_STR_EQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const char *m896 =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  cl_sha256_hex(m896, strlen(m896), hex);
  CL_CHECK_STR_EQ(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  /* One million 'a', fed in uneven pieces through the incremental API. */
  cl_sha256_ctx c;
  cl_sha256_init(&c);
  char a[997];
  memset(a, 'a', sizeof a);
  size_t left = 1000000;
  while (left) {
    size_t k = left < sizeof a ? left : (left % 7) + 1 + (sizeof a - 8);
    cl_sha256_update(&c, a, k);
    left -= k;
  }
  uint8_t d[32];
  cl_sha256_final(&c, d);
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
  CL_CHECK_STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void check_seq(cl_reader *r, const char *path, int64_t n, int32_t model) {
  const cl_table_info *ti = cl_reader_find(r, path);
  CL_CHECK(ti != NULL);
  if (!ti) return;
  CL_CHECK_INT_EQ(ti->n_records, n);
  lrec *buf = calloc((size_t)(n ? n : 1), sizeof *buf);
  CL_CHECK_OK(cl_reader_read(r, path, &g_ldesc, 0, (size_t)n, buf));
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    lrec e = make_rec(i, model);
    if (memcmp(&e, &buf[i], offsetof(lrec, flag) + 1) != 0) bad++;
  }
  CL_CHECK_INT_EQ(bad, 0);
  free(buf);
}

static void test_roundtrip(void) {
  cl_store *s;
  cl_store_opts o = {0};
  o.flush_records = 1000;
  o.flush_seconds = -1;
  CL_CHECK_OK(cl_store_create(cl_test_tmp("a.h5"), &o, &s));
  cl_table *t;
  CL_CHECK_OK(cl_store_table(s, &g_ldesc, &t));
  cl_table *t2;
  CL_CHECK_OK(cl_store_table(s, &g_ldesc, &t2));
  CL_CHECK(t == t2);
  /* Appends of mixed sizes: singles, a batch straddling the buffer, a huge batch. */
  int64_t n = 0;
  for (; n < 10; n++) {
    lrec r = make_rec(n, 3);
    CL_CHECK_OK(cl_table_append(t, &r, 1));
  }
  cl_table_stats st;
  cl_table_get_stats(t, &st);
  CL_CHECK_INT_EQ(st.records, 10);
  CL_CHECK_INT_EQ(st.flushed, 0); /* still buffered */
  lrec *b = malloc(5000 * sizeof *b);
  for (int i = 0; i < 5000; i++) b[i] = make_rec(n + i, 3);
  CL_CHECK_OK(cl_table_append(t, b, 1500));
  n += 1500;
  cl_table_get_stats(t, &st);
  CL_CHECK_INT_EQ(st.flushed, 1000); /* buffer filled once -> written and flushed */
  for (int i = 0; i < 5000; i++) b[i] = make_rec(n + i, 3);
  CL_CHECK_OK(cl_table_append(t, b, 5000));
  n += 5000;
  CL_CHECK_INT_EQ(cl_table_count(t), n);
  /* cl_table_read spans disk and buffer. */
  lrec rb[3];
  CL_CHECK_OK(cl_table_read(t, (uint64_t)n - 3, 3, rb));
  CL_CHECK_INT_EQ(rb[2].seq, n - 1);
  CL_CHECK(cl_table_read(t, (uint64_t)n - 1, 2, rb) == CL_ERR_INVALID);
  CL_CHECK_OK(cl_store_attr_str(s, "/run", "planner", "dads"));
  CL_CHECK_OK(cl_store_attr_f64(s, "/test/layers", "bandwidth_mbps", 12.5));
  CL_CHECK_OK(cl_store_close(s));
  free(b);

  cl_reader *r;
  CL_CHECK_OK(cl_reader_open(cl_test_tmp("a.h5"), &r));
  check_seq(r, "/test/layers", n, 3);
  const cl_table_info *ti = cl_reader_find(r, "/test/layers");
  if (ti) {
    CL_CHECK_INT_EQ(ti->n_fields, 7);
    CL_CHECK_STR_EQ(ti->fields[1].name, "time_s");
    CL_CHECK_STR_EQ(ti->fields[1].unit, "s");
    CL_CHECK_STR_EQ(ti->fields[4].unit, "B");
    CL_CHECK_STR_EQ(ti->fields[3].dict, "/strings/models");
    CL_CHECK_INT_EQ(ti->fields[5].type, CL_F_STRING);
    CL_CHECK_INT_EQ(ti->fields[5].size, 20);
    CL_CHECK_STR_EQ(ti->desc, "test layers");
  }
  /* Subset read with conversion: int64 seq -> double, string 20 -> 8 chars. */
  typedef struct sub {
    double seq;
    char name[8];
  } sub;
  const cl_field sf[] = {CL_FIELD(sub, seq, CL_F_FLOAT64, "", ""), CL_FIELD(sub, name, CL_F_STRING, "", "")};
  cl_table_desc sd = {"/test/layers", sizeof(sub), sf, 2, "", 0};
  sub sb[2];
  CL_CHECK_OK(cl_reader_read(r, "/test/layers", &sd, 11, 2, sb));
  CL_CHECK_NEAR(sb[1].seq, 12.0, 0);
  CL_CHECK(!strncmp(sb[1].name, "layer12", 7));
  const cl_field mf[] = {CL_FIELD(sub, seq, CL_F_FLOAT64, "", ""), {"nope", CL_F_INT32, 0, 4, "", "", NULL}};
  cl_table_desc md = {"/test/layers", sizeof(sub), mf, 2, "", 0};
  CL_CHECK(cl_reader_read(r, "/test/layers", &md, 0, 1, sb) == CL_ERR_NOTFOUND);
  cl_reader_close(r);
}

static long file_size(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

static void test_errors(void) {
  cl_store *s = NULL;
  /* Existing file without force: CL_ERR_EXISTS and the file is untouched. */
  FILE *f = fopen(cl_test_tmp("exists.h5"), "w");
  fputs("precious", f);
  fclose(f);
  CL_CHECK(cl_store_create(cl_test_tmp("exists.h5"), NULL, &s) == CL_ERR_EXISTS);
  CL_CHECK(s == NULL);
  CL_CHECK_INT_EQ(file_size(cl_test_tmp("exists.h5")), 8);
  /* With force it is replaced. */
  cl_store_opts o = {0};
  o.force = 1;
  CL_CHECK_OK(cl_store_create(cl_test_tmp("exists.h5"), &o, &s));
  CL_CHECK_OK(cl_store_close(s));
  CL_CHECK(file_size(cl_test_tmp("exists.h5")) > 8);
  /* Unwritable locations. */
  CL_CHECK(cl_store_create("/nonexistent-dir/x.h5", NULL, &s) == CL_ERR_IO);
  CL_CHECK(cl_store_create(cl_test_dir, &o, &s) == CL_ERR_EXISTS); /* a directory: refused, even with force */
  CL_CHECK(s == NULL);
  /* Appending to something missing or not HDF5. */
  CL_CHECK(cl_store_open_append(cl_test_tmp("missing.h5"), NULL, &s) == CL_ERR_NOTFOUND);
  f = fopen(cl_test_tmp("junk.h5"), "w");
  fputs("not hdf5 at all", f);
  fclose(f);
  CL_CHECK(cl_store_open_append(cl_test_tmp("junk.h5"), NULL, &s) == CL_ERR_HDF5);
  cl_reader *r = NULL;
  CL_CHECK(cl_reader_open(cl_test_tmp("junk.h5"), &r) == CL_ERR_HDF5);
  CL_CHECK(cl_reader_open(cl_test_tmp("missing.h5"), &r) == CL_ERR_IO);

  /* Bad descriptors. */
  CL_CHECK_OK(cl_store_create(cl_test_tmp("bad.h5"), NULL, &s));
  cl_table *t;
  cl_field bf[2] = {g_lfields[0], g_lfields[1]};
  cl_table_desc d = {"/bad", sizeof(lrec), bf, 2, "", 0};
  bf[1].size = 4; /* float64 declared with 4 bytes */
  CL_CHECK(cl_store_table(s, &d, &t) == CL_ERR_INVALID);
  bf[1] = g_lfields[0]; /* duplicate name */
  CL_CHECK(cl_store_table(s, &d, &t) == CL_ERR_INVALID);
  bf[1] = g_lfields[1];
  bf[1].offset = sizeof(lrec) - 4; /* overruns the record */
  CL_CHECK(cl_store_table(s, &d, &t) == CL_ERR_INVALID);
  bf[1] = g_lfields[1];
  bf[1].name = "other";
  bf[1].offset = 4; /* overlaps seq */
  CL_CHECK(cl_store_table(s, &d, &t) == CL_ERR_INVALID);
  bf[1] = g_lfields[1];
  d.path = "relative";
  CL_CHECK(cl_store_table(s, &d, &t) == CL_ERR_INVALID);
  d.path = "/provenance/x";
  CL_CHECK(cl_store_table(s, &d, &t) == CL_ERR_INVALID);
  d.path = "/ok";
  CL_CHECK_OK(cl_store_table(s, &d, &t));
  d.n_fields = 1; /* same path, different layout */
  CL_CHECK(cl_store_table(s, &d, &t) == CL_ERR_INVALID);
  cl_dict *dict;
  CL_CHECK(cl_store_dict(s, "bad name", &dict) == CL_ERR_INVALID);
  CL_CHECK_OK(cl_store_close(s));
  CL_CHECK_OK(cl_store_close(NULL));
}

static void test_time_flush(void) {
  cl_store *s;
  cl_store_opts o = {0};
  o.flush_seconds = 0.05;
  CL_CHECK_OK(cl_store_create(cl_test_tmp("time.h5"), &o, &s));
  cl_table *t;
  CL_CHECK_OK(cl_store_table(s, &g_ldesc, &t));
  lrec r = make_rec(0, 0);
  CL_CHECK_OK(cl_table_append(t, &r, 1));
  struct timespec ts = {0, 120 * 1000 * 1000};
  nanosleep(&ts, NULL);
  r = make_rec(1, 0);
  CL_CHECK_OK(cl_table_append(t, &r, 1));
  cl_table_stats st;
  cl_table_get_stats(t, &st);
  CL_CHECK_INT_EQ(st.flushed, 2); /* the interval elapsed: flushed on this append */
  CL_CHECK_OK(cl_store_close(s));
}

typedef struct prov_got {
  char sha[80], seed[32], cmd[128], ver[32], hdf5[32];
  int n;
} prov_got;

static void collect(const char *name, const char *value, void *ud) {
  prov_got *g = ud;
  g->n++;
  if (!strcmp(name, "config_sha256")) snprintf(g->sha, sizeof g->sha, "%s", value);
  if (!strcmp(name, "seed")) snprintf(g->seed, sizeof g->seed, "%s", value);
  if (!strcmp(name, "command_line")) snprintf(g->cmd, sizeof g->cmd, "%s", value);
  if (!strcmp(name, "cleave_version")) snprintf(g->ver, sizeof g->ver, "%s", value);
  if (!strcmp(name, "hdf5_version")) snprintf(g->hdf5, sizeof g->hdf5, "%s", value);
}

static void test_dict_resume_provenance(void) {
  cl_store *s;
  CL_CHECK_OK(cl_store_create(cl_test_tmp("d.h5"), NULL, &s));
  cl_dict *d;
  CL_CHECK_OK(cl_store_dict(s, "models", &d));
  int32_t a, b, c;
  CL_CHECK_OK(cl_dict_id(d, "resnet18", &a));
  CL_CHECK_OK(cl_dict_id(d, "vgg16", &b));
  CL_CHECK_OK(cl_dict_id(d, "resnet18", &c));
  CL_CHECK_INT_EQ(a, 0);
  CL_CHECK_INT_EQ(b, 1);
  CL_CHECK_INT_EQ(c, 0);
  for (int i = 0; i < 300; i++) { /* force hash growth */
    char nm[32];
    snprintf(nm, sizeof nm, "m%d", i);
    CL_CHECK_OK(cl_dict_id(d, nm, &c));
  }
  CL_CHECK_OK(cl_dict_id(d, "vgg16", &c));
  CL_CHECK_INT_EQ(c, 1);
  CL_CHECK_STR_EQ(cl_dict_str(d, 1), "vgg16");
  CL_CHECK(cl_dict_str(d, 9999) == NULL);
  char lng[200];
  memset(lng, 'x', sizeof lng - 1);
  lng[sizeof lng - 1] = '\0';
  CL_CHECK(cl_dict_id(d, lng, &c) == CL_ERR_INVALID);
  cl_table *t;
  CL_CHECK_OK(cl_store_table(s, &g_ldesc, &t));
  for (int i = 0; i < 100; i++) {
    lrec r = make_rec(i, b);
    CL_CHECK_OK(cl_table_append(t, &r, 1));
  }
  char *argv[] = {"cleave", "run", "my config.yaml"};
  const char *cfg = "seed: 7\nnodes: 3\n";
  cl_provenance p = {3, argv, 1, 7, cfg, "my config.yaml"};
  CL_CHECK_OK(cl_store_write_provenance(s, &p));
  CL_CHECK(cl_store_write_provenance(s, &p) == CL_ERR_INVALID);
  CL_CHECK_OK(cl_store_close(s));

  /* Resume: continues the table and the dictionary ids; layout mismatch refused. */
  CL_CHECK_OK(cl_store_open_append(cl_test_tmp("d.h5"), NULL, &s));
  {
    cl_field changed[7];
    memcpy(changed, g_lfields, sizeof changed);
    changed[2].type = CL_F_INT32; /* ratio was float32 in the file */
    cl_table_desc cd = g_ldesc;
    cd.fields = changed;
    cl_table *tc;
    CL_CHECK(cl_store_table(s, &cd, &tc) == CL_ERR_INVALID);
  }
  CL_CHECK_STR_EQ(cl_store_provenance_group(s), "/provenance/resume_1");
  CL_CHECK_OK(cl_store_table(s, &g_ldesc, &t));
  CL_CHECK_INT_EQ(cl_table_count(t), 100);
  for (int i = 100; i < 150; i++) {
    lrec r = make_rec(i, b);
    CL_CHECK_OK(cl_table_append(t, &r, 1));
  }
  CL_CHECK_OK(cl_store_dict(s, "models", &d));
  CL_CHECK_INT_EQ(cl_dict_count(d), 302);
  CL_CHECK_OK(cl_dict_id(d, "vgg16", &c));
  CL_CHECK_INT_EQ(c, 1);
  CL_CHECK_OK(cl_dict_id(d, "new", &c));
  CL_CHECK_INT_EQ(c, 302);
  cl_field other[1] = {g_lfields[0]};
  cl_table_desc od = {"/test/layers", sizeof(lrec), other, 1, "", 0};
  cl_table *t2;
  CL_CHECK(cl_store_table(s, &od, &t2) == CL_ERR_INVALID);
  CL_CHECK_OK(cl_store_close(s));

  cl_reader *r;
  CL_CHECK_OK(cl_reader_open(cl_test_tmp("d.h5"), &r));
  check_seq(r, "/test/layers", 150, 1);
  const cl_table_info *di = cl_reader_find(r, "/strings/models");
  CL_CHECK(di && di->is_dict && di->n_records == 303);
  char *text = NULL;
  CL_CHECK_OK(cl_reader_text(r, "/provenance/config", &text));
  CL_CHECK_STR_EQ(text, cfg);
  free(text);
  CL_CHECK(cl_reader_exists(r, "/provenance/resume_1"));
  CL_CHECK(!cl_reader_exists(r, "/provenance/resume_2"));
  CL_CHECK(cl_reader_text(r, "/nope", &text) == CL_ERR_NOTFOUND);
  /* Attributes come back as text. */
  prov_got got = {"", "", "", "", "", 0};
  CL_CHECK_OK(cl_reader_attrs(r, "/provenance", collect, &got));
  char hex[65];
  cl_sha256_hex(cfg, strlen(cfg), hex);
  CL_CHECK_STR_EQ(got.sha, hex);
  CL_CHECK_STR_EQ(got.seed, "7");
  CL_CHECK_STR_EQ(got.cmd, "cleave run 'my config.yaml'");
  CL_CHECK(got.ver[0] != '\0');
  CL_CHECK_STR_EQ(got.hdf5, "1.10.8");
  CL_CHECK(got.n >= 20);
  cl_reader_close(r);
}

/* Two "ranks" with different dictionary insertion orders; merge must remap ids. */
static void test_merge(void) {
  const char *names[2] = {"alexnet", "vgg16"};
  char paths[2][256];
  for (int k = 0; k < 2; k++) {
    cl_store *s;
    cl_store_opts o = {0};
    o.rank = k;
    o.n_ranks = 2;
    CL_CHECK_OK(cl_store_create(cl_test_tmp("m.h5"), &o, &s));
    snprintf(paths[k], sizeof paths[k], "%s", cl_store_path(s));
    cl_dict *d;
    CL_CHECK_OK(cl_store_dict(s, "models", &d));
    int32_t ids[2];
    /* rank 0 interns alexnet first, rank 1 vgg16 first */
    CL_CHECK_OK(cl_dict_id(d, names[k], &ids[k]));
    CL_CHECK_OK(cl_dict_id(d, names[1 - k], &ids[1 - k]));
    cl_table *t;
    CL_CHECK_OK(cl_store_table(s, &g_ldesc, &t));
    for (int i = 0; i < 10 + k; i++) {
      lrec r = make_rec(i, ids[i % 2]);
      CL_CHECK_OK(cl_table_append(t, &r, 1));
    }
    if (k == 1) { /* a table only rank 1 has */
      cl_table_desc d2 = g_ldesc;
      d2.path = "/only1";
      CL_CHECK_OK(cl_store_table(s, &d2, &t));
      lrec r = make_rec(5, ids[0]);
      CL_CHECK_OK(cl_table_append(t, &r, 1));
    }
    CL_CHECK_OK(cl_store_close(s));
  }
  char want[256];
  snprintf(want, sizeof want, "%s/m.rank1.h5", cl_test_dir);
  CL_CHECK_STR_EQ(paths[1], want);
  const char *in[2] = {paths[0], paths[1]};
  cl_merge_opts mo = {0, NULL};
  CL_CHECK_OK(cl_store_merge(cl_test_tmp("merged.h5"), in, 2, &mo));
  CL_CHECK(cl_store_merge(cl_test_tmp("merged.h5"), in, 2, &mo) == CL_ERR_EXISTS);
  const char *in3[1] = {cl_test_tmp("merged.h5")};
  mo.force = 1;
  CL_CHECK(cl_store_merge(cl_test_tmp("merged2.h5"), in3, 1, &mo) == CL_ERR_UNSUPPORTED);
  CL_CHECK(file_size(cl_test_tmp("merged2.h5")) < 0); /* nothing left behind */

  cl_reader *r;
  CL_CHECK_OK(cl_reader_open(cl_test_tmp("merged.h5"), &r));
  const cl_table_info *ti = cl_reader_find(r, "/test/layers");
  CL_CHECK(ti && ti->n_records == 21 && ti->n_fields == 8);
  typedef struct mrec {
    int64_t seq;
    int32_t model, src;
  } mrec;
  const cl_field mf[] = {CL_FIELD(mrec, seq, CL_F_INT64, "", ""), CL_FIELD(mrec, model, CL_F_INT32, "", ""),
                         CL_FIELD(mrec, src, CL_F_INT32, "", "")};
  cl_table_desc md = {"/test/layers", sizeof(mrec), mf, 3, "", 0};
  mrec m[21];
  CL_CHECK_OK(cl_reader_read(r, "/test/layers", &md, 0, 21, m));
  typedef struct drec {
    int32_t id;
    char name[32];
  } drec;
  const cl_field df[] = {CL_FIELD(drec, id, CL_F_INT32, "", ""), CL_FIELD(drec, name, CL_F_STRING, "", "")};
  cl_table_desc dd = {"/strings/models", sizeof(drec), df, 2, "", 0};
  drec dr[2];
  CL_CHECK(cl_reader_find(r, "/strings/models") && cl_reader_find(r, "/strings/models")->n_records == 2);
  CL_CHECK_OK(cl_reader_read(r, "/strings/models", &dd, 0, 2, dr));
  int bad = 0;
  for (int i = 0; i < 21; i++) {
    int src = i < 10 ? 0 : 1, row = i < 10 ? i : i - 10;
    /* rank k wrote names[(row%2)] ... via its ids: row%2==0 -> ids[0] = "alexnet" */
    const char *want_name = names[row % 2];
    if (m[i].src != src || m[i].seq != row || strcmp(dr[m[i].model].name, want_name)) bad++;
  }
  CL_CHECK_INT_EQ(bad, 0);
  CL_CHECK(cl_reader_find(r, "/only1") && cl_reader_find(r, "/only1")->n_records == 1);
  const cl_table_info *si = cl_reader_find(r, "/merge/sources");
  CL_CHECK(si && si->n_records == 2);
  CL_CHECK(cl_reader_exists(r, "/provenance/sources/1"));
  CL_CHECK(cl_reader_exists(r, "/provenance/merge"));
  const cl_table_info *li = cl_reader_find(r, "/test/layers");
  if (li) CL_CHECK_STR_EQ(li->fields[1].unit, "s");
  cl_reader_close(r);
}

int main(void) {
  if (!cl_test_tmp_init("store_test")) return 1;
  setenv("CLEAVE_NO_GIT", "1", 0); /* keep the unit test fast; git is exercised by scripts */
  test_sha256();
  test_roundtrip();
  test_errors();
  test_time_flush();
  test_dict_resume_provenance();
  test_merge();
  /* No HDF5 object of any file may still be open. */
  CL_CHECK_INT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
  cl_test_tmp_remove();
  return cl_test_finish("test_store");
}
