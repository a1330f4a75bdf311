/* Subcommands of the cleave CLI: one file per subcommand (apps/cmd_<name>.c).
 * Each returns the process exit code: 0 ok, 1 runtime failure, 2 bad usage/input. */
#ifndef CLEAVE_APPS_COMMANDS_H
#define CLEAVE_APPS_COMMANDS_H

int cl__cmd_models(int argc, char **argv);
int cl__cmd_infer(int argc, char **argv);
int cl__cmd_profile(int argc, char **argv);
int cl__cmd_report(int argc, char **argv);
int cl__cmd_merge(int argc, char **argv);
int cl__cmd_run(int argc, char **argv);
int cl__cmd_sim(int argc, char **argv);
int cl__cmd_plan(int argc, char **argv);
/* cleave plan coedge (apps/cmd_plan_coedge.c), dispatched from cmd_plan.c. */
int cl__cmd_plan_coedge(int argc, char **argv);
int cl__cmd_sweep(int argc, char **argv);
int cl__cmd_devices(int argc, char **argv);
int cl__cmd_calibrate(int argc, char **argv);

/* The full command line, for provenance (set by main). */
extern int cl__argc;
extern char **cl__argv;

#endif
