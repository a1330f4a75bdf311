#!/usr/bin/python3
"""Tables of a users sweep (kind users, experiments/campus-users.yaml).

usage: users_table.py OUT.h5 [--users N --load X]

Prints, per point (users N, load x), the spread over users of the median, p95 and p99
latency and the mean waiting; with --users/--load, the per-user table of that point.
Rows of /users/stats whose attempt has no /sweep/points row (a killed run) are ignored.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cleave_h5  # noqa: E402


def names(f, d):
    return [s.decode() if isinstance(s, bytes) else s for s in f["strings/" + d]["name"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("h5")
    ap.add_argument("--users", type=int)
    ap.add_argument("--load", type=float)
    a = ap.parse_args()
    f = cleave_h5.open_file(a.h5)
    for t in ("sweep/points", "users/stats", "strings/users", "strings/models"):
        if t not in f:
            raise cleave_h5.BadInput("%s: not the output of a users sweep (no /%s; see experiments/campus-users.yaml)"
                                     % (a.h5, t))
    pts = f["sweep/points"][:]
    st = f["users/stats"][:]
    fac = {f["sweep/points"].attrs["factor%d" % k].decode() if isinstance(f["sweep/points"].attrs["factor%d" % k], bytes)
           else f["sweep/points"].attrs["factor%d" % k]: "f%d" % k for k in range(int(pts["n_factors"].max()))}
    users = names(f, "users")
    models = names(f, "models")
    key = {}
    for p in pts:
        key[int(p["attempt"])] = (int(round(p[fac["users"]])), float(p[fac["load"]]) if "load" in fac else 1.0)
    rows = [r for r in st if int(r["attempt"]) in key]
    if a.users:
        print(f"users {a.users}, load {a.load or 1.0}: per-user latency (ms)")
        print(f"{'user':6} {'model':14} {'inf':>4} {'p50':>9} {'p95':>9} {'p99':>9} {'wait':>8}")
        for r in rows:
            if key[int(r["attempt"])] == (a.users, a.load or 1.0):
                print(f"{users[r['user']]:6} {models[r['model']]:14} {r['inferences']:4d} {1e3 * r['lat_p50']:9.3f} "
                      f"{1e3 * r['lat_p95']:9.3f} {1e3 * r['lat_p99']:9.3f} {1e3 * r['wait_mean']:8.3f}")
        return
    print("| users | load | p50 over users: min / median / max (ms) | p95 max (ms) | p99 max (ms) | mean wait (ms) |")
    print("|---|---|---|---|---|---|")
    for k in sorted(set(key.values())):
        sel = [r for r in rows if key[int(r["attempt"])] == k]
        p50 = np.array([r["lat_p50"] for r in sel]) * 1e3
        p95 = max(r["lat_p95"] for r in sel) * 1e3
        p99 = max(r["lat_p99"] for r in sel) * 1e3
        w = np.mean([r["wait_mean"] for r in sel]) * 1e3
        print(f"| {k[0]} | {k[1]:g} | {p50.min():.1f} / {np.median(p50):.1f} / {p50.max():.1f} | {p95:.1f} | {p99:.1f} | {w:.2f} |")


if __name__ == "__main__":
    sys.exit(cleave_h5.cli(main, "users_table.py"))
