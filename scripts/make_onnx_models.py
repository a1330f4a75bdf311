#!/usr/bin/python3
"""Export ONNX test models with torch.onnx.export (random weights), plus each model's
input and PyTorch's output, for cleave's ONNX importer tests and the speed race.

For every model NAME this writes, into OUT:
    NAME.onnx        the model (opset 14, batch 1, static shapes, constant folding on)
    NAME.input.bin   the input, raw little-endian float32 NCHW (uniform in [-1, 1), seeded)
    NAME.torch.bin   PyTorch's output for that input, raw little-endian float32

Weights are torchvision's default initialisation from a fixed seed; batch-norm running
statistics and affine parameters are then randomised too (otherwise BN would be an
identity and a wrong BN import would go unnoticed). Runs with Debian's interpreter:

    /usr/bin/python3 scripts/make_onnx_models.py --tiny tests/data/onnx
        # the small hand-written models committed under tests/data/onnx (a few KB)
    /usr/bin/python3 scripts/make_onnx_models.py OUT [resnet18 mobilenet_v2 ...]
        # torchvision zoo models (default: the speed-race set), generated, never committed

Tiny models:
    tiny_cnn        Conv (bias / no bias, grouped, depthwise, dilated, strided), BatchNorm,
                    Relu, Clip (ReLU6), HardSwish, Sigmoid, MaxPool (ceil_mode), AveragePool
                    (count_include_pad 0 and 1), GlobalAveragePool, Mul (SE gate), Add,
                    Concat, LRN, Pad + Conv (asymmetric padding), Flatten, Dropout, Gemm, Softmax
    tiny_mlp        Reshape, MatMul, Add (bias), Relu, Identity-free Gemm chain on a 1x1x8x8 input
    bad_op          a LeakyRelu (not supported by cleave: the import must fail naming it)
    bad_attr        MaxPool with dilations = 2 (an attribute cleave does not support)
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm

OPSET = 14

# name, constructor, input size (H = W). Auxiliary heads off (eval mode ignores them anyway).
ZOO = {
    "alexnet": (lambda: tvm.alexnet(weights=None), 224),
    "vgg16": (lambda: tvm.vgg16(weights=None), 224),
    "resnet18": (lambda: tvm.resnet18(weights=None), 224),
    "resnet50": (lambda: tvm.resnet50(weights=None), 224),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(weights=None), 224),
    "googlenet": (lambda: tvm.googlenet(weights=None, aux_logits=False, init_weights=False), 224),
    "inception_v3": (lambda: tvm.inception_v3(weights=None, aux_logits=False, init_weights=False), 299),
    "squeezenet1_1": (lambda: tvm.squeezenet1_1(weights=None), 224),
    "densenet121": (lambda: tvm.densenet121(weights=None), 224),
}
RACE = ["resnet18", "resnet50", "vgg16", "mobilenet_v2", "googlenet", "inception_v3", "densenet121"]


class LRNFn(torch.autograd.Function):
    """nn.LocalResponseNorm exported as one ONNX LRN node (torch 1.13 decomposes it)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class ZeroPadFn(torch.autograd.Function):
    """F.pad(x, (l, r, t, b)) exported as one ONNX Pad with constant pads."""

    @staticmethod
    def forward(ctx, x, pads):
        return F.pad(x, pads)

    @staticmethod
    def symbolic(g, x, pads):
        l, r, t, b = pads
        p = g.op("Constant", value_t=torch.tensor([0, 0, t, l, 0, 0, b, r], dtype=torch.int64))
        return g.op("Pad", x, p, mode_s="constant")


class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.pool1 = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.pw = nn.Conv2d(16, 16, 1)
        self.dw = nn.Conv2d(16, 16, 3, 1, 2, dilation=2, groups=16, bias=False)
        self.dw_bn = nn.BatchNorm2d(16)
        self.se_reduce = nn.Conv2d(16, 4, 1)
        self.se_expand = nn.Conv2d(4, 16, 1)
        self.grouped = nn.Conv2d(16, 24, 3, 1, 1, groups=4)
        self.avg_excl = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.cat_bn = nn.BatchNorm2d(40)  # not after a conv: stays a BatchNormalization node
        self.down = nn.Conv2d(40, 32, 3, 2, 0)
        self.avg_incl = nn.AvgPool2d(2, 2, 0, ceil_mode=True, count_include_pad=True)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        a = F.relu6(self.pw(x))
        b = F.hardswish(self.dw_bn(self.dw(x)))
        gate = torch.sigmoid(self.se_expand(F.relu(self.se_reduce(F.adaptive_avg_pool2d(b, 1)))))
        y = a + b * gate
        y = torch.cat([self.grouped(y), self.avg_excl(y)], 1)
        y = LRNFn.apply(self.cat_bn(y), 5, 1e-2, 0.75, 2.0)
        y = F.relu(self.down(ZeroPadFn.apply(y, (0, 1, 0, 1))))  # asymmetric padding: Pad + Conv
        y = self.avg_incl(y)
        y = torch.flatten(F.adaptive_avg_pool2d(y, 1), 1)
        return torch.softmax(self.fc(self.drop(y)), dim=1)


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(64, 32) * 0.2)
        self.b = nn.Parameter(torch.randn(32) * 0.1)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        h = torch.relu(torch.matmul(x.reshape(1, -1), self.w) + self.b)
        return self.fc(h)


class BadOp(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return F.leaky_relu(self.conv(x), 0.1)


class BadAttr(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.pool = nn.MaxPool2d(2, 1, dilation=2)

    def forward(self, x):
        return self.pool(self.conv(x))


TINY = {
    "tiny_cnn": (TinyCNN, (1, 3, 32, 32)),
    "tiny_mlp": (TinyMLP, (1, 1, 8, 8)),
    "bad_op": (BadOp, (1, 3, 8, 8)),
    "bad_attr": (BadAttr, (1, 3, 8, 8)),
}


def randomise_bn(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)


def export(model, shape, out_dir, name):
    gen = torch.Generator().manual_seed(1234)
    randomise_bn(model, gen)
    model.eval()
    x = torch.rand(shape, generator=gen) * 2 - 1
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=OPSET, do_constant_folding=True,
                      input_names=["input"], output_names=["output"])
    x.numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".input.bin"))
    y.numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".torch.bin"))
    print(f"{name}: {path} ({os.path.getsize(path)} bytes), input {tuple(shape)}, "
          f"output {tuple(y.shape)}", flush=True)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    if argv[1] == "--tiny":
        out_dir = argv[2] if len(argv) > 2 else "tests/data/onnx"
        os.makedirs(out_dir, exist_ok=True)
        for name, (ctor, shape) in TINY.items():
            torch.manual_seed(7)
            export(ctor(), shape, out_dir, name)
        return 0
    out_dir = argv[1]
    names = argv[2:] or RACE
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        if name not in ZOO:
            print(f"unknown model '{name}' (known: {', '.join(ZOO)})", file=sys.stderr)
            return 2
        ctor, size = ZOO[name]
        torch.manual_seed(7)
        export(ctor(), (1, 3, size, size), out_dir, name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
