/** @file partition.h
 *  @brief Partitioned execution over MPI: each rank runs the graph nodes placed on
 *  it; tensors that cross ranks really travel as MPI messages.
 *
 *  Messages: for each crossing tensor (producer node x, destination rank) one
 *  message with tag CL_TAG_TENSOR_BASE + x carrying an 8-double header and then
 *  the float32 data (packed in one buffer). Sends are non-blocking and completed
 *  before the producer's buffer is rewritten (next inference), so any placement,
 *  including ones with traffic in both directions, is deadlock-free.
 *
 *  Ownership: the partition borrows the graph (weights of local nodes must be
 *  initialised) and the communicator; it owns its executor and message buffers.
 */
#ifndef CLEAVE_PARTITION_H
#define CLEAVE_PARTITION_H

#include <mpi.h>

#include "cleave/exec.h"
#include "cleave/graph.h"

/** All MPI tags used by cleave, in one place. */
enum cl_mpi_tag {
  CL_TAG_CTRL = 1,        /* control messages (config, errors) */
  CL_TAG_GATHER = 2,      /* record gathering to rank 0 */
  CL_TAG_WORK = 3,        /* sweep work queue requests/assignments */
  CL_TAG_TENSOR_BASE = 64 /* + producer node id: a tensor crossing ranks */
};

/** @p rc of an MPI call on a communicator with MPI_ERRORS_RETURN: CL_OK, or CL_ERR_MPI
 *  after logging "MPI <what> failed: <MPI's message>". */
cl_status cl_mpi_check(int rc, const char *what);

/** Header carried in front of every tensor message (doubles). */
enum { CL_MSG_HDR = 4 }; /* [0] inference, [1] sender wall send-start (s), [2] bytes, [3] reserved */

/** Hooks for wall-clock emulation; any may be NULL. Times are CLOCK_MONOTONIC seconds. */
typedef struct cl_part_hooks {
  void *ctx;
  /** After step @p k ran for @p cpu seconds of thread CPU time (wall throttling). */
  void (*after_step)(void *ctx, int inference, int k, double cpu);
  /** Before sending node @p x's tensor to @p dst_rank: returns the emulated send start. */
  double (*before_send)(void *ctx, int inference, int x, int dst_rank, double bytes);
  /** After receiving node @p x from @p src_rank sent at @p send_start (emulated arrival wait). */
  void (*after_recv)(void *ctx, int inference, int x, int src_rank, double bytes, double send_start);
  /** Nonzero: complete each send before computing on (wall mode: a large message only
   *  moves while the sender is inside MPI, so leaving it pending would delay it by the
   *  sender's next compute step). Only safe when tensors never flow in a rank cycle. */
  int complete_sends;
  /** > 0: wait for tensor messages (receives, and sends completed eagerly) by testing
   *  every @p wait_poll seconds and sleeping in between instead of spinning inside MPI, so
   *  waiting ranks leave the cores to the ones that must wake on time (wall mode on an
   *  oversubscribed host). 0: block in MPI. */
  double wait_poll;
} cl_part_hooks;

/** Measurement of one step execution. */
typedef struct cl_part_sample {
  int inference;
  int step;
  double cpu;        /* seconds of thread CPU time */
  double wall_start; /* CLOCK_MONOTONIC seconds */
  double wall_end;
} cl_part_sample;

typedef struct cl_part cl_part;

/** @brief Create the partition for @p my_rank. @p rank_of_node[size(g)] gives each graph
 *  node's rank. Only local weights are needed. Kernels: the AUTO backend. */
cl_status cl_part_create(const cl_graph *g, const int *rank_of_node, MPI_Comm comm, int threads,
                         cl_part **out);
/** @brief As cl_part_create, with the executor's kernel backend. */
cl_status cl_part_create_backend(const cl_graph *g, const int *rank_of_node, MPI_Comm comm, int threads,
                                 cl_backend backend, cl_part **out);
void cl_part_destroy(cl_part *p);

/** @brief The local executor (NULL-free; may have zero steps on a rank with no nodes). */
cl_exec *cl_part_exec(cl_part *p);

/** @brief Use @p input (borrowed, numel of the graph input, or NULL for the seeded input)
 *  as every inference's input on the rank that holds the input node. */
void cl_part_set_input(cl_part *p, const float *input);

/** @brief Run inference @p inference (0-based) on this rank; appends one sample per local
 *  step. The input rank fills the input from @p input_seed unless cl_part_set_input gave one. */
cl_status cl_part_run(cl_part *p, int inference, uint64_t input_seed, const cl_part_hooks *hooks);
/** @brief Complete all outstanding sends (call before destroy or at the end). */
cl_status cl_part_finish(cl_part *p);

/** @brief Forget the samples recorded so far (after an untimed warm-up inference). */
void cl_part_reset_samples(cl_part *p);

/** @brief Samples recorded so far (borrowed). */
const cl_part_sample *cl_part_samples(const cl_part *p, int *n);

/** @brief Graph output buffer if this rank computes the output node, else NULL. */
const float *cl_part_output(cl_part *p);

#endif
