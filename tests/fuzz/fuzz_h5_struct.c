/* Fuzz harness, structure-aware: the fuzz bytes drive the creation of a valid HDF5 file
 * (HDF5 API, core driver, saved in the /dev/shm scratch directory on close) shaped like
 * cleave's outputs but with adversarial contents: declared tables (cleave/records.h)
 * with columns dropped, renamed, retyped (other widths, strings of any size, 16-bit
 * integers, bitfields, arrays), rows of special values (NaN, inf, huge, negative, wrong
 * step order), missing or mistyped attributes (numbers for strings, variable-length
 * strings, arrays; model, fused, slowdown, complete, output_kind, field_names...), other
 * dataspace shapes, models that do or do not exist. Its bytes then go through cleave's
 * record and profile readers as an in-memory image (fuzz_h5.c). libhdf5's format parser
 * sees only files it wrote itself, so the executions test cleave's reader logic, not
 * libhdf5's robustness (fuzz_store_reader and fuzz_profile_h5 do that). */
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/records.h"
#include "cleave/store.h"
#include "fuzz_util.h"

/* ---- byte source: every read past the end gives 0, so any input is a file ---- */
typedef struct src {
  const uint8_t *p;
  size_t n;
} src;

static unsigned u8(src *s) {
  if (!s->n) return 0;
  s->n--;
  return *s->p++;
}
static unsigned pick(src *s, unsigned n) { return n ? u8(s) % n : 0; }
static uint64_t raw64(src *s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | u8(s);
  return v;
}

static double dval(src *s, int k) {
  static const double sp[] = {0.0, -0.0, 1e-6, 1.0, -1.0, 1e300, -1e300, DBL_MAX, DBL_MIN, 4.9e-324, 1e-3, 0.5};
  unsigned c = pick(s, 20);
  if (c < 6) return 1e-4 * (k + 1) * (1 + c); /* plausible */
  if (c == 6) return NAN;
  if (c == 7) return INFINITY;
  if (c == 8) return -INFINITY;
  if (c == 9) {
    uint64_t b = raw64(s);
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
  }
  return sp[pick(s, sizeof sp / sizeof *sp)];
}

/* Integers: mostly the row index k (step columns) or small counts. */
static int64_t ival(src *s, int k) {
  unsigned c = pick(s, 16);
  if (c < 7) return k;
  if (c < 9) return k + 1 - (int64_t)pick(s, 3);
  if (c == 9) return (int64_t)pick(s, 4096);
  if (c == 10) return -1;
  if (c == 11) return INT32_MAX;
  if (c == 12) return INT32_MIN;
  if (c == 13) return INT64_MAX;
  if (c == 14) return INT64_MIN;
  return (int64_t)raw64(s);
}

static const char *sval(src *s, char *buf, size_t cap) {
  static const char *const pool[] = {
      "lenet", "alexnet", "squeezenet1_0", "mobilenet_v2", "", "conv1", "relu", "Conv", "Gemm", "x.onnx",
      "/nonexistent/model.onnx", "tests/data/onnx/tiny_mlp.onnx", CL_FUZZ_SOURCE_DIR "/tests/data/onnx/tiny_mlp.onnx",
      "profile", "run", "sweep", "merge", "dict", "0", "1", "-1", "nan", "inf", "1e308", "dnnl", "portable", "%s%n"};
  unsigned c = pick(s, 24);
  if (c < 20) return pool[pick(s, sizeof pool / sizeof *pool)];
  size_t len = c == 20 ? cap - 1 : pick(s, 64);
  if (len >= cap) len = cap - 1;
  for (size_t i = 0; i < len; i++) buf[i] = (char)(c == 21 ? 'a' + (int)(i % 26) : (int)u8(s));
  buf[len] = '\0';
  return buf;
}

/* ---- attributes ---- */
static void attr_write(hid_t obj, const char *name, hid_t t, hid_t sp, const void *v) {
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    H5Awrite(a, t, v);
    H5Aclose(a);
  }
}

static void attr_str(hid_t obj, const char *name, const char *v) {
  hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
  H5Tset_size(t, strlen(v) ? strlen(v) : 1);
  attr_write(obj, name, t, sp, strlen(v) ? v : "\0");
  H5Sclose(sp);
  H5Tclose(t);
}

