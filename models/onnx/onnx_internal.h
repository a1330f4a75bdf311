/* Internal helpers of the ONNX importer: protobuf access (onnx_proto.c) shared with the
 * op mappers (onnx_import.c). Not a public header. */
#ifndef CLEAVE_ONNX_INTERNAL_H
#define CLEAVE_ONNX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cleave/graph.h"
#include "cleave/status.h"
#include "onnx.pb-c.h"

#define CL__ONNX_MAX_RANK 8

/** A decoded constant tensor (initializer or Constant node): float32 or int64 data,
 *  converted from whichever protobuf field stored it. Owns f / i. */
typedef struct cl__onnx_const {
  int rank;
  int64_t dims[CL__ONNX_MAX_RANK];
  int64_t numel;
  int is_int; /* 1: i[] holds the values (INT64/INT32 tensors); 0: f[] (FLOAT) */
  float *f;
  int64_t *i;
  int elided; /* structure-only import: a float tensor whose data was skimmed away (f NULL) */
} cl__onnx_const;

/** doc_string that marks an initializer whose data cl__onnx_skim() removed. */
#define CL__ONNX_ELIDED "cleave:data-elided"

/** Rewrites the serialized ModelProto @p buf without the data of its large float32
 *  initializers (onnx_skim.c); *out (malloc'd, caller frees) is again a ModelProto.
 *  A buffer that is not a protobuf gives CL_ERR_INVALID, logged like a failed unpack. */
cl_status cl__onnx_skim(const void *buf, size_t len, const char *model, uint8_t **out, size_t *out_len);

/** Nesting limit of protobuf messages in a model (protobuf's default recursion limit). */
#define CL__ONNX_MAX_DEPTH 100
/** CL_ERR_INVALID (logged) unless the ModelProto in @p buf parses at the wire level and
 *  nests messages at most CL__ONNX_MAX_DEPTH deep; call before protobuf-c unpacks it
 *  (its recursion is unbounded). Linear in the number of fields, data never copied. */
cl_status cl__onnx_check_depth(const void *buf, size_t len, const char *model);

/** Decode tensor @p t into @p c (caller frees with cl__onnx_const_fini). @p what names
 *  the tensor in error messages ("initializer 'fc.weight'"). Float32, int64 and int32
 *  tensors are supported; anything else (float16, external data, ...) is an error. */
cl_status cl__onnx_const_decode(const Onnx__TensorProto *t, const char *what, cl__onnx_const *c);
/** As cl__onnx_const_decode, but a tensor marked CL__ONNX_ELIDED decodes to its dims with
 *  elided = 1 and no data (structure-only imports). */
cl_status cl__onnx_const_decode_ex(const Onnx__TensorProto *t, const char *what, int allow_elided,
                                   cl__onnx_const *c);
/** As cl__onnx_const_decode_ex, and then releases @p t's raw_data: float32 raw data of
 *  the right size is taken over (no copy), anything else is copied and freed. */
cl_status cl__onnx_const_take(Onnx__TensorProto *t, const char *what, int allow_elided, cl__onnx_const *c);
void cl__onnx_const_fini(cl__onnx_const *c);
/** Value k of c as a double (int or float storage). */
double cl__onnx_const_get(const cl__onnx_const *c, int64_t k);

/** Attribute @p name of node @p n, or NULL. */
const Onnx__AttributeProto *cl__onnx_attr(const Onnx__NodeProto *n, const char *name);
/** Integer attribute (type INT) or @p def when absent. Logs and returns CL_ERR_INVALID
 *  when the attribute has another type. */
cl_status cl__onnx_attr_int(const Onnx__NodeProto *n, const char *name, int64_t def, int64_t *out);
cl_status cl__onnx_attr_float(const Onnx__NodeProto *n, const char *name, float def, float *out);
/** INTS attribute: up to cap values into out, count in *n_out; absent: *n_out = 0. */
cl_status cl__onnx_attr_ints(const Onnx__NodeProto *n, const char *name, int64_t *out, int cap,
                             int *n_out);
/** STRING attribute into buf (NUL-terminated), or @p def when absent. */
cl_status cl__onnx_attr_str(const Onnx__NodeProto *n, const char *name, const char *def, char *buf,
                            size_t cap);

/** Printable node label for messages, "OpType node 'name'" (or "OpType node #idx" when
 *  unnamed), written into the caller's buffer. */
