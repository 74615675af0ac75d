#!/usr/bin/python3
"""Independent PyTorch references for the CAM methods added after the paper's (HiResCAM, Eigen-CAM, EigenGrad-CAM,
SS-CAM, IS-CAM, Group-CAM, Ablation-CAM, Recipro-CAM), written from each paper's definition (and, for a --variant,
from the published formula of that implementation), not from the library's code.

Each ONNX graph is evaluated node by node in torch (float64) from its own weights; A is the target layer's output,
g = dY_c/dA with Y_c the class's logit; maps are stored min-max normalized (what the tests compare, within 1e-3).
Models and inputs: the default model (onnx-models/fashion-clutter, its first committed input) and the ResNet-18
layout of tests/.../Methods/Fixtures/variants.onnx on x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i); classes: the top
prediction and the runner-up.

Definitions (the specification):
- HiResCAM (Draelos and Carin, eq. 4): ReLU(sum_k g_k * A_k).
- Eigen-CAM (Muhammad and Yeasin, eq. 4-5): O = A as an hw x K matrix, v the first right singular vector (numpy SVD),
  map O v; pytorch-grad-cam: O centered per channel first. EigenGrad-CAM: the same (centered) on g * A. The sign of
  v is fixed as pytorch-grad-cam's sign correction does (flip when |min| > |max|); then ReLU.
- SS-CAM (Wang, Naidu et al., Algorithm 1): m_k = minmax(bilinear(A_k)) (align_corners=False; constant maps weigh 0);
  w_k = mean over N samples of softmax(F(x * (m_k + d)))_c (masks) or softmax(F((x + d) * m_k))_c (input),
  d ~ N(0, s^2) drawn as the library draws it (net_random.py, seed 0, channel by channel, sample by sample);
  torch-cam: d (h x w) added to A_k, mask (a - min) / (max + 1e-8) after the min is subtracted, then upsampled,
  w = softmax_k(mean_i F_c(x * M_ik) - F_c(x)) on logits. Map ReLU(sum_k w_k A_k).
- IS-CAM (Naidu et al., eq. 5): w_k = (1/N) sum_{i=1..N} softmax(F(x * (i/N) m_k))_c; torch-cam: scale
  sum_{j<=i} j/N, torch-cam's masks and softmax_k of the mean logit increase.
- eigen_smooth (pytorch-grad-cam): the map is the centered first principal component (as Eigen-CAM's, sign fixed) of
  the weighted activations, w_k A_k (Grad-CAM: w_k = mean g_k) or ReLU(g_k) A_k (LayerCAM).
- aug_smooth (pytorch-grad-cam, with its default ttach transforms) of Grad-CAM: the input tensor flipped left-right or
  not, times 0.9, 1 or 1.1; each copy's map upsampled to the input's size, min-max, flipped back; the mean of the six
  (at the input's size, kept at every STRIDE-th row and column as Group-CAM's).
- Group-CAM (Zhang et al., eq. 2-8): alpha_k = mean g_k; G = 32 groups of consecutive channels (torch.chunk);
  M_l = ReLU(sum_{k in l} alpha_k A_k), values <= its 70th percentile (np.percentile) zeroed, upsampled, min-max
  (constant: left out); X~ = Gaussian blur of x (kernel 51, sigma 50, reflect padding); score_l =
  softmax(F(x M_l + X~ (1 - M_l)))_c - softmax(F(X~))_c; map ReLU(sum_l score_l M_l) at the input's size.
- Ablation-CAM (Desai and Ramaswamy, eq. 3): w_k = (y_c - y_c^k) / y_c, y_c^k the logit with A_k = 0 run through
  the rest of the network; map ReLU(sum_k w_k A_k).
- Recipro-CAM (Byun and Lee, eq. 2-4): map(i, j) = softmax(F_tail(A * e_ij))_c, e_ij one at (i, j) for every
  channel; Gaussian variant: A[:, i, j] spread over the 3x3 neighbourhood with (1 2 1; 2 4 2; 1 2 1) / 16.

    /usr/bin/python3 tools/methods/make_method_reference.py [--keys gradcam/aug-smooth,...]

writes tests/ScoreCam.Onnx.Tests/Methods/Fixtures/methods.<model>.json (with --keys: only those maps, merged in).
Another model on the sine input, into another folder (tools/methods/compare_torchvision.py uses it):

    /usr/bin/python3 tools/methods/make_method_reference.py --model M.onnx --layer TENSOR --name NAME --out DIR
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from net_random import NetRandom  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "ScoreCam.Onnx.Tests", "Methods", "Fixtures")
SS_SAMPLES, SS_SIGMA, IS_SAMPLES, STRIDE = 2, 0.5, 4, 8


class OnnxInTorch:
    """The ONNX graph's nodes evaluated with torch functions, weights from its initializers; `replace` feeds a
    tensor (the target layer) with other values, so the nodes after it run as the model's tail."""

    def __init__(self, path):
        g = onnx.load(path).graph
        self.weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).astype(np.float64)) for t in g.initializer}
        self.nodes, self.input, self.output = list(g.node), g.input[0].name, g.output[0].name

    def __call__(self, x, layer, replace=None):
        values = dict(self.weights)
        values[self.input] = x
        for n in self.nodes:
            if replace is not None and n.output[0] == layer:
                values[layer] = replace
                continue
            if replace is not None and not all(i in values for i in n.input if i):
                continue
            a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
            i = [values[name] for name in n.input if name]
            if n.op_type == "Conv":
                assert a.get("group", 1) == 1 and list(a.get("dilations", [1, 1])) == [1, 1]
                p = a.get("pads", [0, 0, 0, 0])
                assert p[0] == p[2] and p[1] == p[3]
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=tuple(a["strides"]), padding=(p[0], p[1]))
            elif n.op_type == "MaxPool":
                p = a.get("pads", [0, 0, 0, 0])
                assert p[0] == p[2] and p[1] == p[3] and a.get("ceil_mode", 0) == 0
                y = F.max_pool2d(i[0], tuple(a["kernel_shape"]), tuple(a["strides"]), (p[0], p[1]))
            elif n.op_type == "Identity":
                y = i[0]
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
        return values[self.output], values[layer]


