/* cleave's HDF5 readers driven on an in-memory file image (no scratch file, no SWMR
 * retries): shared by fuzz_store_reader, fuzz_profile_h5 and fuzz_h5_struct. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleave/profile_h5.h"
#include "cleave/records.h"
#include "cleave/store.h"
#include "fuzz_util.h"

static void on_attr(const char *name, const char *value, void *ud) {
  (void)ud;
  if (!name || !value) abort();
}

/* What readers read (cl_reader_walk, as the probe's child does), then the provenance
 * as report reads it: never a NULL name, value or text. */
void cl_fuzz_h5_store_reader(cl_reader *r) {
  cl_reader_walk(r);
  (void)cl_reader_attrs(r, "/provenance", on_attr, NULL);
  char *text = NULL;
  if (cl_reader_exists(r, "/provenance/config") && cl_reader_text(r, "/provenance/config", &text) == CL_OK) {
    if (!text) abort();
    free(text);
  }
}

/* The bytes as a reader, or NULL when cleave refuses them (an error leaves no reader). */
static cl_reader *open_image(const uint8_t *data, size_t size, const char *name) {
  cl_reader *r = NULL;
  if (cl_reader_open_image(data, size, name, &r) == CL_OK) return r;
  if (r) abort();
  return NULL;
}

void cl_fuzz_h5_store(const uint8_t *data, size_t size) {
  cl_reader *r = open_image(data, size, "store.h5");
  if (!r) return;
  cl_fuzz_h5_store_reader(r);
  cl_reader_close(r);
}

/* A loaded profile must be usable as it is: steps, finite non-negative seconds, blocks
 * covering the steps in order. */
static void check_loaded(const cl_profile_set *set, const cl_profile_h5_info *info) {
  if (cl_profile_set_n_machines(set) != 1 || info->n_steps < 1 || info->n_blocks < 1) abort();
  const cl_profile_machine *m = cl_profile_set_machine(set, 0);
  if (!m || m->n_models != 1) abort();
  const cl_profile_model *md = &m->models[0];
  if (md->n_layers != info->n_steps || md->n_blocks != info->n_blocks) abort();
  for (int k = 0; k < md->n_layers; k++)
    if (!isfinite(md->layers[k].seconds) || md->layers[k].seconds < 0 || md->layers[k].output_bytes < 0) abort();
  int next = 0;
  for (int b = 0; b < md->n_blocks; b++) {
    const cl_profile_block *pb = &md->blocks[b];
    if (pb->first_layer != next || pb->last_layer < pb->first_layer || !isfinite(pb->seconds) || pb->seconds < 0)
      abort();
    next = pb->last_layer + 1;
  }
  if (next != md->n_layers) abort();
  if (!isfinite(info->total_s) || !(info->slowdown > 0) || !isfinite(info->slowdown)) abort();
}

void cl_fuzz_h5_profile_reader(cl_reader *r) {
  cl_profile_h5_info info;
  (void)cl_profile_h5_info_read_reader(r, "profile.h5", &info);
  for (int t = 0; t < 2; t++) {
    cl_profile_set *set = NULL;
    if (cl_profile_set_create(&set) != CL_OK) abort();
    if (cl_profile_load_cleave_reader(set, r, "profile.h5", "edge", "m", (cl_profile_time)t, &info) == CL_OK)
      check_loaded(set, &info);
    cl_profile_set_destroy(set);
  }
}

void cl_fuzz_h5_profile(const uint8_t *data, size_t size) {
  cl_reader *r = open_image(data, size, "profile.h5");
  if (!r) return;
  if (cl_reader_check_input(&r, "profile") != CL_OK) {
    if (r) abort();
    return;
  }
  cl_fuzz_h5_profile_reader(r);
  cl_reader_close(r);
}

/* ---- the same readers on a file opened by path, as cleave's commands open it ----
 * The bytes go to a scratch file that cl_reader_open / cl_reader_open_input open: probed
 * in a forked child first (runtime/store/probe.c), so what crashes libhdf5 there is
 * refused with an error, and only files the probe passed are read in this process. A
 * crash here is one a user's `cleave report`, `merge`, `sweep --resume` or `sim --profile`
 * would hit. */

/* The bytes as file @p name opened by path (as a @p kind input when not NULL), or NULL
 * when cleave refuses them. */
static cl_reader *open_file(const uint8_t *data, size_t size, const char *name, const char *kind) {
  const char *path = cl_fuzz_write(name, data, size);
  cl_reader *r = NULL;
  if ((kind ? cl_reader_open_input(path, kind, &r) : cl_reader_open(path, &r)) == CL_OK) return r;
  if (r) abort();
  return NULL;
}

void cl_fuzz_h5_store_file(const uint8_t *data, size_t size) {
  cl_reader *r = open_file(data, size, "store.h5", NULL);
  if (!r) return;
  cl_fuzz_h5_store_reader(r);
  cl_reader_close(r);
}

void cl_fuzz_h5_profile_file(const uint8_t *data, size_t size) {
  cl_reader *r = open_file(data, size, "profile.h5", "profile");
  if (!r) return;
  cl_fuzz_h5_profile_reader(r);
  cl_reader_close(r);
}
