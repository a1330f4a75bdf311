/* The record store: files, tables, buffered appends and flushes.
 *
 * Layout: every table is a 1-D chunked dataset with unlimited max dimension and a
 * compound type equal to the C struct (so H5Dwrite copies bytes, no conversion).
 * The chunk cache is disabled (0 bytes): batches are written straight to the chunks'
 * file locations, so a later write into a partially filled chunk only touches new
 * bytes and never rewrites records that an earlier flush made durable.
 *
 * Crash safety: files are created with the v110 format and opened in SWMR-write mode,
 * whose flush dependencies keep the on-disk file consistent at every instant. A flush
 * (H5Dwrite of all buffers + H5Fflush) therefore bounds what a SIGKILL can lose. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"
#include "cleave/vec.h"
#include "cleave/outfile.h"

enum {
  DEFAULT_FLUSH_RECORDS = 65536,
  MAX_BUFFER_BYTES = 8 << 20,   /* per-table buffer cap */
  DEFAULT_CHUNK_BYTES = 256 << 10,
};

cl_status cl_store_rank_path(const char *path, int rank, int n_ranks, char *buf, size_t bufsize) {
  int n;
  if (!path || !buf) return CL_ERR_INVALID;
  size_t len = strlen(path);
  if (n_ranks <= 1) {
    n = snprintf(buf, bufsize, "%s", path);
  } else if (len > 3 && !strcmp(path + len - 3, ".h5")) {
    n = snprintf(buf, bufsize, "%.*s.rank%d.h5", (int)(len - 3), path, rank);
  } else {
    n = snprintf(buf, bufsize, "%s.rank%d.h5", path, rank);
  }
  if (n < 0 || (size_t)n >= bufsize) {
    cl_log_error("store: path too long: '%s'", path);
    return CL_ERR_INVALID;
  }
  return CL_OK;
}

static hid_t make_fapl(int clear_flags) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return H5I_INVALID_HID;
  int ok = H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0;
  /* Use file locks, but do not fail on file systems that lack them. */
  ok = ok && H5Pset_file_locking(fapl, 1, 1) >= 0;
  if (ok && clear_flags) {
    /* The property h5clear uses to clear the superblock's "open for write" flags
     * left behind by a killed SWMR writer. */
    hbool_t yes = 1;
    ok = H5Pexist(fapl, "clear_status_flags") > 0 && H5Pset(fapl, "clear_status_flags", &yes) >= 0;
  }
  if (!ok) {
    H5Pclose(fapl);
    return H5I_INVALID_HID;
  }
  return fapl;
}

/* ---- the writer lock: an fcntl write lock on PATH.lock, held until close ----
 * HDF5's own file locking does not cover the gap between an existence check and the
 * create, nor a writer that truncates (--force) a file another process still writes. */
static cl_status lock_take(cl_store *s) {
  size_t n = strlen(s->path) + 6;
  if (!(s->lock_path = malloc(n))) return CL_ERR_NOMEM;
  snprintf(s->lock_path, n, "%s.lock", s->path);
  for (int attempt = 0; attempt < 8; attempt++) {
    int fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      cl_log_error("cannot create the lock file '%s' of output '%s': %s", s->lock_path, s->path, strerror(errno));
      return CL_ERR_IO;
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
      int e = errno;
      if (e == ENOLCK || e == EINVAL || e == ENOSYS) {
        cl_log_warn("'%s': the file system does not support locks; a second writer would not be detected",
                    s->lock_path);
        s->lock_fd = fd;
        return CL_OK;
      }
      struct flock q;
      memset(&q, 0, sizeof q);
      q.l_type = F_WRLCK;
      q.l_whence = SEEK_SET;
      int pid = fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK ? (int)q.l_pid : 0;
      close(fd);
      if (pid > 0)
        cl_log_error("output '%s' is being written by another cleave process (pid %d holds '%s'); wait for it "
                     "to finish, or choose another output", s->path, pid, s->lock_path);
      else
        cl_log_error("output '%s' is being written by another cleave process (it holds '%s')", s->path,
                     s->lock_path);
      return CL_ERR_EXISTS;
    }
    /* The holder we raced with may have unlinked the lock file before we locked it:
     * only a lock on the file currently at lock_path counts. */
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat(s->lock_path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
      char pid[32];
      int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
      if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)len) != len) { /* informative only */
      }
      s->lock_fd = fd;
      return CL_OK;
    }
    close(fd);
  }
  cl_log_error("cannot lock '%s': it keeps being replaced", s->lock_path);
  return CL_ERR_IO;
}

