/* Internal helpers shared by runtime/testbed*.c. */
#ifndef CLEAVE_TESTBED_INTERNAL_H
#define CLEAVE_TESTBED_INTERNAL_H

#include "cleave/config.h"
#include "cleave/testbed.h"

char *cl__tb_strdup(const char *s);
/** Parse the `plan:` key of @p root into tb->plan (nodes must be parsed already). */
cl_status cl__tb_parse_plan(cl_testbed *tb, cl_config_node *root);
void cl__tb_plan_free(cl_tb_plan *p);
/* A sequence of distinct compute-node names -> *out (allocated, owned by the caller even on
 * error), *n_out; errors name the entry. */
cl_status cl__tb_parse_node_list(const cl_testbed *tb, cl_config_node *seq, int **out, int *n_out);
/** Parse `users:` (after nodes and the top-level plan); runtime/testbed_users.c. */
cl_status cl__tb_parse_users(cl_testbed *tb, cl_config_node *root, const char *base);
void cl__tb_users_free(cl_testbed *tb);
/** @p rel resolved against directory @p base ("" = as is); caller frees. */
char *cl__tb_resolve_path(const char *base, const char *rel);

#endif