/* Attribute @p name as a string (usual), a number, a variable string or an array. */
static void attr_any(src *s, hid_t obj, const char *name, const char *usual) {
  char buf[300];
  unsigned c = pick(s, 12);
  if (c == 0) return; /* absent */
  hid_t sp = H5Screate(H5S_SCALAR);
  if (c < 7) {
    attr_str(obj, name, c < 5 ? usual : sval(s, buf, sizeof buf));
  } else if (c == 7) {
    int64_t v = ival(s, 1);
    attr_write(obj, name, H5T_NATIVE_INT64, sp, &v);
  } else if (c == 8) {
    double v = dval(s, 0);
    attr_write(obj, name, H5T_NATIVE_DOUBLE, sp, &v);
  } else if (c == 9) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    const char *v = usual;
    attr_write(obj, name, t, sp, &v);
    H5Tclose(t);
  } else {
    hsize_t n = 1 + pick(s, 4);
    hid_t asp = H5Screate_simple(1, &n, NULL), t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 8);
    char v[4][8] = {"a", "b", "c", "d"};
    snprintf(v[0], sizeof v[0], "%.7s", usual);
    attr_write(obj, name, t, asp, v);
    H5Tclose(t);
    H5Sclose(asp);
  }
  H5Sclose(sp);
}

/* ---- tables ---- */
enum { MAXF = 64, MAXR = 40 };

typedef struct col {
  char name[48];
  hid_t type; /* file and memory type */
  size_t off, size;
  H5T_class_t cls;
} col;

/* The member type of a declared field, often changed. */
static hid_t col_type(src *s, const cl_field *f) {
  unsigned c = pick(s, 24);
  hid_t t;
  switch (c < 16 ? 0 : c - 15) {
    case 1: t = H5Tcopy(H5T_NATIVE_INT32); break;
    case 2: t = H5Tcopy(H5T_NATIVE_INT64); break;
    case 3: t = H5Tcopy(H5T_NATIVE_DOUBLE); break;
    case 4: t = H5Tcopy(H5T_NATIVE_FLOAT); break;
    case 5:
      t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, 1 + pick(s, 200));
      break;
    case 6: t = H5Tcopy(pick(s, 2) ? H5T_NATIVE_SHORT : H5T_NATIVE_UINT8); break;
    case 7: t = H5Tcopy(H5T_NATIVE_B8); break;
    case 8: {
      hsize_t d = 1 + pick(s, 3);
      t = H5Tarray_create2(H5T_NATIVE_INT32, 1, &d);
      break;
    }
    default: { /* as declared (CL_F_* order: cleave/store.h) */
      _Static_assert(CL_F_COUNT == 9, "one native type per cl_ftype");
      const hid_t native[CL_F_COUNT] = {H5T_NATIVE_INT8,  H5T_NATIVE_UINT8,  H5T_NATIVE_INT32,
                                        H5T_NATIVE_UINT32, H5T_NATIVE_INT64, H5T_NATIVE_UINT64,
                                        H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE, H5T_C_S1};
      t = H5Tcopy((unsigned)f->type < CL_F_COUNT ? native[f->type] : H5T_C_S1);
      if (H5Tget_class(t) == H5T_STRING) H5Tset_size(t, f->size ? f->size : 1);
    }
  }
  return t;
}

static void put_value(src *s, const col *c, unsigned char *p, int k) {
  char sb[256];
  if (c->cls == H5T_FLOAT) {
    double d = dval(s, k);
    if (c->size == 4) {
      float f = (float)d;
      memcpy(p, &f, 4);
    } else {
      memcpy(p, &d, 8);
    }
  } else if (c->cls == H5T_INTEGER) {
    int64_t v = ival(s, k);
    memcpy(p, &v, c->size < 8 ? c->size : 8); /* little-endian: the low bytes */
  } else if (c->cls == H5T_STRING) {
    const char *v = sval(s, sb, sizeof sb);
    size_t l = strlen(v);
    memcpy(p, v, l < c->size ? l : c->size);
  } else {
    for (size_t i = 0; i < c->size; i++) p[i] = (unsigned char)u8(s);
  }
}

