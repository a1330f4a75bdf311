# Many users (issue 16): cleave run with users vs cleave sim (label mpi).
add_test(NAME users_run COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/users_run_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(users_run PROPERTIES LABELS "mpi;slow" TIMEOUT 1200)
add_test(NAME users_sweep COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/users_sweep_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(users_sweep PROPERTIES LABELS "mpi" TIMEOUT 600)
