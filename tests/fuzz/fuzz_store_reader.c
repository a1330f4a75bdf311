/* Fuzz harness: the record reader (runtime/store/reader.c): open the bytes as a cleave
 * HDF5 file, then read every table as its own layout (first 256 records), its
 * attributes, and the provenance text. */
#include <stdlib.h>
#include <string.h>

#include "cleave/store.h"
#include "fuzz_util.h"

static void on_attr(const char *name, const char *value, void *ud) {
  (void)ud;
  if (!name || !value) abort();
}

static size_t field_size(const cl_field_info *f) { return f->size ? f->size : 1; }

static void read_table(cl_reader *r, const cl_table_info *t) {
  cl_field fields[64];
  int n = 0;
  size_t off = 0;
  for (int k = 0; k < t->n_fields && n < 64; k++) {
    const cl_field_info *f = &t->fields[k];
    if (f->type == CL_F_COUNT || !f->name) continue;
    const size_t sz = field_size(f);
    if (sz > 4096) continue;
    fields[n] = (cl_field){f->name, f->type, off, sz, NULL, NULL, NULL};
    off += (sz + 7) & ~(size_t)7;
    n++;
  }
  (void)cl_reader_attrs(r, t->path, on_attr, NULL);
  if (!n) return;
  const cl_table_desc as = {t->path, off, fields, n, "", 0};
  size_t want = t->n_records < 256 ? (size_t)t->n_records : 256;
  void *buf = calloc(want ? want : 1, off);
  if (!buf) return;
  (void)cl_reader_read(r, t->path, &as, 0, want, buf);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cl_fuzz_setup();
  const char *path = cl_fuzz_write("store.h5", data, size);
  cl_reader *r = NULL;
  if (cl_reader_open(path, &r) != CL_OK) {
    if (r) abort();
    return 0;
  }
  for (int i = 0; i < cl_reader_n_tables(r) && i < 64; i++) read_table(r, cl_reader_table_at(r, i));
  (void)cl_reader_attrs(r, "/provenance", on_attr, NULL);
  char *text = NULL;
  if (cl_reader_exists(r, "/provenance/config") && cl_reader_text(r, "/provenance/config", &text) == CL_OK)
    free(text);
  cl_reader_close(r);
  return 0;
}
