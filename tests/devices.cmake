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
set_tests_properties(profile_device PROPERTIES LABELS "slow" TIMEOUT 600)
