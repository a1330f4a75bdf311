# CLI tests for `cleave plan` (planners: Scission, Neurosurgeon, DADS).
set(CL_PLAN_DATA ${CMAKE_CURRENT_SOURCE_DIR}/data/scission)
add_test(NAME plan_cli_scission_readme
         COMMAND cleave plan scission --profiles ${CL_PLAN_DATA} --network network_stats.csv
                 -d !-1 -e 10 -c 16 vgg19)
set_tests_properties(plan_cli_scission_readme PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION
  "\\[1\\] 9\\.0106s - 2\\.4087MB - Device\\(raspi4\\) = 0 - 6, Edge\\(vm2Core\\) = 7 - 11, Cloud\\(6700k\\(GPU\\)\\) = 12 - 25\n\\[2\\] 9\\.0594s - 2\\.4087MB - Device\\(raspi4\\) = 0 - 6, Edge\\(2500\\) = 7 - 11, Cloud\\(6700k\\(GPU\\)\\) = 12 - 25\n\\[3\\] 9\\.0721s - 2\\.4087MB - Device\\(raspi4\\) = 0 - 6, Edge\\(vm2Core\\) = 7 - 11, Cloud\\(6700k\\(NoGPU\\)\\) = 12 - 25\n\\[4\\] 9\\.1209s - 2\\.4087MB - Device\\(raspi4\\) = 0 - 6, Edge\\(2500\\) = 7 - 11, Cloud\\(6700k\\(NoGPU\\)\\) = 12 - 25\n\\[5\\] 9\\.1511s - 3\\.2115MB - Device\\(raspi4\\) = 0 - 6, Edge\\(vm2Core\\) = 7 - 12, Cloud\\(6700k\\(GPU\\)\\) = 13 - 25\n")
# usage errors exit 2 (non-zero => WILL_FAIL)
add_test(NAME plan_cli_unknown_model
         COMMAND cleave plan scission --profiles ${CL_PLAN_DATA} --network network_stats.csv nosuchnet)
add_test(NAME plan_cli_bad_flag COMMAND cleave plan scission --bogus)
add_test(NAME plan_cli_missing_network
         COMMAND cleave plan scission --profiles ${CL_PLAN_DATA} --network missing.csv vgg19)
set_tests_properties(plan_cli_unknown_model plan_cli_bad_flag plan_cli_missing_network
                     PROPERTIES LABELS unit WILL_FAIL TRUE)
add_test(NAME plan_cli_neurosurgeon
         COMMAND cleave plan neurosurgeon --profiles ${CL_PLAN_DATA} --network network_stats_wired.csv
                 --objective energy --power 4 --tx-power 1.5 --idle-power 0.5 resnet50)
set_tests_properties(plan_cli_neurosurgeon PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION "best split")
add_test(NAME plan_cli_dads
         COMMAND cleave plan dads --profiles ${CL_PLAN_DATA} --network network_stats_wired.csv
                 --device 2500 mobilenet)
set_tests_properties(plan_cli_dads PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION "latency [0-9.]+ s")
# Every planner through the common interface (include/cleave/plan.h): one row each.
add_test(NAME plan_cli_compare
         COMMAND cleave plan compare --profiles ${CL_PLAN_DATA} --network network_stats.csv vgg19)
set_tests_properties(plan_cli_compare PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION
  "scission +ok +858\\.650 +0\\.0000 +0\\.1500  6700k\\(GPU\\):0-24\nneurosurgeon +ok +858\\.650 .*\ndads +ok +858\\.650 .*\ncoedge +ok +2734\\.749 .*\nmodnn +ok .*\ndeepthings +ok .*\nlocal +ok +2734\\.749 +0\\.0000 +0\\.0000  raspi4:0-24\ncloud +ok +858\\.650 ")
add_test(NAME plan_cli_planner_testbed
         COMMAND cleave plan --planner dads --testbed ${CMAKE_SOURCE_DIR}/configs/demo-3tier.yaml)
set_tests_properties(plan_cli_planner_testbed PROPERTIES LABELS unit PASS_REGULAR_EXPRESSION
  "planner dads: latency [0-9.]+ s, energy [0-9.]+ J, [0-9]+ bytes sent\nplacement: [a-z]+:0")
add_test(NAME plan_cli_planner_unknown
         COMMAND cleave plan --planner nosuch --profiles ${CL_PLAN_DATA} --network network_stats.csv vgg19)
set_tests_properties(plan_cli_planner_unknown PROPERTIES LABELS unit WILL_FAIL TRUE)
# A profiled model that is not in the zoo (any name a Scission CSV gives): compare ranks
# the profile planners and says nothing on stderr (it printed "error: unknown model"
# while exiting 0, from trying to build the zoo graph the spatial planners need).
add_test(NAME plan_cli_compare_non_zoo COMMAND bash -c [=[
set -u
d="$(mktemp -d)"; trap 'rm -rf "$d"' EXIT
printf 'model,block,input_layer,output_layer,seconds,output_bytes\nm,0,0,1,0.5,10\n' > "$d/device-a.csv"
printf 'model,block,input_layer,output_layer,seconds,output_bytes\nm,0,0,1,0.25,10\n' > "$d/cloud-c.csv"
printf 'source,destination,ping(ms),bandwidth(mbps)\na,c,10,5\n' > "$d/net.csv"
"$1" plan compare --profiles "$d" --network net.csv > "$d/out" 2> "$d/err"; rc=$?
cat "$d/out" "$d/err"
[ $rc = 0 ] && [ ! -s "$d/err" ] && grep -q '^scission  *ok' "$d/out"
]=] _ $<TARGET_FILE:cleave>)
set_tests_properties(plan_cli_compare_non_zoo PROPERTIES LABELS unit)
