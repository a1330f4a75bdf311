#!/usr/bin/python3
"""Neurosurgeon replay: the best mobile/cloud cut per uplink, by latency and by the
mobile's energy, beside the paper's finding.

The paper (Kang et al., "Neurosurgeon: Collaborative Intelligence Between the Cloud and
Mobile Edge", ASPLOS 2017) partitions a DNN between a mobile platform (Jetson TK1) and a
server (Tesla K40) over 3G, LTE and Wi-Fi uplinks, for latency or for the mobile's
energy, and finds that the best split moves towards the mobile side as the uplink slows.
This script runs (or reads) `cleave sweep experiments/neurosurgeon.yaml`: every cut of
AlexNet and VGG16 on configs/neurosurgeon.yaml (the catalogue's jetson-tk1 and
ns-server), virtual clock, and prints per model and uplink:

  best cut by latency, and by mobile energy;
  mobile only and server only (cut@input), latency and mobile energy;
  whether the trend holds, for each objective: the mobile's share of the work (its busy
  time) in the best cut never shrinks (by more than 10%, the virtual clock's noise) as the
  uplink slows.

Mobile energy = its busy energy (the records' per-layer energy on the mobile) + its radio
power x the upload time (bytes / uplink rate) + its idle power over the rest of the
latency: the timeline's accounting for one node (docs/timing-model.md). Powers are read
from the mobile's device file. The sweep's own energy column is the whole system's (the
server's idle power included) and is not what the paper optimises.

usage: /usr/bin/python3 scripts/replay_neurosurgeon.py [--cleave build/cleave]
           [--models alexnet,vgg16] [--h5 FILE (read an existing sweep instead of running
           one)] [--markdown]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

import cleave_h5

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UPLINKS = {137500.0: "3G 1.1 Mbit/s", 731250.0: "LTE 5.85 Mbit/s", 2360000.0: "Wi-Fi 18.88 Mbit/s"}


def device_power(name):
    """{idle, busy, tx, rx} in W of catalogue device @p name."""
    path = os.path.join(HERE, "configs", "devices", name + ".yaml")
    with open(path) as f:
        for ln in f:
            m = re.match(r"power:\s*\{(.*)\}", ln)
            if m:
                return {k.strip(): float(v.strip().rstrip("W")) for k, v in
                        (kv.split(":") for kv in m.group(1).split(","))}
    raise cleave_h5.BadInput("%s: no power: line" % path)


def mobile_device():
    with open(os.path.join(HERE, "configs", "neurosurgeon.yaml")) as f:
        m = re.search(r"name: mobile,[^}]*device: ([\w-]+)", f.read())
    if not m:
        raise cleave_h5.BadInput("configs/neurosurgeon.yaml: no mobile node with a device")
    return m.group(1)


def points(path, pw):
    """[(model, uplink B/s, cut, latency s, mobile J, mobile busy s)], medians over inferences."""
    with h5py.File(path, "r") as f:
        names = lambda t: {int(r["id"]): r["name"].decode() for r in f[t][:]}
        models, plans, nodes = names("/strings/models"), names("/strings/plans"), names("/strings/nodes")
        mob = [k for k, v in nodes.items() if v == "mobile"]
        if not mob:
            raise cleave_h5.BadInput("%s: no node named mobile" % path)
        P, I, L = f["/sweep/points"][:], f["/inferences"][:], f["/sweep/layers"][:]
    busy_e, busy_t = {}, {}
    for r in L[L["node"] == mob[0]]:
        k = (int(r["attempt"]), int(r["inference"]))
        busy_e[k] = busy_e.get(k, 0.0) + float(r["energy"])
        busy_t[k] = busy_t.get(k, 0.0) + float(r["duration"])
    out = []
    for p in P:
        if p["failed"]:
            continue
        a, bw = int(p["attempt"]), float(p["f0"])
        lat, en, bt = [], [], []
        for r in I[I["attempt"] == a]:
            k = (a, int(r["inference"]))
            t_up = float(r["bytes"]) / bw
            b = busy_t.get(k, 0.0)
            lat.append(float(r["latency"]))
            en.append(busy_e.get(k, 0.0) + pw["tx"] * t_up + pw["idle"] * max(0.0, float(r["latency"]) - b - t_up))
            bt.append(b)
        if lat:
            out.append((models[int(p["model"])], bw, plans[int(p["plan"])], float(np.median(lat)),
                        float(np.median(en)), float(np.median(bt))))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cleave", default=os.path.join(HERE, "build", "cleave"))
    ap.add_argument("--h5", help="an existing sweep of experiments/neurosurgeon.yaml")
    ap.add_argument("--models", default="", help="comma-separated subset of the experiment's models")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    pw = device_power(mobile_device())
    tmp = None
    path = a.h5
    if not path:
        tmp = tempfile.mkdtemp(prefix="cleave-ns-")
        path = os.path.join(tmp, "ns.h5")
        exp = os.path.join(HERE, "experiments", "neurosurgeon.yaml")
        if a.models:  # the same experiment over fewer models
            with open(exp) as f:
                text = f.read()
            text = re.sub(r"(?m)^models:.*$", "models: [%s]" % a.models, text)
            text = re.sub(r"(?m)^testbed:\s*(\S+)", lambda m: "testbed: " + os.path.normpath(
                os.path.join(HERE, "experiments", m.group(1))), text)
            exp = os.path.join(tmp, "ns.yaml")
            with open(exp, "w") as f:
                f.write(text)
        r = subprocess.run([a.cleave, "sweep", exp, "-o", path], capture_output=True, text=True)
        if r.returncode != 0:
            raise cleave_h5.BadInput("cleave sweep failed: %s" % r.stderr.strip().splitlines()[-1:])
    rows = points(path, pw)
    sep = " | " if a.markdown else "  "
    head = ["model", "uplink", "best by latency", "ms", "best by mobile energy", "mobile J", "mobile only ms / J",
            "server only ms / J"]
    print(sep.join(head))
    if a.markdown:
        print("|".join(["---"] * len(head)))
    trend_ok = [True, True]  # latency, mobile energy
    for model in sorted({r[0] for r in rows}):
        prev_busy = [None, None]
        for bw in sorted({r[1] for r in rows if r[0] == model}, reverse=True):  # fastest uplink first
            pts = [r for r in rows if r[0] == model and r[1] == bw]
            bl = min(pts, key=lambda r: r[3])
            be = min(pts, key=lambda r: r[4])
            mo = [r for r in pts if r[2] == "all@mobile"]
            sv = [r for r in pts if r[2] == "cut@input"]
            cell = lambda x: "%.0f / %.2f" % (x[0][3] * 1e3, x[0][4]) if x else "-"
            print(sep.join([model, UPLINKS.get(bw, "%g B/s" % bw), bl[2], "%.0f" % (bl[3] * 1e3), be[2],
                            "%.2f" % be[4], cell(mo), cell(sv)]))
            for o, best in enumerate((bl, be)):
                if prev_busy[o] is not None and best[5] < 0.9 * prev_busy[o]:  # 10%: virtual-clock noise
                    trend_ok[o] = False
                prev_busy[o] = best[5]
    if a.markdown:
        print()
    word = lambda ok: "holds" if ok else "does NOT hold"
    print("paper: the best split moves towards the mobile side as the uplink slows; here: latency %s, "
          "mobile energy %s" % (word(trend_ok[0]), word(trend_ok[1])))
    print("mobile powers (%s): idle %.1f W, busy %.1f W, radio tx %.1f W" % (mobile_device(), pw["idle"], pw["busy"],
                                                                           pw["tx"]))
    if tmp:
        for n in os.listdir(tmp):
            os.remove(os.path.join(tmp, n))
        os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(cleave_h5.cli(main, "replay_neurosurgeon.py"))
