/* The table of experiment kinds of the program: runtime's (testbed, adaptive) and sim's
 * (coedge, plan, users). It lives in cleave_sim, the layer that sees both, so runtime/ never
 * includes a sim/ header. A new kind is one file and one row here. */
#include <stddef.h>

#include "cleave/sweep_kind.h"

static const cl_sweep_kind_i *const g_kinds[] = {
    &cl_sweep_kind_testbed,
    &cl_sweep_kind_adaptive,
    &cl_sweep_kind_coedge,
    &cl_sweep_kind_plan,
    &cl_sweep_kind_users,
    NULL,
};

const cl_sweep_kind_i *const *cl_sweep_kinds_all(void) { return g_kinds; }
