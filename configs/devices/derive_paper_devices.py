#!/usr/bin/python3
"""Derive the CoEdge CPU devices (raspi3, jetson-tx2, desktop-pc) from the fitted Scission
machines by the scale factors their `sources:` state. Rerun after `cleave devices fit`:

    /usr/bin/python3 configs/devices/derive_paper_devices.py

Only the throughput and overhead lines of the target files are rewritten."""
import os
import re

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
COMPUTE = ("conv", "dwconv", "conv1x1", "fc", "conv_in")
# target: (base, factor for conv classes, factor for fc + memory classes, overhead factor)
DERIVED = {
    "raspi3": ("raspi4", 0.2, 0.28, 2.5),      # peak NEON 19.2 / 96 GFLOP/s; DRAM 3.6 / 12.8 GB/s
    "jetson-tx2": ("raspi4", 2.0, 2.5, 0.6),   # 6 x 2.0 / 4 x 1.5 GHz; DRAM share
    "desktop-pc": ("i7-6700k", 1.0, 1.0, 1.0), # the nearest measured 4-core i7
}
UNIT = {"G": 1e9, "M": 1e6, "k": 1e3, "": 1}


def rate(v):
    """GFLOP/s number, or a bandwidth string (e.g. 13.7Gbit/s, 2GB/s) -> bytes/s."""
    if isinstance(v, (int, float)):
        return float(v)
    m = re.fullmatch(r"([0-9.e+-]+)\s*([GMk]?)(bit|B)/s", v)
    return float(m.group(1)) * UNIT[m.group(2)] / (8 if m.group(3) == "bit" else 1)


def seconds(v):
    if isinstance(v, (int, float)):
        return float(v)
    m = re.fullmatch(r"([0-9.e+-]+)\s*(s|ms|us)", v)
    return float(m.group(1)) * {"s": 1, "ms": 1e-3, "us": 1e-6}[m.group(2)]


for name, (base, f_conv, f_mem, f_oh) in DERIVED.items():
    b = yaml.safe_load(open(os.path.join(HERE, base + ".yaml")))
    tp, oh = b["throughput"], b["overhead"]
    lines = []
    for k, v in tp.items():
        if k in COMPUTE:
            lines.append("  %s: %.4g" % (k, rate(v) * (f_mem if k == "fc" else f_conv)))
        else:
            lines.append("  %s: %.4gGB/s" % (k, rate(v) * f_mem / 1e9))
    ohs = ", ".join("%s: %.4gus" % (k, seconds(v) * f_oh * 1e6) for k, v in oh.items())
    path = os.path.join(HERE, name + ".yaml")
    text = open(path).read()
    text = re.sub(r"^throughput:.*?\n(?=[a-z])", "throughput:\n" + "\n".join(lines) + "\n", text, flags=re.S | re.M)
    text = re.sub(r"^overhead: .*\n", "overhead: {%s}\n" % ohs, text, flags=re.M)
    open(path, "w").write(text)
    print("%s <- %s (x%g conv, x%g memory, overhead x%g)" % (name, base, f_conv, f_mem, f_oh))