/* String-array attribute @p name over the column names, sometimes short or long. */
static void names_attr(src *s, hid_t d, const char *name, const col *cols, int n, int which) {
  unsigned c = pick(s, 10);
  if (c == 0) return;
  int m = c == 1 ? n / 2 : c == 2 ? n + 2 : n;
  const char *v[MAXF + 2];
  static const char *const units[] = {"s", "B", "", "1", "ms"};
  for (int i = 0; i < m; i++) {
    int j = c == 3 ? m - 1 - i : i;
    const char *nm = j < n ? cols[j].name : "extra";
    v[i] = which == 0 ? nm : which == 1 ? units[pick(s, 5)] : which == 2 ? "desc" : (pick(s, 4) ? "" : "/strings/models");
  }
  size_t w = 1;
  for (int i = 0; i < m; i++) w = strlen(v[i]) > w ? strlen(v[i]) : w;
  char *buf = calloc(m > 0 ? (size_t)m : 1, w); /* m > 0: gcc's range check (-Werror in the ASan build) */
  if (!buf) abort();
  for (int i = 0; i < m; i++) memcpy(buf + (size_t)i * w, v[i], strlen(v[i]));
  hsize_t dims = (hsize_t)m;
  hid_t t = H5Tcopy(H5T_C_S1), sp = m ? H5Screate_simple(1, &dims, NULL) : H5Screate(H5S_NULL);
  H5Tset_size(t, w);
  attr_write(d, name, t, sp, buf);
  H5Tclose(t);
  H5Sclose(sp);
  free(buf);
}

