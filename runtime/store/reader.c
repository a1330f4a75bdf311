/* Reading cleave (or any) HDF5 files: every 1-D compound dataset is a table. Field
 * units/descriptions/dictionaries come from the attributes the store writes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "cleave/vec.h"

typedef struct rtable {
  cl_table_info info;
  cl_field_info *fields;
  char **strs; /* owned strings of this table */
  int n_strs, cap_strs;
  cl__crc_check crc; /* stored block checksums (checksum.c) */
  int crc_state;     /* 1 loaded, 0 none stored, -1 malformed */
} rtable;

struct cl_reader {
  hid_t file;
  char *path;
  int complete; /* root attribute complete: 1, 0, or -1 if absent */
  char *kind;   /* root attribute output_kind, "" if absent */
  rtable *tables;
  int n, cap;
  int no_crc; /* skip the block checksums (the probe's child: metadata, not data) */
  char *damaged; /* path of a damaged table (reader_init refuses the file) */
  int damage;    /* why: CL__DAMAGE_LAYOUT or CL__DAMAGE_UNBACKED */
  /* An attribute iteration failed: libhdf5 1.10 may then hold a freed attribute table
   * that a second iteration of the same object closes again (SIGSEGV in `cleave sim
   * --profile`, which read /profile's attributes three times). Later cl_reader_attrs
   * calls fail at once, without a second error line; the probe's child keeps going. */
  int attrs_failed;
  cl__attr_index *attr_idx; /* from the probe's child; NULL: not probed (iterate) */
  int attr_idx_borrowed;    /* the child's own passes: not freed here */
};

static const char *keep(rtable *t, char *s) {
  if (!s) return NULL;
  if (CL_VEC_RESERVE(t->strs, t->cap_strs, t->n_strs + 1, 16) != CL_OK) {
    free(s);
    return NULL;
  }
  t->strs[t->n_strs++] = s;
  return s;
}

static void rtable_free(rtable *t) {
  for (int i = 0; i < t->n_strs; i++) free(t->strs[i]);
  free(t->strs);
  free(t->fields);
  cl__crc_check_free(&t->crc);
}

const char *cl__damage_text(int damage) {
  switch (damage) {
    case CL__DAMAGE_UNBACKED:
      return "a table declares far more records than it holds data for";
    case CL__DAMAGE_NESTING:
      return "groups nest deeper than " CL__STR(CL__MAX_GROUP_DEPTH) " levels (a loop in its structure?)";
    default:
      return "a table has a record type with fields outside its records";
  }
}

/* 1 if every member of @p t lies inside it, recursively (compound members, array
 * elements). libhdf5 1.10 trusts a corrupt member offset: its struct conversion then
 * reads and writes outside its buffers on H5Dread (a fuzzed profile whose 272-byte
 * records declared a field at byte 63,000 crashed `cleave report`, and whether the
 * probe's child faulted first depended on the heap's layout). */
static int layout_ok(hid_t t, int depth) {
  size_t size = H5Tget_size(t);
  H5T_class_t c = H5Tget_class(t);
  if (!size || c < 0 || depth > 8) return 0;
  if (c == H5T_COMPOUND) {
    int nm = H5Tget_nmembers(t);
    if (nm < 0) return 0;
    for (int i = 0; i < nm; i++) {
      hid_t mt = H5Tget_member_type(t, (unsigned)i);
      if (mt < 0) return 0;
      size_t off = H5Tget_member_offset(t, (unsigned)i), ms = H5Tget_size(mt);
      int ok = ms > 0 && off <= size && ms <= size - off && layout_ok(mt, depth + 1);
      H5Tclose(mt);
      if (!ok) return 0;
    }
  } else if (c == H5T_ARRAY) {
    int nd = H5Tget_array_ndims(t);
    hsize_t dims[H5S_MAX_RANK];
    hid_t bt = H5Tget_super(t);
    int ok = nd > 0 && nd <= H5S_MAX_RANK && bt >= 0 && H5Tget_array_dims2(t, dims) == nd;
    size_t n = 1, bs = bt >= 0 ? H5Tget_size(bt) : 0;
    for (int i = 0; ok && i < nd; i++) {
      if (!dims[i] || n > SIZE_MAX / dims[i]) ok = 0;
      else n *= dims[i];
    }
    ok = ok && bs > 0 && n <= size / bs && n * bs == size && layout_ok(bt, depth + 1);
    if (bt >= 0) H5Tclose(bt);
    return ok;
  }
  return 1;
}

