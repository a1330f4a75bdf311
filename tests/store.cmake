# Record store script tests (included by tests/CMakeLists.txt).
# store_writer: helper program for the crash and Python tests (not a test itself).
add_executable(store_writer ${CMAKE_CURRENT_SOURCE_DIR}/store_writer.c)
target_link_libraries(store_writer PRIVATE cleave_runtime)
set_target_properties(store_writer PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# SIGKILL a writer mid-stream; every flushed record must be readable and intact.
add_test(NAME store_kill COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/store_kill_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(store_kill PROPERTIES LABELS "slow" TIMEOUT 120)

# Python analysis module against files written by C, merged by `cleave merge`.
add_test(NAME store_python
         COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/test_cleave_h5.py ${CMAKE_BINARY_DIR})
set_tests_properties(store_python PROPERTIES LABELS "unit" TIMEOUT 300)

# Per-rank files from a real MPI run (3 ranks), then cleave merge and cleave report.
add_test(NAME store_mpi_merge
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/store_kill_test.sh ${CMAKE_BINARY_DIR} --mpi ${CL_MPIEXEC})
set_tests_properties(store_mpi_merge PROPERTIES LABELS "mpi" TIMEOUT 120)

# Output safety and input cross-checks through the CLI (outputs_test.sh).
add_test(NAME outputs_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/outputs_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(outputs_cli PROPERTIES LABELS "mpi" TIMEOUT 600 RUN_SERIAL TRUE)
