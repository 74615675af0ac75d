#!/usr/bin/python3
"""Independent reference for ROAD (Rong et al., ICML 2022): noisy linear imputation written from the paper's
definition with scipy's sparse direct solver, and the MoRF / LeRF means on the default model (its ONNX graph run in
torch, float64, see make_method_reference.py) for an analytic heatmap.

Imputation: each removed pixel i satisfies S_i x_i - sum_{removed j} w_ij x_j = sum_{kept j} w_ij x_j over its
in-image 8-neighbours (w = 1/6 sides, 1/12 corners, S_i their sum), per channel; then + 0.01 N(0, 1) noise drawn as
the library draws it (net_random.py: Random(0), channel by channel, removed pixels in row-major order, Box-Muller).
ROAD: pixels ranked by decreasing heatmap value (ties by index); for r = 0.1 .. 0.9, floor(r n) most (MoRF) or least
(LeRF) relevant pixels imputed; one generator for the 18 images in order (MoRF r = 0.1..0.9, then LeRF); result the
mean softmax probability of the class.

Heatmap: h(y, x) = 0.5 + 0.5 sin(0.21 x + 0.13 y) cos(0.17 y), 96 x 96; class: the top prediction of the default
model's first committed input.

    /usr/bin/python3 tools/methods/make_road_reference.py

writes tests/ScoreCam.Onnx.Tests/Metrics/Fixtures/road.reference.json.
"""
import json
import os
import sys

import numpy as np
import torch
from scipy.sparse import lil_matrix
from scipy.sparse.linalg import spsolve

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from net_random import NetRandom  # noqa: E402
from make_method_reference import OnnxInTorch, ROOT  # noqa: E402

OUT = os.path.join(ROOT, "tests", "ScoreCam.Onnx.Tests", "Metrics", "Fixtures")
NEIGHBOURS = [(1, 1, 1 / 12), (0, 1, 1 / 6), (-1, 1, 1 / 12), (1, -1, 1 / 12), (0, -1, 1 / 6), (-1, -1, 1 / 12), (1, 0, 1 / 6), (-1, 0, 1 / 6)]


def impute(img, removed, rng, sigma=0.01):
    C, H, W = img.shape
    pixels = np.flatnonzero(removed.ravel())
    index = -np.ones(H * W, dtype=int)
    index[pixels] = np.arange(len(pixels))
    A = lil_matrix((len(pixels), len(pixels)))
    B = np.zeros((len(pixels), C))
    flat = img.reshape(C, -1).astype(np.float64)
    for i, p in enumerate(pixels):
        y, x = divmod(p, W)
        for dy, dx, w in NEIGHBOURS:
            ny, nx = y + dy, x + dx
            if 0 <= ny < H and 0 <= nx < W:
                A[i, i] += w
                q = ny * W + nx
                if index[q] >= 0:
                    A[i, index[q]] -= w
                else:
                    B[i] += w * flat[:, q]
    solution = spsolve(A.tocsc(), B).reshape(len(pixels), C)
    out = flat.copy()
    for c in range(C):
        out[c, pixels] = solution[:, c] + sigma * rng.standard_normals(len(pixels))
    return np.float32(out.reshape(C, H, W))


def main():
    torch.set_num_threads(2)
    model = OnnxInTorch(os.path.join(ROOT, "onnx-models", "fashion-clutter", "fashion-clutter.onnx"))
    layer = "/layer3/layer3.1/Relu_1_output_0"
    x = np.load(os.path.join(ROOT, "onnx-models", "fashion-clutter", "fashion-clutter.input.npy"))[0]
    y, xx = np.mgrid[0:96, 0:96]
    heat = np.float32(0.5 + 0.5 * np.sin(0.21 * xx + 0.13 * y) * np.cos(0.17 * y)).ravel()
    order = sorted(range(heat.size), key=lambda p: (-heat[p], p))
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(x[None]).double(), layer)
    c = int(logits[0].argmax())
    rng = NetRandom(0)
    images = []
    for most in (True, False):
        for r in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            removed = np.zeros(heat.size, dtype=bool)
            count = int(r * heat.size)
            removed[order[:count] if most else order[::-1][:count]] = True
            images.append(impute(x, removed.reshape(96, 96), rng))
    with torch.no_grad():
        p = torch.softmax(model(torch.from_numpy(np.stack(images)).double(), layer)[0], dim=1)[:, c].numpy()
    # A small imputation on its own: 9 x 7 picture, 3 channels, every third pixel and a 3 x 3 block removed.
    small = np.float32(np.sin(np.arange(3 * 9 * 7) * 0.37).reshape(3, 9, 7))
    mask = np.zeros((9, 7), dtype=bool)
    mask.ravel()[::3] = True
    mask[3:6, 2:5] = True
    imputed = impute(small, mask, NetRandom(5))
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "road.reference.json"), "w") as f:
        json.dump({"class": c, "morf": float(p[:9].mean()), "lerf": float(p[9:].mean()), "probabilities": p.tolist(),
                   "small": {"image": small.ravel().tolist(), "removed": mask.ravel().astype(int).tolist(), "seed": 5,
                             "imputed": imputed.ravel().tolist()}}, f)
    print("class", c, "MoRF", p[:9].mean(), "LeRF", p[9:].mean())


if __name__ == "__main__":
    main()