/* Bytes of declared records a table may have beyond its storage (besides as many as it
 * stores): a killed writer's last append, far below this. */
#define UNBACKED_SLACK ((hsize_t)256 << 20)
/* Compressed tables: deflate's best ratio is about 1032:1. */
#define UNBACKED_RATIO ((hsize_t)2048)

/* Fill one table's info from an open dataset. Returns 0 if it is not a table, or
 * -CL__DAMAGE_* if it is a damaged one (a corrupt record type, records without data). */
static int describe(rtable *t, const char *path, hid_t d) {
  int ok = 0;
  hid_t ft = H5Dget_type(d), sp = H5Dget_space(d);
  hsize_t dims = 0;
  if (ft < 0 || sp < 0 || H5Tget_class(ft) != H5T_COMPOUND || H5Sget_simple_extent_ndims(sp) != 1 ||
      H5Sget_simple_extent_dims(sp, &dims, NULL) < 0)
    goto done;
  if (!layout_ok(ft, 0)) {
    ok = -CL__DAMAGE_LAYOUT;
    goto done;
  }
  /* Records without data: cleave writes every record it declares (uncompressed), so its
   * storage holds them all but for a killed writer's last append. A file that declares
   * far more (a 21 KB fuzzed profile declared 17 billion 312-byte records) would make
   * readers iterate, and `cleave merge` write, terabytes of fill values. A compressed
   * copy (h5repack -f GZIP=9) may hold up to UNBACKED_RATIO times its storage. */
  {
    size_t rs = H5Tget_size(ft);
    hsize_t have = H5Dget_storage_size(d), slack = have > UNBACKED_SLACK ? have : UNBACKED_SLACK;
    hid_t dcpl = H5Dget_create_plist(d);
    int nf = dcpl >= 0 ? H5Pget_nfilters(dcpl) : 0, compressed = 0;
    for (int i = 0; i < nf; i++) {
      unsigned flags = 0;
      size_t nv = 0;
      H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nv, NULL, 0, NULL, NULL);
      if (id != H5Z_FILTER_FLETCHER32) compressed = 1;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    const hsize_t max = (hsize_t)-1;
    if (compressed) slack = have <= max / UNBACKED_RATIO ? have * UNBACKED_RATIO : max;
    hsize_t limit = slack > max - have ? max : have + slack; /* bytes of records allowed */
    if (rs && dims > limit / rs) {
      ok = -CL__DAMAGE_UNBACKED;
      goto done;
    }
  }
  int nm = H5Tget_nmembers(ft);
  if (nm <= 0) goto done;
  memset(t, 0, sizeof *t);
  t->fields = calloc((size_t)nm, sizeof *t->fields);
  if (!t->fields) goto done;
  t->info.path = keep(t, cl__strdup(path));
  t->info.n_records = dims;
  t->info.n_fields = nm;
  t->info.fields = t->fields;
  char *kind = cl__h5_attr_get_str(d, "kind");
  t->info.is_dict = kind && !strcmp(kind, "dict");
  free(kind);
  char *desc = cl__h5_attr_get_str(d, "description");
  t->info.desc = desc ? keep(t, desc) : "";
  char **names = NULL, **units = NULL, **descs = NULL, **dicts = NULL;
  int nn = cl__h5_attr_get_strv(d, "field_names", &names);
  int nu = cl__h5_attr_get_strv(d, "units", &units);
  int nd = cl__h5_attr_get_strv(d, "descriptions", &descs);
  int nk = cl__h5_attr_get_strv(d, "dicts", &dicts);
  ok = 1;
  for (int i = 0; i < nm && ok; i++) {
    cl_field_info *f = &t->fields[i];
    char *mname = H5Tget_member_name(ft, (unsigned)i);
    hid_t mt = H5Tget_member_type(ft, (unsigned)i);
    if (!mname || mt < 0) ok = 0;
    if (ok) {
      f->name = keep(t, cl__strdup(mname));
      f->type = cl__h5_ftype_of(mt, &f->size);
      f->unit = f->desc = f->dict = "";
      /* Attribute arrays are parallel to field_names (not necessarily member order). */
      for (int j = 0; j < nn; j++) {
        if (strcmp(names[j], mname)) continue;
        if (j < nu) f->unit = keep(t, cl__strdup(units[j]));
        if (j < nd) f->desc = keep(t, cl__strdup(descs[j]));
        if (j < nk) f->dict = keep(t, cl__strdup(dicts[j]));
        break;
      }
      if (!f->name || !f->unit || !f->desc || !f->dict) ok = 0;
    }
    if (mname) H5free_memory(mname);
    if (mt >= 0) H5Tclose(mt);
  }
  cl__strv_free(names, nn);
  cl__strv_free(units, nu);
  cl__strv_free(descs, nd);
  cl__strv_free(dicts, nk);
  if (!t->info.path || !t->info.desc) ok = 0;
  if (ok) t->crc_state = cl__crc_check_load(&t->crc, d, dims);
  if (!ok) rtable_free(t);
done:
  if (sp >= 0) H5Sclose(sp);
  if (ft >= 0) H5Tclose(ft);
  return ok;
}

