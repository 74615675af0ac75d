"""Reference maps for the compatibility variants of the Grad-CAM family (`--variant`), made in PyTorch.

Builds a torchvision ResNet-18 layout (BasicBlock, [2, 2, 2, 2], 224x224 input, so layer4 gives 7x7 maps
as in ResNet-18) with narrow stage widths (tools/export/export_coverage.py's NarrowResNet, 8..64 channels,
so the file stays under 1 MB) and a 1000-class head (gradients of a logit are ~1e-3, as in an ImageNet
ResNet-18, where pytorch-grad-cam's epsilon matters). Seeded weights, BatchNorm statistics calibrated as
the coverage models'. Exports it to ONNX and writes, for the top class and the runner-up on the input
x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i) (i the flat index of 1x3x224x224), each method's 7x7 map as
each implementation computes it (Score-CAM as well, from score_cam.py and activation.py), re-implemented here from their published formulas (read in
jacobgil/pytorch-grad-cam's base_cam.py, grad_cam.py, grad_cam_plusplus.py, xgrad_cam.py, layer_cam.py
and utils/image.py's scale_cam_image; frgfm/torch-cam's methods/gradient.py and core.py), with A the
layer4 output and g = dY_c/dA, Y_c the raw logit (both implementations' default target):

  paper (float64):      Grad-CAM w = mean g; Grad-CAM++ alpha = g^2 / (2 g^2 + sum_ab A_ab g^3), 0 where
                        g = 0, w = sum alpha ReLU(g); XGrad-CAM w = sum g A / sum A; LayerCAM sum_k ReLU(g) A.
                        Map: ReLU(sum_k w_k A_k).
  pytorch-grad-cam:     float32; Grad-CAM++ adds 1e-6 to alpha's denominator, XGrad-CAM 1e-7 to sum A;
                        map ReLU(sum_k w_k A_k) before scale_cam_image (stored), and the 224x224
                        grayscale_cam its __call__ returns: min-max (1e-7), cv2.resize (bilinear; cv2 when
                        installed, else F.interpolate(bilinear, align_corners=False), the same arithmetic
                        for upscaling), then min-max (1e-7) again.
  Score-CAM:            paper: masks min-max(bilinear(A_k)) (align_corners=False, eq. 1), constant maps weigh 0,
                        w_k = softmax over classes of the logits of x * M_k at the target (eq. 2-4);
                        pytorch-grad-cam: masks (U - min)/(max - min + 1e-8) with U upsampled align_corners=True,
                        w = softmax across channels of the raw target logits on x * M_k; torch-cam: masks
                        upsampled (align_corners=False) after (A - min)/(max + 1e-8) at the layer's size,
                        w = softmax across channels of Y_c(x * M_k) - Y_c(x).
  torch-cam:            float32; Grad-CAM++'s division `alpha[mask].div_(...)` acts on the copy that
                        boolean indexing returns, so its alpha stays g^2 and w = sum g^2 ReLU(g) (checked
                        below on this torch); XGrad-CAM adds 1e-8 to sum A; map ReLU(sum_k w_k A_k),
                        then (map - min) / (max + 1e-8) after the min is subtracted (its normalized output).

    /usr/bin/python3 tools/variants/make_variant_reference.py

writes tests/ScoreCam.Onnx.Tests/Methods/Fixtures/variants.onnx, variants.reference.json and
variants.pytorch-grad-cam-gradcam++.npy (the top class's 224x224 grayscale_cam).
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torchvision.models import resnet

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "export"))
from export_coverage import NarrowResNet, calibrate_batchnorm  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "tests", "ScoreCam.Onnx.Tests", "Methods", "Fixtures")
SEED, SIZE, CLASSES = 2024, 224, 1000
METHODS = ("gradcam", "gradcam++", "xgradcam", "layercam", "scorecam")


def paper_weights(method, A, g):
    A, g = A.astype(np.float64), g.astype(np.float64)
    if method == "gradcam":
        return g.mean(axis=(1, 2))
    if method == "gradcam++":
        g2, g3 = g ** 2, g ** 3
        denominator = 2 * g2 + A.sum(axis=(1, 2))[:, None, None] * g3
        alpha = np.where((g != 0) & (denominator != 0), g2 / np.where(denominator == 0, 1, denominator), 0)
        return (alpha * np.maximum(g, 0)).sum(axis=(1, 2))
    if method == "xgradcam":
        s = A.sum(axis=(1, 2))
        return np.where(s == 0, 0, (g * A).sum(axis=(1, 2)) / np.where(s == 0, 1, s))
    raise ValueError(method)


def pytorch_grad_cam_weights(method, A, g):
    if method == "gradcam":
        return np.mean(g, axis=(1, 2))
    if method == "gradcam++":
        g2 = g ** 2
        g3 = g2 * g
        alpha = g2 / (2 * g2 + np.sum(A, axis=(1, 2))[:, None, None] * g3 + np.float32(1e-6))
        alpha = np.where(g != 0, alpha, 0)
        return np.sum(np.maximum(g, 0) * alpha, axis=(1, 2))
    if method == "xgradcam":
        return np.sum(g * A / (np.sum(A, axis=(1, 2))[:, None, None] + np.float32(1e-7)), axis=(1, 2))
    raise ValueError(method)


def torch_cam_weights(method, A, g):
    A, g = torch.from_numpy(A), torch.from_numpy(g)
    if method == "gradcam":
        return g.flatten(1).mean(-1)
    if method == "gradcam++":
        return (g.pow(2) * torch.relu(g)).flatten(1).sum(-1)   # alpha stays g^2: see the module docstring
    if method == "xgradcam":
        return (g * A).flatten(1).sum(-1) / A.flatten(1).sum(-1).add(1e-8)
    raise ValueError(method)


@torch.no_grad()
def scorecam_weights(variant, model, x, A, c):
    """Score-CAM's channel weights from masked forward passes of the input x (1x3xHxW) by each activation map."""
    a = torch.from_numpy(np.float32(A))[:, None]                              # K x 1 x h x w
    size = x.shape[-2:]
    if variant == "pytorch-grad-cam":   # UpsamplingBilinear2d (align_corners=True), (up - min) / (max - min + 1e-8)
        up = F.interpolate(a, size=size, mode="bilinear", align_corners=True)
        lo, hi = up.amin(dim=(2, 3), keepdim=True), up.amax(dim=(2, 3), keepdim=True)
        masks = (up - lo) / (hi - lo + 1e-8)
    elif variant == "torch-cam":        # (a - min) / (max + 1e-8) after the min is subtracted, at the layer's size, then upsampled
        lo = a.amin(dim=(2, 3), keepdim=True)
        shifted = a - lo
        masks = F.interpolate(shifted / (shifted.amax(dim=(2, 3), keepdim=True) + 1e-8), size=size, mode="bilinear", align_corners=False)
    else:                               # paper: upsample (align_corners=False), min-max (eq. 1); constant maps get no weight
        up = F.interpolate(a.double(), size=size, mode="bilinear", align_corners=False)
        lo, hi = up.amin(dim=(2, 3), keepdim=True), up.amax(dim=(2, 3), keepdim=True)
        masks = torch.where(hi > lo, (up - lo) / torch.where(hi > lo, hi - lo, torch.ones_like(hi)), torch.zeros_like(up)).float()
    logits = torch.cat([model(x * masks[i:i + 16]) for i in range(0, len(masks), 16)])      # eq. 2: X ∘ M_k
    if variant == "paper":              # eq. 3-4: the target's softmax probability on each masked input
        w = torch.softmax(logits.double(), dim=1)[:, c]
        constant = (a.amax(dim=(1, 2, 3)) == a.amin(dim=(1, 2, 3)))
        return torch.where(constant, torch.zeros_like(w), w).numpy()
    scores = logits[:, c] - (model(x)[0, c] if variant == "torch-cam" else 0)
    return torch.softmax(scores, dim=0).numpy()                               # across channels