static void lock_release(cl_store *s) {
  if (s->lock_fd >= 0) {
    unlink(s->lock_path); /* while still holding the lock (see lock_take) */
    close(s->lock_fd);
    s->lock_fd = -1;
  }
  free(s->lock_path);
  s->lock_path = NULL;
}

static cl_status store_alloc(const char *path, const cl_store_opts *opts, cl_store **out) {
  cl_store *s = calloc(1, sizeof *s);
  if (!s) return CL_ERR_NOMEM;
  s->lock_fd = -1;
  if (opts) s->opts = *opts;
  if (s->opts.flush_records == 0) s->opts.flush_records = DEFAULT_FLUSH_RECORDS;
  if (s->opts.flush_seconds == 0) s->opts.flush_seconds = 1.0;
  s->file = H5I_INVALID_HID;
  char buf[4096];
  cl_status st = cl_store_rank_path(path, s->opts.rank, s->opts.n_ranks, buf, sizeof buf);
  if (st == CL_OK && !(s->path = cl__strdup(buf))) st = CL_ERR_NOMEM;
  if (st != CL_OK) {
    free(s);
    return st;
  }
  size_t n = strlen(s->path) + 6;
  if (!(s->wpath = malloc(n))) {
    free(s->path);
    free(s);
    return CL_ERR_NOMEM;
  }
  snprintf(s->wpath, n, s->opts.atomic ? "%s.part" : "%s", s->path);
  strcpy(s->prov_group, "/provenance");
  s->last_flush = cl__store_now();
  *out = s;
  return CL_OK;
}

cl_status cl_store_create(const char *path, const cl_store_opts *opts, cl_store **out) {
  *out = NULL;
  if (!path || !*path) {
    cl_log_error("store: empty output path");
    return CL_ERR_INVALID;
  }
  cl_store *s;
  CL_TRY(store_alloc(path, opts, &s));
  cl_status st = CL_OK;
  struct stat sb;
  int existed = stat(s->path, &sb) == 0;
  if (existed && (st = cl_output_target_ok(NULL, s->path)) != CL_OK) goto fail;
  if (existed && !s->opts.force) {
    cl_log_error("output file '%s' already exists (use --force to overwrite)", s->path);
    st = CL_ERR_EXISTS;
    goto fail;
  }
  if ((st = lock_take(s)) != CL_OK) goto fail;
  existed = stat(s->wpath, &sb) == 0;
  /* Probe writability ourselves for a clear one-line error (HDF5's would be a stack). */
  int fd = open(s->wpath, O_WRONLY | O_CREAT, 0644);
  if (fd < 0) {
    cl_log_error("cannot create output file '%s': %s", s->wpath, strerror(errno));
    st = CL_ERR_IO;
    goto fail;
  }
  close(fd);
  hid_t fapl = make_fapl(0);
  if (fapl >= 0) {
    H5E_BEGIN_TRY {
      s->file = H5Fcreate(s->wpath, H5F_ACC_TRUNC | H5F_ACC_SWMR_WRITE, H5P_DEFAULT, fapl);
    }
    H5E_END_TRY;
    H5Pclose(fapl);
  }
  if (s->file < 0) {
    cl_log_error("cannot create HDF5 file '%s' (is it open in another program?)", s->wpath);
    if (!existed) unlink(s->wpath);
    st = CL_ERR_HDF5;
    goto fail;
  }
  st = cl_store_attr_i64(s, "/", "complete", 0);
  if (st == CL_OK) st = cl_store_attr_i64(s, "/", "appendable", !s->opts.atomic);
  if (st == CL_OK && s->opts.kind) st = cl_store_attr_str(s, "/", "output_kind", s->opts.kind);
  if (st == CL_OK && !s->opts.no_provenance) st = cl__prov_write_base(s);
  if (st != CL_OK) goto fail;
  *out = s;
  return CL_OK;
fail:
  cl_store_discard(s);
  return st;
}

/* Root attribute @p name of an open file as text (malloc'd), or NULL if absent. */
static char *root_attr(hid_t file, const char *name) {
  char *v = NULL;
  H5E_BEGIN_TRY {
    if (H5Aexists(file, name) > 0) {
      hid_t a = H5Aopen(file, name, H5P_DEFAULT);
      if (a >= 0) {
        v = cl__h5_attr_text(a);
        H5Aclose(a);
      }
    }
  }
  H5E_END_TRY;
  return v;
}

