/* cl_store_merge: concatenate per-rank files into one file users read.
 *
 * Every table (1-D compound dataset) is concatenated in input order with an extra
 * int32 column "src" (index of the input). Dictionary tables (/strings/<name>) are
 * unioned by string and id fields remapped to the merged ids. Provenance of every
 * input is kept. See docs/store.md. */
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/vec.h"
#include "store_internal.h"

enum { BLOCK = 65536 };

typedef cl_rec_merge_source src_rec; /* cleave/records.h */

typedef struct dict_map {
  char *path;      /* /strings/<name> */
  int32_t **maps;  /* per input: old id -> merged id (NULL if absent) */
  int32_t *n_ids;  /* per input */
} dict_map;

typedef struct merge_ctx {
  cl_store *out;
  cl_reader **in;
  const char *const *names;
  int n;
  dict_map *dicts;
  int n_dicts;
  int64_t *recs; /* per input */
} merge_ctx;

static int is_std_attr(const char *n) {
  static const char *std[] = {"kind", "description", "field_names", "units", "descriptions", "dicts"};
  for (size_t i = 0; i < sizeof std / sizeof std[0]; i++)
    if (!strcmp(n, std[i])) return 1;
  return 0;
}

static herr_t find_write_error(unsigned n, const H5E_error2_t *e, void *ud) {
  (void)n;
  if (e->min_num == H5E_WRITEERROR || e->min_num == H5E_NOSPACE || e->min_num == H5E_CANTFLUSH) *(int *)ud = 1;
  return 0;
}

/* Whether the failure just reported on libhdf5's error stack was a write (the output's
 * fault) rather than a read (the input's). Call right after the failed call. */
static int write_failed_now(void) {
  int w = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_write_error, &w);
  return w;
}

/* A failed copy is the output's fault when libhdf5 failed to write (a runtime failure,
 * CL_ERR_HDF5), else the input's: it was probed and opened, but something it holds
 * cannot be read (a bad input, CL_ERR_INVALID). One error line either way. */
static cl_status copy_failed(int write_failed, hid_t sfile, const char *what, const char *spath, const char *dpath) {
  if (write_failed) {
    cl_log_error("merge: writing '%s' into the output failed (disk full or not writable?)", dpath);
    return CL_ERR_HDF5;
  }
  char name[1024];
  if (H5Fget_name(sfile, name, sizeof name) < 0) snprintf(name, sizeof name, "?");
  cl_log_error("merge: '%s': %s%s cannot be read (damaged input)", name, what, spath);
  return CL_ERR_INVALID;
}

typedef struct attr_copy {
  hid_t dst;
  int write_failed;
  char failed[128]; /* attribute that could not be copied */
  int read_failed;  /* the last copy_value could not read the input's value */
} attr_copy;

/* Attribute @p a read as memory type @p mt into @p buf, then created as @p name (file
 * type @p t, space @p sp) on @p dst and written. Which side failed decides whose fault it
 * is: reading the input's value (a damaged input, exit 2), or creating or writing the
 * output's (a runtime failure, exit 1). */
