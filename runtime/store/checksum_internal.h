/* Per-block CRC-32 of record tables (see checksum.c for the format and why). */
#ifndef CLEAVE_CHECKSUM_INTERNAL_H
#define CLEAVE_CHECKSUM_INTERNAL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "cleave/status.h"

#define CL_CRC_ATTR_BLOCK "crc32_block"
#define CL_CRC_ATTR_RECORDS "crc32_records"
#define CL_CRC_ATTR_SUMS "crc32"
/* Largest block a reader accepts (records); the store's blocks are its chunks. */
#define CL_CRC_MAX_BLOCK (1 << 20)

/* zlib-compatible CRC-32: cl__crc32(0, p, n) == zlib.crc32(p[:n]); chains like zlib. */
uint32_t cl__crc32(uint32_t crc, const void *p, size_t n);

/* Member offsets and sizes of a compound record type: what a record's checksum covers. */
typedef struct cl__crc_layout {
  int n;
  size_t *off, *size;
  size_t rec_size;
  int packed; /* fields in order without gaps: a record's bytes are the checksummed bytes */
} cl__crc_layout;

cl_status cl__crc_layout_init(hid_t compound, cl__crc_layout *L);
void cl__crc_layout_free(cl__crc_layout *L);
/* Chain @p n records of @p L's layout into @p crc. */
uint32_t cl__crc_records(const cl__crc_layout *L, uint32_t crc, const void *recs, size_t n);

/* Writer: running CRC per block of the records written so far. Set lay after init. */
typedef struct cl__crc_stream {
  cl__crc_layout lay;
  uint64_t block, records;
  uint32_t cur; /* CRC of the current (partial) block */
  uint32_t *sums;
  size_t n_sums, cap_sums; /* completed blocks */
} cl__crc_stream;

void cl__crc_stream_init(cl__crc_stream *c, uint64_t block);
void cl__crc_stream_free(cl__crc_stream *c);
cl_status cl__crc_stream_feed(cl__crc_stream *c, const void *recs, size_t n);
/* Write the crc32_* attributes on @p dset (nothing if no records). */
cl_status cl__crc_stream_store(const cl__crc_stream *c, hid_t dset);

/* Reader: the stored sums of one table and which blocks were already verified. */
typedef struct cl__crc_check {
  uint64_t block, records;
  uint32_t *sums;
  unsigned char *verified;
  size_t n_sums;
} cl__crc_check;

/* 1 loaded, 0 no checksums stored, -1 checksum attributes malformed, -2 the table has
 * fewer records than the checksums cover (k->records: how many they cover). */
int cl__crc_check_load(cl__crc_check *k, hid_t dset, uint64_t n_records);
void cl__crc_check_free(cl__crc_check *k);
/* Verify the blocks overlapping records [start, start+n): 0 ok, 1 a block fails its
 * checksum (its record range in *bad_first..*bad_last), -1 read error. */
int cl__crc_check_range(cl__crc_check *k, hid_t dset, uint64_t start, uint64_t n, uint64_t *bad_first,
                        uint64_t *bad_last);

#endif
