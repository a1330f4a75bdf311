# Crash containment for untrusted HDF5 files (runtime/store/probe.c); the unit test is
# tests/test_h5probe.c. Replays tests/fuzz/hdf5-known/ through report, merge, sim and
# sweep --resume: one error line naming the file, never a signal (h5_known_test.sh).
add_test(NAME h5_known
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/h5_known_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR}
                 $<IF:$<BOOL:${CLEAVE_SANITIZE}>,ON,OFF>)
set_tests_properties(h5_known PROPERTIES LABELS unit TIMEOUT 300)
