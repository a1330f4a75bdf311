# Inter-op (branch-group) choices cached per host in the kernel-choice file
# (models/exec_sched.c): reused by later processes, provisional on a loaded host.
add_test(NAME interop_cache COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/interop_cache_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(interop_cache PROPERTIES LABELS unit TIMEOUT 300)
