#!/bin/bash
# cleave sim --planner NAME: the named planner (registry, cl_plan_run) places the model on
# the testbed's nodes from the same host times, and the simulator predicts that placement.
# Checks: the simulated latency of inference 0 equals the planner's own prediction (same
# cost model, one inference, no queueing), placements differ between planners (all on the
# device vs. all on the cloud behind a 20 ms link), a spatial planner and an unknown name
# are refused with exit code 2.
# usage: sim_planner_test.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/script_lib.sh" "$@"
TB=$S/tests/data/experiments/tb2.yaml
# planned TESTBED PLANNER OUT REL ABS LABEL: `cleave sim --planner`, and the planner's
# predicted latency within REL x simulated + ABS ms of the simulated inference 0
planned() {
  "$C" sim "$1" --reps 3 --planner "$2" > "$T/$3.txt" 2> "$T/$3.err" || { cat "$T/$3.err"; bad "$6: exit code"; return; }
  local pl sim
  pl=$(sed -n 's/^planned_latency_ms: //p' "$T/$3.txt")
  sim=$(awk '$1 == "0" && NF == 4 {print $2}' "$T/$3.txt")
  if [ -n "$pl" ] && [ -n "$sim" ] &&
     awk -v a="$pl" -v b="$sim" -v r="$4" -v e="$5" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= r * b + e) }'; then
    ok "$6: planned $pl ms, simulated $sim ms"
  else
    cat "$T/$3.txt"; bad "$6: planned '$pl' ms vs simulated '$sim' ms"
  fi
}
for p in local cloud neurosurgeon dads scission; do planned "$TB" "$p" "$p" 0.02 0.005 "$p"; done
lat() { awk '$1 == "0" && NF == 4 {print $2}' "$T/$1.txt"; }
grep -q '^placement: device:0-' "$T/local.txt" && grep -q '^placement: cloud:' "$T/cloud.txt" &&
  awk -v l="$(lat local)" -v c="$(lat cloud)" 'BEGIN { exit !(c > 20 && l < 20) }' &&
  ok "local stays on the device, cloud pays the 20 ms link" || bad "placements not applied"
# Device nodes (issue 14): the planners cost every layer with the node's device model
# (absolute, not host time / speed), as the runtime charges it; the simulated latency of
# the planned placement (measured host time x device/host calibration per step) agrees
# within this host's noise (50%: the simulation charges measured host CPU time x device /
# calibrated host time, and the same layers take up to ~40% more CPU time while the other
# core is busy, docs/devices.md; 31% seen with both cores fuzzing). Before, planners priced
# device nodes at host speed x 1 and the simulation kept the device tables of the
# testbed's own placement (resnet18 local on raspi4 ran at host speed, 28 ms, against
# 355 ms planned from the device model now).
cp "$S/tests/data/configs/device_pair.yaml" "$T/dev.yaml"
for p in local cloud neurosurgeon; do planned "$T/dev.yaml" "$p" "dev_$p" 0.5 0 "device testbed, $p"; done
# clock: model (issue 14): a device step costs its device model's time, so the planners'
# prediction and the simulation agree exactly, the portable and oneDNN backends give the
# same times, and `cleave run` under MPI reproduces the simulation to the last digit.
sed 's/^seed: 1$/seed: 1\nclock: model/' "$T/dev.yaml" > "$T/mdev.yaml"
for p in local cloud neurosurgeon; do planned "$T/mdev.yaml" "$p" "mdev_$p" 0.001 0 "clock: model, $p"; done
sed 's/cuts: \[input\]/cuts: [layer2.1.relu:1]/' "$T/mdev.yaml" > "$T/mcut.yaml"
for b in portable dnnl; do
  sed "s/^clock: model$/clock: model\nbackend: $b/" "$T/mcut.yaml" > "$T/m_$b.yaml"
  "$C" sim "$T/m_$b.yaml" --reps 1 | awk '$1 == "0" && NF == 4 {print $2}' > "$T/m_$b.lat"
done
[ -s "$T/m_portable.lat" ] && cmp -s "$T/m_portable.lat" "$T/m_dnnl.lat" &&
  ok "clock: model, backends agree: $(cat "$T/m_dnnl.lat") ms" ||
  bad "clock: model, portable $(cat "$T/m_portable.lat") ms vs dnnl $(cat "$T/m_dnnl.lat") ms"
