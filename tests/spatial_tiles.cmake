# Grid-tile execution over MPI (rank d = device d, several tiles per rank), 3 ranks (label mpi).
add_executable(mpi_spatial_tiles mpi_spatial_tiles.c)
target_link_libraries(mpi_spatial_tiles PRIVATE cleave_sim)
add_test(NAME mpi_spatial_tiles_3 COMMAND ${CL_MPIEXEC} -n 3 $<TARGET_FILE:mpi_spatial_tiles>
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(mpi_spatial_tiles_3 PROPERTIES LABELS mpi TIMEOUT 300)
