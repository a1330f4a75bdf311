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

# Layer mode (fuzz_plan.c run_layers): per-layer CSVs of two sides and a fit file, for a
# chain and for a small DAG with a residual branch.
def layer_csv(rows, scale, cols='layer,name,seconds,out_bytes,inputs,op,macs,in_bytes'):
    out = [cols]
    for i, (name, op, macs, outb, inputs, inb) in enumerate(rows):
        out.append('%d,%s,%.6g,%d,%s,%s,%d,%d' % (i, name, macs * scale * 1e-9 + 1e-5, outb,
                                                   ';'.join(map(str, inputs)), op, macs, inb))
    return '\n'.join(out)

chain = [('input', 'input', 0, 602112, [], 0), ('conv1', 'conv', 118013952, 3211264, [0], 602112),
         ('relu1', 'relu', 0, 3211264, [1], 3211264), ('pool1', 'maxpool', 0, 802816, [2], 3211264),
         ('conv2', 'conv', 462422016, 1605632, [3], 802816), ('relu2', 'relu', 0, 1605632, [4], 1605632),
         ('fc', 'fc', 4096000, 4000, [5], 1605632), ('softmax', 'softmax', 0, 4000, [6], 4000)]
dag = [('input', 'input', 0, 200704, [], 0), ('conv1', 'conv', 115605504, 802816, [0], 200704),
       ('conv2a', 'conv', 231211008, 802816, [1], 802816), ('conv2b', 'conv', 231211008, 802816, [2], 802816),
       ('add', 'add', 0, 802816, [1, 3], 1605632), ('relu', 'relu', 0, 802816, [4], 802816),
       ('gap', 'global_avgpool', 0, 256, [5], 802816), ('fc', 'fc', 64000, 4000, [6], 256)]
seeds = {
    'layers_chain.txt': [layer_csv(chain, 20), layer_csv(chain, 1)],
    'layers_dag.txt': [layer_csv(dag, 20), layer_csv(dag, 1)],
    'layers_fit.txt': [layer_csv(chain, 20), '', layer_csv(dag, 1)],
    'layers_min.txt': ['layer,seconds,out_bytes\n0,0.001,1000\n1,0.002,500\n2,0.004,10',
                       'layer,seconds,out_bytes\n0,0.0001,1000\n1,0.0002,500\n2,0.0004,10'],
}
for name, parts in seeds.items():
    with open(os.path.join(out, name), 'w') as fh:
        fh.write('\n%%\n'.join(parts) + '\n')
print('%d layer-mode seeds' % len(seeds))
