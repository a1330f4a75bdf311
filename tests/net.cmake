# Routed networks in the MPI runtime (label mpi): wall mode realises a route's latency and bottleneck.
add_test(NAME net_wall_routed COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/net_wall_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(net_wall_routed PROPERTIES LABELS "mpi;slow" TIMEOUT 900 RUN_SERIAL TRUE)
# Wall mode realises max-min sharing (network arbiter), bandwidth steps and cross-host clock offsets.
add_test(NAME net_wall_share COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/net_wall_share_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(net_wall_share PROPERTIES LABELS "mpi;slow" TIMEOUT 2400 RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
# cleave run / cleave sweep placed by a hostfile (localhost slots), clock offsets recorded.
add_test(NAME net_hostfile COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/hostfile_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(net_hostfile PROPERTIES LABELS "mpi;slow" TIMEOUT 900 RUN_SERIAL TRUE)