static herr_t visit_cb(hid_t root, const char *name, const H5O_info_t *info, void *ud) {
  cl_reader *r = ud;
  char path[1100];
  snprintf(path, sizeof path, "/%s", name);
  int depth = 0;
  for (const char *c = name; *c; c++) depth += *c == '/';
  if (depth >= CL__MAX_GROUP_DEPTH) {
    /* Called before libhdf5 descends further: stopping here ends the chain. */
    path[64] = 0;
    r->damaged = cl__strdup(path);
    r->damage = CL__DAMAGE_NESTING;
    return 1;
  }
  if (info->type != H5O_TYPE_DATASET) return 0;
  hid_t d = H5Dopen2(root, name, H5P_DEFAULT);
  if (d < 0) return 0;
  if (CL_VEC_RESERVE(r->tables, r->cap, r->n + 1, 16) != CL_OK) {
    H5Dclose(d);
    return -1;
  }
  int k = describe(&r->tables[r->n], path, d);
  H5Dclose(d);
  if (k > 0) r->n++;
  if (k < 0) {
    r->damaged = cl__strdup(path);
    r->damage = -k;
    return 1; /* stop: the file is refused */
  }
  return 0;
}

/* Everything after the file is open: markers and the table list. Takes r (and its
 * file); on error closes it. */
static cl_status reader_init(cl_reader *r, const char *path, cl_reader **out, int *damaged) {
  r->path = cl__strdup(path);
  r->complete = -1;
  char *v = NULL;
  H5E_BEGIN_TRY {
    hid_t a = H5Aexists(r->file, "complete") > 0 ? H5Aopen(r->file, "complete", H5P_DEFAULT) : H5I_INVALID_HID;
    if (a >= 0) {
      v = cl__h5_attr_text(a);
      H5Aclose(a);
    }
  }
  H5E_END_TRY;
  if (v) r->complete = strcmp(v, "0") != 0;
  free(v);
  r->kind = cl__h5_attr_get_str(r->file, "output_kind");
  if (!r->kind) r->kind = cl__strdup("");
  if (r->complete == 0)
    cl_log_warn("'%s' is incomplete: its writer did not finish (killed, failed, or still running); "
                "its records may be partial", path);
  herr_t e = H5Ovisit(r->file, H5_INDEX_NAME, H5_ITER_INC, visit_cb, r);
  if (r->damaged) {
    if (damaged) *damaged = r->damage;
    cl_log_error("'%s': damaged HDF5 file: %s (at %s%s); cleave did not read it", path, cl__damage_text(r->damage),
                 r->damaged, strlen(r->damaged) >= 64 ? "..." : "");
    cl_reader_close(r);
    return CL_ERR_HDF5;
  }
  if (e < 0 || !r->path || !r->kind) {
    cl_log_error("cannot list the objects of '%s'", path);
    cl_reader_close(r);
    return CL_ERR_HDF5;
  }
  *out = r;
  return CL_OK;
}

