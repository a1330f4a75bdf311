#!/usr/bin/env bash
# Install dependencies, build cleave (warnings are errors), run the whole ctest suite.
#   scripts/test.sh              all tests
#   scripts/test.sh -L unit      extra arguments go to ctest
#   CLEAVE_LONG=1 scripts/test.sh   also the `long` label (Keras models on both backends,
#                                   device-model backend switch: an hour on 2 cores)
#   CLEAVE_SANITIZE=1 scripts/test.sh   ASan/UBSan build in build-asan/
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
cleave_install_deps --test
extra=(-DCLEAVE_WERROR=ON)
if [ "${CLEAVE_SANITIZE:-0}" = 1 ]; then
  CLEAVE_BUILD_DIR="$CLEAVE_ROOT/build-asan"
  extra+=(-DCLEAVE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  # Leak checks stay on for the C unit tests (set per test in tests/CMakeLists.txt);
  # processes that initialise Open MPI report its by-design plugin allocations.
  export ASAN_OPTIONS=detect_leaks=0
fi
echo "cleave: building in $CLEAVE_BUILD_DIR" >&2
cleave_build "${extra[@]}"
cd "$CLEAVE_BUILD_DIR"
long=(-LE long)
limit=2700
[ "${CLEAVE_LONG:-0}" = 1 ] && long=() && limit=10800
# A guard on the whole run: each test has its own timeout, but a process a timed-out
# test leaves behind can hold ctest's output pipe open; `timeout` signals the whole
# process group, so CI ends with a failure report instead of hanging.
timeout -k 30 "${CLEAVE_CTEST_LIMIT:-$limit}" ctest --output-on-failure -j 2 "${long[@]}" "$@"
