#!/usr/bin/python3
"""torchvision's vit_b_16 and swin_t (random init, torch.manual_seed(4321), LayerNorm scales and biases and the
classifier randomized as in export_tiny_transformers.py; nothing trained, no download) exported to the git-ignored
cache, with PyTorch references for TorchvisionTransformerTests:

    tools/.cache/models/torchvision-vit_b_16.onnx   (opset 17, dynamic batch, input `input` [batch,3,224,224])
    tools/.cache/models/torchvision-swin_t.onnx
    tests/ScoreCam.Onnx.Tests/Gradients/Fixtures/torchvision-{vit_b_16,swin_t}.reference.json

The references are export_tiny_transformers.py's (the last block's norm1 hooked; dY/dA by autograd at 250 sampled
positions and the 50 largest, Grad-CAM, Score-CAM from a plain loop over the 32 channels of largest spatial variance,
as the library's Score-CAM with 32 channels ranked by variance), on the 224x224 sine input.
Ablation-CAM and Recipro-CAM are left out (768 and 196 more passes of a full-size model). The exports' sha256 are
checked against tools/export/transformers.sha256 (written on the first run, `--record`).

    nice -n 10 /usr/bin/python3 tools/export/export_torchvision_transformers.py [--record]
"""
import os
import sys

import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_tiny_transformers import ChannelsLastLayout, TokensLayout, reference  # noqa: E402
from onnx_export import sha256  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CACHE = os.path.join(ROOT, "tools", ".cache", "models")
FIXTURES = os.path.join(ROOT, "tests", "ScoreCam.Onnx.Tests", "Gradients", "Fixtures")
SUMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "transformers.sha256")
SCORE_CHANNELS = 32  # of 768: a full-size Score-CAM is 768 passes of ViT-B, too many for the tests

MODELS = [
    ("torchvision-vit_b_16", lambda: tvm.vit_b_16(weights=None), 17, lambda m: m.encoder.layers[-1].ln_1,
     "/encoder/layers/encoder_layer_11/ln_1/", TokensLayout(1)),
    ("torchvision-swin_t", lambda: tvm.swin_t(weights=None), 17, lambda m: m.features[-1][-1].norm1,
     "/features/features.7/features.7.1/norm1/", ChannelsLastLayout()),
]


if __name__ == "__main__":
    os.makedirs(CACHE, exist_ok=True)
    sums = {}
    for name, make, opset, module_of, scope, layout in MODELS:
        reference(name, make, opset, module_of, scope, layout, size=224, onnx_dir=CACHE, out=FIXTURES, seed=4321,
                  tails=False, sampled=250, classes=1000, score_channels=SCORE_CHANNELS)
        sums[f"{name}.onnx"] = sha256(os.path.join(CACHE, f"{name}.onnx"))
    lines = "".join(f"{digest}  {file}\n" for file, digest in sums.items())
    if "--record" in sys.argv or not os.path.exists(SUMS):
        with open(SUMS, "w") as f:
            f.write(lines)
    elif open(SUMS).read() != lines:
        raise SystemExit(f"the exports differ from {SUMS}:\n{lines}")
    print(lines, end="")
