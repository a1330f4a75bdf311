/* Internal to the record store (runtime/store/ and runtime/provenance.c): the handle
 * structs and thin HDF5 helpers that check every hid_t and close every handle. */
#ifndef CLEAVE_STORE_INTERNAL_H
#define CLEAVE_STORE_INTERNAL_H

#include <hdf5.h>

#include "cleave/provenance.h"
#include "cleave/records.h"
#include "cleave/store.h"
#include "checksum_internal.h"

struct cl_table {
  cl_store *store;
  char *path;
  size_t rec_size;
  int n_fields;
  cl_field *fields; /* deep copy of the descriptor's fields */
  hid_t dset;
  hid_t type; /* compound: file type == memory type (struct layout) */
  unsigned char *buf;
  size_t cap, nbuf; /* buffer capacity and fill, records */
  uint64_t n_disk;  /* records written to the dataset */
  cl_table_stats st;
  cl__crc_stream crc; /* per-block checksums of the records on disk (checksum.c) */
};

struct cl_dict {
  cl_store *store;
  char *name;
  cl_table *table;
  char **strs; /* id -> string */
  int32_t n, cap;
  int32_t *slots; /* open-addressing hash: id+1, 0 = empty */
  size_t nslots;
};

struct cl_store {
  hid_t file;
  char *path;
  cl_store_opts opts;
  cl_table **tables;
  int n_tables, cap_tables;
  cl_dict **dicts;
  int n_dicts, cap_dicts;
  double last_flush; /* monotonic seconds */
  int dirty;         /* appended since the last flush */
  int prov_written;
  char prov_group[64];
  char *wpath;   /* file being written: path, or path.part for atomic outputs */
  int lock_fd;   /* fcntl-locked path.lock, or -1 */
  char *lock_path;
};

/* Record layout of a dictionary table (declared in cleave/records.h). */
typedef cl_rec_dict cl__dict_rec;

/* Coarse monotonic clock, seconds (cheap enough to call on every append). */
double cl__store_now(void);

/* HDF5 type of one field (caller closes), or H5I_INVALID_HID. */
hid_t cl__h5_field_type(cl_ftype t, size_t size);
/* Compound type for a field table (caller closes). */
hid_t cl__h5_compound(const cl_field *f, int n, size_t rec_size);
/* Map an HDF5 member type to cl_ftype (CL_F_COUNT if not representable). */
cl_ftype cl__h5_ftype_of(hid_t t, size_t *size);

cl_status cl__h5_attr_str(hid_t obj, const char *name, const char *value);
cl_status cl__h5_attr_strv(hid_t obj, const char *name, const char *const *v, int n);
cl_status cl__h5_attr_i64(hid_t obj, const char *name, int64_t v);
cl_status cl__h5_attr_f64(hid_t obj, const char *name, double v);
/* Read a string / string-array attribute (malloc'd; *out NULL if absent or not strings). */
char *cl__h5_attr_get_str(hid_t obj, const char *name);
char *cl__h5_dset_get_str(hid_t dset); /* first element of a string dataset */
int cl__h5_attr_get_strv(hid_t obj, const char *name, char ***out); /* count or -1 */
void cl__strv_free(char **v, int n);
/* Attribute value as text (numbers, strings, arrays "[a, b]"); malloc'd or NULL. */
char *cl__h5_attr_text(hid_t attr);
/* Scalar fixed-length string dataset. */
cl_status cl__h5_write_text(hid_t loc, const char *path, const char *text);
/* Open for reading: normal, then SWMR-read (files of killed writers). Quiet. */
hid_t cl__h5_open_read(const char *path);
/* Open an in-memory file image of @p len bytes (copied; @p name only labels it) read-only
 * with the core driver: no file, no SWMR fallback. Quiet. */
hid_t cl__h5_open_image(const void *buf, size_t len, const char *name);
/* Link-creation property list creating intermediate groups (caller closes). */
hid_t cl__h5_lcpl(void);
/* Whether a link path exists (each component checked). */
int cl__h5_exists(hid_t loc, const char *path);

/* reader.c: the reader's file handle (merge copies objects with it). */
hid_t cl__reader_file(const cl_reader *r);
/* Damaged tables cl_reader refuses (reader.c): a record type with fields outside its
 * records (libhdf5 1.10 would convert with it out of bounds), or far more declared
 * records than stored data (fill values by the terabyte). */