static herr_t copy_value(hid_t a, hid_t dst, const char *name, hid_t t, hid_t sp, hid_t mt, void *buf,
                         attr_copy *c) {
  c->read_failed = H5Aread(a, mt, buf) < 0;
  if (c->read_failed) {
    c->write_failed = write_failed_now();
    return -1;
  }
  herr_t ret = -1;
  hid_t b = H5Acreate2(dst, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (b >= 0 && H5Awrite(b, mt, buf) >= 0) ret = 0;
  if (ret < 0) c->write_failed = 1;
  if (b >= 0) H5Aclose(b);
  return ret;
}

/* Copy attributes (except the store's own) that @p dst lacks. Variable-length types
 * cannot be copied byte-wise across files and are skipped with a warning, except
 * variable-length strings, copied as strings. */
static herr_t copy_attr_cb(hid_t src, const char *name, const H5A_info_t *info, void *ud) {
  (void)info;
  attr_copy *c = ud;
  hid_t dst = c->dst;
  if (is_std_attr(name) || H5Aexists(dst, name) > 0) return 0;
  hid_t a = H5Aopen(src, name, H5P_DEFAULT);
  hid_t t = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID, sp = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
  herr_t ret = -1;
  if (t >= 0 && sp >= 0) {
    if (H5Tis_variable_str(t) > 0) {
      /* A variable-length string (what h5py writes for str): read as C strings, written
       * with the same file type. */
      hssize_t np = H5Sget_simple_extent_npoints(sp);
      hid_t mt = H5Tcopy(H5T_C_S1);
      char **v = np >= 0 && np <= (1 << 24) ? calloc((size_t)(np > 0 ? np : 1), sizeof *v) : NULL;
      if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(t)) < 0 || !v) {
        c->write_failed = np >= 0 && np <= (1 << 24); /* memory, not the input */
      } else {
        ret = copy_value(a, dst, name, t, sp, mt, v, c);
        if (!c->read_failed) (void)H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
      }
      free(v);
      if (mt >= 0) H5Tclose(mt);
    } else if (H5Tdetect_class(t, H5T_VLEN) > 0 || H5Tdetect_class(t, H5T_REFERENCE) > 0) {
      cl_log_warn("merge: attribute '%s' has a variable-length or reference type; not copied", name);
      ret = 0;
    } else {
      /* out of memory for a well-formed size is not the input's fault (copy_value) */
      hssize_t np = H5Sget_simple_extent_npoints(sp);
      size_t ts = H5Tget_size(t);
      void *buf = np >= 0 && ts > 0 && (uint64_t)(np > 0 ? np : 1) <= SIZE_MAX / ts
                      ? malloc((size_t)(np > 0 ? np : 1) * ts) : NULL;
      if (!buf) {
        c->write_failed = np >= 0 && ts > 0; /* out of memory for a well-formed size: not the input's fault */
      } else {
        ret = copy_value(a, dst, name, t, sp, t, buf, c);
      }
      free(buf);
    }
  }
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  if (ret < 0) snprintf(c->failed, sizeof c->failed, "%s", name);
  return ret;
}

cl_status cl__merge_copy_attrs(hid_t sfile, const cl__attr_index *idx, const char *spath, hid_t dfile,
                               const char *dpath) {
  const cl__attr_obj *ao = idx ? cl__attr_index_find(idx, spath) : NULL;
  hid_t so = idx && (!ao || ao->failed) ? H5I_INVALID_HID : H5Oopen(sfile, spath, H5P_DEFAULT);
  attr_copy c = {so >= 0 ? H5Oopen(dfile, dpath, H5P_DEFAULT) : H5I_INVALID_HID, 0, "", 0};
  cl_status st = CL_OK;
  hsize_t idx_n = 0;
  herr_t e = 0;
  if (so >= 0 && c.dst >= 0) {
    if (ao) /* by name: no attribute table is built in this process */
      for (int i = 0; i < ao->n && e >= 0; i++) e = copy_attr_cb(so, ao->names[i], NULL, &c);
    else
      e = H5Aiterate2(so, H5_INDEX_NAME, H5_ITER_INC, &idx_n, copy_attr_cb, &c);
  }
  if (so < 0) {
    st = copy_failed(0, sfile, ao && ao->failed ? "the attributes of " : "", spath, dpath);
  } else if (c.dst < 0) {
    st = copy_failed(1, sfile, "", spath, dpath);
  } else if (e < 0) {
    char what[160];
    snprintf(what, sizeof what, "%s%s%s", c.failed[0] ? "attribute '" : "the attributes of ", c.failed,
             c.failed[0] ? "' of " : "");
    st = copy_failed(c.write_failed, sfile, what, spath, dpath);
  }
  if (c.dst >= 0) H5Oclose(c.dst);
  if (so >= 0) H5Oclose(so);
  return st;
}

/* Links of a group, by name (H5Literate callback). */
typedef struct link_list {
  char **names;
  int n, cap, oom;
} link_list;
static herr_t list_link(hid_t g, const char *name, const H5L_info_t *info, void *ud) {
  (void)g;
  (void)info;
  link_list *l = ud;
  if (CL_VEC_RESERVE(l->names, l->cap, l->n + 1, 16) != CL_OK || !(l->names[l->n] = cl__strdup(name))) {
    l->oom = 1;
    return -1;
  }
  l->n++;
  return 0;
}

