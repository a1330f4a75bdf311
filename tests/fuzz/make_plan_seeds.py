#!/usr/bin/python3
"""Seeds of fuzz_plan (tests/fuzz/corpus/plan/): for each model of the Scission benchmark
data in tests/data/scission, its rows on one device, edge and cloud machine, the network
file (machines renamed d, e, c as the harness names its files) and a query part.
Run from the repository root: tests/fuzz/make_plan_seeds.py"""
import csv, os, sys

src = 'tests/data/scission'
out = 'tests/fuzz/corpus/plan'
files = {'d': 'device-raspi4.csv', 'e': 'edge-2500.csv', 'c': 'cloud-6700k(GPU).csv'}
rename = {'raspi4': 'd', '2500': 'e', '6700k(GPU)': 'c'}
queries = ['', '-\n-\n-\nlatency', '!-1\n-\n!c\nenergy', '1,2\n-\n-\nbytes\n1e6\n2e6\n0.5',
           '-\n!0\n-\nweighted']
os.makedirs(out, exist_ok=True)
rows = {}
for k, f in files.items():
    with open(os.path.join(src, f)) as fh:
        lines = fh.read().splitlines()
    rows[k] = (lines[0], lines[1:])
net = ['source,destination,ping(ms),bandwidth(mbps)']
with open(os.path.join(src, 'network_stats.csv')) as fh:
    for r in list(csv.reader(fh))[1:]:
        a, b = r[0].strip(), r[1].strip()
        if a in rename and b in rename:
            net.append(','.join([rename[a], rename[b]] + r[2:]))
models = sorted({l.split(',')[0] for l in rows['d'][1]})
n = 0
for i, m in enumerate(models):
    parts = []
    for k in 'dec':
        head, body = rows[k]
        parts.append('\n'.join([head] + [l for l in body if l.split(',')[0] == m]))
    parts.append('\n'.join(net))
    parts.append(queries[i % len(queries)])
    with open(os.path.join(out, m + '.txt'), 'w') as fh:
        fh.write('\n%%\n'.join(parts) + '\n')
    n += 1
print('%d seeds in %s' % (n, out))