/* Whether an existing file may be appended to (cl_store_open_append). */
static cl_status check_appendable(cl_store *s) {
  char *app = root_attr(s->file, "appendable"), *kind = root_attr(s->file, "output_kind");
  cl_status st = CL_OK;
  if (!cl__h5_exists(s->file, "/provenance")) {
    cl_log_error("'%s' is not a cleave output (no /provenance); refusing to append to it", s->path);
    st = CL_ERR_INVALID;
  } else if (app && !strcmp(app, "0")) {
    cl_log_error("'%s' is a finished %s output, not one that can be resumed; refusing to append to it", s->path,
                 kind && *kind ? kind : "cleave");
    st = CL_ERR_INVALID;
  } else if (s->opts.kind && kind && strcmp(kind, s->opts.kind)) {
    cl_log_error("'%s' is a %s output, not a %s output; refusing to append to it", s->path, kind, s->opts.kind);
    st = CL_ERR_INVALID;
  }
  free(app);
  free(kind);
  return st;
}

cl_status cl_store_open_append(const char *path, const cl_store_opts *opts, cl_store **out) {
  *out = NULL;
  if (!path || !*path) return CL_ERR_INVALID;
  cl_store_opts o = opts ? *opts : (cl_store_opts){0};
  o.atomic = 0; /* appending happens in place */
  cl_store *s;
  CL_TRY(store_alloc(path, &o, &s));
  cl_status st = CL_OK;
  struct stat sb;
  if (stat(s->path, &sb) != 0) {
    int e = errno;
    cl_log_error("cannot append to '%s': %s", s->path, strerror(e));
    st = e == ENOENT ? CL_ERR_NOTFOUND : CL_ERR_IO;
    goto fail;
  }
  if (access(s->path, W_OK) != 0) {
    cl_log_error("cannot append to '%s': %s", s->path, strerror(errno));
    st = CL_ERR_IO;
    goto fail;
  }
  if ((st = lock_take(s)) != CL_OK) goto fail;
  /* probe.c: a file that crashes libhdf5 is refused before this process opens it. */
  if ((st = cl_reader_probe(s->path, NULL)) != CL_OK) goto fail;
  for (int attempt = 0; attempt < 2 && s->file < 0; attempt++) {
    hid_t fapl = make_fapl(attempt);
    if (fapl < 0) continue;
    H5E_BEGIN_TRY { s->file = H5Fopen(s->path, H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, fapl); }
    H5E_END_TRY;
    H5Pclose(fapl);
    if (s->file >= 0 && attempt) cl_log_warn("'%s' was not closed cleanly (writer killed?); recovered the flushed records", s->path);
  }
  if (s->file < 0) {
    cl_log_error("cannot open '%s' for appending: not a cleave v110-format HDF5 file, or damaged (try 'h5clear -s')",
                 s->path);
    st = CL_ERR_HDF5;
    goto fail;
  }
  st = check_appendable(s);
  if (st == CL_OK) st = cl_store_attr_i64(s, "/", "complete", 0);
  if (st != CL_OK) goto fail;
  if (cl__h5_exists(s->file, "/provenance")) {
    for (int k = 1;; k++) {
      snprintf(s->prov_group, sizeof s->prov_group, "/provenance/resume_%d", k);
      if (!cl__h5_exists(s->file, s->prov_group)) break;
    }
  }
  if (!s->opts.no_provenance && (st = cl__prov_write_base(s)) != CL_OK) goto fail;
  *out = s;
  return CL_OK;
fail:
  cl_store_discard(s);
  return st;
}

const char *cl_store_path(const cl_store *s) { return s ? s->path : NULL; }

/* ---- tables ---- */

static int valid_path(const char *p) {
  if (!p || p[0] != '/' || !p[1] || strlen(p) > 512) return 0;
  if (p[strlen(p) - 1] == '/' || strstr(p, "//")) return 0;
  if (!strncmp(p, "/provenance", 11) && (p[11] == '/' || !p[11])) return 0;
  return 1;
}

static size_t type_size(cl_ftype t) {
  static const size_t sz[] = {1, 1, 4, 4, 8, 8, 4, 8, 0};
  return (unsigned)t < CL_F_COUNT ? sz[t] : 0;
}

