#!/usr/bin/python3
"""Speed factors of the Scission testbed machines relative to this host.

    /usr/bin/python3 configs/scission_calibrate.py [--cleave build/cleave] [--host-times T_VGG16,T_RESNET50]

For each machine CSV in tests/data/scission/ (Scission's per-block benchmark results:
model, block, seconds), the machine's total time of a model is the sum of its blocks'
seconds. This host's total is the sum of the per-layer medians of `cleave profile MODEL`
(fused executor steps, 1 thread). The speed factor (slowdown vs this host, as the testbed
`speed:` key expects) is machine_total / host_total per model; the factor we use is the
geometric mean over vgg16 and resnet50. Prints a table and the YAML snippet.
"""
import argparse
import glob
import math
import os
import subprocess
import sys
import tempfile

import h5py
import pandas as pd

MODELS = ("vgg16", "resnet50")
HERE = os.path.dirname(os.path.abspath(__file__))


def host_time(cleave, model):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "p.h5")
        subprocess.run([cleave, "profile", model, "-o", out, "--reps", "5", "--warmup", "1"], check=True,
                       stdout=subprocess.DEVNULL)
        with h5py.File(out, "r") as f:
            return float(f["/profile/layers"]["median"].sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cleave", default=os.path.join(HERE, "..", "build", "cleave"))
    ap.add_argument("--data", default=os.path.join(HERE, "..", "tests", "data", "scission"))
    ap.add_argument("--host-times", help="this host's vgg16,resnet50 seconds (skip profiling)")
    a = ap.parse_args()
    if a.host_times:
        host = dict(zip(MODELS, (float(x) for x in a.host_times.split(","))))
    else:
        host = {m: host_time(a.cleave, m) for m in MODELS}
    print("this host: " + ", ".join("%s %.4f s" % (m, host[m]) for m in MODELS))
    print("%-22s %10s %10s %10s %10s %8s" % ("machine", "vgg16 s", "resnet50 s", "f(vgg16)", "f(resnet50)", "speed"))
    for path in sorted(glob.glob(os.path.join(a.data, "*-*.csv"))):
        name = os.path.basename(path)[:-4]
        if name.startswith("network"):
            continue
        tot = pd.read_csv(path).groupby("model")["seconds"].sum()
        f = {m: tot[m] / host[m] for m in MODELS}
        g = math.exp(sum(math.log(v) for v in f.values()) / len(f))
        print("%-22s %10.4f %10.4f %10.3f %10.3f %8.3f" % (name, tot["vgg16"], tot["resnet50"], f["vgg16"],
                                                             f["resnet50"], g))
    return 0


if __name__ == "__main__":
    sys.exit(main())
