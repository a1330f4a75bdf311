# cleave sweep tests (included by tests/CMakeLists.txt).
# Malformed experiment files -> file:line errors, exit 2, nothing written.
add_test(NAME sweep_bad COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sweep_bad_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(sweep_bad PROPERTIES LABELS "unit" TIMEOUT 60)
# SIGKILL of mpirun mid-sweep, --resume: the same point ids as an uninterrupted run.
add_test(NAME sweep_kill COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sweep_kill_test.sh ${CMAKE_BINARY_DIR} ${CL_MPIEXEC})
set_tests_properties(sweep_kill PROPERTIES LABELS "mpi;slow" TIMEOUT 180)
# Scaled-down adaptivity study (2 ranks) + the analysis script on its output.
add_test(NAME sweep_adaptive COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sweep_adaptive_test.sh ${CMAKE_BINARY_DIR} ${CL_MPIEXEC})
set_tests_properties(sweep_adaptive PROPERTIES LABELS "mpi" TIMEOUT 180)
# In-process testbed evaluation vs `cleave run` (MPI, virtual clock) on a subset.
add_test(NAME sweep_validate COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sweep_validate_test.sh ${CMAKE_BINARY_DIR} ${CL_MPIEXEC})
# RUN_SERIAL: both sides measure real CPU time; a concurrent test (memory-bound FC layers
# of another process) inflated one side by 35% in CI-like runs.
set_tests_properties(sweep_validate PROPERTIES LABELS "mpi" TIMEOUT 180 RUN_SERIAL TRUE)
# The explicit `plans:` list of docs/experiments.md: loads, runs (2 ranks), records per plan.
add_test(NAME sweep_plans COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sweep_plans_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(sweep_plans PROPERTIES LABELS "mpi" TIMEOUT 120)
# Kind `plan`: every planner on the same models and networks (2 ranks), one row per (point, planner).
add_test(NAME sweep_planners COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sweep_planners_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(sweep_planners PROPERTIES LABELS "mpi" TIMEOUT 120)
# The statistics of scripts/analyze_adaptive.py (shares, bootstrap CIs, noise flags) on known cases.
add_test(NAME analyze_adaptive_stats COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/test_analyze_adaptive.py)
set_tests_properties(analyze_adaptive_stats PROPERTIES LABELS "unit" TIMEOUT 60)
