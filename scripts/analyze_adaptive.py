#!/usr/bin/python3
"""Analyse an adaptivity-study sweep (cleave sweep, kind adaptive). Run with /usr/bin/python3.

    /usr/bin/python3 scripts/analyze_adaptive.py adaptive.h5 -o plots/ [--csv summary.csv]

Answers, per model:
  * the best cut (lowest median latency) of every condition;
  * how often the best cut differs from the best cut of the unstressed condition
    (level 0 of every factor) -- the case for re-partitioning;
  * the latency gained by re-partitioning: latency of the unstressed-best cut under the
    condition minus the latency of the condition's best cut (mean and max, s and %);
  * which factor matters most: main-effect sums of squares of each factor (one-way
    ANOVA decomposition over the full factorial grid), as a share of the total sum of
    squares, for the best latency and for the latency of the static (unstressed-best) cut.
Plots (PNG, matplotlib Agg): heatmaps of the best cut index over pairs of factors (mode
over the other factors) and latency vs cut point for a set of conditions.

Rows of points that a killed sweep left without their /sweep/points row are ignored
(joined on the attempt key), as docs/experiments.md prescribes.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cleave_h5  # noqa: E402

SHORT = {
    "links.edge->cloud.bandwidth": "bandwidth",
    "nodes.cloud.cpu_load": "cloud CPU",
    "nodes.edge.cpu_load": "edge CPU",
    "nodes.edge.mem_pressure": "edge mem",
    "nodes.cloud.mem_pressure": "cloud mem",
}


def factor_names(path):
    f = cleave_h5.open_file(path)
    try:
        a = f["/sweep/points"].attrs
        names, k = [], 0
        while "factor%d" % k in a:
            v = a["factor%d" % k]
            names.append(v.decode() if isinstance(v, bytes) else str(v))
            k += 1
        return names
    finally:
        f.close()


def main_effects(df, factors, col):
    """Main-effect sum of squares of each factor / total sum of squares."""
    y = df[col].to_numpy()
    grand = y.mean()
    sst = float(((y - grand) ** 2).sum())
    out = {}
    for fc in factors:
        g = df.groupby(fc)[col]
        out[fc] = float((g.count() * (g.mean() - grand) ** 2).sum()) / sst if sst > 0 else 0.0
    return out


def fmt_level(name, v):
    if "bandwidth" in name:
        return "%gMbit/s" % (v * 8 / 1e6)
    if "cpu_load" in name or "mem_pressure" in name:
        return "%g%%" % (100 * v)
    return "%g" % v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("-o", "--out", default="adaptive_plots", help="directory for PNGs (created)")
    ap.add_argument("--csv", help="write the per-(model, condition) summary here")
    ap.add_argument("--no-plots", action="store_true")
    a = ap.parse_args(argv)

    pts = cleave_h5.load(a.file, "/sweep/points")
    pts = pts[(pts["failed"] == 0) & (pts["kind"] == 1)]
    if pts.empty:
        print("no completed adaptive points in %s" % a.file, file=sys.stderr)
        return 1
    cuts = cleave_h5.load(a.file, "/adaptive/cuts")
    cuts = cuts[cuts["attempt"].isin(pts["attempt"])]
    names = factor_names(a.file)
    fcols = ["f%d" % k for k in range(len(names))]
    label = {fc: SHORT.get(n, n) for fc, n in zip(fcols, names)}
    cond = pts[["attempt", "model"] + fcols].copy()
    cuts = cuts.merge(cond.drop(columns=["model"]), on="attempt")

    best = cuts[cuts["best"] == 1][["attempt", "model", "cut", "cut_name", "latency"] + fcols]
    best = best.rename(columns={"cut": "best_cut", "cut_name": "best_name", "latency": "best_latency"})
    static = cuts[cuts["base_best"] == 1][["attempt", "cut", "cut_name", "latency"]]
    static = static.rename(columns={"cut": "static_cut", "cut_name": "static_name", "latency": "static_latency"})
    s = best.merge(static, on="attempt")
    s["changed"] = s["best_cut"] != s["static_cut"]
    s["gain_s"] = s["static_latency"] - s["best_latency"]
    s["gain_pct"] = 100 * s["gain_s"] / s["static_latency"]
    if a.csv:
        s.to_csv(a.csv, index=False)

    n_layers = 0
    try:
        f = cleave_h5.open_file(a.file)
        n_layers = f["/adaptive/layers"].shape[0]
        f.close()
    except (OSError, KeyError):
        pass
    print("file: %s" % a.file)
    print("points (model x condition): %d, cut summaries: %d, per-layer records: %d" % (len(pts), len(cuts), n_layers))
    print("factors: %s" % ", ".join("%s=%s" % (fc, n) for fc, n in zip(fcols, names)))
    print()
    print("%-12s %5s %6s %-22s %8s %9s %9s %9s" % ("model", "conds", "cuts", "unstressed best cut", "changed",
                                                    "gain mean", "gain max", "gain max%"))
    for m, g in s.groupby("model"):
        ncut = cuts[cuts["model"] == m]["cut"].nunique()
        print("%-12s %5d %6d %-22.22s %7.1f%% %8.2fms %8.2fms %8.1f%%" % (
            m, len(g), ncut, g["static_name"].iloc[0], 100 * g["changed"].mean(), 1e3 * g["gain_s"].mean(),
            1e3 * g["gain_s"].max(), g["gain_pct"].max()))
    print()
    print("best cut per condition (most frequent best cuts):")
    for m, g in s.groupby("model"):
        vc = g["best_name"].value_counts()
        print("  %-12s %s" % (m, ", ".join("%s (%d)" % (k, v) for k, v in vc.head(5).items())))
    print()
    print("share of variance explained by each factor's main effect (sum of squares / total):")
    hdr = "%-12s %-15s" % ("model", "response") + "".join("%11s" % label[fc][:11] for fc in fcols)
    print(hdr)
    ranking = []
    for m, g in s.groupby("model"):
        for col, what in (("best_latency", "best latency"), ("static_latency", "static latency")):
            me = main_effects(g, fcols, col)
            print("%-12s %-15s" % (m, what) + "".join("%10.1f%%" % (100 * me[fc]) for fc in fcols))
            if col == "best_latency":
                ranking.append(max(me, key=me.get))
    if ranking:
        top = pd.Series(ranking).value_counts()
        print("most important factor (best latency), count over models: %s" % ", ".join(
            "%s %d" % (label[k], v) for k, v in top.items()))

    if a.no_plots:
        return 0
    os.makedirs(a.out, exist_ok=True)
    models = list(s["model"].unique())
    # 1. heatmaps: best cut index over pairs (bandwidth x each other factor), mode over the rest
    if len(fcols) >= 2:
        pairs = [(fcols[0], fc) for fc in fcols[1:]]
        for m in models:
            g = s[s["model"] == m]
            fig, axes = plt.subplots(1, len(pairs), figsize=(3.2 * len(pairs), 3.2), squeeze=False)
            for ax, (fx, fy) in zip(axes[0], pairs):
                xs, ys = sorted(g[fx].unique()), sorted(g[fy].unique())
                grid = np.full((len(ys), len(xs)), np.nan)
                for i, yv in enumerate(ys):
                    for j, xv in enumerate(xs):
                        v = g[(g[fx] == xv) & (g[fy] == yv)]["best_cut"]
                        if len(v):
                            grid[i, j] = v.mode().iloc[0]
                im = ax.imshow(grid, origin="lower", cmap="viridis", aspect="auto")
                ax.set_xticks(range(len(xs)), [fmt_level(names[fcols.index(fx)], v) for v in xs], fontsize=7)
                ax.set_yticks(range(len(ys)), [fmt_level(names[fcols.index(fy)], v) for v in ys], fontsize=7)
                ax.set_xlabel(label[fx])
                ax.set_ylabel(label[fy])
                for i in range(len(ys)):
                    for j in range(len(xs)):
                        if not np.isnan(grid[i, j]):
                            ax.text(j, i, "%d" % grid[i, j], ha="center", va="center", color="w", fontsize=7)
                fig.colorbar(im, ax=ax, fraction=0.046)
            fig.suptitle("%s: best cut index (mode over the other factors)" % m)
            fig.tight_layout()
            fig.savefig(os.path.join(a.out, "best_cut_heatmap_%s.png" % m), dpi=110)
            plt.close(fig)
    # 2. latency vs cut for the unstressed condition, each factor alone at its top level, all at top
    for m in models:
        c = cuts[cuts["model"] == m]
        lo = {fc: c[fc].min() if "bandwidth" not in names[k] else c[fc].max() for k, fc in enumerate(fcols)}
        hi = {fc: c[fc].max() if "bandwidth" not in names[k] else c[fc].min() for k, fc in enumerate(fcols)}
        conds = [("unstressed", lo)]
        for fc in fcols:
            d = dict(lo)
            d[fc] = hi[fc]
            conds.append(("%s %s" % (label[fc], fmt_level(names[fcols.index(fc)], hi[fc])), d))
        conds.append(("all stressed", hi))
        fig, ax = plt.subplots(figsize=(8, 4))
        for name, d in conds:
            sel = c
            for fc, v in d.items():
                sel = sel[sel[fc] == v]
            if sel.empty:
                continue
            sel = sel.sort_values("cut")
            ax.plot(sel["cut"], 1e3 * sel["latency"], marker=".", label=name)
        ax.set_yscale("log")
        ax.set_xlabel("cut index (0 = all in the cloud, last = all on the edge)")
        ax.set_ylabel("median latency (ms)")
        ax.set_title("%s: latency vs cut point" % m)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "latency_vs_cut_%s.png" % m), dpi=110)
        plt.close(fig)
    print("plots written to %s/" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