/* Object @p spath of @p sfile copied to @p dpath of @p dfile: a group recursively (its
 * links, at most 16 deep), a dataset with H5Ocopy but without its attributes, and every
 * attribute by name (cl__merge_copy_attrs). libhdf5 1.10's H5Ocopy of an object whose
 * attributes are stored densely and include a variable-length string calls a NULL
 * conversion function: merge died of SIGSEGV on a profile whose /provenance 'host' h5py
 * had rewritten. */
static cl_status copy_object(hid_t sfile, const cl__attr_index *idx, const char *spath, hid_t dfile,
                             const char *dpath, int depth) {
  H5O_info_t info;
  if (depth > 16 || H5Oget_info_by_name(sfile, spath, &info, H5P_DEFAULT) < 0)
    return copy_failed(0, sfile, "", spath, dpath);
  hid_t lcpl = cl__h5_lcpl();
  if (lcpl < 0) return copy_failed(1, sfile, "", spath, dpath);
  cl_status st = CL_OK;
  if (info.type == H5O_TYPE_GROUP) {
    if (!cl__h5_exists(dfile, dpath)) {
      hid_t g = H5Gcreate2(dfile, dpath, lcpl, H5P_DEFAULT, H5P_DEFAULT);
      if (g < 0) st = copy_failed(1, sfile, "", spath, dpath);
      if (g >= 0) H5Gclose(g);
    }
    if (st == CL_OK) st = cl__merge_copy_attrs(sfile, idx, spath, dfile, dpath);
    link_list l = {NULL, 0, 0, 0};
    hid_t sg = st == CL_OK ? H5Gopen2(sfile, spath, H5P_DEFAULT) : H5I_INVALID_HID;
    hsize_t at = 0;
    if (st == CL_OK && (sg < 0 || H5Literate(sg, H5_INDEX_NAME, H5_ITER_INC, &at, list_link, &l) < 0))
      st = l.oom ? CL_ERR_NOMEM : copy_failed(0, sfile, "the links of ", spath, dpath);
    if (sg >= 0) H5Gclose(sg);
    for (int i = 0; st == CL_OK && i < l.n; i++) {
      char sp[1100], dp[1200];
      const int a = snprintf(sp, sizeof sp, "%s/%s", !strcmp(spath, "/") ? "" : spath, l.names[i]);
      const int b = snprintf(dp, sizeof dp, "%s/%s", !strcmp(dpath, "/") ? "" : dpath, l.names[i]);
      if (a < 0 || (size_t)a >= sizeof sp || b < 0 || (size_t)b >= sizeof dp)
        st = copy_failed(0, sfile, "a path too long under ", spath, dpath);
      else
        st = copy_object(sfile, idx, sp, dfile, dp, depth + 1);
    }
    for (int i = 0; i < l.n; i++) free(l.names[i]);
    free(l.names);
  } else {
    hid_t ocpy = H5Pcreate(H5P_OBJECT_COPY);
    const unsigned flags = info.type == H5O_TYPE_DATASET ? H5O_COPY_WITHOUT_ATTR_FLAG : 0;
    herr_t e = ocpy >= 0 && H5Pset_copy_object(ocpy, flags) >= 0 ? H5Ocopy(sfile, spath, dfile, dpath, ocpy, lcpl) : -1;
    if (e < 0) st = copy_failed(ocpy < 0 || write_failed_now(), sfile, "", spath, dpath);
    if (ocpy >= 0) H5Pclose(ocpy);
    if (st == CL_OK && info.type == H5O_TYPE_DATASET) st = cl__merge_copy_attrs(sfile, idx, spath, dfile, dpath);
  }
  H5Pclose(lcpl);
  return st;
}

cl_status cl__merge_copy_object(hid_t sfile, const cl__attr_index *idx, const char *spath, hid_t dfile,
                                const char *dpath) {
  return copy_object(sfile, idx, spath, dfile, dpath, 0);
}

