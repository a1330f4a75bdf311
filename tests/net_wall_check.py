"""Wall mode against the network model (tests/net_wall_share_test.sh).

A naive twin of the max-min fluid model (docs/timing-model.md, "Max-min flows"): from a
wall run's output it takes every transfer's measured start (the end of the producing
step on the sender, /layers) and bytes, the config's links, traces and routes, and
recomputes every arrival by progressive filling at each event (flow start, drain,
bandwidth step). It then compares
  measured delay  = wall_arrival - start          (what the wall clock gave)
  model delay     = twin arrival - start          (what the model says)
  runtime target  = wall_arrival - wall_error     (what cleave's arbiter computed)
Usage: net_wall_check.py RUN.h5 CONFIG.yaml [--expect SRC-DST:MS ...] (analytic delay of
every SRC -> DST transfer: the model must equal it within 0.5%, the wall clock within 2%)
Prints one line per transfer and a summary line "errors_pct median max"; exits 1 when
the errors exceed 2% (median over transfers, and at most one transfer above 2%, none
above 6%: a loaded host deschedules a receiver now and then)."""
import os
import re
import sys

import h5py
import numpy as np
import yaml

UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "bit/s": 1 / 8, "kbit/s": 1e3 / 8, "Mbit/s": 1e6 / 8, "Gbit/s": 1e9 / 8}


def qty(v):
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([A-Za-z/]*)\s*", str(v))
    return float(m.group(1)) * UNITS.get(m.group(2) or "s", 1.0)


def load_net(cfg_path):
    cfg = yaml.safe_load(open(cfg_path))
    caps, lats, adj = {}, {}, {}
    for ln in cfg["links"]:
        if "trace" in ln:
            rows = [r.split(",") for r in open(os.path.join(os.path.dirname(cfg_path), ln["trace"]))
                    if r.strip() and not r.startswith("#") and not r.startswith("time")]
            sched = ([float(r[0]) for r in rows], [float(r[1]) * 1e6 / 8 for r in rows])
        else:
            sched = ([0.0], [qty(ln["bandwidth"])])
        ends = [(ln["from"], ln["to"])] + ([(ln["to"], ln["from"])] if ln.get("both_ways", True) else [])
        for a, b in ends:
            caps[(a, b)] = sched
            lats[(a, b)] = qty(ln["latency"])
            adj.setdefault(a, []).append(b)
    return caps, lats, adj


def route(adj, a, b):
    """The unique simple path a -> b (the test topologies are trees)."""
    stack = [(a, [a])]
    while stack:
        v, path = stack.pop()
        if v == b:
            return list(zip(path, path[1:]))
        stack.extend((w, path + [w]) for w in adj.get(v, []) if w not in path)
    raise SystemExit("no route %s -> %s" % (a, b))


def cap_at(sched, t):
    ts, vs = sched
    k = max(0, np.searchsorted(ts, t, side="right") - 1)
    return vs[k]


def next_step(sched, t):
    ts = sched[0]
    k = np.searchsorted(ts, t, side="right")
    return ts[k] if k < len(ts) else np.inf


def maxmin(active, flows, caps, t):
    """Progressive filling: the link with the smallest fair share saturates first."""
    rate, left = {}, {}
    for i in active:
        for h in flows[i]["hops"]:
            left[h] = cap_at(caps[h], t)
    todo = set(active)
    while todo:
        best = None
        for h, c in left.items():
            n = sum(1 for i in todo if h in flows[i]["hops"])
            if n and (best is None or c / n < best[0]):
                best = (c / n, h)
        share, h = best
        for i in [i for i in todo if h in flows[i]["hops"]]:
            rate[i] = share
            todo.discard(i)
            for h2 in flows[i]["hops"]:
                left[h2] -= share
    return rate


