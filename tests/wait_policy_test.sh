#!/bin/bash
# The OpenMP wait policy chosen at start (models/ops/blas.c, docs/runtime.md "Wait
# policy"): forced choices and an explicit OMP_WAIT_POLICY are obeyed; with every core
# taken by busy processes the probe chooses passive; and 40 starts under that load all
# finish (a helper that overwrote the probe's stop flag once spun forever and hung
# pthread_join: each start has its own timeout here).
# usage: wait_policy_test.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/script_lib.sh" "$@"
pol() { env "$@" "$C" infer lenet --reps 1 2>&1 | sed -n 's/^omp_wait_policy: //p'; }
[ "$(pol CLEAVE_WAIT_POLICY=passive)" = passive ] && ok "CLEAVE_WAIT_POLICY=passive" || bad "forced passive"
case "$(pol CLEAVE_WAIT_POLICY=spin)" in spin*) ok "CLEAVE_WAIT_POLICY=spin" ;; *) bad "forced spin" ;; esac
[ "$(pol OMP_WAIT_POLICY=active CLEAVE_WAIT_POLICY=passive)" = active ] && ok "an explicit OMP_WAIT_POLICY wins" ||
  bad "OMP_WAIT_POLICY not respected"
"$C" infer lenet --reps 1 > "$T/auto.txt" 2>&1 || bad "auto: exit code"
grep -q '^omp_wait_probe: [0-9]* round trips, median window' "$T/auto.txt" && ok "auto: the probe ran ($(sed -n 's/^omp_wait_probe: //p' "$T/auto.txt"))" ||
  { cat "$T/auto.txt"; bad "auto: no probe result"; }
# OMP_PROC_BIND survives the re-exec: libgomp binds the initial thread as it loads, and
# the re-executed process must not inherit that one-CPU mask (every thread on CPU 0);
# a taskset restriction must still hold after it
if [ "$(nproc)" -ge 2 ]; then
  OMP_DISPLAY_ENV=true OMP_PROC_BIND=true OMP_PLACES="{0},{1}" "$C" infer lenet --reps 1 --threads 2 > "$T/bind.txt" 2>&1
  if ! grep -q "reduced from" "$T/bind.txt" && [ "$(grep -c "OMP_PLACES = '{0},{1}'" "$T/bind.txt")" -ge 2 ]; then
    ok "OMP_PROC_BIND: both places kept across the re-exec"
  else bad "OMP_PROC_BIND: places lost across the re-exec"; grep -E "OMP_PLACES|reduced" "$T/bind.txt"; fi
  OMP_DISPLAY_ENV=true OMP_PROC_BIND=true OMP_PLACES="{0},{1}" taskset -c 1 "$C" infer lenet --reps 1 --threads 2 > "$T/bind1.txt" 2>&1
  if [ "$(grep -c "OMP_PLACES = '{1}'" "$T/bind1.txt")" -ge 2 ] && ! grep -q "OMP_PLACES = '{0" "$T/bind1.txt"; then
    ok "OMP_PROC_BIND under taskset -c 1: only CPU 1, before and after the re-exec"
  else bad "OMP_PROC_BIND under taskset -c 1"; grep -E "OMP_PLACES|reduced" "$T/bind1.txt"; fi
fi
# every core busy, three times over
n=$(( $(nproc) * 3 )); pids=""
for _ in $(seq "$n"); do (exec timeout 120 sh -c 'while :; do :; done') & pids="$pids $!"; done
sleep 0.5
passive=0; hung=0; runs=40
for i in $(seq $runs); do
  out=$(timeout 30 "$C" infer lenet --reps 1 2>&1); rc=$?
  [ $rc = 124 ] && hung=$((hung + 1))
  echo "$out" | grep -q '^omp_wait_policy: passive' && passive=$((passive + 1))
done
kill $pids 2>/dev/null; wait 2>/dev/null
[ $hung = 0 ] && ok "$runs starts under load, none hung" || bad "$hung of $runs starts hung (30 s timeout)"
[ $passive -ge $((runs - 2)) ] && ok "loaded host: passive $passive of $runs" || bad "loaded host: passive only $passive of $runs"
finish wait_policy