/* Fields of a table as stored (offsets from the file's compound type). */
static cl_status file_fields(hid_t file, const cl_table_info *ti, cl_field **out, size_t *rec_size) {
  hid_t d = H5Dopen2(file, ti->path, H5P_DEFAULT);
  hid_t t = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID;
  cl_status st = t >= 0 ? CL_OK : CL_ERR_HDF5;
  cl_field *f = calloc((size_t)ti->n_fields, sizeof *f);
  if (!f) st = CL_ERR_NOMEM;
  for (int i = 0; st == CL_OK && i < ti->n_fields; i++) {
    const cl_field_info *fi = &ti->fields[i];
    if (fi->type == CL_F_COUNT) {
      cl_log_error("merge: field '%s' of table '%s' has an unsupported type", fi->name, ti->path);
      st = CL_ERR_UNSUPPORTED;
      break;
    }
    int idx = H5Tget_member_index(t, fi->name);
    f[i] = (cl_field){fi->name, fi->type, H5Tget_member_offset(t, (unsigned)idx), fi->size,
                      fi->unit, fi->desc, NULL};
  }
  if (st == CL_OK) *rec_size = H5Tget_size(t);
  if (t >= 0) H5Tclose(t);
  if (d >= 0) H5Dclose(d);
  if (st != CL_OK) {
    free(f);
    f = NULL;
  }
  *out = f;
  return st;
}

static cl_status merge_dicts(merge_ctx *m) {
  for (int i = 0; i < m->n; i++) {
    for (int k = 0; k < cl_reader_n_tables(m->in[i]); k++) {
      const cl_table_info *ti = cl_reader_table_at(m->in[i], k);
      if (!ti->is_dict || strncmp(ti->path, "/strings/", 9)) continue;
      dict_map *dm = NULL;
      for (int j = 0; j < m->n_dicts && !dm; j++)
        if (!strcmp(m->dicts[j].path, ti->path)) dm = &m->dicts[j];
      if (!dm) {
        dict_map *nd = realloc(m->dicts, (size_t)(m->n_dicts + 1) * sizeof *nd);
        if (!nd) return CL_ERR_NOMEM;
        m->dicts = nd;
        dm = &m->dicts[m->n_dicts++];
        dm->path = cl__strdup(ti->path);
        dm->maps = calloc((size_t)m->n, sizeof *dm->maps);
        dm->n_ids = calloc((size_t)m->n, sizeof *dm->n_ids);
        if (!dm->path || !dm->maps || !dm->n_ids) return CL_ERR_NOMEM;
      }
      cl_dict *od;
      CL_TRY(cl_store_dict(m->out, ti->path + 9, &od));
      size_t n = (size_t)ti->n_records;
      cl__dict_rec *rows = malloc((n ? n : 1) * sizeof *rows);
      dm->maps[i] = malloc((n ? n : 1) * sizeof(int32_t));
      if (!rows || !dm->maps[i]) {
        free(rows);
        return CL_ERR_NOMEM;
      }
      dm->n_ids[i] = (int32_t)n;
      cl_table_desc rd = CL_REC_DICTS;
      rd.path = ti->path;
      cl_status st = cl_reader_read(m->in[i], ti->path, &rd, 0, n, rows);
      if (st == CL_ERR_HDF5) st = CL_ERR_INVALID; /* an input's table unreadable (logged): bad input */
      for (size_t r = 0; st == CL_OK && r < n; r++) {
        rows[r].name[CL_DICT_MAXLEN] = '\0';
        if (rows[r].id != (int32_t)r) {
          cl_log_error("merge: dictionary '%s' in '%s' is damaged (row %zu has id %d)", ti->path,
                       m->names[i], r, (int)rows[r].id);
          st = CL_ERR_INVALID;
        } else {
          st = cl_dict_id(od, rows[r].name, &dm->maps[i][r]);
        }
      }
      free(rows);
      CL_TRY(st);
    }
  }
  return CL_OK;
}

static const dict_map *find_dict(const merge_ctx *m, const char *path) {
  for (int j = 0; j < m->n_dicts; j++)
    if (!strcmp(m->dicts[j].path, path)) return &m->dicts[j];
  return NULL;
}

