#!/usr/bin/env bash
# One error path (issue 13): bad input to report, merge, profile and plan prints one line
# "cleave: error: CMD: ..." (never the old "cleave CMD: error:") and exits 2.
#   usage: cli_errors_test.sh BUILD_DIR SOURCE_DIR        (ctest: cli_errors, label unit)
. "$(dirname "$0")/script_lib.sh" "$@"
cd "$S"
# expected stderr (grep -E), then the arguments
expect2() {
  local want="$1"; shift
  "$C" "$@" > "$T/out" 2> "$T/err"; local rc=$?
  local n; n=$(grep -c "^cleave: error: " "$T/err")
  if [ $rc = 2 ] && [ "$n" -ge 1 ] && grep -qE "^cleave: error: $want" "$T/err" &&
     ! grep -qE "^cleave [a-z ]+: error:" "$T/err"; then ok "$* -> exit 2, $(grep -m1 '^cleave: error' "$T/err")"
  else bad "$* (rc $rc)"; cat "$T/err"; fi
}
expect2 "report: missing FILE.h5" report
expect2 "report: unknown option '--bogus'" report --bogus
expect2 "report: --format expects" report x.h5 --format xml
expect2 "merge: need OUT.h5" merge
expect2 "merge: unknown option '--zz'" merge --zz
expect2 "merge: failed" merge "$T/o.h5" "$T/missing.h5"
expect2 "profile: no model given" profile
expect2 "profile: no output file given" profile resnet18
expect2 "plan: unknown option '--zz'" plan --zz
expect2 "plan: unknown planner 'nosuch'" plan nosuch
expect2 "plan coedge: --devices is required" plan coedge resnet18
expect2 "plan coedge: unknown planner 'nope' \(coedge, .*all\)" plan coedge --devices x.yaml --planner nope resnet18
expect2 "plan coedge: --mode expects layer or fused" plan coedge --devices x.yaml --mode diagonal resnet18
finish cli_errors