cl_status cl__reader_open_unprobed(const char *path, cl_reader **out, int *damaged) {
  *out = NULL;
  if (damaged) *damaged = 0;
  cl_reader *r = calloc(1, sizeof *r);
  if (!r) return CL_ERR_NOMEM;
  r->file = cl__h5_open_read(path);
  if (r->file < 0) {
    FILE *f = fopen(path, "rb");
    if (!f)
      cl_log_error("cannot open '%s': no such file or not readable", path);
    else
      cl_log_error("cannot open '%s': not an HDF5 file, or damaged", path);
    if (f) fclose(f);
    free(r);
    return f ? CL_ERR_HDF5 : CL_ERR_IO;
  }
  return reader_init(r, path, out, damaged);
}

cl_status cl_reader_open(const char *path, cl_reader **out) {
  *out = NULL;
  cl__attr_index *idx = NULL;
  CL_TRY(cl__reader_probe_index(path, NULL, &idx)); /* probe.c: a file that crashes libhdf5 stays out */
  cl_status st = cl__reader_open_unprobed(path, out, NULL);
  if (st == CL_OK)
    (*out)->attr_idx = idx;
  else
    cl__attr_index_free(idx);
  return st;
}

const cl__attr_index *cl__reader_attr_index(const cl_reader *r) { return r ? r->attr_idx : NULL; }

void cl__reader_use_attr_index(cl_reader *r, cl__attr_index *idx) {
  if (!r) return;
  if (!r->attr_idx_borrowed) cl__attr_index_free(r->attr_idx);
  r->attr_idx = idx;
  r->attr_idx_borrowed = 1;
}

cl_status cl_reader_open_image(const void *buf, size_t len, const char *name, cl_reader **out) {
  *out = NULL;
  cl_reader *r = calloc(1, sizeof *r);
  if (!r) return CL_ERR_NOMEM;
  r->file = cl__h5_open_image(buf, len, name);
  if (r->file < 0) {
    cl_log_error("cannot open '%s': not an HDF5 file, or damaged", name);
    free(r);
    return CL_ERR_HDF5;
  }
  return reader_init(r, name, out, NULL);
}

void cl_reader_close(cl_reader *r) {
  if (!r) return;
  for (int i = 0; i < r->n; i++) rtable_free(&r->tables[i]);
  free(r->tables);
  if (r->file >= 0) H5Fclose(r->file);
  free(r->path);
  free(r->kind);
  free(r->damaged);
  if (!r->attr_idx_borrowed) cl__attr_index_free(r->attr_idx);
  free(r);
}

int cl_reader_complete(const cl_reader *r) { return r ? r->complete : -1; }

const char *cl_reader_kind(const cl_reader *r) { return r && r->kind ? r->kind : ""; }

cl_status cl_reader_check_input(cl_reader **rp, const char *kind) {
  cl_reader *r = *rp;
  const char *why = NULL;
  if (r->complete == 0) why = "its writer did not finish (killed or failed); rerun the command that makes it";
  else if (kind && *r->kind && strcmp(r->kind, kind)) why = "it is not the expected kind of output";
  if (!why) return CL_OK;
  cl_log_error("%s: refusing this input: %s (output_kind '%s', expected '%s')", r->path, why, r->kind,
               kind ? kind : "any");
  cl_reader_close(r);
  *rp = NULL;
  return CL_ERR_INVALID;
}

