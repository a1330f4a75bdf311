/* Structure-only ONNX import, first stage: rewrite the serialized ModelProto without
 * the data of its large float32 initializers, straight on the protobuf wire format.
 *
 * A structure-only import (cl_onnx_opts.structure_only) needs every initializer's dims
 * and the values of small constants (Clip bounds, Reshape shapes, Pad amounts), but
 * none of the weights. protobuf-c copies every bytes field when it unpacks, so parsing
 * a 528 MB VGG-16 just to drop its weights costs a full copy of the file; skimming the
 * wire format first leaves a few kilobytes to unpack. An elided tensor keeps its
 * dims and data type, loses raw_data / float_data / doc_string, and gets the doc_string
 * CL__ONNX_ELIDED, which cl__onnx_const_decode() honours only in structure-only imports.
 *
 * Only the path ModelProto.graph (7) -> GraphProto.initializer (5) is rewritten; every
 * other field is copied byte for byte. Tensors whose data does not match their dims,
 * or that use external data or segments, are kept whole so that the importer reports
 * them exactly as a full import would. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

/* Initializers with at most this many values keep their data (scalars, shapes, pads). */
#define CL__ONNX_SKIM_KEEP 64

typedef struct wbuf {
  uint8_t *p;
  size_t n, cap;
  int oom;
} wbuf;

static void put_bytes(wbuf *b, const void *src, size_t n) {
  if (b->oom || !n) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + n) cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, src, n);
  b->n += n;
}

static void put_varint(wbuf *b, uint64_t v) {
  uint8_t tmp[10];
  size_t n = 0;
  do {
    tmp[n] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v) tmp[n] |= 0x80;
    n++;
  } while (v);
  put_bytes(b, tmp, n);
}

/* Reads a varint at *p (< end); 0 on malformed input. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (*p >= end) return 0;
    uint8_t c = *(*p)++;
    r |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *v = r;
      return 1;
    }
  }
  return 0;
}

/* One field at *p: number, wire type, payload [*pay, *pay + *len) (varint/fixed: the
 * encoded bytes), and *p advanced past it. 0 on malformed input (groups included). */
typedef struct field {
  uint32_t num, wt;
  const uint8_t *start, *pay;
  size_t len;
  uint64_t val; /* wire type 0 */
} field;

