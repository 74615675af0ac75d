"""Independent Grad-CAM / Grad-CAM++ reference on torchvision resnet18 (PyTorch autograd).

Rebuilds the random-weight model of tools/export/export_realistic.py (torch.manual_seed(4321),
resnet18(weights=None).eval(), the model behind tools/.cache/models/torchvision-resnet18.onnx), runs
it on a deterministic input x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i) (i the flat index of 1x3x224x224),
and writes torchvision-resnet18.reference.json: the top class, the logits, dY_c/dA at sampled positions
of the target layer (layer4 output = /layer4/layer4.1/relu_1/Relu_output_0, 512x7x7), and the 7x7
Grad-CAM and Grad-CAM++ maps (ReLU(sum_k w_k A_k), before normalization), computed in float64 from the
definitions (Grad-CAM++: alpha = g^2 / (2 g^2 + sum_ab A_ab g^3), 0 where g = 0; no epsilon).

    python3 make_torchvision_reference.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.models as tvm

torch.manual_seed(4321)
model = tvm.resnet18(weights=None).eval()
i = np.arange(3 * 224 * 224, dtype=np.float64)
x = (2 * np.sin(0.001 * i) + 0.5 * np.cos(0.0173 * i)).astype(np.float32).reshape(1, 3, 224, 224)

saved = {}
def hook(_module, _inputs, output):
    output.retain_grad()
    saved["A"] = output
model.layer4.register_forward_hook(hook)
logits = model(torch.from_numpy(x))
top = int(logits[0].argmax())
second = int(logits[0].argsort(descending=True)[1])
result = {"torch": torch.__version__, "torchvision": torchvision.__version__, "logits": logits[0].tolist(), "classes": {}}
for c in (top, second):
    model.zero_grad()
    saved["A"].grad = None
    logits[0, c].backward(retain_graph=True)
    A = saved["A"].detach().double().numpy()[0]
    g = saved["A"].grad.double().numpy()[0]
    w = g.mean(axis=(1, 2))
    gradcam = np.maximum((w[:, None, None] * A).sum(0), 0)
    sum_a = A.sum(axis=(1, 2))[:, None, None]
    denominator = 2 * g ** 2 + sum_a * g ** 3
    alpha = np.where((g != 0) & (denominator != 0), g ** 2 / np.where(denominator == 0, 1, denominator), 0)
    wpp = (alpha * np.maximum(g, 0)).sum(axis=(1, 2))
    gradcampp = np.maximum((wpp[:, None, None] * A).sum(0), 0)
    rng = np.random.default_rng(c)
    positions = rng.choice(g.size, 200, replace=False)
    positions = np.concatenate([positions, np.argsort(-np.abs(g.ravel()))[:50]])
    result["classes"][str(c)] = {
        "gradcam": gradcam.ravel().tolist(), "gradcampp": gradcampp.ravel().tolist(),
        "gradient": {str(int(p)): float(g.ravel()[p]) for p in positions},
        "gradcam_weights": w.tolist(), "gradcampp_weights": wpp.tolist(),
    }
result["top"], result["second"] = top, second
out = sys.argv[1] if len(sys.argv) > 1 else "."
with open(os.path.join(out, "torchvision-resnet18.reference.json"), "w") as f:
    json.dump(result, f)
print("top", top, "second", second, "logit", float(logits[0, top]))