/* Merge every input's copy of table @p path (first seen in input @p first). */
static cl_status merge_table(merge_ctx *m, const char *path, int first) {
  const cl_table_info *ti0 = cl_reader_find(m->in[first], path);
  cl_field *inf = NULL, *outf = NULL;
  size_t in_size = 0;
  unsigned char *ib = NULL, *ob = NULL;
  cl_status st = file_fields(cl__reader_file(m->in[first]), ti0, &inf, &in_size);
  if (st != CL_OK) return st;
  int nf = ti0->n_fields;
  for (int i = 0; i < nf; i++)
    if (!strcmp(inf[i].name, "src")) {
      cl_log_error("merge: table '%s' in '%s' already has a 'src' column", path, m->names[first]);
      free(inf);
      return CL_ERR_UNSUPPORTED;
    }
  size_t src_off = (in_size + 3) & ~(size_t)3, out_size = (src_off + 4 + 7) & ~(size_t)7;
  outf = calloc((size_t)nf + 1, sizeof *outf);
  if (!outf) st = CL_ERR_NOMEM;
  hid_t t0 = H5I_INVALID_HID;
  if (st == CL_OK) {
    memcpy(outf, inf, (size_t)nf * sizeof *outf);
    for (int i = 0; i < nf; i++) {
      const char *dp = ti0->fields[i].dict;
      outf[i].dict = !strncmp(dp, "/strings/", 9) ? dp + 9 : NULL;
    }
    outf[nf] = (cl_field){"src", CL_F_INT32, src_off, 4, "", "index of the input file (see /merge/sources)", NULL};
    cl_table_desc od = {path, out_size, outf, nf + 1, ti0->desc, 0};
    cl_table *ot;
    st = cl_store_table(m->out, &od, &ot);
    if (st == CL_OK) st = cl__merge_copy_attrs(cl__reader_file(m->in[first]), cl__reader_attr_index(m->in[first]), path,
                                    m->out->file, path);
    ib = malloc((size_t)BLOCK * in_size);
    ob = calloc((size_t)BLOCK, out_size);
    if (st == CL_OK && (!ib || !ob)) st = CL_ERR_NOMEM;
    hid_t d0 = H5Dopen2(cl__reader_file(m->in[first]), path, H5P_DEFAULT);
    t0 = d0 >= 0 ? H5Dget_type(d0) : H5I_INVALID_HID;
    if (d0 >= 0) H5Dclose(d0);
    if (t0 < 0 && st == CL_OK) st = CL_ERR_HDF5;
    cl_table_desc id = {path, in_size, inf, nf, "", 0};
    for (int i = first; st == CL_OK && i < m->n; i++) {
      const cl_table_info *ti = cl_reader_find(m->in[i], path);
      if (!ti) continue;
      hid_t d = H5Dopen2(cl__reader_file(m->in[i]), path, H5P_DEFAULT);
      hid_t t = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID;
      int same = t >= 0 && H5Tequal(t, t0) > 0;
      if (t >= 0) H5Tclose(t);
      if (d >= 0) H5Dclose(d);
      if (!same) {
        cl_log_error("merge: table '%s' has different record types in '%s' and '%s'", path,
                     m->names[first], m->names[i]);
        st = CL_ERR_INVALID;
        break;
      }
      for (uint64_t s0 = 0; st == CL_OK && s0 < ti->n_records; s0 += BLOCK) {
        size_t cnt = ti->n_records - s0 < BLOCK ? (size_t)(ti->n_records - s0) : BLOCK;
        st = cl_reader_read(m->in[i], path, &id, s0, cnt, ib);
        if (st == CL_ERR_HDF5) st = CL_ERR_INVALID; /* an input's table unreadable (logged): bad input */
        for (size_t r = 0; st == CL_OK && r < cnt; r++) {
          unsigned char *o = ob + r * out_size;
          memcpy(o, ib + r * in_size, in_size);
          int32_t src = i;
          memcpy(o + src_off, &src, 4);
          for (int f = 0; f < nf && st == CL_OK; f++) {
            if (!outf[f].dict) continue;
            const dict_map *dm = find_dict(m, ti0->fields[f].dict);
            int32_t v;
            memcpy(&v, o + outf[f].offset, 4);
            if (v < 0) continue; /* negative ids mean "none" and are kept */
            if (!dm || !dm->maps[i] || v >= dm->n_ids[i]) {
              cl_log_error("merge: '%s' row %llu of '%s': id %d not in dictionary '%s'", path,
                           (unsigned long long)(s0 + r), m->names[i], (int)v, ti0->fields[f].dict);
              st = CL_ERR_INVALID;
              break;
            }
            memcpy(o + outf[f].offset, &dm->maps[i][v], 4);
          }
        }
        if (st == CL_OK) st = cl_table_append(ot, ob, cnt);
      }
      m->recs[i] += (int64_t)ti->n_records;
    }
  }
  if (t0 >= 0) H5Tclose(t0);
  free(ib);
  free(ob);
  free(outf);
  free(inf);
  return st;
}