def upsample(maps, size):
    """Bilinear, align_corners=False, of (N, h, w) maps to (N, H, W)."""
    return F.interpolate(maps.unsqueeze(1), size=size, mode="bilinear", align_corners=False).squeeze(1)


def min_max(m):
    """(m - min) / (max - min); all zeros for a constant map (as the display heatmap)."""
    m = np.asarray(m, dtype=np.float64)
    return np.zeros_like(m) if m.max() == m.min() else (m - m.min()) / (m.max() - m.min())


def logits_of(model, layer, inputs):
    with torch.no_grad():
        return torch.cat([model(inputs[i:i + 64], layer)[0] for i in range(0, len(inputs), 64)])


def paper_masks(A, size):
    """eq. 1: upsampled, min-max; None for a constant map."""
    up = upsample(A, size)
    masks = []
    for k in range(len(A)):
        lo, hi = up[k].min(), up[k].max()
        masks.append(None if hi == lo else (up[k] - lo) / (hi - lo))
    return masks


def torch_cam_masks(A, size):
    shifted = A - A.amin(dim=(1, 2), keepdim=True)
    return upsample(shifted / (shifted.amax(dim=(1, 2), keepdim=True) + 1e-8), size)


def cam(weights, A):
    return F.relu((torch.as_tensor(weights, dtype=torch.float64)[:, None, None] * A).sum(0)).numpy()


