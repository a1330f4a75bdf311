/* Generated from configs/demo-3tier.yaml by scripts/embed_default_config.py; do not edit. */
#ifndef CLEAVE_APPS_DEFAULT_CONFIG_H
#define CLEAVE_APPS_DEFAULT_CONFIG_H
static const char cl__default_config_name[] = "<embedded configs/demo-3tier.yaml>";
static const char cl__default_config[] =
    "# Demo testbed: resnet18 split over a device, an edge server and a cloud server.\n"
    "# Run with: mpiexec -n 3 cleave run configs/demo-3tier.yaml -o out.h5\n"
    "# (the same text is embedded in cleave as the default config; docs/config.md lists every key)\n"
    "model: resnet18            # zoo name (`cleave models`) or a path to an .onnx file\n"
    "seed: 42                   # global seed: weights, input, jitter and arrival streams\n"
    "clock: virtual             # virtual (deterministic, from measured compute) or wall (real waiting)\n"
    "nodes:                     # one MPI rank per node, in this order (rank 0 = first node)\n"
    "  - name: device           # rank 0; unique name used by links, plan and conditions\n"
    "    tier: device           # device | edge | cloud\n"
    "    device: raspi4         # a Raspberry Pi 4, from the device catalogue (`cleave devices list`):\n"
    "                           # its per-layer speed and power in absolute terms, emulated on this\n"
    "                           # host through a calibration measured here (docs/devices.md)\n"
    "    threads: 1             # compute threads on this node\n"
    "  - name: edge             # rank 1\n"
    "    tier: edge             # an edge box\n"
    "    device: i5-2500        # an Intel Core i5-2500 desktop (catalogue)\n"
    "    threads: 1             # compute threads\n"
    "  - name: cloud            # rank 2\n"
    "    tier: cloud            # a server\n"
    "    device: i7-6700k       # an Intel Core i7-6700K (catalogue); power idle/busy/tx/rx from it too\n"
    "    threads: 1             # compute threads\n"
    "links:                     # both_ways: true (default) adds the reverse direction\n"
    "  - {from: device, to: edge, latency: 5ms, bandwidth: 20Mbit/s, shared: wlan}    # WLAN hop (1 Mbit/s = 125000 B/s)\n"
    "  - {from: edge, to: cloud, latency: 20ms, bandwidth: 50Mbit/s}                 # WAN uplink of the edge site\n"
    "  - {from: device, to: cloud, latency: 40ms, bandwidth: 10Mbit/s, shared: wlan} # direct path, same radio\n"
    "plan:                      # which layers run where (torchvision module paths, `cleave models resnet18`)\n"
    "  - {node: device, layers: \"input..layer1.1.relu:1\"}           # stem + layer1 on the device\n"
    "  - {node: edge, layers: \"layer2.0.conv1..layer3.1.relu:1\"}    # layer2 and layer3 on the edge\n"
    "  - {node: cloud, layers: rest}                                 # layer4 + classifier in the cloud\n"
    "workload: {inferences: 5, arrival: back_to_back}  # 5 inferences, each released when the previous finishes\n";
#endif