enum { CL__DAMAGE_LAYOUT = 1, CL__DAMAGE_UNBACKED = 2, CL__DAMAGE_NESTING = 3 };
/* Deepest group nesting a reader follows; cleave writes at most 3 levels. A corrupt
 * group B-tree can make libhdf5's H5Ovisit descend through a chain of "new" groups
 * without end (each level rebuilding a longer path: minutes per file). */
#define CL__MAX_GROUP_DEPTH 32
#define CL__XSTR(x) #x
#define CL__STR(x) CL__XSTR(x)
/* "has a record type with fields outside its records", ... (after "table X "). */
const char *cl__damage_text(int damage);
/* The attribute names of every object, listed by the probe's child (which may crash
 * doing it) so that the process itself never builds libhdf5's attribute tables for the
 * file: cl_reader_attrs and merge then read attributes by name (probe.c, reader.c). */
typedef struct cl__attr_obj {
  char *path;
  int failed; /* the child could not list them */
  int n;
  char **names; /* sorted by name, as H5Aiterate2 with H5_INDEX_NAME gives them */
} cl__attr_obj;
typedef struct cl__attr_index {
  int n, cap;
  cl__attr_obj *obj;
  /* From the child: its bytes, parsed on first use (cl__attr_index_find), and the index
   * itself lives in an anonymous mapping, not the heap: between the fork and the
   * parent's open of the file, the parent's heap stays as the child's was (libhdf5's
   * reads past its buffers fault or not depending on what lies next to them). */
  const char *raw;
  size_t raw_len, map_len;
  int parsed;
} cl__attr_index;
void cl__attr_index_free(cl__attr_index *x);
/* Object @p path of @p x, or NULL when the child did not reach it. */
const cl__attr_obj *cl__attr_index_find(const cl__attr_index *x, const char *path);
/* cl_reader_probe that also returns the child's attribute index (*idx, NULL when the
 * probe was skipped or failed). */
cl_status cl__reader_probe_index(const char *path, cl_probe_outcome *outcome, cl__attr_index **idx);
/* reader.c: the index of the reader's file, or NULL (not probed: iterate). */
const cl__attr_index *cl__reader_attr_index(const cl_reader *r);
/* The probe's child: read @p r's attributes through @p idx (borrowed), as the parent will. */
void cl__reader_use_attr_index(cl_reader *r, cl__attr_index *idx);
/* reader.c: cl_reader_open without the probe (the probe's child opens files with it).
 * @p damaged (may be NULL) is set to the CL__DAMAGE_* of a damaged table when that made
 * the open fail, else 0: the probe's child reports it to the parent. */
cl_status cl__reader_open_unprobed(const char *path, cl_reader **out, int *damaged);
/** merge.c: copy the attributes of @p spath in @p sfile (except the store's own) that
 *  @p dpath in @p dfile lacks; one error line on failure (CL_ERR_INVALID: the input,
 *  CL_ERR_HDF5: the output). By name from @p idx when given (the input's attribute
 *  index), else by iterating. The probe's child replays it into a scratch file. */
cl_status cl__merge_copy_attrs(hid_t sfile, const cl__attr_index *idx, const char *spath, hid_t dfile,
                               const char *dpath);
/* merge.c: object @p spath (a group recursively, a dataset) with its attributes copied by
 * name, never H5Ocopy of attributes (libhdf5 1.10 crashes on dense variable-length
 * ones); errors as cl__merge_copy_attrs. */
cl_status cl__merge_copy_object(hid_t sfile, const cl__attr_index *idx, const char *spath, hid_t dfile,
                                const char *dpath);
/* reader.c: cl_reader_read without the per-block CRC-32 checks, which read whole blocks
 * of data (the probe's child reads metadata; a data checksum failure is not a crash),
 * and cl_reader_attrs that goes on after a failed attribute iteration (the child visits
 * every object's attributes; a command stops at its first failure). */
void cl__reader_skip_checksums(cl_reader *r);
/* store.c: a table, is_dict marks dictionary tables. */
cl_status cl__store_table(cl_store *s, const cl_table_desc *d, int is_dict, cl_table **out);

/* provenance.c: system provenance into s->prov_group. */
cl_status cl__prov_write_base(cl_store *s);

char *cl__strdup(const char *s);

#endif