static cl_status validate_desc(const cl_table_desc *d) {
  const char *p = d && d->path ? d->path : "(null)";
  if (!d || !valid_path(d->path)) {
    cl_log_error("store: invalid table path '%s' (absolute, no trailing '/', not under /provenance)", p);
    return CL_ERR_INVALID;
  }
  if (d->record_size == 0 || d->n_fields <= 0 || !d->fields) {
    cl_log_error("store: table '%s': record_size %zu and n_fields %d must be positive", p,
                 d->record_size, d->n_fields);
    return CL_ERR_INVALID;
  }
  for (int i = 0; i < d->n_fields; i++) {
    const cl_field *f = &d->fields[i];
    if (!f->name || !*f->name || strchr(f->name, '/') || strlen(f->name) > 63) {
      cl_log_error("store: table '%s': field %d has an invalid name", p, i);
      return CL_ERR_INVALID;
    }
    if ((unsigned)f->type >= CL_F_COUNT) {
      cl_log_error("store: table '%s': field '%s' has invalid type %d", p, f->name, (int)f->type);
      return CL_ERR_INVALID;
    }
    size_t want = type_size(f->type);
    if ((want && f->size != want) || f->size == 0) {
      cl_log_error("store: table '%s': field '%s' is %zu bytes, but %s needs %zu", p, f->name,
                   f->size, cl_ftype_name(f->type), want);
      return CL_ERR_INVALID;
    }
    if (f->offset + f->size > d->record_size) {
      cl_log_error("store: table '%s': field '%s' (offset %zu, %zu bytes) overruns the %zu-byte record",
                   p, f->name, f->offset, f->size, d->record_size);
      return CL_ERR_INVALID;
    }
    if (f->dict && *f->dict && f->type != CL_F_INT32) {
      cl_log_error("store: table '%s': dictionary field '%s' must be int32", p, f->name);
      return CL_ERR_INVALID;
    }
    for (int j = 0; j < i; j++) {
      const cl_field *g = &d->fields[j];
      if (!strcmp(f->name, g->name)) {
        cl_log_error("store: table '%s': duplicate field name '%s'", p, f->name);
        return CL_ERR_INVALID;
      }
      if (f->offset < g->offset + g->size && g->offset < f->offset + f->size) {
        cl_log_error("store: table '%s': fields '%s' and '%s' overlap", p, g->name, f->name);
        return CL_ERR_INVALID;
      }
    }
  }
  return CL_OK;
}

static int same_layout(const cl_table *t, const cl_table_desc *d) {
  if (t->rec_size != d->record_size || t->n_fields != d->n_fields) return 0;
  for (int i = 0; i < d->n_fields; i++) {
    const cl_field *a = &t->fields[i], *b = &d->fields[i];
    if (strcmp(a->name, b->name) || a->type != b->type || a->offset != b->offset || a->size != b->size)
      return 0;
  }
  return 1;
}

static void table_free(cl_table *t) {
  if (!t) return;
  if (t->dset >= 0) H5Dclose(t->dset);
  if (t->type >= 0) H5Tclose(t->type);
  for (int i = 0; t->fields && i < t->n_fields; i++) {
    free((char *)t->fields[i].name);
    free((char *)t->fields[i].unit);
    free((char *)t->fields[i].desc);
    free((char *)t->fields[i].dict);
  }
  free(t->fields);
  free(t->buf);
  free(t->path);
  cl__crc_stream_free(&t->crc);
  free(t);
}

static cl_status write_table_attrs(cl_table *t, const cl_table_desc *d, int is_dict) {
  int n = t->n_fields;
  const char **names = calloc((size_t)n, sizeof *names), **units = calloc((size_t)n, sizeof *units);
  const char **descs = calloc((size_t)n, sizeof *descs), **dicts = calloc((size_t)n, sizeof *dicts);
  cl_status st = CL_ERR_NOMEM;
  char dpath[256];
  char **dict_paths = calloc((size_t)n, sizeof *dict_paths);
  if (names && units && descs && dicts && dict_paths) {
    st = CL_OK;
    for (int i = 0; i < n; i++) {
      names[i] = t->fields[i].name;
      units[i] = t->fields[i].unit;
      descs[i] = t->fields[i].desc;
      dicts[i] = "";
      if (*t->fields[i].dict) {
        snprintf(dpath, sizeof dpath, "/strings/%s", t->fields[i].dict);
        if (!(dict_paths[i] = cl__strdup(dpath))) st = CL_ERR_NOMEM;
        dicts[i] = dict_paths[i];
      }
    }
    if (st == CL_OK) st = cl__h5_attr_str(t->dset, "kind", is_dict ? "dict" : "table");
    if (st == CL_OK) st = cl__h5_attr_str(t->dset, "description", d->desc);
    if (st == CL_OK) st = cl__h5_attr_strv(t->dset, "field_names", names, n);
    if (st == CL_OK) st = cl__h5_attr_strv(t->dset, "units", units, n);
    if (st == CL_OK) st = cl__h5_attr_strv(t->dset, "descriptions", descs, n);
    if (st == CL_OK) st = cl__h5_attr_strv(t->dset, "dicts", dicts, n);
  }
  for (int i = 0; dict_paths && i < n; i++) free(dict_paths[i]);
  free(dict_paths);
  free(names);
  free(units);
  free(descs);
  free(dicts);
  return st;
}

