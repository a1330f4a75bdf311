# The oneDNN backend on a host without AVX-512 (emulated with ONEDNN_MAX_CPU_ISA=AVX2):
# activations take nChw8c instead of nChw16c and no convolution falls back to a
# reference kernel (they used to: ResNet-18 took 48 s per inference instead of ~50 ms);
# every zoo model against the portable kernels, no reference primitive (test_exec_dnnl
# with the fixed heuristic, CLEAVE_KERNEL_CHOICE=off). isa_test.sh: per-host caches
# and recorded versions name the ISA / BLAS kernel set, so they never go stale.
add_test(NAME exec_dnnl_avx2 COMMAND test_exec_dnnl WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(exec_dnnl_avx2 PROPERTIES LABELS unit TIMEOUT 600
    ENVIRONMENT "ONEDNN_MAX_CPU_ISA=AVX2;CLEAVE_KERNEL_CHOICE=off;CL_BUILD_DIR=${CMAKE_BINARY_DIR};CL_SOURCE_DIR=${CMAKE_SOURCE_DIR};ASAN_OPTIONS=detect_leaks=1")
add_test(NAME isa_caches COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/isa_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(isa_caches PROPERTIES LABELS unit TIMEOUT 300)
# Under ASan both take 3-5 minutes, more when every zoo model's kernel choices are
# measured for the first time (fresh cache) beside other tests: the default 300 s of
# unit tests was too short there (test_exec_dnnl timed out once at 300 s, 185 s alone).
set_tests_properties(test_exec_dnnl exec_dnnl_avx2 PROPERTIES TIMEOUT 900)
