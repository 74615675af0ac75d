#!/usr/bin/python3
"""An independent PyTorch implementation of the FGSM attack (paper section 5.4) and of the counterfactual explanation
(section 5.5.2, eq. 7), run on the early checkpoint (onnx-models/fashion-clutter/fashion-clutter-early.onnx, not the
default model): its ONNX graph is rebuilt in torch (float64) from its own weights, node by node. Writes the fixtures
that tests/ScoreCam.Onnx.Tests/Experiments/TorchReferenceTests.cs checks the library against.

    /usr/bin/python3 tools/experiments/make_reference.py      (Debian python3-torch, python3-onnx, python3-pil)

Definitions (the specification, not the library's code):
- FGSM: p the picture in [0, 1]; x = (p - mean) / std the model input; L = -log softmax(f(x))_t;
  p_adv = clip(p + eps * sign(dL/dp), 0, 1); x_adv = (p_adv - mean) / std.
- Score-CAM (eq. 1-5): A the target layer's activations; M_k = A_k bilinearly upsampled to the input
  (align_corners=False) and min-max normalized (constant maps are left out, weight 0); w_k^c = softmax(f(x * M_k))_c;
  L^c = ReLU(sum_k w_k^c A_k).
- Counterfactual (eq. 7): L_CE = ReLU(L^T - L^R) from the same masked passes; H = L_CE upsampled and min-max
  normalized; the check is softmax(f(x))_{T,R} and softmax(f(x * (1 - H)))_{T,R}.
"""
import json
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODEL = os.path.join(ROOT, "onnx-models/fashion-clutter/fashion-clutter-early.onnx")
SET = os.path.join(ROOT, "onnx-models/eval/single")
OUT = os.path.join(ROOT, "tests/ScoreCam.Onnx.Tests/Experiments/TorchReference")
LAYER = "/layer3/layer3.1/Relu_1_output_0"  # the last convolutional block's output (what the library chooses)
MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)
FILES = ["0001.png", "0003.png", "0004.png", "0006.png"]  # where L_CE is not all zero (on 0002 and 0005 it is)
EPSILONS = [("2/255", 2 / 255), ("8/255", 8 / 255)]


class OnnxInTorch:
    """The ONNX graph's nodes evaluated with torch functions (the ops this model uses), weights from its initializers."""

    def __init__(self, path):
        g = onnx.load(path).graph
        self.weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float64)) for t in g.initializer}
        self.nodes = list(g.node)
        self.input = g.input[0].name
        self.output = g.output[0].name

    def __call__(self, x, keep=None):
        values = dict(self.weights)
        values[self.input] = x
        for n in self.nodes:
            a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
            i = [values[name] for name in n.input]
            if n.op_type == "Conv":
                assert a.get("group", 1) == 1 and list(a.get("dilations", [1, 1])) == [1, 1]
                p = a.get("pads", [0, 0, 0, 0])
                assert p[0] == p[2] and p[1] == p[3]
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=tuple(a["strides"]), padding=(p[0], p[1]))
            elif n.op_type == "Relu":
                y = F.relu(i[0])
            elif n.op_type == "Add":
                y = i[0] + i[1]
            elif n.op_type == "GlobalAveragePool":
                y = i[0].mean(dim=(2, 3), keepdim=True)
            elif n.op_type == "Flatten":
                y = i[0].flatten(a.get("axis", 1))
            elif n.op_type == "Gemm":
                assert a.get("transB", 0) == 1 and a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0
                y = i[0] @ i[1].T + i[2]
            else:
                raise NotImplementedError(n.op_type)
            values[n.output[0]] = y
        return (values[self.output], values[keep]) if keep else values[self.output]


def upsample(maps, size):
    """Bilinear, align_corners=False, of (N, h, w) maps to (N, H, W)."""
    return F.interpolate(maps.unsqueeze(1), size=size, mode="bilinear", align_corners=False).squeeze(1)


