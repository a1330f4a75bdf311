# CoEdge spatial execution over MPI (rank d = device d), 3 and 4 ranks (label mpi).
add_executable(mpi_coedge mpi_coedge.c)
target_link_libraries(mpi_coedge PRIVATE cleave_sim)
foreach(np 3 4)
  add_test(NAME mpi_coedge_${np} COMMAND ${CL_MPIEXEC} -n ${np} $<TARGET_FILE:mpi_coedge>
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(mpi_coedge_${np} PROPERTIES LABELS mpi TIMEOUT 300)
endforeach()

# `cleave plan coedge` edge cases (issue #6): one device, zero-speed devices, every device
# at speed 0, an unreachable deadline, and the TX2 + PC split the old greedy search
# missed. Each checks the exit code and the message. Devices files are written here.
set(CL_COEDGE_FIX ${CMAKE_CURRENT_BINARY_DIR}/coedge_fixtures)
file(MAKE_DIRECTORY ${CL_COEDGE_FIX})
set(CL_PI "speed: 0.07, compute_w: 5.1, idle_w: 1.9, tx_w: 2.6, rx_w: 2.4")
file(WRITE ${CL_COEDGE_FIX}/proto.yaml
  "bandwidth: 40Mbit/s\nmsg_latency: 2ms\ndevices:\n"
  "  - {name: pi0, ${CL_PI}, source: true}\n  - {name: pi1, ${CL_PI}}\n"
  "  - {name: pi2, ${CL_PI}}\n  - {name: pi3, ${CL_PI}}\n"
  "  - {name: tx2, speed: 1.0, compute_w: 9.0, idle_w: 1.9, tx_w: 2.6, rx_w: 2.4}\n"
  "  - {name: pc, speed: 2.5, compute_w: 95, idle_w: 35, tx_w: 38, rx_w: 37}\n")
file(WRITE ${CL_COEDGE_FIX}/one.yaml
  "devices:\n  - {name: solo, speed: 1.0, compute_w: 9, idle_w: 2, tx_w: 2.6, rx_w: 2.4}\n")
file(WRITE ${CL_COEDGE_FIX}/zero.yaml
  "devices:\n"
  "  - {name: cam, speed: 0, compute_w: 3, idle_w: 1, tx_w: 2.6, rx_w: 2.4, source: true}\n"
  "  - {name: tx2, speed: 1.0, compute_w: 9, idle_w: 1.9, tx_w: 2.6, rx_w: 2.4}\n"
  "  - {name: dead, speed: 0, compute_w: 9, idle_w: 1.9, tx_w: 2.6, rx_w: 2.4}\n"
  "  - {name: nano, speed: 0.5, compute_w: 7, idle_w: 1.5, tx_w: 2.6, rx_w: 2.4}\n")
file(WRITE ${CL_COEDGE_FIX}/allzero.yaml
  "devices:\n  - {name: cam, speed: 0, compute_w: 3, idle_w: 1, tx_w: 2.6, rx_w: 2.4}\n")

# cl_coedge_cli(NAME EXPECTED_RC REGEX ARGS...): run `cleave plan coedge ARGS`, require
# exit code EXPECTED_RC and REGEX (grep -E; no quotes in it) in stdout + stderr.
function(cl_coedge_cli name rc regex)
  string(REPLACE ";" " " args "${ARGN}")
  add_test(NAME coedge_cli_${name}
           COMMAND sh -c "out=$(\"$<TARGET_FILE:cleave>\" plan coedge ${args} 2>&1); rc=$?; echo \"$out\"; echo \"exit code $rc (expected ${rc})\"; [ $rc -eq ${rc} ] && echo \"$out\" | grep -Eq '${regex}'")
  set_tests_properties(coedge_cli_${name} PROPERTIES LABELS unit TIMEOUT 60)
endfunction()

cl_coedge_cli(one_device 0 "solo +224 .*source sink" --devices ${CL_COEDGE_FIX}/one.yaml alexnet)
cl_coedge_cli(one_device_all 0 "tiles3x3 +ok" --devices ${CL_COEDGE_FIX}/one.yaml --planner all
              --mode fused resnet18)
cl_coedge_cli(zero_speed 0 "device .dead. has speed 0 and is left out"
              --devices ${CL_COEDGE_FIX}/zero.yaml alexnet)
cl_coedge_cli(zero_speed_source 0 "source .cam. has speed 0: it computes nothing"
              --devices ${CL_COEDGE_FIX}/zero.yaml --planner all alexnet)
cl_coedge_cli(all_zero 2 "no device in .* can compute .every speed or gflops is 0."
              --devices ${CL_COEDGE_FIX}/allzero.yaml alexnet)
# devices given in absolute GFLOP/s: a 0 leaves the device out, named by its key
file(WRITE ${CL_COEDGE_FIX}/zero_gflops.yaml
  "devices:\n  - {name: cam, gflops: 1.4, compute_w: 3, idle_w: 1, tx_w: 2.6, rx_w: 2.4, source: true}\n"
  "  - {name: dead, gflops: 0, compute_w: 5, idle_w: 1, tx_w: 2, rx_w: 1}\n")
cl_coedge_cli(zero_gflops 0 "device .dead. has gflops 0 and is left out"
              --devices ${CL_COEDGE_FIX}/zero_gflops.yaml alexnet)
cl_coedge_cli(infeasible 1 "deadline infeasible: minimum achievable latency [0-9.]+ ms"
              --devices ${CL_COEDGE_FIX}/proto.yaml --deadline 10ms alexnet)
cl_coedge_cli(tx2_pc_split 0 "tx2 +[1-9][0-9]* .*"
              --devices ${CL_COEDGE_FIX}/proto.yaml --bandwidth 300Mbit/s --deadline 500ms
              --host-gflops 35 vgg16)

# Issue #6 follow-ups: `local` is a planner (shown by --planner all; n/a when the source
# cannot compute), --probe-every (adaptive probing period; 0 = never), the devices file's
# input_bytes_per_elem (8-bit camera frames), grid tiles executed by --run.
file(WRITE ${CL_COEDGE_FIX}/proto8.yaml
  "input_bytes_per_elem: 1\nbandwidth: 40Mbit/s\nmsg_latency: 2ms\ndevices:\n"
  "  - {name: pi0, ${CL_PI}, source: true}\n  - {name: pi1, ${CL_PI}}\n"
  "  - {name: pc, speed: 2.5, compute_w: 95, idle_w: 35, tx_w: 38, rx_w: 37}\n")
file(WRITE ${CL_COEDGE_FIX}/bad_bytes.yaml
  "input_bytes_per_elem: 3\ndevices:\n  - {name: solo, ${CL_PI}}\n")
cl_coedge_cli(local 0 "pi0 +224 .*source sink"
              --devices ${CL_COEDGE_FIX}/proto.yaml --planner local alexnet)
cl_coedge_cli(all_has_local 0 "local +ok +[0-9.]+ +[0-9.]+ +(yes|NO) +1 224 0 0 0 0 0 "
              --devices ${CL_COEDGE_FIX}/proto.yaml --planner all alexnet)
cl_coedge_cli(local_na 0 "local +n/a"
              --devices ${CL_COEDGE_FIX}/zero.yaml --planner all alexnet)
cl_coedge_cli(input_bytes 0 "= scatter 32\\.106 "
              --devices ${CL_COEDGE_FIX}/proto8.yaml --planner fastest alexnet)
cl_coedge_cli(input_bytes_float 0 "= scatter 122\\.422 "
              --devices ${CL_COEDGE_FIX}/proto.yaml --planner fastest alexnet)
cl_coedge_cli(input_bytes_bad 2 "bad_bytes.yaml:1:[0-9]+: field .input_bytes_per_elem.: expects 1"
              --devices ${CL_COEDGE_FIX}/bad_bytes.yaml alexnet)
cl_coedge_cli(probe_every 0 "1\\.000 +[1-9][0-9]* +rows"
              --devices ${CL_COEDGE_FIX}/proto.yaml --run --planner minlat --inferences 3
              --probe-every 1 lenet)
cl_coedge_cli(probe_every_needs_run 2 "probe-every and -o need --run"
              --devices ${CL_COEDGE_FIX}/proto.yaml --probe-every 2 lenet)
cl_coedge_cli(probe_every_no_adapt 2 "probe-every applies to the adaptive mode"
              --devices ${CL_COEDGE_FIX}/proto.yaml --run --no-adapt --probe-every 2 lenet)
cl_coedge_cli(run_tiles 0 "tiles3x3 +(yes|NO) .*tiles 3x3 "
              --devices ${CL_COEDGE_FIX}/proto8.yaml --run --planner all lenet)
# ONNX models: the imported tiny DenseNet plans and executes (--run checks the spatial
# output against the monolithic run, with the file's weights); tiny_cnn's first run
# leaves through a residual add, so it has no spatial part: exit 2 naming the node.
cl_coedge_cli(onnx_run 0 "rows 0-5:pi0 6-11:pi1"
              --devices ${CL_COEDGE_FIX}/proto.yaml --planner equal --run ${CMAKE_SOURCE_DIR}/tests/data/onnx/tiny_dense.onnx)
cl_coedge_cli(onnx_no_spatial_part 2 "node 6 .Clip. of run .0, 8. is consumed after the run by .Add."
              --devices ${CL_COEDGE_FIX}/proto.yaml ${CMAKE_SOURCE_DIR}/tests/data/onnx/tiny_cnn.onnx)
