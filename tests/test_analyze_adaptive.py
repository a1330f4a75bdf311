#!/usr/bin/python3
"""The statistics of scripts/analyze_adaptive.py against known cases (run with
/usr/bin/python3): main-effect shares of an additive grid, bootstrap CIs over repeats
(collapsed when the repeats agree, the textbook interval of a mean), and the noise flag
on synthetic findings whose effect is inside / outside the spread between repeats."""
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import analyze_adaptive as aa  # noqa: E402

FAILED = []


def check(cond, msg):
    if not cond:
        FAILED.append(msg)
        print("check failed:", msg)


def additive_grid(noise_rep=None):
    """2 x 2 grid: bandwidth level a, edge CPU level b; cut 0 latency 10 + 3a + b (the best),
    cut 1 latency 100; 3 identical repeats, or repeat noise_rep of point 0 raised by 2."""
    g = pd.DataFrame({"attempt": [10, 11, 12, 13], "f0": [0, 0, 1, 1], "f1": [0, 1, 0, 1]})
    rows = []
    for _, r in g.iterrows():
        for q in range(3):
            bump = 2.0 if (noise_rep == q and r["attempt"] == 10) else 0.0
            rows.append((r["attempt"], 0, q, 10 + 3 * r["f0"] + r["f1"] + bump, 1.0))
            rows.append((r["attempt"], 1, q, 100.0, 1.0))
    rep = pd.DataFrame(rows, columns=["attempt", "cut", "repeat", "latency", "energy"])
    groups = {"f0": "network", "f1": "CPU"}
    return g, rep, groups


def main():
    # shares of y = 3a + b on a full 2 x 2 grid: SS_a = 9, SS_b = 1, SST = 10
    lv = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    sh = aa.shares(3 * lv[:, 0] + lv[:, 1], lv)
    check(np.allclose(sh, [0.9, 0.1]), "main-effect shares 0.9 / 0.1, got %s" % sh)
    check(np.allclose(aa.effects(3 * lv[:, 0] + lv[:, 1], lv), [3, 1]), "effects = range of level means")

    # grouped shares with CIs: identical repeats -> the CI collapses onto the estimate
    g, rep, groups = additive_grid()
    est, smp = aa.group_shares_ci(g, rep, ["f0", "f1"], groups, np.array([4, 9]), 200, 3)
    lo, hi = aa.percentile_ci(smp)
    cpu, mem, net = (i for i, (n, _) in enumerate(aa.GROUPS) if n in ("CPU", "memory", "network"))
    check(abs(est[0, net] - 0.9) < 1e-12 and abs(est[0, cpu] - 0.1) < 1e-12 and est[0, mem] == 0,
          "best-latency shares network 0.9, CPU 0.1, memory 0: %s" % est[0])
    check(np.allclose(lo, est) and np.allclose(hi, est), "CI of identical repeats = the estimate")
    check(np.all(est[1] == 0), "best cut never changes: its shares are 0")
    check(abs(est[2, net] - 3) < 1e-12 and abs(est[2, cpu] - 1) < 1e-12, "group effects 3 and 1: %s" % est[2])

    # one noisy repeat of one point: the CI opens and contains the estimate
    g, rep, groups = additive_grid(noise_rep=1)
    est, smp = aa.group_shares_ci(g, rep, ["f0", "f1"], groups, np.array([4, 9]), 400, 3)
    lo, hi = aa.percentile_ci(smp)
    check(hi[0, net] - lo[0, net] > 0.05, "a noisy repeat widens the CI: [%g, %g]" % (lo[0, net], hi[0, net]))
    check(lo[0, net] <= est[0, net] <= hi[0, net], "the CI contains the estimate")

    # the bootstrap of a mean against the textbook interval mean +- 1.96 sd / sqrt(n)
    x = np.arange(100.0)
    est, smp = aa.bootstrap(lambda idx: x[idx].mean(), len(x), 4000, 7)
    lo, hi = aa.percentile_ci(smp)
    half = 1.96 * x.std() / np.sqrt(len(x))
    check(abs(est - 49.5) < 1e-12, "estimate of the mean")
    check(abs(lo - (49.5 - half)) < 0.4 and abs(hi - (49.5 + half)) < 0.4,
          "bootstrap CI [%g, %g] vs normal [%g, %g]" % (lo, hi, 49.5 - half, 49.5 + half))

    # noise flags on synthetic findings (s of analyze_adaptive: one row per condition)
    s = pd.DataFrame({
        "changed": [True, True, False, True],
        "gain_s": [0.001, 0.010, 0.0, 0.004],
        "best_spread": [0.005, 0.001, 0.003, 0.001],
        "static_spread": [0.002, 0.002, 0.001, 0.004],  # the larger spread of the two cuts counts
        "e_differs": [True, True, False, False],
        "e_saved_j": [0.5, 0.05, 0.0, 0.0],
        "best_energy_spread": [0.1, 0.1, 0.1, 0.1],
        "ebest_energy_spread": [0.2, 0.2, 0.2, 0.2],
    })
    aa.flag_findings(s)
    check(list(s["noise"]) == [True, False, False, True], "noise flags %s" % list(s["noise"]))
    check(list(s["e_noise"]) == [False, True, False, False], "energy noise flags %s" % list(s["e_noise"]))
    check(list(aa.noise_flag([1.0, 3.0], [2.0, 2.0])) == [True, False], "noise_flag: effect <= spread")
    print("test_analyze_adaptive: %s" % ("FAILED" if FAILED else "PASS"))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
