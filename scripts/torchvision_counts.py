#!/usr/bin/python3
"""Reference counts for cleave's model zoo, taken from torchvision itself.

For each torchvision model that cleave's zoo replicates (and for the zoo's
non-torchvision models, written below in PyTorch as independent references), print: parameters,
conv+linear multiply-accumulates (MACs) for one input image, the output shape,
and how many Conv2d / Linear / BatchNorm2d / ReLU / pooling modules the model
has (modules) and how many times they run (calls; torchvision's ResNet reuses
one ReLU module per block, so calls > modules there).

MACs are counted with forward hooks:
  Conv2d: out.numel() * in_channels / groups * kh * kw
  Linear: in_features * out_features (per batch row)
No weights are downloaded (weights=None); auxiliary heads are disabled and
init_weights=False where torchvision offers it, which does not change shapes.

Run with Debian's interpreter (it has torch + torchvision):
    /usr/bin/python3 scripts/torchvision_counts.py            # table
    /usr/bin/python3 scripts/torchvision_counts.py --c        # C initialisers for tests/test_zoo.c
    /usr/bin/python3 scripts/torchvision_counts.py resnet18   # selected models only
    /usr/bin/python3 scripts/torchvision_counts.py --numerics BUILD_DIR [models]
        # load cleave's seeded weights (written by `BUILD_DIR/tests/test_zoo --dump`)
        # into the torchvision models by module path, run both on cleave's input and
        # compare the logits: checks names, weight layouts, padding, concat order
"""
import os
import subprocess
import tempfile
import sys

import torch
import torch.nn as nn
import torchvision.models as tvm

# name, constructor, input size (H = W)
MODELS = [
    ("alexnet", lambda: tvm.alexnet(weights=None), 224),
    ("vgg16", lambda: tvm.vgg16(weights=None), 224),
    ("vgg19", lambda: tvm.vgg19(weights=None), 224),
    ("resnet18", lambda: tvm.resnet18(weights=None), 224),
    ("resnet34", lambda: tvm.resnet34(weights=None), 224),
    ("resnet50", lambda: tvm.resnet50(weights=None), 224),
    ("resnet101", lambda: tvm.resnet101(weights=None), 224),
    ("resnet152", lambda: tvm.resnet152(weights=None), 224),
    ("mobilenet_v2", lambda: tvm.mobilenet_v2(weights=None), 224),
    ("googlenet", lambda: tvm.googlenet(weights=None, aux_logits=False, init_weights=False), 224),
    ("squeezenet1_0", lambda: tvm.squeezenet1_0(weights=None), 224),
    ("squeezenet1_1", lambda: tvm.squeezenet1_1(weights=None), 224),
    ("inception_v3",
     lambda: tvm.inception_v3(weights=None, aux_logits=False, init_weights=False), 299),
    ("densenet121", lambda: tvm.densenet121(weights=None), 224),
    ("densenet169", lambda: tvm.densenet169(weights=None), 224),
    ("densenet201", lambda: tvm.densenet201(weights=None), 224),
]



# ---- Models that are not in torchvision, written here in PyTorch as independent
# references for cleave's builders (see models/zoo/*.c for the choices). ----------------
def lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                         nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def vgg_f():  # CNN-F, Chatfield et al. 2014 (MatConvNet imagenet-vgg-f)
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4), nn.ReLU(), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(64, 256, 5, 1, 2), nn.ReLU(), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(), nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096),
        nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000))


def mobilenet_v1():  # Keras MobileNet 1.0/224 (Keras: 4,231,976 trainable parameters)
    def cbr(cin, cout, k, s, g):
        pad = nn.ZeroPad2d((0, 1, 0, 1)) if s == 2 else nn.ZeroPad2d(k // 2)
        return [pad, nn.Conv2d(cin, cout, k, s, 0, groups=g, bias=False),
                nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU6()]
    layers = cbr(3, 32, 3, 2, 1)
    c = 32
    for oc, s in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
            [(1024, 2), (1024, 1)]:
        layers += cbr(c, c, 3, s, c) + cbr(c, oc, 1, 1, 1)
        c = oc
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(1e-3), nn.Linear(1024, 1000)]
    return nn.Sequential(*layers)


class _PreactBlock(nn.Module):  # Keras ResNetV2 block2
    def __init__(self, cin, f, stride, conv_shortcut):
        super().__init__()
        self.preact = nn.Sequential(nn.BatchNorm2d(cin, eps=1.001e-5), nn.ReLU())
        self.conv_shortcut = conv_shortcut
        self.shortcut = (nn.Conv2d(cin, 4 * f, 1, stride) if conv_shortcut
                         else nn.MaxPool2d(1, stride) if stride > 1 else nn.Identity())
        self.body = nn.Sequential(
            nn.Conv2d(cin, f, 1, bias=False), nn.BatchNorm2d(f, eps=1.001e-5), nn.ReLU(),
            nn.Conv2d(f, f, 3, stride, 1, bias=False), nn.BatchNorm2d(f, eps=1.001e-5), nn.ReLU(),
            nn.Conv2d(f, 4 * f, 1))

    def forward(self, x):
        p = self.preact(x)
        return (self.shortcut(p) if self.conv_shortcut else self.shortcut(x)) + self.body(p)