cl_status cl_reader_open_input(const char *path, const char *kind, cl_reader **out) {
  CL_TRY(cl_reader_open(path, out));
  return cl_reader_check_input(out, kind);
}

/* H5Ewalk callback: note a checksum (Fletcher32) failure anywhere on the stack. */
static herr_t find_checksum(unsigned n, const H5E_error2_t *e, void *ud) {
  (void)n;
  if (e->maj_num == H5E_PLINE || (e->desc && (strstr(e->desc, "checksum") || strstr(e->desc, "Fletcher")))) *(int *)ud = 1;
  return 0;
}

hid_t cl__reader_file(const cl_reader *r) { return r ? r->file : H5I_INVALID_HID; }

void cl__reader_skip_checksums(cl_reader *r) {
  if (r) {
    r->no_crc = 1;
    r->attrs_failed = 2; /* the probe's child: go on reading attributes after a failure */
  }
}

int cl_reader_n_tables(const cl_reader *r) { return r ? r->n : 0; }

const cl_table_info *cl_reader_table_at(const cl_reader *r, int i) {
  return r && i >= 0 && i < r->n ? &r->tables[i].info : NULL;
}

const cl_table_info *cl_reader_find(const cl_reader *r, const char *path) {
  for (int i = 0; r && path && i < r->n; i++)
    if (!strcmp(r->tables[i].info.path, path)) return &r->tables[i].info;
  return NULL;
}

/* A transfer property list whose type-conversion and background buffers fit a read of
 * @p n records (H5P_DEFAULT if it cannot be made): HDF5's default allocates and zeroes
 * 1 MiB of each on every converting H5Dread, so reading a few records cost ~2 ms. */
static hid_t read_dxpl(hid_t d, hid_t mt, size_t n) {
  enum { MAX_BUF = 1 << 20 }; /* bytes, HDF5's default */
  hid_t ft = H5Dget_type(d);
  size_t one = ft >= 0 ? H5Tget_size(ft) : 0, msz = H5Tget_size(mt);
  if (ft >= 0) H5Tclose(ft);
  if (!one || !msz) return H5P_DEFAULT;
  if (msz > one) one = msz; /* HDF5 needs room for one element of the larger type */
  size_t want = n < MAX_BUF / one ? n * one : MAX_BUF;
  if (want < one) want = one;
  hid_t p = H5Pcreate(H5P_DATASET_XFER);
  if (p >= 0 && H5Pset_buffer(p, want, NULL, NULL) < 0) {
    H5Pclose(p);
    p = H5I_INVALID_HID;
  }
  return p >= 0 ? p : H5P_DEFAULT;
}

