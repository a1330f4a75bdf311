#!/bin/bash
# DVFS states of a device model selected per node (`dvfs:`, docs/devices.md): a raspi4
# node at state 0 (0.6 GHz, 0.8 V) against the nominal state (1.5 GHz, 0.88 V). Every
# step's slowdown scales by f_nom / f, compute energy is busy time x the state's busy
# power (idle + (busy - idle) x f V^2 / (f_nom V_nom^2)), provenance names the state,
# and bad states are refused with FILE:LINE (exit 2).
. "$(dirname "$0")/script_lib.sh" "$@"
export CLEAVE_CALIB_LAYERS=0 # class-model host times: both runs share one calibration
cat > "$T/nom.yaml" <<'Y'
model: lenet
nodes:
  - {name: pi, tier: device, device: raspi4}
plan: [{node: pi, layers: rest}]
Y
sed 's/device: raspi4}/device: raspi4, dvfs: 0}/' "$T/nom.yaml" > "$T/low.yaml"
"$C" run "$T/nom.yaml" -o "$T/nom.h5" --inferences 2 > "$T/nom.out" 2>&1 || fail "nominal run: $(tail -3 "$T/nom.out")"
"$C" run "$T/low.yaml" -o "$T/low.h5" --inferences 2 > "$T/low.out" 2>&1 || fail "dvfs 0 run: $(tail -3 "$T/low.out")"
$PY - "$T/nom.h5" "$T/low.h5" "$T/nom.out" "$T/low.out" <<'PY' && ok "dvfs 0: slowdowns x 2.5, energy = busy x P(state), provenance" || bad "dvfs scaling"
import sys, h5py, numpy as np
nom, low = (h5py.File(p, "r") for p in sys.argv[1:3])
sn, sl = nom["/devices/steps"][:]["slowdown"], low["/devices/steps"][:]["slowdown"]
assert len(sn) == len(sl) > 0
r = sl / sn
assert np.allclose(r, 1.5 / 0.6, rtol=1e-9), r
prov = low["/devices"].attrs["dvfs_pi"].decode()
assert prov.startswith("state 0: 0.6 GHz, 0.8 V (nominal 1.5 GHz, 0.88 V)"), prov
assert "dvfs_pi" not in nom["/devices"].attrs
def busy_energy(path):
    for line in open(path):
        w = line.split()
        if len(w) == 6 and w[0] == "pi" and w[1] == "device":
            return float(w[2]), float(w[4])
    raise AssertionError("no node line in " + path)
bn, en = busy_energy(sys.argv[3])
bl, el = busy_energy(sys.argv[4])
p_low = 2.7 + (6.4 - 2.7) * 0.4 * (0.8 ** 2) / (0.88 ** 2)
# the printout has 4 decimals: busy_s +-5e-5 s gives energy +-3.2e-4 J, plus its own 5e-5
assert abs(en - bn * 6.4) <= 5e-4, (en, bn)
assert abs(el - bl * p_low) <= 5e-4, (el, bl, p_low)
PY
sed 's/dvfs: 0}/dvfs: 2}/' "$T/low.yaml" > "$T/bad.yaml"
"$C" run "$T/bad.yaml" -o "$T/bad.h5" > "$T/bad.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "^cleave: error: .*bad.yaml:3: node 'pi': dvfs: 2, but device 'raspi4' has 2 DVFS states (0..1)" "$T/bad.out"
then ok "dvfs state out of range: exit 2, FILE:LINE"; else bad "dvfs out of range (rc $rc)"; cat "$T/bad.out"; fi
sed 's/device: raspi4, dvfs: 0}/speed: 2, dvfs: 0}/' "$T/low.yaml" > "$T/nodev.yaml"
"$C" run "$T/nodev.yaml" -o "$T/nodev.h5" > "$T/nodev.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "nodev.yaml:3:.*dvfs selects a state of the node's device model: set device:" "$T/nodev.out"
then ok "dvfs without device: exit 2"; else bad "dvfs without device (rc $rc)"; cat "$T/nodev.out"; fi
finish dvfs
