#!/usr/bin/python3
"""Summarise an onnxruntime profile (ort_run.js --profile PREFIX): per node the minimum
kernel time over the profiled runs (robust on a shared host), totals per op type, and
the slowest nodes.

    /usr/bin/python3 bench/vs-onnxruntime/ort_profile.py PREFIX_*.json [--top N]
"""
import json
import sys
from collections import defaultdict


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    top = 15
    if "--top" in argv:
        i = argv.index("--top")
        top = int(argv[i + 1])
        del argv[i:i + 2]
    ev = json.load(open(argv[0]))
    runs = [e for e in ev if e.get("cat") == "Session" and e.get("name") == "model_run"]
    if not runs:
        print("ort_profile: error: no model_run event in %s" % argv[0], file=sys.stderr)
        return 1
    best = {}
    for e in ev:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            if e["name"] not in best or e["dur"] < best[e["name"]]["dur"]:
                best[e["name"]] = e
    nodes = list(best.values())
    by_op = defaultdict(lambda: [0.0, 0])
    for e in nodes:
        k = e["args"].get("op_name", "?")
        by_op[k][0] += e["dur"] / 1e3
        by_op[k][1] += 1
    total = sum(v[0] for v in by_op.values())
    print("%d runs, fastest %.2f ms wall; per-node minima sum to %.2f ms in %d kernels" %
          (len(runs), min(r["dur"] for r in runs) / 1e3, total, len(nodes)))
    for k, (t, n) in sorted(by_op.items(), key=lambda x: -x[1][0]):
        print("  %8.2f ms %4d  %s" % (t, n, k))
    print("slowest nodes:")
    for e in sorted(nodes, key=lambda e: -e["dur"])[:top]:
        print("  %8.3f ms  %-10s %s" % (e["dur"] / 1e3, e["args"].get("op_name", "?"),
                                       e["name"][:-len("_kernel_time")]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