cl_status cl_reader_read(cl_reader *r, const char *path, const cl_table_desc *as, uint64_t start,
                         size_t n, void *out) {
  if (!r || !as || (n && !out)) return CL_ERR_INVALID;
  const cl_table_info *ti = cl_reader_find(r, path);
  rtable *rt = ti ? (rtable *)((const char *)ti - offsetof(rtable, info)) : NULL;
  if (!ti) {
    cl_log_error("'%s' has no table '%s'", r->path, path ? path : "(null)");
    return CL_ERR_NOTFOUND;
  }
  for (int i = 0; i < as->n_fields; i++) {
    int found = 0;
    for (int j = 0; j < ti->n_fields && !found; j++) found = !strcmp(ti->fields[j].name, as->fields[i].name);
    if (!found) {
      cl_log_error("table '%s' in '%s' has no field '%s'", path, r->path, as->fields[i].name);
      return CL_ERR_NOTFOUND;
    }
  }
  if (start > ti->n_records || n > ti->n_records - start) {
    cl_log_error("read of records [%llu, %llu) beyond the %llu records of '%s' in '%s'",
                 (unsigned long long)start, (unsigned long long)(start + n),
                 (unsigned long long)ti->n_records, path, r->path);
    return CL_ERR_INVALID;
  }
  if (n == 0) return CL_OK;
  cl_status st = CL_ERR_HDF5;
  hid_t mt = cl__h5_compound(as->fields, as->n_fields, as->record_size);
  hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
  hid_t fs = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
  hsize_t s0 = start, cnt = n;
  hid_t ms = H5Screate_simple(1, &cnt, NULL);
  uint64_t bad0 = 0, bad1 = 0;
  int crc = r->no_crc ? 0
            : rt->crc_state < 0 ? 1
            : d >= 0 ? cl__crc_check_range(&rt->crc, d, start, n, &bad0, &bad1) : 0;
  if (crc != 0) {
    if (rt->crc_state == -2)
      cl_log_error("%s: table '%s' is corrupted: it has %llu records but was written with %llu (truncated "
                   "after it was written)", r->path, path, (unsigned long long)ti->n_records,
                   (unsigned long long)rt->crc.records);
    else if (rt->crc_state < 0)
      cl_log_error("%s: table '%s' is corrupted: its checksum attributes (crc32*) are malformed", r->path, path);
    else if (crc > 0)
      cl_log_error("%s: table '%s' is corrupted: records %llu..%llu fail their checksum (records %llu..%llu "
                   "requested); the file was damaged after it was written", r->path, path,
                   (unsigned long long)bad0, (unsigned long long)bad1, (unsigned long long)start,
                   (unsigned long long)(start + n - 1));
    else
      cl_log_error("reading table '%s' of '%s' failed (the file is damaged)", path, r->path);
    goto read_done;
  }
  if (mt >= 0 && fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &s0, NULL, &cnt, NULL) >= 0) {
    herr_t e;
    int checksum = 0;
    hid_t dxpl = read_dxpl(d, mt, n);
    H5E_BEGIN_TRY {
      e = H5Dread(d, mt, ms, fs, dxpl, out);
      if (e < 0) H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_checksum, &checksum);
    }
    H5E_END_TRY;
    if (dxpl != H5P_DEFAULT) H5Pclose(dxpl);
    if (e >= 0) st = CL_OK;
    else if (checksum)
      cl_log_error("%s: table '%s' is corrupted: a data chunk fails its checksum (records %llu..%llu "
                   "requested); the file was damaged after it was written", r->path, path,
                   (unsigned long long)start, (unsigned long long)(start + n - 1));
    else
      cl_log_error("reading table '%s' of '%s' failed (field types not convertible, or the file is damaged)", path,
                   r->path);
    if (e < 0) st = CL_ERR_HDF5;
    goto read_done;
  }
  cl_log_error("reading table '%s' of '%s' failed", path, r->path);
read_done:
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  if (d >= 0) H5Dclose(d);
  if (mt >= 0) H5Tclose(mt);
  return st;
}

typedef struct attr_list {
  cl_attr_fn fn;
  void *ud;
  int err;
} attr_list;

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *ud) {
  (void)info;
  attr_list *l = ud;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  if (a < 0) return -1;
  char *txt = cl__h5_attr_text(a);
  H5Aclose(a);
  if (!txt) {
    l->err = 1;
    return -1;
  }
  l->fn(name, txt, l->ud);
  free(txt);
  return 0;
}

int cl_reader_exists(cl_reader *r, const char *path) {
  return r && path && cl__h5_exists(r->file, path);
}

/* One error line "'FILE': WHAT OBJ... (damaged file)" for an attribute read that failed;
 * later attribute reads on @p r then fail at once (struct cl_reader: attrs_failed). */
static cl_status attrs_damaged(cl_reader *r, const char *what, const char *a, const char *b) {
  cl_log_error("'%s': %s%s%s (damaged file)", r->path, what, a, b);
  if (!r->attrs_failed) r->attrs_failed = 1;
  return CL_ERR_HDF5;
}