const char *cl__onnx_node_label(const Onnx__NodeProto *n, int idx, char *buf, size_t cap);

/* ---- importer state shared by onnx_import.c (driver) and onnx_ops.c (op mappers) ---- */

typedef enum { CL__ONNX_UNSET = 0, CL__ONNX_NODE, CL__ONNX_CONST, CL__ONNX_PAD, CL__ONNX_MATMUL, CL__ONNX_ALIAS } cl__onnx_vkind;

typedef struct cl__onnx_val {
  const char *name; /* borrowed from the protobuf */
  cl__onnx_vkind kind;
  int producer; /* ONNX node index, -1 for inputs / initializers */
  int used;     /* consumed by some node or a graph output */
  int node;     /* CL__ONNX_NODE, CL__ONNX_PAD, CL__ONNX_MATMUL: IR node id of the (source) tensor */
  int rank;     /* CL__ONNX_NODE, CL__ONNX_PAD: 4 or 2 */
  int alias;    /* CL__ONNX_ALIAS: index of the value this one equals (Identity) */
  /* CL__ONNX_CONST */
  Onnx__TensorProto *t; /* undecoded initializer (its raw bytes are released once decoded) */
  int decoded;
  cl__onnx_const c;
  /* CL__ONNX_PAD: t, l, b, r zeros */
  int pads[4];
  /* CL__ONNX_MATMUL: weights [N][K] (owned), N */
  float *mm_w;
  int mm_n;
} cl__onnx_val;

typedef struct cl__onnx_imp {
  const char *model; /* for messages */
  Onnx__GraphProto *g;
  int64_t opset;
  cl_graph *graph;
  cl__onnx_val *v;
  int nv, capv;
  int *hash; /* open addressing: index into v, or -1 */
  size_t hcap;
  char **paths; /* per ONNX node: module path of imported nodes (naming), else NULL */
  struct cl__onnx_smap *scopes; /* module path -> imported nodes with it, deeper paths */
  struct cl__onnx_smap *repeats; /* IR name -> next ":k" suffix to try */
  int structure_only; /* no weights: node->weights stay NULL, elided initializers accepted */
} cl__onnx_imp;

typedef struct cl__onnx_nctx {
  cl__onnx_imp *im;
  const Onnx__NodeProto *n;
  int idx;
  char label[320];
} cl__onnx_nctx;

#define CL__ONNX_ERR(cx, ...)                                                        \
  do {                                                                       \
    char cl__m_[1024];                                                       \
    snprintf(cl__m_, sizeof cl__m_, __VA_ARGS__);                            \
    cl_log_error("onnx: %s: %s: %s", (cx)->im->model, (cx)->label, cl__m_); \
  } while (0)


/* Helpers of onnx_import.c for the op mappers (see there). */
int cl__onnx_has_input(const cl__onnx_nctx *cx, size_t k);
cl__onnx_val *cl__onnx_input_val(cl__onnx_nctx *cx, size_t k);
cl_status cl__onnx_out_val(cl__onnx_nctx *cx, size_t k, cl__onnx_val **out);
int cl__onnx_output_used(const cl__onnx_nctx *cx, size_t k);
cl_status cl__onnx_const_of(cl__onnx_nctx *cx, cl__onnx_val *v, const char *what);
cl_status cl__onnx_const_input(cl__onnx_nctx *cx, size_t k, const char *what, cl__onnx_const **c);
int cl__onnx_add_node(cl__onnx_nctx *cx, cl_op op, const int *inputs, int n_in, const cl_op_params *p);
cl_status cl__onnx_set_node_out(cl__onnx_nctx *cx, int id, int rank);
/* FC node from a pending MatMul; @p bias (N values, may be NULL in a structure-only
 * import) is used when @p has_bias. */
int cl__onnx_emit_matmul(cl__onnx_imp *im, cl__onnx_val *v, const float *bias, int has_bias);
cl_status cl__onnx_node_input(cl__onnx_nctx *cx, size_t k, int *id, int *rank);
cl_shape cl__onnx_shape_of(const cl__onnx_imp *im, int id);
cl_status cl__onnx_set_weights(cl__onnx_nctx *cx, int id, const float *const *parts, const size_t *lens,
                               int n_parts);
/** Map one ONNX node (onnx_ops.c). */
cl_status cl__onnx_import_node(cl__onnx_nctx *cx);

#endif
