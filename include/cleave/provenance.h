/** @file provenance.h
 *  @brief Run provenance written under /provenance of every cleave HDF5 file, and SHA-256.
 *
 *  cl_store_create() writes the system part automatically (cleave version, git commit
 *  and dirty flag, compiler and flags, host, kernel, CPU model, MPI library and HDF5
 *  versions, UTC time, rank). cl_store_write_provenance() adds what only the caller
 *  knows: the command line, the seed and the fully resolved config text (stored as the
 *  dataset <group>/config, with its SHA-256 as attribute config_sha256).
 */
#ifndef CLEAVE_PROVENANCE_H
#define CLEAVE_PROVENANCE_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/status.h"
#include "cleave/store.h"

typedef struct cl_provenance {
  int argc;                /* command line (may be 0) */
  char *const *argv;
  int has_seed;            /* write attribute "seed" */
  uint64_t seed;
  const char *config_text; /* fully resolved config (may be NULL) */
  const char *config_path; /* where it came from (may be NULL) */
} cl_provenance;

/** Add command line, seed and config (text + SHA-256) to the store's provenance group
 *  (/provenance, or /provenance/resume_<k> for an appended-to file). Call at most once. */
cl_status cl_store_write_provenance(cl_store *s, const cl_provenance *p);

/** Record a model file (an ONNX import) in the store's provenance group, after
 *  cl_store_write_provenance: attributes model_path, model_bytes (size) and model_sha256,
 *  streamed from the file. Zoo models need no such record (their weights are seeded). */
cl_status cl_store_write_model_provenance(cl_store *s, const char *path);

/** Record wall mode's clock offsets in the provenance group: clock_sync (method),
 *  clock_rounds, clock_offsets_s and clock_rtt_s (comma-separated, one per rank: measured
 *  rank 0's clock minus rank r's, and the RTT of the round it came from), clock_applied_s
 *  (the offsets in use: 0 for ranks on rank 0's host) and clock_offset_bound_s (max RTT /
 *  2: no measured offset is off by more). Arrays have @p n entries. */
cl_status cl_store_write_clock_provenance(cl_store *s, int n, const double *offset, const double *rtt,
                                         const double *applied, int rounds);

/** Provenance group of this store ("/provenance" or "/provenance/resume_<k>"). */
const char *cl_store_provenance_group(const cl_store *s);

/* ---- SHA-256 (FIPS 180-4), self-contained implementation ---- */
typedef struct cl_sha256_ctx {
  uint32_t h[8];
  uint64_t nbytes;
  uint8_t block[64];
  size_t fill;
} cl_sha256_ctx;

void cl_sha256_init(cl_sha256_ctx *c);
void cl_sha256_update(cl_sha256_ctx *c, const void *data, size_t n);
void cl_sha256_final(cl_sha256_ctx *c, uint8_t digest[32]);
/** One-shot digest as 64 lowercase hex chars + NUL. */
void cl_sha256_hex(const void *data, size_t n, char hex[65]);

#endif
