/* Per-block CRC-32 of record tables.
 *
 * Why not HDF5's Fletcher32 filter: a filtered chunk is rewritten whole (read, modify,
 * re-checksum, write) every time a flush appends into it, so a writer killed during that
 * rewrite leaves a torn chunk whose checksum fails, and records that an earlier flush
 * had made durable become unreadable. Unfiltered chunks are appended in place (new
 * bytes only), which is what the store's crash-safety guarantee rests on.
 *
 * So the store keeps the checksums itself: the writer feeds every record it writes into
 * a running CRC-32 (IEEE, the same as zlib's crc32 and Python's zlib.crc32) per block of
 * B records and, when the file is closed, stores three attributes on the table:
 *   crc32_block    B, records per block (the dataset's chunk size)
 *   crc32_records  N, records covered (the first N records of the table)
 *   crc32          uint32[ceil(N/B)], the CRC of each block (the last may be partial)
 * A record's bytes are its fields' bytes in member order, without padding (the same as
 * numpy's packed dtype of the table), so any reader can check them. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "checksum_internal.h"

uint32_t cl__crc32(uint32_t crc, const void *p, size_t n) {
  const unsigned char *b = p;
  while (n > 0) { /* zlib takes uInt lengths */
    uInt k = n > (1u << 30) ? 1u << 30 : (uInt)n;
    crc = (uint32_t)crc32(crc, b, k);
    b += k;
    n -= k;
  }
  return crc;
}

void cl__crc_layout_free(cl__crc_layout *L) {
  if (!L) return;
  free(L->off);
  free(L->size);
  memset(L, 0, sizeof *L);
}

cl_status cl__crc_layout_init(hid_t compound, cl__crc_layout *L) {
  memset(L, 0, sizeof *L);
  int n = H5Tget_nmembers(compound);
  size_t rec = H5Tget_size(compound);
  if (n <= 0 || rec == 0) return CL_ERR_HDF5;
  L->off = calloc((size_t)n, sizeof *L->off);
  L->size = calloc((size_t)n, sizeof *L->size);
  if (!L->off || !L->size) {
    cl__crc_layout_free(L);
    return CL_ERR_NOMEM;
  }
  L->n = n;
  L->rec_size = rec;
  for (int i = 0; i < n; i++) {
    hid_t mt = H5Tget_member_type(compound, (unsigned)i);
    size_t sz = mt >= 0 ? H5Tget_size(mt) : 0;
    if (mt >= 0) H5Tclose(mt);
    L->off[i] = H5Tget_member_offset(compound, (unsigned)i);
    L->size[i] = sz;
    if (sz == 0 || L->off[i] + sz > rec) {
      cl__crc_layout_free(L);
      return CL_ERR_HDF5;
    }
  }
  size_t at = 0;
  L->packed = 1;
  for (int i = 0; i < n && L->packed; i++) {
    L->packed = L->off[i] == at;
    at += L->size[i];
  }
  L->packed = L->packed && at == rec;
  return CL_OK;
}

uint32_t cl__crc_records(const cl__crc_layout *L, uint32_t crc, const void *recs, size_t n) {
  const unsigned char *r = recs;
  if (L->packed) return cl__crc32(crc, r, n * L->rec_size);
  /* Padding between fields: pack a batch of records, then one CRC call per batch. */
  unsigned char buf[16384];
  size_t fill = 0;
  for (size_t i = 0; i < n; i++, r += L->rec_size)
    for (int f = 0; f < L->n; f++) {
      if (L->size[f] > sizeof buf) {
        crc = cl__crc32(cl__crc32(crc, buf, fill), r + L->off[f], L->size[f]);
        fill = 0;
        continue;
      }
      if (fill + L->size[f] > sizeof buf) {
        crc = cl__crc32(crc, buf, fill);
        fill = 0;
      }
      memcpy(buf + fill, r + L->off[f], L->size[f]);
      fill += L->size[f];
    }
  return cl__crc32(crc, buf, fill);
}

/* ---- writer side ---- */

void cl__crc_stream_init(cl__crc_stream *c, uint64_t block) {
  memset(c, 0, sizeof *c);
  c->block = block ? block : 1;
}

void cl__crc_stream_free(cl__crc_stream *c) {
  if (!c) return;
  free(c->sums);
  cl__crc_layout_free(&c->lay);
  memset(c, 0, sizeof *c);
}

cl_status cl__crc_stream_feed(cl__crc_stream *c, const void *recs, size_t n) {
  const unsigned char *p = recs;
  while (n > 0) {
    uint64_t in_block = c->records % c->block;
    size_t k = (size_t)(c->block - in_block);
    if (k > n) k = n;
    c->cur = cl__crc_records(&c->lay, c->cur, p, k);
    c->records += k;
    p += k * c->lay.rec_size;
    n -= k;
    if (c->records % c->block == 0) {
      if (c->n_sums == c->cap_sums) {
        size_t cap = c->cap_sums ? 2 * c->cap_sums : 64;
        uint32_t *s = realloc(c->sums, cap * sizeof *s);
        if (!s) return CL_ERR_NOMEM;
        c->sums = s;
        c->cap_sums = cap;
      }
      c->sums[c->n_sums++] = c->cur;
      c->cur = 0;
    }
  }
  return CL_OK;
}

/* Replace attribute @p name of @p obj by @p n values of native type @p t at @p v. */
static cl_status attr_replace(hid_t obj, const char *name, hid_t t, hsize_t n, const void *v) {
  cl_status st = CL_ERR_HDF5;
  htri_t ex = H5Aexists(obj, name);
  hid_t sp = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
  if (sp < 0 || ex < 0 || (ex > 0 && H5Adelete(obj, name) < 0)) goto done;
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) goto done;
  if (H5Awrite(a, t, v) >= 0) st = CL_OK;
  H5Aclose(a);