static int next_field(const uint8_t **p, const uint8_t *end, field *f) {
  f->start = *p;
  uint64_t tag;
  if (!get_varint(p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX) return 0;
  f->num = (uint32_t)(tag >> 3);
  f->wt = (uint32_t)(tag & 7);
  f->pay = *p;
  switch (f->wt) {
    case 0:
      if (!get_varint(p, end, &f->val)) return 0;
      break;
    case 1:
    case 5: {
      size_t w = f->wt == 1 ? 8 : 4;
      if ((size_t)(end - *p) < w) return 0;
      *p += w;
      break;
    }
    case 2: {
      uint64_t l;
      if (!get_varint(p, end, &l) || l > (uint64_t)(end - *p)) return 0;
      f->pay = *p;
      *p += l;
      break;
    }
    default:
      return 0;
  }
  f->len = (size_t)(*p - f->pay);
  return 1;
}

/* Copies one TensorProto, eliding its float data when it is large and well-formed. */
static int skim_tensor(const uint8_t *t, size_t len, wbuf *o) {
  const uint8_t *p = t, *end = t + len;
  int64_t numel = 1;
  int ndims = 0, bad_dims = 0, other = 0;
  int64_t dtype = 0, loc = 0;
  size_t raw_len = 0, n_float = 0;
  int has_raw = 0;
  field f;
  while (p < end) {
    if (!next_field(&p, end, &f)) return 0;
    if (f.num == 1 && (f.wt == 0 || f.wt == 2)) { /* dims, plain or packed */
      const uint8_t *q = f.pay, *qe = f.pay + f.len;
      uint64_t v = f.val;
      do {
        if (f.wt == 2 && !get_varint(&q, qe, &v)) return 0;
        const int64_t d = (int64_t)v;
        ndims++;
        if (d < 0 || (d > 0 && numel > (INT64_C(1) << 34) / d)) bad_dims = 1;
        else numel *= d;
      } while (f.wt == 2 && q < qe);
    } else if (f.num == 2 && f.wt == 0) {
      dtype = (int64_t)f.val;
    } else if (f.num == 9 && f.wt == 2) {
      has_raw = 1;
      raw_len = f.len;
    } else if (f.num == 4) {
      n_float += f.wt == 2 ? f.len / 4 : f.wt == 5 ? 1 : 0;
      if (f.wt == 2 && f.len % 4) other = 1;
    } else if (f.num == 14 && f.wt == 0) {
      loc = (int64_t)f.val;
    } else if (f.num == 3 || f.num == 13 || f.num == 5 || f.num == 7 || f.num == 10 || f.num == 11) {
      other = 1; /* segment, external data, data in another type's field */
    }
  }
  const int data_ok = (has_raw && raw_len) ? raw_len == (size_t)numel * 4 && !n_float : n_float == (size_t)numel;
  const int elide = dtype == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && !bad_dims && ndims <= CL__ONNX_MAX_RANK &&
                    !other && loc != ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL && numel > CL__ONNX_SKIM_KEEP &&
                    data_ok;
  if (!elide) {
    put_bytes(o, t, len);
    return 1;
  }
  for (p = t; p < end;) {
    next_field(&p, end, &f); /* parsed once above */
    if (f.num == 4 || f.num == 9 || f.num == 12) continue;
    put_bytes(o, f.start, (size_t)(p - f.start));
  }
  const size_t ml = strlen(CL__ONNX_ELIDED);
  put_varint(o, (12u << 3) | 2u);
  put_varint(o, ml);
  put_bytes(o, CL__ONNX_ELIDED, ml);
  return 1;
}

/* Copies a GraphProto, skimming its initializers (field 5). */
static int skim_graph(const uint8_t *g, size_t len, wbuf *o) {
  const uint8_t *p = g, *end = g + len;
  field f;
  wbuf t = {0};
  int ok = 1;
  while (ok && p < end) {
    if (!next_field(&p, end, &f)) {
      ok = 0;
      break;
    }
    if (f.num == 5 && f.wt == 2) {
      t.n = 0;
      if (!(ok = skim_tensor(f.pay, f.len, &t))) break;
      put_varint(o, (5u << 3) | 2u);
      put_varint(o, t.n);
      put_bytes(o, t.p, t.n);
      if (t.oom) o->oom = 1;
    } else {
      put_bytes(o, f.start, (size_t)(p - f.start));
    }
  }
  free(t.p);
  return ok;
}

cl_status cl__onnx_skim(const void *buf, size_t len, const char *model, uint8_t **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  const uint8_t *p = buf, *end = p + len;
  wbuf o = {0}, g = {0};
  field f;
  int ok = 1;
  while (ok && p < end) {
    if (!next_field(&p, end, &f)) {
      ok = 0;
      break;
    }
    if (f.num == 7 && f.wt == 2) {
      g.n = 0;
      if (!(ok = skim_graph(f.pay, f.len, &g))) break;
      if (g.oom) o.oom = 1;
      put_varint(&o, (7u << 3) | 2u);
      put_varint(&o, g.n);
      put_bytes(&o, g.p, g.n);
    } else {
      put_bytes(&o, f.start, (size_t)(p - f.start));
    }
  }
  free(g.p);
  if (!ok) {
    free(o.p);
    cl_log_error("onnx: %s: not a valid ONNX model: the protobuf does not parse (%zu bytes; truncated or "
                 "corrupt file?)", model, len);
    return CL_ERR_INVALID;
  }
  if (o.oom) {
    free(o.p);
    cl_log_error("onnx: %s: out of memory skimming the model", model);
    return CL_ERR_NOMEM;
  }
  if (!o.p) { /* empty message: keep a valid (empty) buffer */
    o.p = malloc(1);
    if (!o.p) return CL_ERR_NOMEM;
  }
  *out = o.p;
  *out_len = o.n;
  return CL_OK;
}

/* ---- nesting bound ------------------------------------------------------------------
 * protobuf-c unpacks nested messages recursively with no depth limit, so a file of a
 * few megabytes nesting subgraphs (NodeProto.attribute -> AttributeProto.g -> GraphProto
 * .node -> ...) or types (TypeProto.sequence_type -> elem_type -> ...) a hundred
 * thousand deep overflows the stack. Walk the wire format first, iteratively, following
 * exactly the fields protobuf-c would unpack as messages (from its descriptors), and
 * refuse anything nested deeper than protobuf's own default recursion limit. */
cl_status cl__onnx_check_depth(const void *buf, size_t len, const char *model) {
  struct frame {
    const uint8_t *p, *end;
    const ProtobufCMessageDescriptor *d;
  } st[CL__ONNX_MAX_DEPTH];
  int top = 0;
  st[0] = (struct frame){buf, (const uint8_t *)buf + len, &onnx__model_proto__descriptor};
  while (top >= 0) {
    struct frame *fr = &st[top];
    if (fr->p >= fr->end) {
      top--;
      continue;
    }
    field f;
    if (!next_field(&fr->p, fr->end, &f)) {
      cl_log_error("onnx: %s: not a valid ONNX model: the protobuf does not parse (%zu bytes; truncated or "
                   "corrupt file?)", model, len);
      return CL_ERR_INVALID;
    }
    const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(fr->d, f.num);
    if (f.wt != 2 || !fd || fd->type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if (top + 1 >= CL__ONNX_MAX_DEPTH) {
      cl_log_error("onnx: %s: messages nest more than %d deep (subgraphs or types inside each other); "
                   "refused before unpacking (a crafted or corrupt file?)", model, CL__ONNX_MAX_DEPTH);
      return CL_ERR_INVALID;
    }
    st[++top] = (struct frame){f.pay, f.pay + f.len, fd->descriptor};
  }
  return CL_OK;
}
