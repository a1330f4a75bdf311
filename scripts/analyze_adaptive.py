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
    squares, for the best latency and for the latency of the static (unstressed-best) cut;
  * the same shares grouped into CPU / memory / network, for the best latency and the
    best cut (its number of edge layers), with 95% bootstrap confidence intervals over
    the repeats of the profiling units (/adaptive/repeats: each unit was profiled
    `repeats` times, interleaved; a bootstrap sample draws repeats with replacement,
    the same draw for every point, since repeat q of every unit ran in the same round);
  * the energy-optimal cut beside the latency-optimal one (how often they differ, the
    energy saved and the latency paid);
  * host noise: a finding whose effect is not larger than the spread between repeats
    (max - min of the per-repeat medians) is flagged "noise" and not counted: a changed
    best cut whose gain is within the spread, an energy-optimal cut whose saving is,
    and a factor group whose effect (range of its level means) is.
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


GROUPS = (("CPU", "cpu_load"), ("memory", "mem_pressure"), ("network", "links."))


def factor_group(name):
    for g, key in GROUPS:
        if key in name or (g == "network" and ("bandwidth" in name or "latency" in name)):
            return g
    return "other"


def shares(y, levels):
    """Main-effect share of each factor: y (n,), levels (n, k) level values -> (k,)."""
    y = np.asarray(y, dtype=float)
    sst = float(((y - y.mean()) ** 2).sum())
    out = np.zeros(levels.shape[1])
    if sst <= 0:
        return out
    for j in range(levels.shape[1]):
        ss = 0.0
        for v in np.unique(levels[:, j]):
            sel = levels[:, j] == v
            ss += sel.sum() * (y[sel].mean() - y.mean()) ** 2
        out[j] = ss / sst
    return out


def effects(y, levels):
    """Range of the level means of each factor (the size of its main effect, y's unit)."""
    y = np.asarray(y, dtype=float)
    out = np.zeros(levels.shape[1])
    for j in range(levels.shape[1]):
        m = [y[levels[:, j] == v].mean() for v in np.unique(levels[:, j])]
        out[j] = max(m) - min(m) if m else 0.0
    return out


def percentile_ci(samples, alpha=0.05):
    """Percentile interval of bootstrap samples along axis 0."""
    samples = np.asarray(samples, dtype=float)
    return np.percentile(samples, 100 * alpha / 2, axis=0), np.percentile(samples, 100 * (1 - alpha / 2), axis=0)


def bootstrap(stat, n_repeats, n_boot=400, seed=1):
    """stat(idx) for idx = every repeat (the estimate) and n_boot draws of n_repeats
    repeats with replacement; returns (estimate, samples[n_boot, ...])."""
    rng = np.random.default_rng(seed)
    est = np.asarray(stat(np.arange(n_repeats)))
    smp = np.array([stat(rng.integers(0, n_repeats, n_repeats)) for _ in range(n_boot)])
    return est, smp


def noise_flag(effect, spread):
    """True where an effect is not larger than the host-noise spread between repeats."""
    return np.asarray(effect, dtype=float) <= np.asarray(spread, dtype=float)


def repeat_arrays(rep, att):
    """Per-repeat medians as arrays [point, cut, repeat] (latency, energy) for the
    points `att` (all of one model: same cuts)."""
    r = rep[rep["attempt"].isin(att)]
    nc, nq = r["cut"].max() + 1, r["repeat"].max() + 1
    pos = {a: i for i, a in enumerate(att)}
    lat = np.full((len(att), nc, nq), np.nan)
    en = np.full((len(att), nc, nq), np.nan)
    i = r["attempt"].map(pos).to_numpy()
    lat[i, r["cut"].to_numpy(), r["repeat"].to_numpy()] = r["latency"].to_numpy()
    en[i, r["cut"].to_numpy(), r["repeat"].to_numpy()] = r["energy"].to_numpy()
    return lat, en


def flag_findings(s):
    """Adds the columns noise (a changed best cut whose gain is within the host noise of
    the two cuts) and e_noise (an energy-optimal cut whose saving is within theirs)."""
    s["noise"] = s["changed"] & noise_flag(s["gain_s"], np.maximum(s["best_spread"], s["static_spread"]))
    s["e_noise"] = s["e_differs"] & noise_flag(s["e_saved_j"], np.maximum(s["best_energy_spread"],
                                                                         s["ebest_energy_spread"]))
    return s


