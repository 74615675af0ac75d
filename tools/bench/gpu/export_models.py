"""Export torchvision resnet18 / resnet50 / vgg16 with random weights (seed 0) for GPU timing runs.

Runs where PyTorch is installed (the lent GPU machines have torch 2.x and torchvision): the models are
made there instead of carried. Usage: python3 export_models.py OUT_DIR
"""
import os
import sys

import torch
import torchvision


def main(out):
    os.makedirs(out, exist_ok=True)
    for name in ("resnet18", "resnet50", "vgg16"):
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None).eval()
        x = torch.randn(1, 3, 224, 224)
        path = os.path.join(out, f"{name}.onnx")
        torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=17, dynamo=False)
        print("exported", path, os.path.getsize(path))


if __name__ == "__main__":
    main(sys.argv[1])
