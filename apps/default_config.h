/* Generated from configs/demo-3tier.yaml by scripts/embed_default_config.py; do not edit. */
#ifndef CLEAVE_APPS_DEFAULT_CONFIG_H
#define CLEAVE_APPS_DEFAULT_CONFIG_H
static const char cl__default_config_name[] = "<embedded configs/demo-3tier.yaml>";
static const char cl__default_config[] =
    "# Demo testbed: a resnet18 split over a device, an edge server and a cloud server.\n"
    "# Run with: mpirun -n 3 cleave run configs/demo-3tier.yaml -o out.h5\n"
    "# (the same text is embedded in cleave as the default for `cleave run` without a file)\n"
    "model: resnet18            # zoo name (cleave models)\n"
    "seed: 42                   # weights, input and jitter streams\n"
    "clock: virtual             # virtual (deterministic) or wall (real waiting)\n"
    "nodes:\n"
    "  - name: device           # rank 0\n"
    "    tier: device\n"
    "    speed: 8               # slowdown factor relative to this host (raspi4-class)\n"
    "    threads: 1\n"
    "    power: {idle: 2.7W, busy: 6.4W, tx: 1.3W, rx: 1.0W}\n"
    "  - name: edge             # rank 1\n"
    "    tier: edge\n"
    "    speed: 2               # an i5-class edge box\n"
    "    power: {idle: 20W, busy: 45W, tx: 2W, rx: 2W}\n"
    "  - name: cloud            # rank 2\n"
    "    tier: cloud\n"
    "    speed: 0.5             # a server twice as fast as this host\n"
    "    power: {idle: 60W, busy: 150W, tx: 5W, rx: 5W}\n"
    "links:\n"
    "  - {from: device, to: edge, latency: 5ms, bandwidth: 20Mbit/s, shared: wlan}\n"
    "  - {from: edge, to: cloud, latency: 20ms, bandwidth: 50Mbit/s}\n"
    "  - {from: device, to: cloud, latency: 40ms, bandwidth: 10Mbit/s}\n"
    "plan:                      # which layers run where (names are torchvision module paths)\n"
    "  - {node: device, layers: \"input..layer1.1.relu:1\"}\n"
    "  - {node: edge, layers: \"layer2.0.conv1..layer3.1.relu:1\"}\n"
    "  - {node: cloud, layers: rest}\n"
    "workload: {inferences: 5, arrival: back_to_back}\n";
#endif
