# CoEdge spatial execution over MPI (rank d = device d), 3 and 4 ranks (label mpi).
add_executable(mpi_coedge mpi_coedge.c)
target_link_libraries(mpi_coedge PRIVATE cleave_sim)
foreach(np 3 4)
  add_test(NAME mpi_coedge_${np} COMMAND ${CL_MPIEXEC} -n ${np} $<TARGET_FILE:mpi_coedge>
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(mpi_coedge_${np} PROPERTIES LABELS mpi TIMEOUT 300)
endforeach()
