#!/usr/bin/env bash
# Branch-group (inter-op) choices are cached per host in the kernel-choice file (ctest:
# interop_cache): a second process reuses them instead of timing again, the file's
# values drive the schedule, and a choice timed on a loaded host is provisional and
# timed again once the host is quiet (models/exec_sched.c).
. "$(dirname "$0")/script_lib.sh" "$@"
export CLEAVE_CALIB_DIR="$T/cal"
unset CLEAVE_INTEROP CLEAVE_KERNEL_CHOICE
run() { CLEAVE_LOG=1 "$C" infer googlenet --threads 2 --reps 1 --warmup 0 2>&1; }
CLEAVE_HOST_LOAD=quiet run > "$T/a.out" || { bad "first run"; cat "$T/a.out"; }
f="$(ls "$T"/cal/kernels-*-t2-*.yaml 2> /dev/null | head -1)"
n="$(grep -c '^choice: interop graph ' "$f" 2> /dev/null)"
groups="$(sed -n 's/^branch_groups: //p' "$T/a.out")"
if [ -n "$n" ] && [ "$n" = "$groups" ] && [ "$n" -gt 0 ]; then ok "one cached choice per branch group ($n)"
else bad "cached choices '$n', branch groups '$groups'"; cat "$T/a.out"; fi
grep -q 'branch groups .*parallel (2 threads)$' "$T/a.out" && ok "first process timed them" || bad "first process did not time"
CLEAVE_HOST_LOAD=quiet run > "$T/b.out"
grep -q 'branch groups .*(2 threads; cached in ' "$T/b.out" && ok "second process reuses them" || { bad "second process timed again"; cat "$T/b.out"; }
# the file drives the schedule: every group forced parallel by editing it
sed -i 's/^\(choice: interop graph .*\)= 0$/\1= 1/' "$f"
CLEAVE_HOST_LOAD=quiet run > "$T/c.out"
par="$(sed -n 's/^branch_groups_parallel: //p' "$T/c.out")"
[ "$par" = "$groups" ] && ok "edited choices run: $par of $groups groups parallel" || { bad "edited choices ignored ($par of $groups)"; cat "$T/c.out"; }
# timed on a loaded host: provisional, used while loaded, timed again when quiet
export CLEAVE_CALIB_DIR="$T/cal2"
CLEAVE_HOST_LOAD=loaded run > "$T/d.out"
f2="$(ls "$T"/cal2/kernels-*-t2-*.yaml 2> /dev/null | head -1)"
grep -q '^choice: interop graph .* provisional$' "$f2" && ok "loaded host: provisional" || bad "loaded host: not provisional"
CLEAVE_HOST_LOAD=loaded run > "$T/e.out"
grep -q 'cached in ' "$T/e.out" && ok "still loaded: provisional choices used" || bad "still loaded: timed again"
CLEAVE_HOST_LOAD=quiet run > "$T/g.out"
grep -q 'branch groups .*parallel (2 threads)$' "$T/g.out" && ok "quiet again: timed again" || bad "quiet: not timed again"
grep -q '^choice: interop graph .* provisional$' "$f2" && bad "still provisional after a quiet timing" || ok "now firm"
finish interop_cache