/* Start the table's checksum stream; an existing table (append/resume) is read back
 * once so the blocks it already holds are covered too. */
static cl_status table_crc_start(cl_table *t) {
  hid_t pl = H5Dget_create_plist(t->dset);
  hsize_t chunk = 0;
  int ok = pl >= 0 && H5Pget_chunk(pl, 1, &chunk) == 1 && chunk > 0;
  if (pl >= 0) H5Pclose(pl);
  if (!ok) return CL_ERR_HDF5;
  cl__crc_stream_init(&t->crc, chunk);
  CL_TRY(cl__crc_layout_init(t->type, &t->crc.lay));
  if (t->n_disk == 0) return CL_OK;
  unsigned char *b = malloc((size_t)chunk * t->rec_size);
  if (!b) return CL_ERR_NOMEM;
  cl_status st = CL_OK;
  hid_t fs = H5Dget_space(t->dset);
  for (hsize_t s0 = 0; st == CL_OK && s0 < t->n_disk; s0 += chunk) {
    hsize_t cnt = t->n_disk - s0 < chunk ? t->n_disk - s0 : chunk;
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &s0, NULL, &cnt, NULL) < 0 ||
        H5Dread(t->dset, t->type, ms, fs, H5P_DEFAULT, b) < 0) {
      cl_log_error("store: reading back table '%s' of '%s' failed", t->path, t->store->path);
      st = CL_ERR_HDF5;
    }
    if (ms >= 0) H5Sclose(ms);
    if (st == CL_OK) st = cl__crc_stream_feed(&t->crc, b, (size_t)cnt);
  }
  if (fs >= 0) H5Sclose(fs);
  free(b);
  return st;
}

