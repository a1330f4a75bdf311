/** @file vec.h
 *  @brief Arrays: one capacity-doubling helper for every `T *v; int n, cap;` triple in
 *         the tree, and blocks that hold several fixed-size arrays in one allocation.
 *
 *  Ownership: arrays stay the caller's; a growable array is released with free(), a
 *  block with free() of its first part.
 */
#ifndef CLEAVE_VEC_H
#define CLEAVE_VEC_H

#include <stddef.h>

#include "cleave/status.h"

/** @brief Make the array *@p arr (elements of @p elem bytes, capacity *@p cap elements)
 *  hold at least @p need elements. A new capacity starts at @p first (or *cap) and
 *  doubles until it is large enough; the contents are kept. On CL_ERR_NOMEM *arr and
 *  *cap are unchanged (the old array is still valid and still the caller's). */
cl_status cl_vec_reserve(void **arr, int *cap, int need, size_t elem, int first);

/** Typed use: `CL_VEC_RESERVE(s->items, s->cap, s->n + 1, 8)`. */
#define CL_VEC_RESERVE(arr, cap, need, first) \
  cl_vec_reserve((void **)&(arr), &(cap), (need), sizeof *(arr), (first))

/** One array of a block: *out receives its address; count elements of elem bytes. */
typedef struct cl_block_part {
  void **out;
  size_t count, elem;
} cl_block_part;

/** Typed part: `CL_BLOCK_PART(r->busy, n)`. */
#define CL_BLOCK_PART(ptr, count) {(void **)&(ptr), (count), sizeof *(ptr)}

/** @brief Allocate one zeroed block holding the @p n parts in order (each aligned for any
 *  type) and point each part's *out into it. The block starts at parts[0]: free() of that
 *  pointer releases every part. CL_ERR_NOMEM leaves every *out unchanged. */
cl_status cl_block_alloc(const cl_block_part *parts, int n);

#endif