def eigen(maps, centered):
    """O v (v the first right singular vector of the hw x K matrix O), sign fixed, then ReLU."""
    K = maps.shape[0]
    O = maps.reshape(K, -1).T.numpy()
    if centered:
        O = O - O.mean(axis=0)
    _, _, vt = np.linalg.svd(O, full_matrices=False)
    p = O @ vt[0]
    if abs(p.min()) > abs(p.max()):
        p = -p
    return np.maximum(p, 0).reshape(maps.shape[1:])


def sscam(model, layer, x, A, c, noise, variant):
    rng = NetRandom(0)
    size, K, N = x.shape[-2:], A.shape[0], SS_SAMPLES
    plane = size[0] * size[1]
    items, kept = [], []
    for k in range(K):
        if variant == "torch-cam":
            for _ in range(N):
                d = torch.from_numpy(np.float32(A[k].numpy().ravel() + SS_SIGMA * rng.standard_normals(A[k].numel()))).double().view(A[k].shape)
                items.append(x[0] * torch_cam_masks(d[None], size)[0])
            kept.append(True)
            continue
        m = paper_masks(A[k:k + 1], size)[0]
        kept.append(m is not None)
        if m is None:
            continue
        for _ in range(N):
            if noise == "masks":
                noisy = torch.from_numpy(np.float32(m.numpy().ravel() + SS_SIGMA * rng.standard_normals(plane))).double().view(size)
                items.append(x[0] * noisy)
            else:
                noisy = torch.from_numpy(np.float32(x[0].numpy().ravel() + SS_SIGMA * rng.standard_normals(x[0].numel()))).double().view(x[0].shape)
                items.append(torch.from_numpy(np.float32((noisy * m).numpy())).double())
    z = logits_of(model, layer, torch.stack(items).float().double())
    return weights_from(model, layer, x, z, kept, N, c, variant)


def weights_from(model, layer, x, z, kept, N, c, variant):
    scores = torch.softmax(z, dim=1)[:, c] if variant == "paper" else z[:, c]
    w, j = np.zeros(len(kept)), 0
    for k, keep in enumerate(kept):
        if keep:
            w[k] = scores[j:j + N].mean().item()
            j += N
    if variant == "torch-cam":
        w = torch.softmax(torch.from_numpy(w) - logits_of(model, layer, x)[0, c], dim=0).numpy()
    return w


def iscam(model, layer, x, A, c, variant):
    size, N = x.shape[-2:], IS_SAMPLES
    masks = paper_masks(A, size) if variant == "paper" else list(torch_cam_masks(A, size))
    items, kept = [], []
    for m in masks:
        kept.append(m is not None)
        if m is None:
            continue
        for i in range(1, N + 1):
            scale = i / N if variant == "paper" else sum(j / N for j in range(1, i + 1))
            items.append(x[0] * (scale * m))
    z = logits_of(model, layer, torch.stack(items).float().double())
    return weights_from(model, layer, x, z, kept, N, c, variant)


def blur(x, size=51, sigma=50.0):
    r = size // 2
    t = torch.arange(size, dtype=torch.float64) - r
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    c = x.shape[1]
    y = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, size).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect"), k.view(1, 1, size, 1).repeat(c, 1, 1, 1), groups=c)


def groupcam(model, layer, x, A, g, c, groups=32):
    alpha = g.mean(dim=(1, 2))
    size = x.shape[-2:]
    xb = blur(x)
    masks = []
    for chunk_a, chunk_w in zip(A.chunk(groups, 0), alpha.chunk(groups, 0)):
        m = F.relu((chunk_w[:, None, None] * chunk_a).sum(0))
        m = torch.where(m > float(np.percentile(m.numpy(), 70)), m, torch.zeros_like(m))
        up = upsample(m[None], size)[0]
        if up.max() == up.min():
            continue
        masks.append((up - up.min()) / (up.max() - up.min()))
    inputs = torch.cat([xb] + [x * m + xb * (1 - m) for m in masks])
    p = torch.softmax(logits_of(model, layer, inputs.float().double()), dim=1)[:, c]
    saliency = sum((p[1 + i] - p[0]) * m for i, m in enumerate(masks))
    return F.relu(saliency).numpy()