cl_status cl_reader_attrs(cl_reader *r, const char *obj, cl_attr_fn fn, void *ud) {
  if (!r || !obj || !fn) return CL_ERR_INVALID;
  if (r->attrs_failed == 1) return CL_ERR_HDF5; /* logged by the failed call */
  if (!cl__h5_exists(r->file, obj)) return CL_ERR_NOTFOUND;
  hid_t o = H5Oopen(r->file, obj, H5P_DEFAULT);
  if (o < 0) return attrs_damaged(r, "", obj, " cannot be opened");
  attr_list l = {fn, ud, 0};
  hsize_t idx = 0;
  herr_t e = 0;
  if (r->attr_idx) {
    /* The names the probe's child listed, each read by name: libhdf5 never builds (and,
     * on a damaged file, never frees twice) an attribute table in this process. An
     * object the child did not reach or could not list is unreadable. */
    const cl__attr_obj *ao = cl__attr_index_find(r->attr_idx, obj);
    if (!ao || ao->failed) e = -1;
    for (int i = 0; ao && !ao->failed && i < ao->n && e >= 0; i++) e = attr_cb(o, ao->names[i], NULL, &l);
  } else {
    e = H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, &l);
  }
  H5Oclose(o);
  return e < 0 || l.err ? attrs_damaged(r, "the attributes of ", obj, " cannot be read") : CL_OK;
}

cl_status cl_reader_attr_text(cl_reader *r, const char *obj, const char *name, char **out) {
  *out = NULL;
  if (!r || !obj || !name) return CL_ERR_INVALID;
  if (r->attrs_failed == 1) return CL_ERR_HDF5; /* logged by the failed call */
  if (!cl__h5_exists(r->file, obj)) return CL_ERR_NOTFOUND;
  if (r->attr_idx) { /* the probe's child listed the names: an absent one is not looked up */
    const cl__attr_obj *ao = cl__attr_index_find(r->attr_idx, obj);
    int have = 0;
    for (int i = 0; ao && !ao->failed && i < ao->n && !have; i++) have = !strcmp(ao->names[i], name);
    if (ao && !ao->failed && !have) return CL_ERR_NOTFOUND;
    if (!ao || ao->failed) return attrs_damaged(r, "the attributes of ", obj, " cannot be read");
  }
  hid_t o = H5Oopen(r->file, obj, H5P_DEFAULT);
  if (o < 0) return attrs_damaged(r, "", obj, " cannot be opened");
  /* By name: libhdf5 walks the object header's messages for this one attribute and never
   * builds (nor, after a failed decode, releases) the sorted attribute table that
   * H5Aiterate2 does, the source of most libhdf5 crashes on corrupt files. */
  htri_t ex = H5Aexists(o, name);
  cl_status st = CL_OK;
  if (ex == 0) {
    st = CL_ERR_NOTFOUND;
  } else {
    hid_t a = ex > 0 ? H5Aopen(o, name, H5P_DEFAULT) : H5I_INVALID_HID;
    *out = a >= 0 ? cl__h5_attr_text(a) : NULL;
    if (a >= 0) H5Aclose(a);
    if (!*out) {
      char what[300];
      snprintf(what, sizeof what, "attribute '%.200s' of ", name);
      st = attrs_damaged(r, what, obj, " cannot be read");
    }
  }
  H5Oclose(o);
  return st;
}

cl_status cl_reader_text(cl_reader *r, const char *path, char **out) {
  *out = NULL;
  if (!r || !path) return CL_ERR_INVALID;
  if (!cl__h5_exists(r->file, path)) return CL_ERR_NOTFOUND;
  hid_t d = H5Dopen2(r->file, path, H5P_DEFAULT);
  if (d < 0) return CL_ERR_HDF5;
  *out = cl__h5_dset_get_str(d);
  H5Dclose(d);
  if (!*out) {
    cl_log_error("'%s' in '%s' is not a string dataset", path, r->path);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}