def minmax(maps):
    """Per-map min-max normalization; constant maps give None in the keep vector."""
    flat = maps.flatten(1)
    lo, hi = flat.min(1).values, flat.max(1).values
    keep = hi > lo
    span = torch.where(keep, hi - lo, torch.ones_like(hi))
    return (maps - lo.view(-1, 1, 1)) / span.view(-1, 1, 1), keep


def fgsm(model, p, target, eps):
    p = p.clone().requires_grad_(True)
    loss = F.cross_entropy(model((p - MEAN) / STD), torch.tensor([target]))
    (grad,) = torch.autograd.grad(loss, p)
    p_adv = (p + eps * grad.sign()).clamp(0, 1).detach()
    return p_adv, grad


def score_cam(model, x, classes):
    with torch.no_grad():
        _, act = model(x, keep=LAYER)
        a = act[0]                                      # K x h x w
        masks, keep = minmax(upsample(a, x.shape[2:]))  # eq. 1
        probs = torch.cat([F.softmax(model(x * masks[k:k + 16].unsqueeze(1)), 1)
                           for k in range(0, a.shape[0], 16)])  # eq. 2-3, in batches of 16
        maps = {}
        for c in classes:
            w = torch.where(keep, probs[:, c], torch.zeros_like(probs[:, c]))  # eq. 4
            maps[c] = F.relu((w.view(-1, 1, 1) * a).sum(0))                    # eq. 5
        return maps


def main():
    os.makedirs(OUT, exist_ok=True)
    model = OnnxInTorch(MODEL)
    with open(os.path.join(SET, "annotations.json")) as f:
        truth = {i["file"]: i["items"][0]["class"] for i in json.load(f)["images"]}
    cases = []
    for file in FILES:
        picture = np.asarray(Image.open(os.path.join(SET, file)).convert("RGB"), np.float64) / 255
        p = torch.from_numpy(picture.transpose(2, 0, 1).copy()).unsqueeze(0)
        x = (p - MEAN) / STD
        with torch.no_grad():
            probs = F.softmax(model(x), 1)[0]
        case = {"file": file, "probabilities": probs.tolist(), "fgsm": [], "counterfactual": None}
        stem = file[:-4]

        t = truth[file]
        for name, eps in EPSILONS:
            p_adv, grad = fgsm(model, p, t, eps)
            x_adv = (p_adv - MEAN) / STD
            with torch.no_grad():
                after = F.softmax(model(x_adv), 1)[0]
            tensor = f"{stem}-fgsm-{name.replace('/', '_')}.npy"
            np.save(os.path.join(OUT, tensor), x_adv.numpy().astype(np.float32))
            g = grad.abs().flatten()
            case["fgsm"].append({"epsilon": name, "target": t, "tensor": tensor,
                                 "predicted_after": int(after.argmax()), "probabilities_after": after.tolist(),
                                 # where |dL/dp| is this small its sign is float noise, not the definition
                                 "tiny_gradients": torch.nonzero(g < g.max() * 1e-5).flatten().tolist()})

        order = torch.argsort(probs, descending=True)
        target, reference = int(order[0]), int(order[1])
        maps = score_cam(model, x, [target, reference])
        lce = F.relu(maps[target] - maps[reference])                      # eq. 7
        heat, _ = minmax(upsample(lce.unsqueeze(0), x.shape[2:]))
        with torch.no_grad():
            masked = F.softmax(model(x * (1 - heat[0])), 1)[0]
        case["counterfactual"] = {
            "target": target, "reference": reference,
            "target_map": maps[target].flatten().tolist(), "reference_map": maps[reference].flatten().tolist(),
            "map": lce.flatten().tolist(), "map_width": lce.shape[1], "map_height": lce.shape[0],
            "input": [float(probs[target]), float(probs[reference])],
            "masked": [float(masked[target]), float(masked[reference])],
        }
        cases.append(case)
        print(file, "fgsm", [(c["epsilon"], c["predicted_after"], len(c["tiny_gradients"])) for c in case["fgsm"]],
              "counterfactual", target, reference, case["counterfactual"]["input"], case["counterfactual"]["masked"])
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"model": "onnx-models/fashion-clutter/fashion-clutter-early.onnx", "set": "onnx-models/eval/single",
                   "layer": LAYER, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
