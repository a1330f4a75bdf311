# Shared preamble of the CLI/MPI script tests (runtime_test.sh, planint_test.sh,
# onnx_testbed_test.sh, onnx_plan_test.sh). Source it with the test's arguments:
#   . "$(dirname "$0")/script_lib.sh" "$@"      # BUILD_DIR SOURCE_DIR
# Defines B (build dir), S (source dir), C (cleave binary), PY (Debian's python3 with
# h5py/numpy), MPI (mpiexec as root, oversubscribed), T (a temp dir removed on exit),
# ok/bad (tally one check), finish NAME (print the tally; exit status = all passed) and
# fail MSG (print and exit 1 at once).
set -u
B="$1"; S="$2"
C="$B/cleave"
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
MPI="mpiexec --oversubscribe --allow-run-as-root"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fails=0; passes=0
ok() { passes=$((passes + 1)); echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
finish() { echo "$1: $passes passed, $fails failed"; [ "$fails" -eq 0 ]; }
fail() { echo "FAIL: $*"; exit 1; } # stop at the first failure (the sweep_*_test.sh scripts)