cl_status cl__store_table(cl_store *s, const cl_table_desc *d, int is_dict, cl_table **out) {
  *out = NULL;
  CL_TRY(validate_desc(d));
  for (int i = 0; i < s->n_tables; i++) {
    if (strcmp(s->tables[i]->path, d->path)) continue;
    if (!same_layout(s->tables[i], d)) {
      cl_log_error("store: table '%s' requested twice with different record layouts", d->path);
      return CL_ERR_INVALID;
    }
    *out = s->tables[i];
    return CL_OK;
  }
  CL_TRY(CL_VEC_RESERVE(s->tables, s->cap_tables, s->n_tables + 1, 8));
  cl_table *t = calloc(1, sizeof *t);
  if (!t) return CL_ERR_NOMEM;
  t->store = s;
  t->dset = t->type = H5I_INVALID_HID;
  t->rec_size = d->record_size;
  t->n_fields = d->n_fields;
  t->path = cl__strdup(d->path);
  t->fields = calloc((size_t)d->n_fields, sizeof *t->fields);
  cl_status st = (t->path && t->fields) ? CL_OK : CL_ERR_NOMEM;
  for (int i = 0; st == CL_OK && i < d->n_fields; i++) {
    cl_field *f = &t->fields[i];
    *f = d->fields[i];
    f->name = cl__strdup(d->fields[i].name);
    f->unit = cl__strdup(d->fields[i].unit);
    f->desc = cl__strdup(d->fields[i].desc);
    f->dict = cl__strdup(d->fields[i].dict);
    if (!f->name || !f->unit || !f->desc || !f->dict) st = CL_ERR_NOMEM;
  }
  size_t cap = s->opts.flush_records;
  if (cap > MAX_BUFFER_BYTES / t->rec_size) cap = MAX_BUFFER_BYTES / t->rec_size;
  if (cap == 0) cap = 1;
  t->cap = cap;
  if (st == CL_OK && !(t->buf = malloc(cap * t->rec_size))) st = CL_ERR_NOMEM;
  if (st == CL_OK && (t->type = cl__h5_compound(t->fields, t->n_fields, t->rec_size)) < 0)
    st = CL_ERR_HDF5;
  hid_t dapl = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, sp = H5I_INVALID_HID, lcpl = H5I_INVALID_HID;
  if (st == CL_OK) {
    dapl = H5Pcreate(H5P_DATASET_ACCESS);
    if (dapl < 0 || H5Pset_chunk_cache(dapl, H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0, 1.0) < 0) st = CL_ERR_HDF5;
  }
  if (st == CL_OK && cl__h5_exists(s->file, d->path)) {
    H5E_BEGIN_TRY { t->dset = H5Dopen2(s->file, d->path, dapl); }
    H5E_END_TRY;
    hid_t ft = t->dset >= 0 ? H5Dget_type(t->dset) : H5I_INVALID_HID;
    hid_t fs = t->dset >= 0 ? H5Dget_space(t->dset) : H5I_INVALID_HID;
    hsize_t dims = 0;
    if (t->dset < 0 || ft < 0 || fs < 0 || H5Sget_simple_extent_ndims(fs) != 1 ||
        H5Sget_simple_extent_dims(fs, &dims, NULL) < 0) {
      cl_log_error("store: '%s' in '%s' exists but is not a table", d->path, s->path);
      st = CL_ERR_INVALID;
    } else if (H5Tequal(ft, t->type) <= 0) {
      cl_log_error("store: table '%s' in '%s' has a different record layout than requested "
                   "(%d fields, %zu bytes)", d->path, s->path, d->n_fields, d->record_size);
      st = CL_ERR_INVALID;
    }
    t->n_disk = dims;
    if (fs >= 0) H5Sclose(fs);
    if (ft >= 0) H5Tclose(ft);
  } else if (st == CL_OK) {
    hsize_t zero = 0, unlim = H5S_UNLIMITED;
    hsize_t chunk = d->chunk_records ? d->chunk_records : DEFAULT_CHUNK_BYTES / t->rec_size;
    if (chunk == 0) chunk = 1;
    sp = H5Screate_simple(1, &zero, &unlim);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    lcpl = cl__h5_lcpl();
    if (sp < 0 || dcpl < 0 || lcpl < 0 || H5Pset_chunk(dcpl, 1, &chunk) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 ||
        /* No filter (no Fletcher32): a filtered chunk is rewritten whole on every append
         * into it, and a kill during that rewrite tears records already flushed. The
         * store checksums blocks itself (checksum.c). */
        /* Dense attribute storage: attributes added later never grow the object
         * header, which SWMR-write mode cannot do for an open dataset. */
        H5Pset_attr_phase_change(dcpl, 0, 0) < 0) {
      st = CL_ERR_HDF5;
    } else {
      t->dset = H5Dcreate2(s->file, d->path, t->type, sp, lcpl, dcpl, dapl);
      if (t->dset < 0) {
        cl_log_error("store: cannot create table '%s' in '%s'", d->path, s->path);
        st = CL_ERR_HDF5;
      } else {
        st = write_table_attrs(t, d, is_dict);
      }
    }
  }
  if (lcpl >= 0) H5Pclose(lcpl);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (sp >= 0) H5Sclose(sp);
  if (dapl >= 0) H5Pclose(dapl);
  if (st != CL_OK) {
    table_free(t);
    return st;
  }
  if (st == CL_OK) st = table_crc_start(t);
  if (st != CL_OK) {
    table_free(t);
    return st;
  }
  t->st.records = t->st.flushed = t->n_disk;
  s->tables[s->n_tables++] = t;
  *out = t;
  return CL_OK;
}

cl_status cl_store_table(cl_store *s, const cl_table_desc *desc, cl_table **out) {
  if (!s || !out) return CL_ERR_INVALID;
  return cl__store_table(s, desc, 0, out);
}

/* Write n records from p at the end of the dataset (one H5Dwrite). */
static cl_status table_write_recs(cl_table *t, const void *p, size_t n) {
  if (n == 0) return CL_OK;
  hsize_t start = t->n_disk, count = n, newdim = t->n_disk + n;
  cl_status st = CL_ERR_HDF5;
  hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
  if (H5Dset_extent(t->dset, &newdim) < 0) goto done;
  fs = H5Dget_space(t->dset);
  ms = H5Screate_simple(1, &count, NULL);
  if (fs < 0 || ms < 0) goto done;
  if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0) goto done;
  if (H5Dwrite(t->dset, t->type, ms, fs, H5P_DEFAULT, p) < 0) goto done;
  t->n_disk = newdim;
  t->st.writes++;
  if (cl__crc_stream_feed(&t->crc, p, n) != CL_OK) {
    st = CL_ERR_NOMEM;
    goto done;
  }
  st = CL_OK;
done:
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  if (st != CL_OK)
    cl_log_error("store: writing %zu records to '%s' in '%s' failed (disk full?)", n, t->path,
                 t->store->path);
  return st;
}

