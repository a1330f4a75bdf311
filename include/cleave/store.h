/** @file store.h
 *  @brief HDF5 record store: append-only tables of compound records.
 *
 *  A module declares a record struct once, plus a field table (name, type,
 *  offset, unit, description) that drives the HDF5 compound type and is written
 *  as attributes next to the data, so h5py/pandas users see units:
 *
 *      typedef struct my_rec { int64_t layer; double time_s; char name[32]; } my_rec;
 *      static const cl_field my_fields[] = {
 *        CL_FIELD(my_rec, layer, CL_F_INT64, "", "layer index"),
 *        CL_FIELD(my_rec, time_s, CL_F_FLOAT64, "s", "wall time"),
 *        CL_FIELD(my_rec, name, CL_F_STRING, "", "layer name"),
 *      };
 *      static const cl_table_desc my_desc = {"/layers", sizeof(my_rec), my_fields,
 *                                            3, "one row per layer", 0};
 *
 *  Records are buffered per table and written in large batches into chunked,
 *  extendible 1-D datasets (file layout = the C struct layout, no conversion).
 *  Files are written in HDF5 SWMR mode: a writer killed at any instant leaves
 *  every flushed record readable (see docs/store.md for the exact bound).
 *
 *  Ownership: a cl_store owns its tables and dictionaries; cl_store_close()
 *  flushes and frees everything. Field tables passed in descriptors are copied.
 *  Not thread-safe: one store per thread (HDF5 is built without thread safety).
 */
#ifndef CLEAVE_STORE_H
#define CLEAVE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/status.h"

/** Field types. CL_F_STRING is a fixed-length char[N] (N = field size, NUL-padded). */
typedef enum cl_ftype {
  CL_F_INT8,
  CL_F_UINT8,
  CL_F_INT32,
  CL_F_UINT32,
  CL_F_INT64,
  CL_F_UINT64,
  CL_F_FLOAT32,
  CL_F_FLOAT64,
  CL_F_STRING,
  CL_F_COUNT
} cl_ftype;

/** Printable name of a field type ("int32", "string", ...). */
const char *cl_ftype_name(cl_ftype t);

/** One field of a record. unit/desc/dict may be NULL (stored as ""). @p dict names a
 *  dictionary (cl_store_dict) whose ids this CL_F_INT32 field holds, e.g. "models". */
typedef struct cl_field {
  const char *name;
  cl_ftype type;
  size_t offset; /* bytes from record start */
  size_t size;   /* bytes; must match the type (any N >= 1 for strings) */
  const char *unit;
  const char *desc;
  const char *dict;
} cl_field;