def simulate(flows, caps):
    order = sorted(range(len(flows)), key=lambda i: flows[i]["start"])
    rem = {i: float(flows[i]["bytes"]) for i in order}
    active, pos, t = [], 0, flows[order[0]]["start"]
    while pos < len(order) or active:
        while pos < len(order) and flows[order[pos]]["start"] <= t:
            active.append(order[pos])
            pos += 1
        if not active:
            t = flows[order[pos]]["start"]
            continue
        rate = maxmin(active, flows, caps, t)
        tn = flows[order[pos]]["start"] if pos < len(order) else np.inf
        for i in active:
            tn = min(tn, t + rem[i] / rate[i], *[next_step(caps[h], t) for h in flows[i]["hops"]])
        for i in list(active):
            rem[i] -= rate[i] * (tn - t)
            if rem[i] <= 1e-9 * flows[i]["bytes"] + 1e-9:
                flows[i]["drain"] = tn
                active.remove(i)
        t = tn
    for f in flows:
        f["arrival"] = f["drain"] + f["lat"]


def main():
    h5, cfg = sys.argv[1], sys.argv[2]
    expect = dict(a.split(":") for k, a in enumerate(sys.argv) if k > 0 and sys.argv[k - 1] == "--expect")
    caps, lats, adj = load_net(cfg)
    f = h5py.File(h5, "r")
    names = {int(r["id"]): r["name"].decode() for r in f["/strings/nodes"][:]}
    lay, x = f["/layers"][:], f["/transfers"][:]
    flows = []
    for r in x:
        src, dst, i = names[r["src_node"]], names[r["dst_node"]], int(r["inference"])
        start = lay["end"][(lay["inference"] == i) & (lay["node"] == r["src_node"])].max()
        hops = route(adj, src, dst)
        flows.append({"start": float(start), "bytes": int(r["bytes"]), "hops": hops,
                      "lat": sum(lats[h] for h in hops), "inference": i, "src": src, "dst": dst})
    simulate(flows, caps)
    # A step takes its remote inputs in order (/transfers order): one that arrives while the
    # rank still waits for an earlier-listed, later-arriving one is due with it (rt_wall.c).
    for k, fl in enumerate(flows):
        for p in flows[:k]:
            if p["inference"] == fl["inference"] and p["dst"] == fl["dst"]:
                fl["arrival"] = max(fl["arrival"], p["arrival"])
    model = np.array([fl["arrival"] - fl["start"] for fl in flows])
    start = np.array([fl["start"] for fl in flows])
    meas = x["wall_arrival"] - start
    target = x["wall_arrival"] - x["wall_error"] - start
    err = np.abs(meas - model) / model * 100
    terr = np.abs(target - model) / model * 100
    rerr = np.abs(x["wall_error"]) / model * 100
    for k, fl in enumerate(flows):
        print("inf %d %s->%s %7d B start %8.3f ms: model %8.3f ms, wall %8.3f ms (%.2f%%), arbiter target %8.3f ms (%.3f%%)"
              % (fl["inference"], fl["src"], fl["dst"], fl["bytes"], fl["start"] * 1e3, model[k] * 1e3,
                 meas[k] * 1e3, err[k], target[k] * 1e3, terr[k]))
    ok = (model >= 0.010).all()
    ok &= np.median(err) <= 2.0 and (err > 2.0).sum() <= 1 and err.max() <= 6.0
    ok &= terr.max() <= 1.0  # the runtime's own target is the model (late STARTs aside)
    for k, fl in enumerate(flows):  # analytic delays (e.g. two flows halving a bottleneck)
        want = float(expect.get("%s-%s" % (fl["src"], fl["dst"]), "nan")) * 1e-3
        if want == want:
            print("analytic %s->%s %.3f ms: model %.3f ms, wall %.3f ms" % (fl["src"], fl["dst"], want * 1e3,
                                                                          model[k] * 1e3, meas[k] * 1e3))
            ok &= abs(model[k] - want) <= 0.005 * want and abs(meas[k] - want) <= 0.06 * want
    print("errors_pct wall_vs_model median %.3f max %.3f | wall_vs_target median %.3f max %.3f | target_vs_model max %.3f"
          % (np.median(err), err.max(), np.median(rerr), rerr.max(), terr.max()))
    sys.exit(0 if ok else 1)


main()
