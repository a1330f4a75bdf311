/* ONNX protobuf access: tensor decoding and typed attribute getters. Every malformed or
 * unsupported field is logged with the tensor / node / attribute it belongs to. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

static const char *dtype_name(int32_t t) {
  static const char *names[] = {"UNDEFINED", "FLOAT",  "UINT8",  "INT8",      "UINT16",     "INT16",
                                "INT32",     "INT64",  "STRING", "BOOL",      "FLOAT16",    "DOUBLE",
                                "UINT32",    "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  return (t >= 0 && t < (int32_t)(sizeof names / sizeof names[0])) ? names[t] : "unknown";
}

void cl__onnx_const_fini(cl__onnx_const *c) {
  if (!c) return;
  free(c->f);
  free(c->i);
  c->f = NULL;
  c->i = NULL;
}

double cl__onnx_const_get(const cl__onnx_const *c, int64_t k) {
  return c->is_int ? (double)c->i[k] : (double)c->f[k];
}

/* @p mut: the same tensor when its float raw_data may be taken over instead of copied. */
static cl_status decode(Onnx__TensorProto *mut, const Onnx__TensorProto *t, const char *what, int allow_elided,
                        cl__onnx_const *c);

cl_status cl__onnx_const_decode(const Onnx__TensorProto *t, const char *what, cl__onnx_const *c) {
  return decode(NULL, t, what, 0, c);
}

cl_status cl__onnx_const_decode_ex(const Onnx__TensorProto *t, const char *what, int allow_elided,
                                   cl__onnx_const *c) {
  return decode(NULL, t, what, allow_elided, c);
}

cl_status cl__onnx_const_take(Onnx__TensorProto *t, const char *what, int allow_elided, cl__onnx_const *c) {
  CL_TRY(decode(t, t, what, allow_elided, c));
  if (t->has_raw_data && t->raw_data.data) { /* not taken (ints, or copied): release it now */
    free(t->raw_data.data);
    t->raw_data.data = NULL;
    t->raw_data.len = 0;
  }
  return CL_OK;
}

static cl_status decode(Onnx__TensorProto *mut, const Onnx__TensorProto *t, const char *what, int allow_elided,
                        cl__onnx_const *c) {
  memset(c, 0, sizeof *c);
  if ((t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
      t->n_external_data) {
    cl_log_error("onnx: %s stores its data in an external file; only self-contained models are "
                 "supported (re-export without external data)", what);
    return CL_ERR_UNSUPPORTED;
  }
  if (t->segment) {
    cl_log_error("onnx: %s is a segmented tensor, which is not supported", what);
    return CL_ERR_UNSUPPORTED;
  }
  if (t->n_dims > CL__ONNX_MAX_RANK) {
    cl_log_error("onnx: %s has rank %zu (at most %d supported)", what, t->n_dims, CL__ONNX_MAX_RANK);
    return CL_ERR_UNSUPPORTED;
  }
  c->rank = (int)t->n_dims;
  int64_t numel = 1;
  for (size_t k = 0; k < t->n_dims; k++) {
    /* 2^34 elements (64 GiB of float32) bounds any real model and keeps numel exact. */
    if (t->dims[k] < 0 || (t->dims[k] > 0 && numel > (INT64_C(1) << 34) / t->dims[k])) {
      cl_log_error("onnx: %s has invalid dimension %lld at axis %zu", what, (long long)t->dims[k], k);
      return CL_ERR_INVALID;
    }
    c->dims[k] = t->dims[k];
    numel *= t->dims[k];
  }
  c->numel = numel;
  const int32_t dt = t->has_data_type ? t->data_type : 0;
  const size_t n = (size_t)numel;
  if (allow_elided && dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && t->doc_string &&
      !strcmp(t->doc_string, CL__ONNX_ELIDED)) {
    c->elided = 1; /* dims only: cl__onnx_skim() checked the data against them */
    return CL_OK;
  }
  if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    if (mut && n && mut->has_raw_data && mut->raw_data.len == n * sizeof(float) &&
        (uintptr_t)mut->raw_data.data % _Alignof(float) == 0) {
      /* Take protobuf-c's malloc'd copy (freed with free() like any other) instead of
       * copying 500 MB of VGG weights once more; raw_data is little-endian IEEE 754. */
      c->f = (float *)(void *)mut->raw_data.data;
      mut->raw_data.data = NULL;
      mut->raw_data.len = 0;
      return CL_OK;
    }
    /* Sizes are checked before allocating: dims may claim 2^34 values over a few bytes. */
    const int raw = t->has_raw_data && t->raw_data.len;
    if (raw && t->raw_data.len != n * sizeof(float)) {
      cl_log_error("onnx: %s: raw_data has %zu bytes, dims need %zu (%lld float32 values); "
                   "the file is truncated or corrupt", what, t->raw_data.len, n * sizeof(float), (long long)numel);
      return CL_ERR_INVALID;
    }
    if (!raw && t->n_float_data != n) {
      cl_log_error("onnx: %s: float_data has %zu values, dims need %lld", what, t->n_float_data, (long long)numel);
      return CL_ERR_INVALID;
    }
    c->f = malloc(sizeof(float) * (n ? n : 1));
    if (!c->f) return CL_ERR_NOMEM;
    /* raw_data is little-endian IEEE 754; cleave targets little-endian hosts. */
    if (n) memcpy(c->f, raw ? (const void *)t->raw_data.data : (const void *)t->float_data, n * sizeof(float));
    return CL_OK;
  }
  if (dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) {
    const size_t esz = dt == ONNX__TENSOR_PROTO__DATA_TYPE__INT64 ? 8 : 4;
    const int raw = t->has_raw_data && t->raw_data.len;
    const size_t have = raw ? t->raw_data.len / esz : esz == 8 ? t->n_int64_data : t->n_int32_data;
    if (raw ? t->raw_data.len != n * esz : have != n) {
      if (raw)
        cl_log_error("onnx: %s: raw_data has %zu bytes, dims need %zu; the file is truncated or corrupt", what,
                     t->raw_data.len, n * esz);
      else
        cl_log_error("onnx: %s: %s has %zu values, dims need %lld", what, esz == 8 ? "int64_data" : "int32_data",
                     have, (long long)numel);
      return CL_ERR_INVALID;
    }
    c->is_int = 1;
    c->i = malloc(sizeof(int64_t) * (n ? n : 1));
    if (!c->i) return CL_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
      if (!raw) {
        c->i[k] = esz == 8 ? t->int64_data[k] : t->int32_data[k];
      } else if (esz == 8) {
        int64_t v;
        memcpy(&v, t->raw_data.data + 8 * k, 8);
        c->i[k] = v;
      } else {
        int32_t v;
        memcpy(&v, t->raw_data.data + 4 * k, 4);
        c->i[k] = v;
      }
    }
    return CL_OK;
  }
  cl_log_error("onnx: %s has data type %s (%d); cleave imports FLOAT weights and INT64/INT32 "
               "shape constants only", what, dtype_name(dt), (int)dt);
  return CL_ERR_UNSUPPORTED;
}

