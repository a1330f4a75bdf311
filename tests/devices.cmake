# Device models (docs/devices.md): emulated device times across kernel backends (label slow:
# it calibrates this host on both backends and measures two models twice).
add_executable(devices_backend devices_backend.c)
target_link_libraries(devices_backend PRIVATE cleave_sim)
add_test(NAME devices_backend COMMAND devices_backend WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(devices_backend PROPERTIES LABELS long TIMEOUT 900 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# DVFS state per node: time and power scaling, provenance, bad states (dvfs_test.sh).
add_test(NAME devices_dvfs COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/dvfs_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(devices_dvfs PROPERTIES LABELS "unit" TIMEOUT 300)
# cleave profile --device: emulated per-step times and energy (/profile/energy).
add_test(NAME profile_device COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/profile_device_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(profile_device PROPERTIES LABELS "slow" TIMEOUT 600 SKIP_RETURN_CODE 77)
# Replays (docs/replays.md): Scission's best partition on its data and cleave's on the
# emulated raspi4 / vm2core / 6700k(GPU) machines agree for these models on both networks
# (fails if a device model drifts enough to move a cut).
add_test(NAME replay_scission
         COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/replay_scission.py --cleave $<TARGET_FILE:cleave>
                 --data ${CMAKE_CURRENT_SOURCE_DIR}/data/scission --models vgg16,vgg19,mobilenet,resnet50,densenet121)
set_tests_properties(replay_scission PROPERTIES LABELS unit TIMEOUT 300
                     PASS_REGULAR_EXPRESSION "same best partition: 10 of 10")
# Neurosurgeon replay (docs/replays.md) on AlexNet: the jetson-tk1 / ns-server testbed,
# every cut over 3G, LTE and Wi-Fi; the best cut must not move towards the server as the
# uplink slows, for latency and for the mobile's energy (the paper's finding).
add_test(NAME replay_neurosurgeon
         COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/replay_neurosurgeon.py --cleave $<TARGET_FILE:cleave>
                 --models alexnet)
set_tests_properties(replay_neurosurgeon PROPERTIES LABELS unit TIMEOUT 300
                     PASS_REGULAR_EXPRESSION "here: latency holds, mobile energy holds")