/** Field of struct T (member name = column name). */
#define CL_FIELD(T, member, ftype, unit, desc) \
  { #member, ftype, offsetof(T, member), sizeof(((T *)0)->member), unit, desc, NULL }
/** int32 field of struct T holding ids of dictionary @p dict (resolved by readers). */
#define CL_FIELD_DICT(T, member, dict, desc) \
  { #member, CL_F_INT32, offsetof(T, member), sizeof(((T *)0)->member), "", desc, dict }

/** A table: dataset path (e.g. "/layers", "/profile/samples"), record layout, and a
 *  one-line description. chunk_records 0 = default (about 256 KiB per chunk). */
typedef struct cl_table_desc {
  const char *path;
  size_t record_size;
  const cl_field *fields;
  int n_fields;
  const char *desc;
  size_t chunk_records;
} cl_table_desc;

/** Store options. A zero-initialised struct means defaults. */
typedef struct cl_store_opts {
  int force;            /* overwrite an existing file (create only) */
  size_t flush_records; /* per-table buffer in records; 0 = 65536 (capped at 8 MiB) */
  double flush_seconds; /* flush at most this long after an append; 0 = 1 s; <0 = never */
  int fsync;            /* also fsync(2) on every flush (power-loss safety; slower) */
  int rank;             /* this process's rank (for per-rank file names and provenance) */
  int n_ranks;          /* > 1: write PATH.rank<R>.h5 instead of PATH */
  int no_provenance;    /* skip the automatic /provenance system record (benchmarks) */
  int atomic;           /* write PATH.part and rename it to PATH on a successful close
                           (a killed or failed writer never leaves a file at PATH); such
                           files are final: cl_store_open_append refuses them */
  const char *kind;     /* output kind ("run", "profile", "sweep", ...) stored as the root
                           attribute output_kind; cl_store_open_append with a kind refuses
                           a file of another kind. NULL: none / not checked */
} cl_store_opts;

typedef struct cl_store cl_store;
typedef struct cl_table cl_table;
typedef struct cl_dict cl_dict;

/** Per-rank file name: "out.h5" -> "out.rank3.h5" when n_ranks > 1, else the path. */
cl_status cl_store_rank_path(const char *path, int rank, int n_ranks, char *buf, size_t bufsize);

/** Create a new store file. Existing file without opts->force -> CL_ERR_EXISTS (file
 *  untouched); unwritable path -> CL_ERR_IO. Writes base provenance under /provenance
 *  (version, git, compiler, host, CPU, MPI/HDF5 versions, UTC time). @p opts may be NULL.
 *  Every writer holds an exclusive fcntl lock on PATH.lock until close: a second writer
 *  of the same output (create or append) -> CL_ERR_EXISTS with a message naming the
 *  holder's pid. The root attribute `complete` is 0 until cl_store_close succeeds. */
cl_status cl_store_create(const char *path, const cl_store_opts *opts, cl_store **out);

/** Reopen an existing store for appending (--resume). Recovers files left by a killed
 *  writer. New provenance goes to /provenance/resume_<k>. The file is probed first
 *  (cl_reader_probe): one that crashes libhdf5 -> CL_ERR_HDF5, file untouched. */
cl_status cl_store_open_append(const char *path, const cl_store_opts *opts, cl_store **out);

/** The file actually written (with the per-rank suffix, if any). */
const char *cl_store_path(const cl_store *s);

/** Get (creating it if needed) the table described by @p desc. The store owns the
 *  handle. An existing table with a different layout -> CL_ERR_INVALID. */
cl_status cl_store_table(cl_store *s, const cl_table_desc *desc, cl_table **out);

/** Append @p n records laid out as desc->record_size-byte structs. May write and flush. */
cl_status cl_table_append(cl_table *t, const void *recs, size_t n);

/** Records in the table (on disk + buffered). */
uint64_t cl_table_count(const cl_table *t);

/** Read records [start, start+n) (disk or buffer) into @p out (caller layout = desc). */
cl_status cl_table_read(cl_table *t, uint64_t start, size_t n, void *out);

typedef struct cl_table_stats {
  uint64_t records;  /* appended in total (including pre-existing on resume) */
  uint64_t flushed;  /* records covered by the last completed flush */
  uint64_t writes;   /* H5Dwrite batches */
  uint64_t flushes;  /* H5Fflush calls that covered this table */
} cl_table_stats;
void cl_table_get_stats(const cl_table *t, cl_table_stats *st);

/** Write every buffered record and flush HDF5 metadata: afterwards every record
 *  appended so far survives a SIGKILL of this process. */
cl_status cl_store_flush(cl_store *s);

/** Flush, mark the file complete (root attribute complete = 1), close every handle,
 *  rename an atomic output into place, release the lock and free the store (NULL-safe).
 *  Returns the first error (then the file stays incomplete). */
cl_status cl_store_close(cl_store *s);
/** Close after a failure: the file is left marked incomplete (complete = 0), an atomic
 *  output's temporary file is removed; the lock is released. NULL-safe. */
cl_status cl_store_discard(cl_store *s);

/** Scalar attributes on any group/dataset (created if missing; the object path must
 *  exist or be creatable as a group). Replaces an existing attribute. */
cl_status cl_store_attr_str(cl_store *s, const char *obj, const char *name, const char *value);
cl_status cl_store_attr_i64(cl_store *s, const char *obj, const char *name, int64_t value);
cl_status cl_store_attr_f64(cl_store *s, const char *obj, const char *name, double value);
/** A string dataset (e.g. a config text) at @p path; fails if it exists. */
cl_status cl_store_write_text(cl_store *s, const char *path, const char *text);

/* ---- Dictionary string tables: /strings/<name> with (id int32, name char[128]) ----
 * Records store small int ids; readers (cleave_h5.py, report, merge) resolve them. */
#define CL_DICT_MAXLEN 123

/** Get (creating if needed) dictionary @p name (letters, digits, '_' only). Store-owned. */
cl_status cl_store_dict(cl_store *s, const char *name, cl_dict **out);
/** Id of @p str, interning it (appended to the dictionary table) if new. Ids are 0,1,2...
 *  Strings longer than CL_DICT_MAXLEN -> CL_ERR_INVALID. */
cl_status cl_dict_id(cl_dict *d, const char *str, int32_t *id);
/** String of @p id, or NULL if unknown. Valid until the store is closed. */
const char *cl_dict_str(const cl_dict *d, int32_t id);
int32_t cl_dict_count(const cl_dict *d);

/* ---- Reading any cleave (or plain) HDF5 file: tables are 1-D compound datasets ---- */
typedef struct cl_reader cl_reader;

typedef struct cl_field_info {
  const char *name;
  cl_ftype type; /* CL_F_COUNT if the member type is not representable */
  size_t size;
  const char *unit; /* "" if unknown */
  const char *desc;
  const char *dict; /* dictionary table path ("/strings/models") or "" */
} cl_field_info;

typedef struct cl_table_info {
  const char *path;
  uint64_t n_records;
  int n_fields;
  const cl_field_info *fields;
  const char *desc;
  int is_dict; /* a /strings/<name> dictionary table */
} cl_table_info;

/** Open read-only (files of killed writers too, via SWMR read). Lists every table.
 *  Warns when the file's writer did not finish (root attribute complete = 0). The file
 *  is probed first (cl_reader_probe): one that crashes libhdf5 -> CL_ERR_HDF5. */
cl_status cl_reader_open(const char *path, cl_reader **out);
/** 1: the writer closed the file normally; 0: it did not (killed, failed or still
 *  running: records may be partial); -1: unknown (files written before the marker). */
int cl_reader_complete(const cl_reader *r);
/** The root attribute output_kind ("run", "profile", "sweep", ...) or "" if none. */
const char *cl_reader_kind(const cl_reader *r);
/** Like cl_reader_open, but an incomplete file (cl_reader_complete() == 0) or one whose
 *  output_kind is set and differs from @p kind (NULL: any) is refused with an error
 *  naming the file -> CL_ERR_INVALID. For inputs a result is computed from. */
cl_status cl_reader_open_input(const char *path, const char *kind, cl_reader **out);
/** Like cl_reader_open on an in-memory file image of @p len bytes (copied; @p name labels
 *  it in messages): no file is touched. Corrupt image -> CL_ERR_HDF5. Not probed: the
 *  fuzz harnesses, its only users, must see libhdf5's crashes. */
cl_status cl_reader_open_image(const void *buf, size_t len, const char *name, cl_reader **out);
/** The checks of cl_reader_open_input on an open reader *@p r: refused -> *@p r closed
 *  and set to NULL, CL_ERR_INVALID. */
cl_status cl_reader_check_input(cl_reader **r, const char *kind);
void cl_reader_close(cl_reader *r);
int cl_reader_n_tables(const cl_reader *r);
const cl_table_info *cl_reader_table_at(const cl_reader *r, int i);
/** Table at @p path, or NULL. */
const cl_table_info *cl_reader_find(const cl_reader *r, const char *path);
/** Read records [start, start+n) of table @p path into @p out laid out as @p as. Fields
 *  are matched by name and converted by HDF5 (int<->float, string sizes); a field of
 *  @p as missing from the file -> CL_ERR_NOTFOUND. Record datasets carry a Fletcher32
 *  checksum per chunk: a corrupted chunk -> CL_ERR_HDF5 with an error naming the table. */
cl_status cl_reader_read(cl_reader *r, const char *path, const cl_table_desc *as, uint64_t start,
                         size_t n, void *out);
/** Call @p fn(name, value-as-text) for each attribute of group/dataset @p obj (sorted by
 *  name). Missing object -> CL_ERR_NOTFOUND. Attributes that cannot be read (a damaged
 *  file) -> one error line naming the file and object, CL_ERR_HDF5; every later call on
 *  this reader then fails the same way at once, with no further line (libhdf5 1.10 can
 *  crash on a second pass over a damaged attribute table). Read what you need in one pass. */
typedef void (*cl_attr_fn)(const char *name, const char *value, void *ud);
cl_status cl_reader_attrs(cl_reader *r, const char *obj, cl_attr_fn fn, void *ud);
/** Attribute @p name of @p obj as text (as cl_reader_attrs gives it) into a malloc'd
 *  *@p out, read by name (no attribute table: use it for known keys). Absent attribute
 *  or object -> CL_ERR_NOTFOUND; unreadable -> one error line, CL_ERR_HDF5, and later
 *  attribute reads on this reader fail at once (as cl_reader_attrs). */
cl_status cl_reader_attr_text(cl_reader *r, const char *obj, const char *name, char **out);
/** Read a string dataset (e.g. /provenance/config) into a malloc'd string. */
cl_status cl_reader_text(cl_reader *r, const char *path, char **out);
/** Whether a group or dataset exists at @p path. */
int cl_reader_exists(cl_reader *r, const char *path);

/* ---- Crash containment for untrusted files (runtime/store/probe.c) ----
 * libhdf5 1.10 crashes (SIGSEGV, SIGFPE, heap overflows) on some corrupt object headers,
 * attributes and datatypes. Every file cleave opens by path is first read in a forked
 * child; only if that child survives does this process open it. */

/** What cl_reader_probe did. */
typedef enum cl_probe_outcome {
  CL_PROBE_SKIPPED, /* CLEAVE_H5_PROBE=off, not a stat'able regular file, or no child */
  CL_PROBE_PASSED,  /* the child read the file's metadata and exited normally */
  CL_PROBE_CRASHED, /* libhdf5 crashed in the child: the file is refused (logged) */
  CL_PROBE_DAMAGED, /* a damaged table: a record type with fields outside its records
                       (libhdf5's conversion would read and write past them) or far
                       more declared records than stored data: refused (logged) */
  CL_PROBE_HUNG     /* the child did not finish within CLEAVE_H5_PROBE_TIMEOUT seconds
                       (default 60; libhdf5 loops forever on some corrupt group
                       structures): killed, the file refused (logged) */
} cl_probe_outcome;

/** Read the metadata of the HDF5 file @p path the way readers do (cl_reader_open's
 *  table walk, every object's attributes, the first and last records of every table,
 *  every declared layout of cleave/records.h) in a forked child, with its output sent
 *  to /dev/null. Child killed by a signal or ended by a sanitizer -> one error line
 *  naming the file and CL_ERR_HDF5; so is a damaged table (a field outside its record:
 *  libhdf5 1.10 would convert records with it out of bounds; or far more declared records
 *  than stored data); otherwise CL_OK (errors HDF5 reports are left to
 *  the real open). Skipped (CL_OK) when the environment has CLEAVE_H5_PROBE=off or the
 *  path is not a regular file. @p outcome may be NULL. Called by cl_reader_open and
 *  cl_store_open_append. */
cl_status cl_reader_probe(const char *path, cl_probe_outcome *outcome);

/** @brief Read, from the open reader @p r, what cleave's readers read of a file: every
 *  object's attributes, the first 64 and the last record of every table as its own
 *  layout, text datasets, dictionaries and every declared record layout
 *  (cleave/records.h); errors libhdf5 returns are ignored. The probe's child runs it,
 *  and so do the HDF5 fuzz harnesses on every input. */
void cl_reader_walk(cl_reader *r);

/* ---- Merging per-rank files ---- */
struct cl_provenance;
typedef struct cl_merge_opts {
  int force;                         /* overwrite the output */
  const struct cl_provenance *prov;  /* the merge command's own provenance (may be NULL) */
} cl_merge_opts;

/** Concatenate every table of @p inputs (same path => same record type required) into
 *  @p out, adding an int32 column "src" (index of the input) and the table
 *  /merge/sources (src, rank, n_ranks, records, file). Dictionary tables are unioned and
 *  id fields remapped. /provenance is input 0's; every input's is kept under
 *  /provenance/sources/<i> and the merge's own under /provenance/merge. Non-table
 *  datasets go to /sources/<i>/<path>; extra attributes of tables and groups are
 *  copied from the first input that has them. Inputs that are merge outputs are refused. */
cl_status cl_store_merge(const char *out, const char *const *inputs, int n_inputs,
                         const cl_merge_opts *opts);

#endif
