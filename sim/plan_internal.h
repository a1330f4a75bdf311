/* Internal to the planner interface (sim/plan_*.c): adapters and shared helpers. */
#ifndef CLEAVE_SIM_PLAN_INTERNAL_H
#define CLEAVE_SIM_PLAN_INTERNAL_H

#include "cleave/plan.h"

/* Adapters, one per row of the planner table (sim/plan_registry.c). */
cl_status cl__plan_scission(const cl_plan_input *in, cl_plan_result *out);
cl_status cl__plan_neurosurgeon(const cl_plan_input *in, cl_plan_result *out);
cl_status cl__plan_dads(const cl_plan_input *in, cl_plan_result *out);
cl_status cl__plan_coedge(const cl_plan_input *in, cl_plan_result *out);
cl_status cl__plan_modnn(const cl_plan_input *in, cl_plan_result *out);
cl_status cl__plan_deepthings(const cl_plan_input *in, cl_plan_result *out);
cl_status cl__plan_local(const cl_plan_input *in, cl_plan_result *out);
cl_status cl__plan_cloud(const cl_plan_input *in, cl_plan_result *out);

/* Link a -> b (else b -> a, else the input's default): 1 if found. */
int cl__plan_link(const cl_plan_input *in, int a, int b, double *lat, double *bw);
/* The "cloud" machine of two-node planners: first of tier cloud (index >= 1), else the last. */
int cl__plan_cloud_machine(const cl_plan_input *in);
/* Load factor of machine m (in->load_factor, default 1). */
double cl__plan_load(const cl_plan_input *in, int m);
/* Copy placement @p nou into @p r and evaluate it with cl_plan_eval (deadline -> feasible). */
cl_status cl__plan_set_units(const cl_plan_input *in, const int *nou, cl_plan_result *r);
/* printf into a freshly allocated string (NULL on failure). */
char *cl__plan_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 if @p md's layers are cleave profile steps with a known DAG. */
int cl__plan_steps_known(const cl_profile_model *md);
/* 1 if machine @p m was loaded from a cleave .h5 profile. */
int cl__plan_is_h5(const cl_profile_machine *m);

#endif