done:
  if (sp >= 0) H5Sclose(sp);
  if (st != CL_OK) cl_log_error("store: cannot write attribute '%s'", name);
  return st;
}

cl_status cl__crc_stream_store(const cl__crc_stream *c, hid_t dset) {
  if (c->records == 0) return CL_OK;
  size_t n = c->n_sums + (c->records % c->block ? 1 : 0);
  uint32_t *all = malloc(n * sizeof *all);
  if (!all) return CL_ERR_NOMEM;
  if (c->n_sums) memcpy(all, c->sums, c->n_sums * sizeof *all);
  if (n > c->n_sums) all[c->n_sums] = c->cur;
  int64_t b = (int64_t)c->block, r = (int64_t)c->records;
  cl_status st = attr_replace(dset, CL_CRC_ATTR_BLOCK, H5T_NATIVE_INT64, 0, &b);
  if (st == CL_OK) st = attr_replace(dset, CL_CRC_ATTR_RECORDS, H5T_NATIVE_INT64, 0, &r);
  if (st == CL_OK) st = attr_replace(dset, CL_CRC_ATTR_SUMS, H5T_NATIVE_UINT32, n, all);
  free(all);
  return st;
}

/* ---- reader side ---- */

void cl__crc_check_free(cl__crc_check *k) {
  if (!k) return;
  free(k->sums);
  free(k->verified);
  memset(k, 0, sizeof *k);
}

static int read_i64_attr(hid_t obj, const char *name, int64_t *v) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return 0;
  hid_t sp = H5Aget_space(a);
  int ok = sp >= 0 && H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_INT64, v) >= 0;
  if (sp >= 0) H5Sclose(sp);
  H5Aclose(a);
  return ok;
}

int cl__crc_check_load(cl__crc_check *k, hid_t dset, uint64_t n_records) {
  memset(k, 0, sizeof *k);
  int have = 0;
  H5E_BEGIN_TRY {
    have = H5Aexists(dset, CL_CRC_ATTR_SUMS) > 0;
  }
  H5E_END_TRY;
  if (!have) return 0;
  int64_t b = 0, r = 0;
  int ok = 0, truncated = 0;
  H5E_BEGIN_TRY {
    ok = read_i64_attr(dset, CL_CRC_ATTR_BLOCK, &b) && read_i64_attr(dset, CL_CRC_ATTR_RECORDS, &r);
    /* Sane bounds: a block fits the reader's buffer, the sums cover at most the table. */
    ok = ok && b > 0 && b <= CL_CRC_MAX_BLOCK && r > 0;
    if (ok && (uint64_t)r > n_records) truncated = 1, ok = 0;
    hid_t a = ok ? H5Aopen(dset, CL_CRC_ATTR_SUMS, H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t sp = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    uint64_t want = ok ? ((uint64_t)r + (uint64_t)b - 1) / (uint64_t)b : 0;
    ok = ok && sp >= 0 && H5Sget_simple_extent_npoints(sp) == (hssize_t)want;
    if (ok) {
      k->sums = malloc(want * sizeof *k->sums);
      k->verified = calloc(want, 1);
      ok = k->sums && k->verified && H5Aread(a, H5T_NATIVE_UINT32, k->sums) >= 0;
    }
    if (sp >= 0) H5Sclose(sp);
    if (a >= 0) H5Aclose(a);
  }
  H5E_END_TRY;
  if (!ok) {
    cl__crc_check_free(k);
    k->records = truncated ? (uint64_t)r : 0;
    return truncated ? -2 : -1;
  }
  k->block = (uint64_t)b;
  k->records = (uint64_t)r;
  k->n_sums = (size_t)((k->records + k->block - 1) / k->block);
  return 1;
}

int cl__crc_check_range(cl__crc_check *k, hid_t dset, uint64_t start, uint64_t n, uint64_t *bad_first,
                        uint64_t *bad_last) {
  if (!k->sums || n == 0 || start >= k->records) return 0;
  uint64_t end = start + n < k->records ? start + n : k->records;
  uint64_t b0 = start / k->block, b1 = (end - 1) / k->block;
  hid_t ft = H5Dget_type(dset), fs = H5Dget_space(dset);
  cl__crc_layout L = {0};
  unsigned char *buf = NULL;
  int st = -1;
  if (ft < 0 || fs < 0 || cl__crc_layout_init(ft, &L) != CL_OK) goto done;
  if (!(buf = malloc((size_t)k->block * L.rec_size))) goto done;
  st = 0;
  for (uint64_t b = b0; b <= b1 && st == 0; b++) {
    if (k->verified[b]) continue;
    hsize_t s0 = b * k->block, cnt = k->records - s0 < k->block ? k->records - s0 : k->block;
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    herr_t e = -1;
    H5E_BEGIN_TRY {
      if (ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &s0, NULL, &cnt, NULL) >= 0)
        e = H5Dread(dset, ft, ms, fs, H5P_DEFAULT, buf);
    }
    H5E_END_TRY;
    if (ms >= 0) H5Sclose(ms);
    if (e < 0) {
      st = -1;
      break;
    }
    if (cl__crc_records(&L, 0, buf, (size_t)cnt) != k->sums[b]) {
      *bad_first = s0;
      *bad_last = s0 + cnt - 1;
      st = 1;
      break;
    }
    k->verified[b] = 1;
  }
done:
  free(buf);
  cl__crc_layout_free(&L);
  if (fs >= 0) H5Sclose(fs);
  if (ft >= 0) H5Tclose(ft);
  return st;
}
