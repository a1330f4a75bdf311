/* Growable arrays and blocks of arrays (see cleave/vec.h). */
#include "cleave/vec.h"

#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

cl_status cl_vec_reserve(void **arr, int *cap, int need, size_t elem, int first) {
  if (need <= *cap) return CL_OK;
  int nc = *cap > 0 ? *cap : (first > 0 ? first : 1);
  while (nc < need) {
    if (nc > INT_MAX / 2) return CL_ERR_NOMEM;
    nc *= 2;
  }
  void *p = realloc(*arr, (size_t)nc * elem);
  if (!p) return CL_ERR_NOMEM;
  *arr = p;
  *cap = nc;
  return CL_OK;
}

cl_status cl_block_alloc(const cl_block_part *parts, int n) {
  const size_t al = alignof(max_align_t);
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    if (parts[i].elem && parts[i].count > (SIZE_MAX - total) / parts[i].elem) return CL_ERR_NOMEM;
    total += (parts[i].count * parts[i].elem + al - 1) / al * al;
  }
  unsigned char *blk = calloc(1, total ? total : 1);
  if (!blk) return CL_ERR_NOMEM;
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    *parts[i].out = blk + off;
    off += (parts[i].count * parts[i].elem + al - 1) / al * al;
  }
  return CL_OK;
}
