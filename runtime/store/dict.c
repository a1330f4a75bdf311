/* Dictionary string tables: /strings/<name> holds (id, name) rows so that records can
 * store small int32 ids instead of repeating strings. Ids are dense: 0, 1, 2, ...
 * in order of first use; a dictionary reopened for appending continues its ids. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "cleave/vec.h"


static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Slot holding @p str, or the empty slot where it would go. */
static size_t find_slot(const cl_dict *d, const char *str) {
  size_t i = hash_str(str) & (d->nslots - 1);
  while (d->slots[i] && strcmp(d->strs[d->slots[i] - 1], str)) i = (i + 1) & (d->nslots - 1);
  return i;
}

static cl_status grow(cl_dict *d) {
  CL_TRY(CL_VEC_RESERVE(d->strs, d->cap, d->n + 1, 64));
  if ((size_t)(d->n + 1) * 2 > d->nslots) {
    size_t nn = d->nslots ? 2 * d->nslots : 128;
    int32_t *old = d->slots;
    size_t oldn = d->nslots;
    d->slots = calloc(nn, sizeof *d->slots);
    if (!d->slots) {
      d->slots = old;
      return CL_ERR_NOMEM;
    }
    d->nslots = nn;
    for (size_t i = 0; i < oldn; i++)
      if (old[i]) d->slots[find_slot(d, d->strs[old[i] - 1])] = old[i];
    free(old);
  }
  return CL_OK;
}

/* Add @p str with id d->n to the in-memory index (no file write). */
static cl_status index_add(cl_dict *d, const char *str) {
  CL_TRY(grow(d));
  char *c = cl__strdup(str);
  if (!c) return CL_ERR_NOMEM;
  d->strs[d->n] = c;
  d->slots[find_slot(d, str)] = d->n + 1;
  d->n++;
  return CL_OK;
}

void cl__dict_free(cl_dict *d);
void cl__dict_free(cl_dict *d) {
  if (!d) return;
  for (int32_t i = 0; i < d->n; i++) free(d->strs[i]);
  free(d->strs);
  free(d->slots);
  free(d->name);
  free(d);
}

static int valid_name(const char *n) {
  if (!n || !*n || strlen(n) > 64) return 0;
  for (; *n; n++)
    if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') || *n == '_'))
      return 0;
  return 1;
}

cl_status cl_store_dict(cl_store *s, const char *name, cl_dict **out) {
  if (!s || !out) return CL_ERR_INVALID;
  *out = NULL;
  if (!valid_name(name)) {
    cl_log_error("store: invalid dictionary name '%s' (letters, digits, '_')", name ? name : "(null)");
    return CL_ERR_INVALID;
  }
  for (int i = 0; i < s->n_dicts; i++)
    if (!strcmp(s->dicts[i]->name, name)) {
      *out = s->dicts[i];
      return CL_OK;
    }
  CL_TRY(CL_VEC_RESERVE(s->dicts, s->cap_dicts, s->n_dicts + 1, 4));
  char path[96];
  snprintf(path, sizeof path, "/strings/%s", name);
  cl_table_desc desc = CL_REC_DICTS;
  desc.path = path;
  desc.chunk_records = 1024;
  cl_dict *d = calloc(1, sizeof *d);
  if (!d) return CL_ERR_NOMEM;
  d->store = s;
  cl_status st = (d->name = cl__strdup(name)) ? CL_OK : CL_ERR_NOMEM;
  if (st == CL_OK) st = cl__store_table(s, &desc, 1, &d->table);
  /* Reopened file: load the existing entries; ids must be 0..n-1 in order. */
  uint64_t n = st == CL_OK ? cl_table_count(d->table) : 0;
  cl__dict_rec r;
  for (uint64_t i = 0; st == CL_OK && i < n; i++) {
    st = cl_table_read(d->table, i, 1, &r);
    r.name[CL_DICT_MAXLEN] = '\0';
    if (st == CL_OK && r.id != (int32_t)i) {
      cl_log_error("store: dictionary '%s' in '%s' is damaged (row %llu has id %d)", path, s->path,
                   (unsigned long long)i, (int)r.id);
      st = CL_ERR_INVALID;
    }
    if (st == CL_OK) st = index_add(d, r.name);
  }
  if (st != CL_OK) {
    cl__dict_free(d);
    return st;
  }
  s->dicts[s->n_dicts++] = d;
  *out = d;
  return CL_OK;
}

cl_status cl_dict_id(cl_dict *d, const char *str, int32_t *id) {
  if (!d || !str || !id) return CL_ERR_INVALID;
  if (d->nslots) {
    size_t i = find_slot(d, str);
    if (d->slots[i]) {
      *id = d->slots[i] - 1;
      return CL_OK;
    }
  }
  size_t len = strlen(str);
  if (len > CL_DICT_MAXLEN) {
    cl_log_error("store: string of %zu chars for dictionary '%s' exceeds %d: '%.40s...'", len,
                 d->name, CL_DICT_MAXLEN, str);
    return CL_ERR_INVALID;
  }
  cl__dict_rec r;
  memset(&r, 0, sizeof r);
  r.id = d->n;
  memcpy(r.name, str, len);
  CL_TRY(cl_table_append(d->table, &r, 1));
  CL_TRY(index_add(d, str));
  *id = r.id;
  return CL_OK;
}

const char *cl_dict_str(const cl_dict *d, int32_t id) {
  return d && id >= 0 && id < d->n ? d->strs[id] : NULL;
}

int32_t cl_dict_count(const cl_dict *d) { return d ? d->n : 0; }
