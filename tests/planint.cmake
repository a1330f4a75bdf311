# Planners on cleave HDF5 profiles -> emitted testbed configs -> MPI runs (label mpi).
add_test(NAME planint_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/planint_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(planint_cli PROPERTIES LABELS mpi TIMEOUT 300 RUN_SERIAL TRUE)
# cleave sim --planner NAME: a registry planner's placement predicted by the simulator (no MPI).
add_test(NAME sim_planner COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/sim_planner_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(sim_planner PROPERTIES LABELS unit TIMEOUT 300)
