"""torchvision resnet18, resnet50 and vgg16 with random weights (fixed seed) at 224x224, dynamic
batch, for timing at realistic sizes. Written to a git-ignored cache, never committed.

    /usr/bin/python3 tools/export/export_realistic.py [OUT_DIR]   (default tools/.cache/models)

Called by fetch_realistic.sh, which checks the results against realistic.sha256. The bytes are
reproducible with the same torch/torchvision (Debian 12: torch 1.13, torchvision 0.14).
"""
import os
import sys

import onnx
import torch
import torchvision.models as tvm

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 4321
MODELS = {"resnet18": tvm.resnet18, "resnet50": tvm.resnet50, "vgg16": tvm.vgg16}


def export(name, out_dir):
    torch.manual_seed(SEED)
    model = MODELS[name](weights=None).eval()
    path = os.path.join(out_dir, f"torchvision-{name}.onnx")
    x = torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=13, do_constant_folding=True)
    onnx.checker.check_model(path)   # by path: vgg16 is 528 MB
    print(path, os.path.getsize(path), "bytes", flush=True)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", ".cache", "models")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(2)
    for name in MODELS:
        export(name, out_dir)


if __name__ == "__main__":
    main()