def group_shares_ci(g, rep, fcols, groups, edge_steps, n_boot, seed):
    """Main-effect shares of the factor groups (CPU, memory, network) on the best latency
    and on the best cut (edge layers), with bootstrap CIs over repeats, and each group's
    effect size on the best latency. g: one model's points (attempt + factor columns)."""
    att = g["attempt"].to_numpy()
    lat, _ = repeat_arrays(rep, att)
    levels = g[fcols].to_numpy(dtype=float)
    gid = [[j for j, fc in enumerate(fcols) if groups[fc] == name] for name, _ in GROUPS]

    def stat(idx):
        m = lat[:, :, idx].mean(axis=2)  # [point, cut]
        best = m.argmin(axis=1)
        y_lat = m.min(axis=1)
        y_cut = edge_steps[best]
        sl, sc = shares(y_lat, levels), shares(y_cut, levels)
        el = effects(y_lat, levels)
        return np.array([[sl[j].sum() for j in gid], [sc[j].sum() for j in gid],
                         [el[j].max() if j else 0.0 for j in gid]])

    return bootstrap(stat, lat.shape[2], n_boot, seed)


def fmt_level(name, v):
    if "bandwidth" in name:
        return "%gMbit/s" % (v * 8 / 1e6)
    if "cpu_load" in name or "mem_pressure" in name:
        return "%g%%" % (100 * v)
    return "%g" % v


