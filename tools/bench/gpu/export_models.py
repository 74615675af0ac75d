"""Export torchvision resnet18 / resnet50 / vgg16 with random weights for the GPU check (run_gpu_bench.sh).

Runs where PyTorch is installed (the lent GPU machines have torch 2.x and torchvision): the models are made there
instead of carried. Same seed as tools/export/export_realistic.py (the weights match where the torch versions draw
alike), dynamic batch. Usage: python3 export_models.py OUT_DIR
"""
import os
import sys

import torch
import torchvision

SEED = 4321  # tools/export/export_realistic.py


def main(out):
    os.makedirs(out, exist_ok=True)
    for name in ("resnet18", "resnet50", "vgg16"):
        torch.manual_seed(SEED)
        model = getattr(torchvision.models, name)(weights=None).eval()
        x = torch.zeros(1, 3, 224, 224)
        path = os.path.join(out, f"{name}.onnx")
        with torch.no_grad():
            torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                              opset_version=17, dynamo=False)
        print("exported", path, os.path.getsize(path), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