def tail(model, layer, x, copies):
    with torch.no_grad():
        return torch.cat([model(x, layer, replace=copies[i:i + 64].float().double())[0] for i in range(0, len(copies), 64)])


def ablationcam(model, layer, x, A, c):
    copies = A.repeat(A.shape[0], 1, 1, 1)
    for k in range(A.shape[0]):
        copies[k, k] = 0
    y = model(x, layer)[0][0, c].item()
    w = (y - tail(model, layer, x, copies)[:, c]) / y
    return cam(w, A)


def reciprocam(model, layer, x, A, c, gaussian):
    K, h, w = A.shape
    kernel = torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=torch.float64) / 16
    copies = torch.zeros(h * w, K, h, w, dtype=torch.float64)
    for i in range(h):
        for j in range(w):
            if not gaussian:
                copies[i * w + j, :, i, j] = A[:, i, j]
                continue
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    if 0 <= i + di < h and 0 <= j + dj < w:
                        copies[i * w + j, :, i + di, j + dj] = A[:, i, j] * kernel[di + 1, dj + 1]
    return torch.softmax(tail(model, layer, x, copies), dim=1)[:, c].reshape(h, w).numpy()


def aug_smooth_gradcam(model, layer, x, c):
    """pytorch-grad-cam's aug_smooth of Grad-CAM: its default ttach transforms HorizontalFlip x Multiply([0.9, 1, 1.1])
    on the input tensor; each copy's map ReLU(sum_k mean(g_k) A_k) upsampled to the input's size, min-max, flipped
    back; the mean of the six."""
    total = 0
    for flip in (False, True):
        for factor in (0.9, 1.0, 1.1):
            copy = x * factor
            if flip:
                copy = copy.flip(3)
            _, A = model(copy, layer)
            Ag = A.detach().clone().requires_grad_(True)
            y, _ = model(copy, layer, replace=Ag)
            y[0, c].backward()
            a, g = A[0].detach(), Ag.grad[0]
            m = min_max(upsample(F.relu((g.mean(dim=(1, 2))[:, None, None] * a).sum(0))[None], x.shape[-2:])[0].numpy())
            total = total + (m[:, ::-1] if flip else m)
    return total / 6


