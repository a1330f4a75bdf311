# MPI integration tests of the runtime (label mpi).
add_executable(mpi_partition mpi_partition.c)
target_link_libraries(mpi_partition PRIVATE cleave_sim)
add_test(NAME mpi_partition COMMAND ${CL_MPIEXEC} -n 3 $<TARGET_FILE:mpi_partition>
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(mpi_partition PROPERTIES LABELS mpi TIMEOUT 300)
add_test(NAME runtime_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/runtime_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(runtime_cli PROPERTIES LABELS "mpi;slow" TIMEOUT 900 RUN_SERIAL TRUE)
add_test(NAME default_config_embedded COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/embed_default_config.py --check)
set_tests_properties(default_config_embedded PROPERTIES LABELS unit)
# the OpenMP wait-policy probe: forced choices, a loaded host, no hang (loads every core)
add_test(NAME wait_policy COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/wait_policy_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(wait_policy PROPERTIES LABELS unit TIMEOUT 600 RUN_SERIAL ON)