def report_energy_noise(a, s, cuts, names, fcols):
    """Energy-optimal vs latency-optimal cuts, host noise, and the grouped main-effect
    shares with bootstrap CIs (module docstring)."""
    print()
    print("latency-optimal vs energy-optimal cut (energy: both nodes, busy + radio + idle):")
    print("%-12s %5s %8s %7s %11s %11s %9s %12s %8s" % ("model", "conds", "changed", "(noise)", "e-opt differs",
                                                      "(noise)", "saved", "saved max", "lat cost"))
    for m, g in s.groupby("model"):
        d = g[g["e_differs"] & ~g["e_noise"]]
        print("%-12s %5d %7.1f%% %7d %10.1f%% %11d %8.1f%% %11.1f%% %7.2fms" % (
            m, len(g), 100 * (g["changed"] & ~g["noise"]).mean(), int(g["noise"].sum()),
            100 * (g["e_differs"] & ~g["e_noise"]).mean(), int(g["e_noise"].sum()),
            d["e_saved_pct"].mean() if len(d) else 0.0, d["e_saved_pct"].max() if len(d) else 0.0,
            1e3 * d["e_latency_cost_s"].mean() if len(d) else 0.0))
    print("  ('noise': the effect is within the max - min of the per-repeat medians; not counted)")
    print()
    print("host noise between repeats (best cut): median spread %.2f%% of the latency, max %.2f%%" % (
        100 * (s["best_spread"] / s["best_latency"]).median(), 100 * (s["best_spread"] / s["best_latency"]).max()))
    try:
        rep = cleave_h5.load(a.file, "/adaptive/repeats", resolve=False)
    except (KeyError, OSError):
        return
    rep = rep[rep["attempt"].isin(s["attempt"])]
    if rep.empty or rep["repeat"].max() < 1:
        print("one repeat per unit: no confidence intervals (set repeats: >= 2)")
        return
    groups = {fc: factor_group(n) for fc, n in zip(fcols, names)}
    print()
    print("main-effect shares by factor group, 95%% bootstrap CI over %d repeats (%d samples);" % (
        rep["repeat"].max() + 1, a.boot))
    print("'noise' = the group's effect (range of level means, best latency) <= the median host spread")
    print("%-12s %-12s" % ("model", "response") + "".join("%26s" % gname for gname, _ in GROUPS))
    for m, g in s.groupby("model"):
        c = cuts[cuts["attempt"] == g["attempt"].iloc[0]].sort_values("cut")
        edge_steps = c["edge_steps"].to_numpy()
        est, smp = group_shares_ci(g, rep, fcols, groups, edge_steps, a.boot, a.seed)
        lo, hi = percentile_ci(smp)
        spread = float(g["best_spread"].median())
        noisy = noise_flag(est[2], spread)
        for row, what in ((0, "best latency"), (1, "best cut")):
            cells = []
            for j, (gname, _) in enumerate(GROUPS):
                if not any(v == gname for v in groups.values()):
                    cells.append("%26s" % "-")
                    continue
                cells.append("%26s" % ("%5.1f%% [%5.1f, %5.1f]%s" % (100 * est[row, j], 100 * lo[row, j],
                                                                    100 * hi[row, j], " noise" if noisy[j] else "")))
            print("%-12s %-12s" % (m, what) + "".join(cells))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("-o", "--out", default="adaptive_plots", help="directory for PNGs (created)")
    ap.add_argument("--csv", help="write the per-(model, condition) summary here")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--boot", type=int, default=400, help="bootstrap samples over repeats (default 400)")
    ap.add_argument("--seed", type=int, default=1, help="bootstrap seed")
    ap.add_argument("--force", action="store_true", help="replace existing --csv / PNG outputs")
    a = ap.parse_args(argv)
    if a.csv:
        cleave_h5.check_output(a.csv, a.force)

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

    has_energy = "ebest" in cuts.columns
    xcols = ["latency_spread", "energy", "energy_spread"] if has_energy else []
    best = cuts[cuts["best"] == 1][["attempt", "model", "cut", "cut_name", "latency"] + xcols + fcols]
    best = best.rename(columns={"cut": "best_cut", "cut_name": "best_name", "latency": "best_latency",
                                "latency_spread": "best_spread", "energy": "best_energy",
                                "energy_spread": "best_energy_spread"})
    static = cuts[cuts["base_best"] == 1][["attempt", "cut", "cut_name", "latency"] + xcols[:1]]
    static = static.rename(columns={"cut": "static_cut", "cut_name": "static_name", "latency": "static_latency",
                                    "latency_spread": "static_spread"})
    s = best.merge(static, on="attempt")
    s["changed"] = s["best_cut"] != s["static_cut"]
    s["gain_s"] = s["static_latency"] - s["best_latency"]
    s["gain_pct"] = 100 * s["gain_s"] / s["static_latency"]
    if has_energy:
        eb = cuts[cuts["ebest"] == 1][["attempt", "cut", "cut_name", "latency", "energy", "energy_spread"]]
        eb = eb.rename(columns={"cut": "ebest_cut", "cut_name": "ebest_name", "latency": "ebest_latency",
                                "energy": "ebest_energy", "energy_spread": "ebest_energy_spread"})
        s = s.merge(eb, on="attempt")
        s["e_differs"] = s["ebest_cut"] != s["best_cut"]
        s["e_saved_j"] = s["best_energy"] - s["ebest_energy"]
        s["e_saved_pct"] = 100 * s["e_saved_j"] / s["best_energy"]
        s["e_latency_cost_s"] = s["ebest_latency"] - s["best_latency"]
        flag_findings(s)
    if a.csv:
        cleave_h5.write_atomic(a.csv, lambda tmp: s.to_csv(tmp, index=False))

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
    if has_energy:
        report_energy_noise(a, s, cuts, names, fcols)

    if a.no_plots:
        return 0
    models = list(s["model"].unique())
    if os.path.exists(a.out) and not os.path.isdir(a.out):
        raise cleave_h5.BadInput("-o %s is a file; the plots go into a directory" % a.out)
    for m in models:  # every PNG checked before any is written
        if len(fcols) >= 2:
            cleave_h5.check_output(os.path.join(a.out, "best_cut_heatmap_%s.png" % m), a.force)
        cleave_h5.check_output(os.path.join(a.out, "latency_vs_cut_%s.png" % m), a.force)
    os.makedirs(a.out, exist_ok=True)
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
            cleave_h5.write_atomic(os.path.join(a.out, "best_cut_heatmap_%s.png" % m),
                                   lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
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
        cleave_h5.write_atomic(os.path.join(a.out, "latency_vs_cut_%s.png" % m),
                               lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
        plt.close(fig)
    print("plots written to %s/" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(cleave_h5.cli(main, "analyze_adaptive.py"))
