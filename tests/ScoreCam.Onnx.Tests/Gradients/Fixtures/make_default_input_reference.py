"""Independent input-gradient reference on the default model (PyTorch autograd, float64).

Rebuilds the fashion-clutter network from tools/export/train_fashion_clutter.py (FashionClutterNet) with the
weights of the committed ONNX file (onnx-models/fashion-clutter/fashion-clutter.onnx: the export folded each
BatchNorm into its Conv, so the BatchNorms become identities and the convs take the folded weights and biases),
checks its logits against the committed fixture (fashion-clutter.logits.npy), and for the fixture's first image
(fashion-clutter.input.npy[0], the preprocessed 3x96x96 tensor) and its top class c writes, as float32 .npy
(3x96x96):

  fashion-clutter.gradient.npy               dY_c/dx, the vanilla gradient of the class's logit;
  fashion-clutter.guided-backprop.npy        Guided Backpropagation: every ReLU's backward also clamps the
                                             incoming gradient to >= 0 (a hook on each ReLU's output), so a
                                             gradient passes only where the ReLU's input > 0 and it is positive;
  fashion-clutter.integrated-gradients.npy   Integrated Gradients, zeros baseline x' = 0 (in the model's input
                                             space), m = 32, right Riemann sum:
                                             (x - x') * (1/m) sum_{k=1..m} dY_c/dx (x' + (k/m)(x - x'));

and fashion-clutter.input-reference.json (class, logits, IG's completeness sum(IG) - (Y_c(x) - Y_c(x'))).

    /usr/bin/python3 make_default_input_reference.py [OUT_DIR]
"""
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "export"))
from train_fashion_clutter import FashionClutterNet  # noqa: E402

MODEL = os.path.join(ROOT, "onnx-models", "fashion-clutter")
STEPS = 32


def load_model():
    """FashionClutterNet with identity BatchNorms and the ONNX file's folded conv weights, in float64."""
    proto = onnx.load(os.path.join(MODEL, "fashion-clutter.onnx"))
    weights = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in proto.graph.initializer}
    model = FashionClutterNet()
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, child_name, nn.Identity())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    nodes = [n for n in proto.graph.node if n.op_type == "Conv"]
    assert len(convs) == len(nodes), (len(convs), len(nodes))
    with torch.no_grad():
        for conv, node in zip(convs, nodes):
            w, b = weights[node.input[1]], weights[node.input[2]]
            assert tuple(w.shape) == tuple(conv.weight.shape), (node.name, w.shape, conv.weight.shape)
            conv.weight.copy_(w)
            conv.bias = nn.Parameter(b.clone())
        gemm = next(n for n in proto.graph.node if n.op_type == "Gemm")
        model.fc.weight.copy_(weights[gemm.input[1]])
        model.fc.bias.copy_(weights[gemm.input[2]])
    return model.double().eval()


def gradient(model, x, c):
    x = x.clone().requires_grad_(True)
    model(x)[:, c].sum().backward()
    return x.grad


class GuidedRelu:
    """Replaces F.relu (which nn.ReLU and the blocks call) by relu with a hook clamping its output's gradient to >= 0."""

    def __enter__(self):
        self.relu = F.relu

        def guided(t, inplace=False):
            y = self.relu(t)
            if y.requires_grad:
                y.register_hook(lambda g: g.clamp(min=0))
            return y

        F.relu = guided
        return self

    def __exit__(self, *_):
        F.relu = self.relu


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    model = load_model()
    inputs = torch.from_numpy(np.load(os.path.join(MODEL, "fashion-clutter.input.npy"))).double()
    expected = np.load(os.path.join(MODEL, "fashion-clutter.logits.npy"))
    with torch.no_grad():
        logits = model(inputs).numpy()
    error = float(np.abs(logits - expected).max())
    assert error < 1e-4, f"the rebuilt model's logits differ from the fixture by {error}"

    x = inputs[:1]
    c = int(logits[0].argmax())
    vanilla = gradient(model, x, c)
    with GuidedRelu():
        guided = gradient(model, x, c)
    baseline = torch.zeros_like(x)
    path = torch.cat([baseline + (k / STEPS) * (x - baseline) for k in range(1, STEPS + 1)])
    ig = (x - baseline) * gradient(model, path, c).mean(0, keepdim=True)
    with torch.no_grad():
        completeness = float(ig.sum() - (model(x)[0, c] - model(baseline)[0, c]))

    for name, value in [("gradient", vanilla), ("guided-backprop", guided), ("integrated-gradients", ig)]:
        np.save(os.path.join(out, f"fashion-clutter.{name}.npy"), value[0].numpy().astype(np.float32))
    with open(os.path.join(out, "fashion-clutter.input-reference.json"), "w") as f:
        json.dump({
            "torch": torch.__version__, "image": 0, "class": c, "logits": logits[0].tolist(),
            "logit_error_vs_fixture": error, "integrated_gradients": {"baseline": "zeros", "steps": STEPS, "rule": "right Riemann sum",
                                                                     "completeness_error": completeness},
        }, f, indent=1)
    print(f"class {c}, logits within {error:.2g} of the fixture, IG completeness error {completeness:.3g}")


if __name__ == "__main__":
    main()
