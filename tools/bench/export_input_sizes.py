"""torchvision ResNet-18 with random weights (the seed of tools/export/export_realistic.py, so the same weights as
torchvision-resnet18.onnx) exported at fixed input sizes, dynamic batch: the input-size curve of docs/performance.md
("How cost grows"). The network is fully convolutional up to its global pool, so every size runs the same weights.

    /usr/bin/python3 tools/bench/export_input_sizes.py [OUT_DIR] [SIZES]   (default tools/.cache/models 448)

Writes torchvision-resnet18-S.onnx for each size S (at 224 the bytes equal torchvision-resnet18.onnx); the library's preprocessing resizes to the model's fixed size.
"""
import os
import sys

import onnx
import torch
import torchvision.models as tvm

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 4321  # tools/export/export_realistic.py


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", ".cache", "models")
    sizes = [int(s) for s in (sys.argv[2] if len(sys.argv) > 2 else "448").split(",")]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(2)
    for size in sizes:
        torch.manual_seed(SEED)
        model = tvm.resnet18(weights=None).eval()
        path = os.path.join(out_dir, f"torchvision-resnet18-{size}.onnx")
        with torch.no_grad():
            torch.onnx.export(model, torch.zeros(1, 3, size, size), path, input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13, do_constant_folding=True)
        onnx.checker.check_model(path)
        print(path, os.path.getsize(path), "bytes", flush=True)


if __name__ == "__main__":
    main()