def cam(method, weights, A, g):
    """ReLU(sum_k w_k A_k), or LayerCAM's element-wise ReLU(sum_k ReLU(g_k) A_k)."""
    if method == "layercam":
        return np.maximum((np.maximum(g, 0) * A).sum(axis=0), 0)
    return np.maximum((np.asarray(weights)[:, None, None] * A).sum(axis=0), 0)


def min_max(img, eps):
    img = img - np.min(img)
    return img / (eps + np.max(img))


def resize_bilinear(img, size):
    try:
        import cv2
        return cv2.resize(np.float32(img), (size, size))
    except ImportError:
        t = torch.from_numpy(np.float32(img))[None, None]
        return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)[0, 0].numpy()


def main():
    torch.set_num_threads(2)
    probe = torch.tensor([1.0, 2.0, 3.0])
    probe[probe > 1.5].div_(10.0)
    assert probe.tolist() == [1.0, 2.0, 3.0], "boolean indexing returned a view: torch-cam's Grad-CAM++ would divide"

    torch.manual_seed(SEED)
    model = calibrate_batchnorm(NarrowResNet(resnet.BasicBlock, [2, 2, 2, 2], [8, 16, 32, 64], num_classes=CLASSES))
    i = np.arange(3 * SIZE * SIZE, dtype=np.float64)
    x = torch.from_numpy((2 * np.sin(0.001 * i) + 0.5 * np.cos(0.0173 * i)).astype(np.float32).reshape(1, 3, SIZE, SIZE))

    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "variants.onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))

    saved = {}

    def keep(_module, _inputs, output):
        if output.requires_grad:   # the unmasked pass, not Score-CAM's masked ones (no_grad)
            output.retain_grad()
            saved["A"] = output

    model.layer4.register_forward_hook(keep)
    logits = model(x)
    order = logits[0].argsort(descending=True)
    classes = [int(order[0]), int(order[1])]
    result = {"torch": torch.__version__, "input": "x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i)", "logits": logits[0].tolist(), "maps": {}}
    for c in classes:
        model.zero_grad()
        saved["A"].grad = None
        logits[0, c].backward(retain_graph=True)
        A = saved["A"].detach().numpy()[0]
        g = saved["A"].grad.numpy()[0]
        maps = {"paper": {}, "pytorch-grad-cam": {}, "torch-cam": {}}
        for m in METHODS:
            layer, score = m == "layercam", m == "scorecam"
            weight = {"paper": lambda: paper_weights(m, A, g), "pytorch-grad-cam": lambda: pytorch_grad_cam_weights(m, A, g),
                      "torch-cam": lambda: torch_cam_weights(m, A, g).numpy()}
            for v in maps:
                w = None if layer else scorecam_weights(v, model, x, A, c) if score else weight[v]()
                maps[v][m] = cam(m, w, A.astype(np.float64), g.astype(np.float64)) if v == "paper" else cam(m, w, A, g)
            maps["torch-cam"][m] = min_max(maps["torch-cam"][m], 1e-8)
        if c == classes[0]:
            grayscale = min_max(resize_bilinear(min_max(maps["pytorch-grad-cam"]["gradcam++"], 1e-7), SIZE), 1e-7)
            np.save(os.path.join(OUT, "variants.pytorch-grad-cam-gradcam++.npy"), grayscale.astype(np.float32)[None])
        result["maps"][str(c)] = {v: {m: np.asarray(a, dtype=np.float64).ravel().tolist() for m, a in ms.items()} for v, ms in maps.items()}
        norm = lambda a: (a - a.min()) / (a.max() - a.min())
        for m in ("gradcam++", "scorecam"):
            for v in ("pytorch-grad-cam", "torch-cam"):
                print(f"class {c}: {m} {v} vs paper, max |difference| after min-max: "
                      f"{np.abs(norm(maps[v][m]) - norm(maps['paper'][m])).max():.4f}")
    with open(os.path.join(OUT, "variants.reference.json"), "w") as f:
        json.dump(result, f)
    print("classes", classes, "model bytes", os.path.getsize(path))


if __name__ == "__main__":
    main()