typedef struct visit_ctx {
  merge_ctx *m;
  int i;
  cl_status st;
} visit_ctx;

/* Non-table datasets -> /sources/<i>/...; group attributes of input 0 kept in place. */
static herr_t other_cb(hid_t root, const char *name, const H5O_info_t *info, void *ud) {
  visit_ctx *v = ud;
  char path[1100];
  snprintf(path, sizeof path, "/%s", name);
  if (!strcmp(name, ".") || !strncmp(path, "/provenance", 11) || !strncmp(path, "/strings", 8)) return 0;
  (void)root;
  hid_t sf = cl__reader_file(v->m->in[v->i]), df = v->m->out->file;
  if (info->type == H5O_TYPE_DATASET && !cl_reader_find(v->m->in[v->i], path)) {
    char dst[1200];
    snprintf(dst, sizeof dst, "/sources/%d%s", v->i, path);
    v->st = cl__merge_copy_object(sf, cl__reader_attr_index(v->m->in[v->i]), path, df, dst);
  } else if (info->type == H5O_TYPE_GROUP && v->i == 0 && info->num_attrs > 0) {
    if (!cl__h5_exists(df, path)) {
      hid_t lcpl = cl__h5_lcpl();
      hid_t g = lcpl >= 0 ? H5Gcreate2(df, path, lcpl, H5P_DEFAULT, H5P_DEFAULT) : -1;
      if (g >= 0) H5Gclose(g);
      if (lcpl >= 0) H5Pclose(lcpl);
    }
    v->st = cl__merge_copy_attrs(sf, cl__reader_attr_index(v->m->in[v->i]), path, df, path);
  }
  return v->st == CL_OK ? 0 : -1;
}

static int64_t prov_int(hid_t f, const char *name, int64_t dflt) {
  int64_t v = dflt;
  if (!cl__h5_exists(f, "/provenance")) return v;
  hid_t g = H5Gopen2(f, "/provenance", H5P_DEFAULT);
  if (g < 0) return v;
  if (H5Aexists(g, name) > 0) {
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    if (a >= 0) {
      if (H5Aread(a, H5T_NATIVE_INT64, &v) < 0) v = dflt;
      H5Aclose(a);
    }
  }
  H5Gclose(g);
  return v;
}