static cl_status table_write_buffer(cl_table *t) {
  CL_TRY(table_write_recs(t, t->buf, t->nbuf));
  t->nbuf = 0;
  return CL_OK;
}

/* Make everything written so far durable against a process kill. */
static cl_status file_flush(cl_store *s) {
  if (H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0) {
    cl_log_error("store: H5Fflush of '%s' failed", s->path);
    return CL_ERR_HDF5;
  }
  if (s->opts.fsync) {
    void *h = NULL;
    if (H5Fget_vfd_handle(s->file, H5P_DEFAULT, &h) < 0 || !h || fsync(*(int *)h) != 0) {
      cl_log_error("store: fsync of '%s' failed", s->path);
      return CL_ERR_IO;
    }
  }
  for (int i = 0; i < s->n_tables; i++) {
    cl_table *t = s->tables[i];
    if (t->st.flushed != t->n_disk) {
      t->st.flushed = t->n_disk;
      t->st.flushes++;
    }
  }
  s->last_flush = cl__store_now();
  s->dirty = 0;
  return CL_OK;
}

cl_status cl_store_flush(cl_store *s) {
  if (!s) return CL_ERR_INVALID;
  for (int i = 0; i < s->n_tables; i++) CL_TRY(table_write_buffer(s->tables[i]));
  return file_flush(s);
}

cl_status cl_table_append(cl_table *t, const void *recs, size_t n) {
  if (!t || (n && !recs)) return CL_ERR_INVALID;
  cl_store *s = t->store;
  const unsigned char *p = recs;
  while (n > 0) {
    if (t->nbuf == 0 && n >= t->cap) {
      /* Large batch: write straight from the caller's memory. */
      CL_TRY(table_write_recs(t, p, n));
      t->st.records += n;
      CL_TRY(file_flush(s));
      return CL_OK;
    }
    size_t k = t->cap - t->nbuf;
    if (k > n) k = n;
    memcpy(t->buf + t->nbuf * t->rec_size, p, k * t->rec_size);
    t->nbuf += k;
    t->st.records += k;
    p += k * t->rec_size;
    n -= k;
    s->dirty = 1;
    if (t->nbuf == t->cap) {
      CL_TRY(table_write_buffer(t));
      CL_TRY(file_flush(s));
    }
  }
  if (s->dirty && s->opts.flush_seconds > 0 && cl__store_now() - s->last_flush >= s->opts.flush_seconds)
    return cl_store_flush(s);
  return CL_OK;
}

uint64_t cl_table_count(const cl_table *t) { return t ? t->n_disk + t->nbuf : 0; }

void cl_table_get_stats(const cl_table *t, cl_table_stats *st) {
  if (t && st) *st = t->st;
}

cl_status cl_table_read(cl_table *t, uint64_t start, size_t n, void *out) {
  if (!t || (n && !out)) return CL_ERR_INVALID;
  if (start > cl_table_count(t) || n > cl_table_count(t) - start) {
    cl_log_error("store: read of records [%llu, %llu) from '%s' beyond its %llu records",
                 (unsigned long long)start, (unsigned long long)(start + n), t->path,
                 (unsigned long long)cl_table_count(t));
    return CL_ERR_INVALID;
  }
  unsigned char *o = out;
  if (start < t->n_disk && n > 0) {
    hsize_t s0 = start, cnt = t->n_disk - start < n ? t->n_disk - start : n;
    hid_t fs = H5Dget_space(t->dset), ms = H5Screate_simple(1, &cnt, NULL);
    cl_status st = CL_ERR_HDF5;
    if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &s0, NULL, &cnt, NULL) >= 0 &&
        H5Dread(t->dset, t->type, ms, fs, H5P_DEFAULT, o) >= 0)
      st = CL_OK;
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (st != CL_OK) {
      cl_log_error("store: reading '%s' from '%s' failed", t->path, t->store->path);
      return st;
    }
    o += cnt * t->rec_size;
    start += cnt;
    n -= cnt;
  }
  if (n > 0) memcpy(o, t->buf + (start - t->n_disk) * t->rec_size, n * t->rec_size);
  return CL_OK;
}

void cl__dict_free(cl_dict *d);

/* Close; ok: mark complete and move an atomic output into place, else leave it marked
 * incomplete (or remove the temporary file). */