const Onnx__AttributeProto *cl__onnx_attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t k = 0; k < n->n_attribute; k++)
    if (n->attribute[k]->name && !strcmp(n->attribute[k]->name, name)) return n->attribute[k];
  return NULL;
}

const char *cl__onnx_node_label(const Onnx__NodeProto *n, int idx, char *buf, size_t cap) {
  if (n->name && n->name[0])
    snprintf(buf, cap, "%s node '%s'", n->op_type ? n->op_type : "?", n->name);
  else
    snprintf(buf, cap, "%s node #%d", n->op_type ? n->op_type : "?", idx);
  return buf;
}

static cl_status wrong_type(const Onnx__NodeProto *n, const Onnx__AttributeProto *a, const char *want) {
  cl_log_error("onnx: %s node '%s': attribute '%s' has type %d, expected %s", n->op_type,
               n->name ? n->name : "", a->name, a->has_type ? (int)a->type : -1, want);
  return CL_ERR_INVALID;
}

cl_status cl__onnx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def, int64_t *out) {
  const Onnx__AttributeProto *a = cl__onnx_attr(n, name);
  *out = def;
  if (!a) return CL_OK;
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) return wrong_type(n, a, "INT");
  *out = a->i;
  return CL_OK;
}

cl_status cl__onnx_attr_float(const Onnx__NodeProto *n, const char *name, float def, float *out) {
  const Onnx__AttributeProto *a = cl__onnx_attr(n, name);
  *out = def;
  if (!a) return CL_OK;
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)
    return wrong_type(n, a, "FLOAT");
  *out = a->f;
  return CL_OK;
}

cl_status cl__onnx_attr_ints(const Onnx__NodeProto *n, const char *name, int64_t *out, int cap,
                             int *n_out) {
  const Onnx__AttributeProto *a = cl__onnx_attr(n, name);
  *n_out = 0;
  if (!a) return CL_OK;
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) return wrong_type(n, a, "INTS");
  if (a->n_ints > (size_t)cap) {
    cl_log_error("onnx: %s node '%s': attribute '%s' has %zu values, at most %d supported", n->op_type,
                 n->name ? n->name : "", name, a->n_ints, cap);
    return CL_ERR_UNSUPPORTED;
  }
  for (size_t k = 0; k < a->n_ints; k++) out[k] = a->ints[k];
  *n_out = (int)a->n_ints;
  return CL_OK;
}

cl_status cl__onnx_attr_str(const Onnx__NodeProto *n, const char *name, const char *def, char *buf,
                            size_t cap) {
  const Onnx__AttributeProto *a = cl__onnx_attr(n, name);
  if (!a) {
    snprintf(buf, cap, "%s", def);
    return CL_OK;
  }
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
    return wrong_type(n, a, "STRING");
  size_t len = a->s.len < cap - 1 ? a->s.len : cap - 1;
  if (len) memcpy(buf, a->s.data, len);
  buf[len] = '\0';
  return CL_OK;
}