def reference(name, path, layer, x, out=OUT, keys=None, classes=2):
    """Writes OUT/methods.NAME.json; with `keys`, only those maps are computed and merged into the file if it exists."""
    model = OnnxInTorch(path)
    x = torch.from_numpy(x).double()
    logits, A = model(x, layer)
    order = logits[0].argsort(descending=True)
    file = os.path.join(out, f"methods.{name}.json")
    if keys and os.path.exists(file):
        with open(file) as f:
            result = json.load(f)
    else:
        result = {"model": os.path.relpath(path, ROOT), "layer": layer, "stride": STRIDE,
                  "samples": {"sscam": SS_SAMPLES, "sscam_sigma": SS_SIGMA, "iscam": IS_SAMPLES},
                  "maps": {}}
    result["samples"] = {"sscam": SS_SAMPLES, "sscam_sigma": SS_SIGMA, "iscam": IS_SAMPLES}
    for c in [int(k) for k in order[:classes]]:
        Ag = A.detach().clone().requires_grad_(True)
        y, _ = model(x, layer, replace=Ag)
        y[0, c].backward()
        a, g = A[0].detach(), Ag.grad[0]
        maps = {
            "hirescam": lambda: F.relu((g * a).sum(0)).numpy(),
            "eigencam/paper": lambda: eigen(a, centered=False),
            "eigencam/pytorch-grad-cam": lambda: eigen(a, centered=True),
            "eigengradcam": lambda: eigen(g * a, centered=True),
            "sscam/masks": lambda: cam(sscam(model, layer, x, a, c, "masks", "paper"), a),
            "sscam/input": lambda: cam(sscam(model, layer, x, a, c, "input", "paper"), a),
            "sscam/torch-cam": lambda: cam(sscam(model, layer, x, a, c, "masks", "torch-cam"), a),
            "iscam/paper": lambda: cam(iscam(model, layer, x, a, c, "paper"), a),
            "iscam/torch-cam": lambda: cam(iscam(model, layer, x, a, c, "torch-cam"), a),
            "gradcam/eigen-smooth": lambda: eigen(g.mean(dim=(1, 2))[:, None, None] * a, centered=True),
            "layercam/eigen-smooth": lambda: eigen(F.relu(g) * a, centered=True),
            "groupcam": lambda: groupcam(model, layer, x, a, g, c),
            "ablationcam": lambda: ablationcam(model, layer, x, a, c),
            "reciprocam": lambda: reciprocam(model, layer, x, a, c, gaussian=False),
            "reciprocam/gaussian": lambda: reciprocam(model, layer, x, a, c, gaussian=True),
            "gradcam/aug-smooth": lambda: aug_smooth_gradcam(model, layer, x, c),
        }
        # Maps at the input's size (Group-CAM's, aug-smooth's): normalized over all of it, kept at every STRIDE-th row and column.
        at_input = ("groupcam", "gradcam/aug-smooth")
        stored = result["maps"].setdefault(str(c), {})
        for k, make in maps.items():
            if keys and k not in keys:
                continue
            m = min_max(make())
            stored[k] = [round(float(v), 5) for v in (m[::STRIDE, ::STRIDE] if k in at_input else m).ravel()]
        print(name, "class", c, "done", flush=True)
    with open(file, "w") as f:
        json.dump(result, f, separators=(",", ":"))


def sine_input():
    i = np.arange(3 * 224 * 224, dtype=np.float64)
    return (2 * np.sin(0.001 * i) + 0.5 * np.cos(0.0173 * i)).astype(np.float32).reshape(1, 3, 224, 224)


def main():
    global SS_SAMPLES, IS_SAMPLES
    torch.set_num_threads(2)
    p = argparse.ArgumentParser(description="The committed references (no arguments), or one model's into another folder.")
    p.add_argument("--model", help="another ONNX model, explained on the sine input (e.g. tools/.cache/models/torchvision-resnet18.onnx)")
    p.add_argument("--layer", help="its target layer (the tensor the library picks)")
    p.add_argument("--name", help="the fixture's name: methods.NAME.json")
    p.add_argument("--out", default=OUT, help="the folder to write into")
    p.add_argument("--keys", help="comma-separated maps to compute and merge into the file (e.g. gradcam/aug-smooth)")
    p.add_argument("--sscam-samples", type=int, default=SS_SAMPLES, help="SS-CAM's N (another model only)")
    p.add_argument("--iscam-samples", type=int, default=IS_SAMPLES, help="IS-CAM's N (another model only)")
    p.add_argument("--classes", type=int, default=2, choices=(1, 2), help="the top class, or it and the runner-up (another model only)")
    a = p.parse_args()
    keys = a.keys.split(",") if a.keys else None
    if a.model:
        SS_SAMPLES, IS_SAMPLES = a.sscam_samples, a.iscam_samples
        reference(a.name, a.model, a.layer, sine_input(), a.out, keys, a.classes)
        return
    fc = np.load(os.path.join(ROOT, "onnx-models", "fashion-clutter", "fashion-clutter.input.npy"))[:1]
    reference("fashion-clutter", os.path.join(ROOT, "onnx-models", "fashion-clutter", "fashion-clutter.onnx"), "/layer3/layer3.1/Relu_1_output_0", fc,
              keys=keys)
    reference("resnet18", os.path.join(OUT, "variants.onnx"), "/layer4/layer4.1/relu_1/Relu_output_0", sine_input(), keys=keys)


if __name__ == "__main__":
    main()