def resnet50_v2():  # Keras ResNet50V2 (Keras: 25,613,800 incl. 45,440 BN moving stats)
    layers = [nn.Conv2d(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for f, n, s in [(64, 3, 2), (128, 4, 2), (256, 6, 2), (512, 3, 1)]:
        for i in range(n):
            layers.append(_PreactBlock(cin, f, s if i == n - 1 else 1, i == 0))
            cin = 4 * f
    layers += [nn.BatchNorm2d(2048, eps=1.001e-5), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
               nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers)


EXTRA = [
    ("lenet", lenet, 32),
    ("vgg_f", vgg_f, 224),
    ("mobilenet_v1", mobilenet_v1, 224),
    ("resnet50_v2", resnet50_v2, 224),
]

KINDS = [
    ("conv", (nn.Conv2d,)),
    ("linear", (nn.Linear,)),
    ("bn", (nn.BatchNorm2d,)),
    ("relu", (nn.ReLU, nn.ReLU6)),
    ("pool", (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)),
]


def kind_of(m):
    for k, types in KINDS:
        if isinstance(m, types):
            return k
    return None


def count(name, ctor, size):
    torch.manual_seed(0)
    model = ctor().eval()
    params = sum(p.numel() for p in model.parameters())
    macs = [0]
    calls = {k: 0 for k, _ in KINDS}
    modules = {k: 0 for k, _ in KINDS}

    def hook(m, inp, out):
        k = kind_of(m)
        calls[k] += 1
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            macs[0] += out.numel() * (m.in_channels // m.groups) * kh * kw
        elif isinstance(m, nn.Linear):
            macs[0] += (out.numel() // m.out_features) * m.in_features * m.out_features

    handles = []
    for m in model.modules():
        k = kind_of(m)
        if k is not None:
            modules[k] += 1
            handles.append(m.register_forward_hook(hook))
    with torch.no_grad():
        y = model(torch.zeros(1, 1 if name == "lenet" else 3, size, size))
    if not torch.is_tensor(y):  # GoogLeNetOutputs / InceptionOutputs namedtuples
        y = y[0]
    for h in handles:
        h.remove()
    return {"name": name, "params": params, "macs": macs[0], "out": tuple(y.shape),
            "modules": modules, "calls": calls, "size": size}


def load_cleave_weights(model, d):
    """Copy DIR/<node>.bin into the module of the same path; returns nodes loaded."""
    mods = dict(model.named_modules())
    loaded = 0
    with open(os.path.join(d, "manifest.txt")) as f:
        for line in f:
            name, op, n = line.split()
            w = torch.from_numpy(__import__("numpy").fromfile(os.path.join(d, name + ".bin"),
                                                              dtype="<f4"))
            assert w.numel() == int(n), name
            m = mods[name]  # KeyError = a cleave node named unlike any torchvision module
            if op == "batchnorm":
                tensors = [m.weight, m.bias, m.running_mean, m.running_var]
            else:
                tensors = [m.weight] + ([m.bias] if m.bias is not None else [])
            off = 0
            for t in tensors:
                t.data.copy_(w[off:off + t.numel()].view_as(t))
                off += t.numel()
            assert off == w.numel(), "%s: %d floats, module has %d" % (name, w.numel(), off)
            loaded += 1
    with_params = sum(1 for m in model.modules()
                      if not list(m.children()) and list(m.parameters(recurse=False)))
    assert loaded == with_params, "cleave set %d modules, torchvision has %d with parameters" % (
        loaded, with_params)
    return loaded


def numerics(build_dir, names):
    import numpy as np
    exe = os.path.join(build_dir, "tests", "test_zoo")
    worst = 0.0
    for name, ctor, size in MODELS:
        if names and name not in names:
            continue
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([exe, "--dump", name, d], check=True)
            model = ctor().eval()
            loaded = load_cleave_weights(model, d)
            x = torch.from_numpy(np.fromfile(os.path.join(d, "input.bin"), dtype="<f4"))
            y_cl = np.fromfile(os.path.join(d, "output.bin"), dtype="<f4")
        with torch.no_grad():
            y = model(x.view(1, 3, size, size))
        if not torch.is_tensor(y):
            y = y[0]
        y = y.flatten().numpy()
        err = float(np.max(np.abs(y - y_cl)) / (np.max(np.abs(y)) + 1e-12))
        worst = max(worst, err)
        print("%-14s %4d weighted nodes loaded  max|torch-cleave|/max|torch| = %.2e  %s"
              % (name, loaded, err, "ok" if err < 1e-3 else "MISMATCH"))
    return 0 if worst < 1e-3 else 1


def main(argv):
    if argv and argv[0] == "--numerics":
        sys.exit(numerics(argv[1], argv[2:]))
    want_c = "--c" in argv
    names = [a for a in argv if not a.startswith("--")]
    rows = [count(n, c, s) for n, c, s in MODELS + EXTRA if not names or n in names]
    if want_c:
        print("/* generated by scripts/torchvision_counts.py (torchvision %s) */"
              % __import__("torchvision").__version__)
        for r in rows:
            m = r["modules"]
            print('    {"%s", %dLL, %dLL, %d, %d, %d},' % (r["name"], r["params"], r["macs"],
                                                        m["conv"], m["linear"], m["bn"]))
        return
    hdr = "%-14s %5s %12s %16s %-12s %s" % ("model", "input", "params", "macs", "output",
                                             "modules conv/linear/bn/relu/pool (calls)")
    print(hdr)
    for r in rows:
        m, c = r["modules"], r["calls"]
        mod = "/".join(str(m[k]) for k, _ in KINDS)
        cal = "/".join(str(c[k]) for k, _ in KINDS)
        print("%-14s %5d %12d %16d %-12s %s (%s)" % (r["name"], r["size"], r["params"], r["macs"],
                                                    "x".join(map(str, r["out"])), mod, cal))


if __name__ == "__main__":
    main(sys.argv[1:])