static cl_status store_finish(cl_store *s, int ok) {
  if (!s) return CL_OK;
  cl_status st = CL_OK;
  if (s->file >= 0) {
    /* Buffers out, checksums of every table, then the complete marker. */
    st = cl_store_flush(s);
    for (int i = 0; st == CL_OK && i < s->n_tables; i++)
      st = cl__crc_stream_store(&s->tables[i]->crc, s->tables[i]->dset);
    if (st == CL_OK && ok) st = cl_store_attr_i64(s, "/", "complete", 1);
  }
  for (int i = 0; i < s->n_dicts; i++) cl__dict_free(s->dicts[i]);
  free(s->dicts);
  for (int i = 0; i < s->n_tables; i++) table_free(s->tables[i]);
  free(s->tables);
  if (s->file >= 0) {
    ssize_t open_objs = H5Fget_obj_count(s->file, H5F_OBJ_ALL | H5F_OBJ_LOCAL);
    CL_ASSERT(open_objs == 1); /* only the file itself: every handle was closed */
    if (H5Fclose(s->file) < 0) {
      cl_log_error("store: closing '%s' failed", s->path);
      if (st == CL_OK) st = CL_ERR_HDF5;
    }
    if (s->opts.atomic) {
      if (ok && st == CL_OK && rename(s->wpath, s->path) != 0) {
        cl_log_error("store: cannot rename '%s' to '%s': %s", s->wpath, s->path, strerror(errno));
        st = CL_ERR_IO;
      }
      if (!ok || st != CL_OK) unlink(s->wpath);
    }
  }
  lock_release(s);
  free(s->wpath);
  free(s->path);
  free(s);
  return st;
}

cl_status cl_store_close(cl_store *s) { return store_finish(s, 1); }

cl_status cl_store_discard(cl_store *s) { return store_finish(s, 0); }

/* ---- attributes and text ---- */

static hid_t open_or_make(cl_store *s, const char *obj) {
  hid_t o = H5I_INVALID_HID;
  if (cl__h5_exists(s->file, obj)) return H5Oopen(s->file, obj, H5P_DEFAULT);
  hid_t lcpl = cl__h5_lcpl(), gcpl = H5Pcreate(H5P_GROUP_CREATE);
  /* Dense attributes: later attributes never grow the header (see table creation). */
  if (lcpl >= 0 && gcpl >= 0 && H5Pset_attr_phase_change(gcpl, 0, 0) >= 0)
    o = H5Gcreate2(s->file, obj, lcpl, gcpl, H5P_DEFAULT);
  if (gcpl >= 0) H5Pclose(gcpl);
  if (lcpl >= 0) H5Pclose(lcpl);
  return o;
}

typedef enum { ATTR_STR, ATTR_I64, ATTR_F64 } attr_kind;

static cl_status put_attr(cl_store *s, const char *obj, const char *name, attr_kind k,
                          const char *sv, int64_t iv, double fv) {
  if (!s || !obj || !name || obj[0] != '/') return CL_ERR_INVALID;
  /* An open table's own handle must be used: a second handle on the same object
   * header breaks SWMR flush dependencies when the header grows. */
  hid_t o = H5I_INVALID_HID;
  for (int i = 0; i < s->n_tables && o < 0; i++)
    if (!strcmp(s->tables[i]->path, obj)) {
      o = s->tables[i]->dset;
      if (H5Iinc_ref(o) < 0) o = H5I_INVALID_HID;
    }
  if (o < 0) o = open_or_make(s, obj);
  if (o < 0) {
    cl_log_error("store: cannot open or create '%s' in '%s'", obj, s->path);
    return CL_ERR_HDF5;
  }
  cl_status st = k == ATTR_STR ? cl__h5_attr_str(o, name, sv)
                 : k == ATTR_I64 ? cl__h5_attr_i64(o, name, iv)
                                 : cl__h5_attr_f64(o, name, fv);
  H5Oclose(o);
  return st;
}

cl_status cl_store_attr_str(cl_store *s, const char *obj, const char *name, const char *value) {
  return put_attr(s, obj, name, ATTR_STR, value, 0, 0);
}
cl_status cl_store_attr_i64(cl_store *s, const char *obj, const char *name, int64_t value) {
  return put_attr(s, obj, name, ATTR_I64, NULL, value, 0);
}
cl_status cl_store_attr_f64(cl_store *s, const char *obj, const char *name, double value) {
  return put_attr(s, obj, name, ATTR_F64, NULL, 0, value);
}

cl_status cl_store_write_text(cl_store *s, const char *path, const char *text) {
  if (!s || !path || path[0] != '/') return CL_ERR_INVALID;
  if (cl__h5_exists(s->file, path)) {
    cl_log_error("store: '%s' already exists in '%s'", path, s->path);
    return CL_ERR_EXISTS;
  }
  return cl__h5_write_text(s->file, path, text);
}
