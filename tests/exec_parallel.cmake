# test_exec_parallel (registered by tests/CMakeLists.txt as `unit`) runs every zoo model
# on both backends twice: 1.5 CPU-minutes, several wall minutes on a loaded host.
set_tests_properties(test_exec_parallel PROPERTIES LABELS "unit;slow" TIMEOUT 900)