static cl_status merge_all(merge_ctx *m, const cl_merge_opts *opts) {
  /* Provenance: input 0's at /provenance, everyone's under /provenance/sources/<i>. */
  hid_t of = m->out->file;
  int have0 = cl_reader_exists(m->in[0], "/provenance");
  if (have0)
    CL_TRY(cl__merge_copy_object(cl__reader_file(m->in[0]), cl__reader_attr_index(m->in[0]), "/provenance", of,
                                 "/provenance"));
  for (int i = 0; i < m->n; i++) {
    if (!cl_reader_exists(m->in[i], "/provenance")) continue;
    char dst[64];
    snprintf(dst, sizeof dst, "/provenance/sources/%d", i);
    CL_TRY(cl__merge_copy_object(cl__reader_file(m->in[i]), cl__reader_attr_index(m->in[i]), "/provenance", of, dst));
  }
  strcpy(m->out->prov_group, "/provenance/merge");
  CL_TRY(cl__prov_write_base(m->out));
  if (opts && opts->prov) CL_TRY(cl_store_write_provenance(m->out, opts->prov));
  CL_TRY(cl__h5_attr_strv(of, "merged_from", m->names, m->n));

  CL_TRY(merge_dicts(m));
  for (int i = 0; i < m->n; i++) {
    for (int k = 0; k < cl_reader_n_tables(m->in[i]); k++) {
      const cl_table_info *ti = cl_reader_table_at(m->in[i], k);
      if (ti->is_dict && !strncmp(ti->path, "/strings/", 9)) continue;
      if (!strncmp(ti->path, "/provenance/", 12)) continue;
      int seen = 0;
      for (int j = 0; j < i && !seen; j++) seen = cl_reader_find(m->in[j], ti->path) != NULL;
      if (!seen) CL_TRY(merge_table(m, ti->path, i));
    }
  }
  for (int i = 0; i < m->n; i++) {
    visit_ctx v = {m, i, CL_OK};
    if (H5Ovisit(cl__reader_file(m->in[i]), H5_INDEX_NAME, H5_ITER_INC, other_cb, &v) < 0)
      return v.st != CL_OK ? v.st : CL_ERR_HDF5;
  }
  const cl_table_desc sd = CL_REC_MERGE_SOURCES;
  cl_table *t;
  CL_TRY(cl_store_table(m->out, &sd, &t));
  for (int i = 0; i < m->n; i++) {
    src_rec r;
    memset(&r, 0, sizeof r);
    hid_t f = cl__reader_file(m->in[i]);
    r.src = i;
    r.rank = (int32_t)prov_int(f, "rank", -1);
    r.n_ranks = (int32_t)prov_int(f, "n_ranks", -1);
    r.records = m->recs[i];
    snprintf(r.file, sizeof r.file, "%s", m->names[i]);
    CL_TRY(cl_table_append(t, &r, 1));
  }
  return CL_OK;
}

cl_status cl_store_merge(const char *out, const char *const *inputs, int n_inputs,
                         const cl_merge_opts *opts) {
  if (!out || !inputs || n_inputs < 1) {
    cl_log_error("merge: need an output and at least one input");
    return CL_ERR_INVALID;
  }
  struct stat so_, si_;
  for (int i = 0; i < n_inputs; i++) {
    if (stat(out, &so_) == 0 && stat(inputs[i], &si_) == 0 && so_.st_dev == si_.st_dev &&
        so_.st_ino == si_.st_ino) {
      cl_log_error("merge: output '%s' is also an input", out);
      return CL_ERR_INVALID;
    }
  }
  merge_ctx m;
  memset(&m, 0, sizeof m);
  m.n = n_inputs;
  m.names = inputs;
  m.in = calloc((size_t)n_inputs, sizeof *m.in);
  m.recs = calloc((size_t)n_inputs, sizeof *m.recs);
  cl_status st = m.in && m.recs ? CL_OK : CL_ERR_NOMEM;
  for (int i = 0; st == CL_OK && i < n_inputs; i++) {
    st = cl_reader_open(inputs[i], &m.in[i]);
    if (st == CL_ERR_HDF5) st = CL_ERR_INVALID; /* a damaged input (logged): bad input, exit 2 */
    if (st == CL_OK && cl_reader_exists(m.in[i], "/merge/sources")) {
      cl_log_error("merge: '%s' is already a merged file", inputs[i]);
      st = CL_ERR_UNSUPPORTED;
    }
  }
  if (st == CL_OK) {
    cl_store_opts so = {0};
    so.force = opts ? opts->force : 0;
    so.no_provenance = 1;
    so.flush_seconds = -1;
    so.atomic = 1;
    so.kind = "merge";
    st = cl_store_create(out, &so, &m.out);
  }
  if (st == CL_OK) st = merge_all(&m, opts);
  cl_status cst = st == CL_OK ? cl_store_close(m.out) : cl_store_discard(m.out);
  if (st == CL_OK) st = cst;
  for (int i = 0; m.in && i < n_inputs; i++) cl_reader_close(m.in[i]);
  for (int j = 0; j < m.n_dicts; j++) {
    for (int i = 0; i < n_inputs; i++) free(m.dicts[j].maps ? m.dicts[j].maps[i] : NULL);
    free(m.dicts[j].maps);
    free(m.dicts[j].n_ids);
    free(m.dicts[j].path);
  }
  free(m.dicts);
  free(m.in);
  free(m.recs);
  if (st != CL_OK && m.out) remove(out);
  return st;
}
