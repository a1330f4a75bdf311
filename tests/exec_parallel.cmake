# test_exec_parallel (registered by tests/CMakeLists.txt as `unit`) runs every zoo model
# (torchvision and Keras families; the deeper Keras variants with CL_TEST_FULL=1) on both
# backends, serial against branch-parallel: a few CPU-minutes, 10+ wall minutes on a
# loaded host. Its watchdog (1700 s) reports the model being run before this timeout.
set_tests_properties(test_exec_parallel PROPERTIES LABELS "unit;slow" TIMEOUT 1800)