$MPI -n 2 "$C" run "$T/mcut.yaml" -o "$T/m.h5" --force > "$T/mrun.txt" 2>&1 || { cat "$T/mrun.txt"; bad "clock: model run"; }
"$C" sim "$T/mcut.yaml" --compare "$T/m.h5" > "$T/mcmp.txt" 2>&1
grep -q '^median_abs_error_pct: 0.00$' "$T/mcmp.txt" && ok "clock: model, cleave run = cleave sim" ||
  { cat "$T/mcmp.txt"; bad "clock: model, run vs sim"; }
grep -v '^clock:' "$T/mcut.yaml" > "$T/vcut.yaml"
$MPI -n 2 "$C" run "$T/vcut.yaml" --clock model -o "$T/v.h5" --force > "$T/vrun.txt" 2>&1 || { cat "$T/vrun.txt"; bad "--clock model run"; }
vlat=$("$PY" -c 'import sys, h5py; print("%.3f" % (1e3 * h5py.File(sys.argv[1], "r")["/inferences"]["latency"][0]))' "$T/v.h5")
[ "$vlat" = "$(cat "$T/m_dnnl.lat")" ] && ok "cleave run --clock model on a virtual-clock config: $vlat ms" ||
  bad "--clock model override: $vlat ms vs $(cat "$T/m_dnnl.lat") ms"
sed 's/device: raspi4/speed: 2/; s/device: i7-6700k/speed: 1/' "$T/mdev.yaml" > "$T/mnodev.yaml"
"$C" sim "$T/mnodev.yaml" > "$T/mnodev.txt" 2>&1
rcn=$?; ln=$(grep -n '^clock:' "$T/mnodev.yaml" | cut -d: -f1)
[ $rcn = 2 ] && grep -q "mnodev.yaml:$ln: clock: model .* no node of the testbed says device:" "$T/mnodev.txt" &&
  ok "clock: model without device nodes refused" || { cat "$T/mnodev.txt"; bad "clock: model without devices"; }
grep -v '^clock:' "$T/mnodev.yaml" > "$T/vnodev.yaml"
$MPI -n 2 "$C" run "$T/vnodev.yaml" --clock model -o "$T/vn.h5" > "$T/vnodev.txt" 2>&1
rcn=$?
[ $rcn = 2 ] && grep -q "^cleave: error: run: --clock model .* no node of the testbed says device:" "$T/vnodev.txt" &&
  [ ! -e "$T/vn.h5" ] && ok "run --clock model without device nodes refused (exit 2, no output)" ||
  { cat "$T/vnodev.txt"; bad "run --clock model without devices (rc $rcn)"; }
# spatial planners on device nodes: they priced a `device:` node at this host's speed (its
# speed factor defaults to 1), so CoEdge's all-rows-on-the-Raspberry-Pi plan of the demo
# testbed cost 182 ms where the same placement costs 355 ms for the layer planners (local).
"$C" plan compare --testbed "$S/configs/demo-3tier.yaml" --objective energy > "$T/cmp.txt" 2>&1
loc=$(awk '$1 == "local" {print $3}' "$T/cmp.txt"); ce=$(awk '$1 == "coedge" && / rows device=1.000 / {print $3}' "$T/cmp.txt")
[ -n "$loc" ] && [ "$ce" = "$loc" ] && ok "coedge on device nodes: all rows on the device = local ($loc ms)" ||
  { cat "$T/cmp.txt"; bad "coedge on device nodes: '$ce' vs local '$loc'"; }
"$C" sim "$TB" --reps 1 --planner coedge > "$T/ce.txt" 2>&1
[ $? = 2 ] && grep -q "spatial" "$T/ce.txt" && ok "spatial planner refused" || { cat "$T/ce.txt"; bad "coedge"; }
"$C" sim "$TB" --reps 1 --planner nosuch > "$T/no.txt" 2>&1
[ $? = 2 ] && grep -q "planners: scission" "$T/no.txt" && ok "unknown planner refused" || { cat "$T/no.txt"; bad "nosuch"; }
finish sim_planner
