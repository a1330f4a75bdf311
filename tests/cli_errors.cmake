# One error line and exit 2 for bad input to the subcommands (cli_errors_test.sh).
add_test(NAME cli_errors COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli_errors_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(cli_errors PROPERTIES LABELS unit TIMEOUT 120)
