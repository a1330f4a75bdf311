# ctest fixture fuzz_build: configure and build the libFuzzer tree (CLEAVE_FUZZ=ON, clang)
# in BIN. Called as: cmake -DSRC=... -DBIN=... -DCLANG=... [-DCCACHE=...] -P build_fuzzers.cmake
set(_args -S ${SRC} -B ${BIN} -DCMAKE_C_COMPILER=${CLANG} -DCLEAVE_FUZZ=ON -DCLEAVE_WERROR=OFF
          -DCLEAVE_NATIVE=OFF -DCLEAVE_DNNL=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if(CCACHE)
  list(APPEND _args -DCMAKE_C_COMPILER_LAUNCHER=${CCACHE})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} ${_args} RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz: configuring ${BIN} with ${CLANG} failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BIN} --target cleave_fuzzers -j 2 RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message("${out}")
  message(FATAL_ERROR "fuzz: building the fuzzers in ${BIN} failed (${rc})")
endif()
message(STATUS "fuzz: harnesses built in ${BIN}/tests/fuzz")