/* One table at @p path shaped by declared layout @p desc. */
static void make_table(src *s, hid_t f, const char *path, const cl_table_desc *desc) {
  col cols[MAXF];
  int n = 0;
  size_t off = 0;
  for (int i = 0; i < desc->n_fields && n < MAXF; i++) {
    unsigned act = pick(s, 16);
    if (act == 0) continue; /* dropped column */
    col *c = &cols[n];
    const char *nm = desc->fields[i].name;
    if (act == 1) nm = desc->fields[pick(s, (unsigned)desc->n_fields)].name; /* renamed, maybe a duplicate */
    snprintf(c->name, sizeof c->name, "%s", act == 2 ? "unknown_col" : nm);
    c->type = col_type(s, &desc->fields[i]);
    if (c->type < 0) continue;
    c->size = H5Tget_size(c->type);
    c->cls = H5Tget_class(c->type);
    c->off = off;
    off += c->size;
    n++;
  }
  hid_t ct = H5Tcreate(H5T_COMPOUND, off ? off : 1);
  int used = 0;
  for (int i = 0; i < n; i++)
    if (H5Tinsert(ct, cols[i].name, cols[i].off, cols[i].type) >= 0) cols[used++] = cols[i];
    else H5Tclose(cols[i].type);
  n = used;
  hsize_t nr = pick(s, 4) ? pick(s, MAXR) : 0, maxd = H5S_UNLIMITED;
  unsigned shape = pick(s, 16);
  hid_t sp;
  if (shape == 0) {
    sp = H5Screate(H5S_SCALAR);
  } else if (shape == 1) {
    hsize_t d2[2] = {nr, 2};
    sp = H5Screate_simple(2, d2, NULL);
  } else {
    sp = H5Screate_simple(1, &nr, shape < 9 ? &maxd : NULL);
  }
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  if (shape >= 2 && shape < 9) {
    hsize_t ch = 1 + pick(s, 8);
    H5Pset_chunk(dcpl, 1, &ch);
    if (pick(s, 2)) H5Pset_fletcher32(dcpl);
  }
  hid_t d = n ? H5Dcreate2(f, path, ct, sp, lcpl, dcpl, H5P_DEFAULT) : -1;
  if (d >= 0) {
    size_t rows = shape == 0 ? 1 : shape == 1 ? (size_t)nr * 2 : (size_t)nr;
    unsigned char *buf = calloc(rows ? rows : 1, off ? off : 1);
    if (!buf) abort();
    for (size_t k = 0; k < rows; k++)
      for (int i = 0; i < n; i++) put_value(s, &cols[i], buf + k * off + cols[i].off, (int)k);
    if (rows) H5Dwrite(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    free(buf);
    names_attr(s, d, "field_names", cols, n, 0);
    names_attr(s, d, "units", cols, n, 1);
    names_attr(s, d, "descriptions", cols, n, 2);
    names_attr(s, d, "dicts", cols, n, 3);
    attr_any(s, d, "kind", pick(s, 4) ? "table" : "dict");
    attr_any(s, d, "description", desc->desc);
    H5Dclose(d);
  }
  for (int i = 0; i < n; i++) H5Tclose(cols[i].type);
  H5Pclose(lcpl);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Tclose(ct);
}

static hid_t group(hid_t f, const char *path) {
  H5E_BEGIN_TRY { H5Gclose(H5Gcreate2(f, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)); }
  H5E_END_TRY;
  return H5Oopen(f, path, H5P_DEFAULT);
}

static void make_file(src *s, hid_t f) {
  char buf[300];
  attr_any(s, f, "output_kind", pick(s, 3) ? "profile" : "run");
  unsigned c = pick(s, 6);
  if (c) attr_any(s, f, "complete", c < 4 ? "1" : "0");
  unsigned mode = pick(s, 4); /* 0, 1: a profile; 2: declared tables; 3: both */
  if (mode != 2) {
    hid_t g = group(f, "/profile");
    if (g >= 0) {
      attr_any(s, g, "model", pick(s, 2) ? "lenet" : sval(s, buf, sizeof buf));
      attr_any(s, g, "fused", pick(s, 2) ? "1" : "0");
      attr_any(s, g, "slowdown", "1");
      attr_any(s, g, "backend", "portable");
      H5Oclose(g);
    }
    make_table(s, f, "/profile/layers", &CL_REC_PROFILE_LAYERS);
    make_table(s, f, "/profile/blocks", &CL_REC_PROFILE_BLOCKS);
  }
  if (mode >= 2) {
    const cl_rec_entry *all = cl_rec_all();
    int n_all = 0;
    while (all[n_all].desc) n_all++;
    for (unsigned k = 1 + pick(s, 3); k > 0; k--) {
      const cl_table_desc *d = all[pick(s, (unsigned)n_all)].desc;
      make_table(s, f, strchr(d->path, '<') ? "/strings/models" : d->path, d);
    }
  }
  if (pick(s, 2)) {
    hid_t g = group(f, "/provenance");
    if (g >= 0) {
      attr_any(s, g, "host", "fuzzhost");
      H5Oclose(g);
    }
    if (pick(s, 2)) {
      hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
      const char *txt = sval(s, buf, sizeof buf);
      H5Tset_size(t, pick(s, 4) ? strlen(txt) + 1 : H5T_VARIABLE);
      hid_t d = H5Dcreate2(f, "/provenance/config", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (d >= 0) {
        H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, H5Tis_variable_str(t) > 0 ? (const void *)&txt : txt);
        H5Dclose(d);
      }
      H5Sclose(sp);
      H5Tclose(t);
    }
  }
}

/* The bytes of file @p path (malloc'd), or NULL. */
static void *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *buf = len > 0 ? malloc((size_t)len) : NULL;
  if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *n = (size_t)len;
  return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  src s = {data, size};
  /* Written through the core driver to a file in the scratch directory (/dev/shm): an
   * image of a closed file, so its superblock is final (H5Fget_file_image of an open file
   * has a stale superblock checksum in the 1.8+ formats). */
  char path[600];
  snprintf(path, sizeof path, "%s/struct.h5", cl_fuzz_dir());
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_fapl_core(fapl, 64 * 1024, 1) < 0) abort();
  /* Odd inputs: the latest format (as cleave's store writes, SWMR-ready), with compact
   * and dense attribute and link storage. */
  if (pick(&s, 2)) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (f < 0) abort();
  make_file(&s, f);
  if (H5Fclose(f) < 0) abort();
  size_t n = 0;
  void *img = slurp(path, &n);
  if (!img) abort();
  /* One open for both readers (each open builds a metadata cache: the main cost). */
  cl_reader *r = NULL;
  if (cl_reader_open_image(img, n, "struct.h5", &r) != CL_OK) abort(); /* a file HDF5 wrote */
  cl_fuzz_h5_store_reader(r);
  cl_fuzz_h5_profile_reader(r);
  cl_reader_close(r);
  free(img);
  cl_fuzz_h5_input_done();
  return 0;
}
