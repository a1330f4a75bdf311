#!/usr/bin/python3
"""Export tests/data/onnx/tiny_dense.{onnx,input.bin,torch.bin}: a torchvision DenseNet
shrunk to a few KB (growth 4, blocks (2, 2), 8 initial features, 10 classes, 1x3x32x32),
with the same exporter settings as scripts/make_onnx_models.py (opset 14, constant
folding, randomised batch-norm statistics, seeded weights and input).

It has what the full densenet121 export has and the other tiny models lack: torch.onnx's
module scopes ("/features/denseblock1/denselayer1/conv1/Conv" -> IR name
"features.denseblock1.denselayer1.conv1"), conv + BN folded into conv biases, and a
one-input Concat at the start of every dense block. Used by tests/test_onnx.c and the
ONNX testbed test (tests/onnx_testbed_test.sh, tests/data/onnx/tiny_dense_2node.yaml).

    /usr/bin/python3 tests/data/onnx/make_tiny_dense.py [OUT_DIR]
"""
import os
import sys

import torch
import torchvision.models as tvm

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "scripts"))
import make_onnx_models  # noqa: E402  (export(): the shared exporter settings)


def main(argv):
    out_dir = argv[1] if len(argv) > 1 else HERE
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(7)
    model = tvm.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2,
                         num_classes=10)
    make_onnx_models.export(model, (1, 3, 32, 32), out_dir, "tiny_dense")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
