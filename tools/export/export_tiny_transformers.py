#!/usr/bin/python3
"""Tiny random-init vision transformers and their PyTorch references, for the tests of token and channels-last
target layers (tests/ScoreCam.Onnx.Tests/Gradients/Fixtures/transformers/).

Models (torch.manual_seed(20) before each; weights random, LayerNorm scales and biases and the classifier too,
nothing trained), all with input `input` [batch,3,32,32]
and output `logits` [batch,5], dynamic batch (so torchvision's ViT reads the input's Shape to expand its class token):
- tiny-vit.onnx: torchvision VisionTransformer (patch 8, 2 layers, 2 heads, width 16, MLP 32), opset 17
  (LayerNormalization); tokens [N,17,16]: the class token and a 4x4 patch grid.
- tiny-vit-opset14.onnx: the same model at opset 14, where LayerNorm is exported decomposed
  (ReduceMean, Sub, Pow, Sqrt, Div, Mul, Add).
- tiny-deit.onnx: the same ViT with a distillation token after the class token (DeiT's layout: [N,18,16], two
  prefix tokens) and a head averaging the two tokens' logits, opset 17.
- tiny-swin.onnx: torchvision SwinTransformer (patch 4, width 8, depths [1,2], heads [2,2], window 4), opset 17;
  channels-last maps [N,h,w,D] (the last stage: 4x4x16).

References (per model, float64 from PyTorch's own float32 graph): on x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i)
(i the flat index of 1x3x32x32), for the top class and the runner-up: dY_c/dx by autograd (the input gradient); the target layer is the last block's norm1
output (pytorch-grad-cam's advice); A is that output with a forward hook and g = dY_c/dA by autograd (Y_c the
logit; every other path, the residual stream included, as it is); both are reshaped to maps K x h x w
(pytorch-grad-cam's reshape_transform: prefix tokens dropped, the rest on the patch grid; Swin: channels last to
first). Grad-CAM = ReLU(sum_k mean(g_k) A_k). Score-CAM (Wang et al., eq. 1-5), a plain loop: each A_k bilinearly
upsampled to 32x32 (align_corners=False), min-max normalized (constant maps left out), times x; w_k =
softmax(F(x * m_k))_c; map ReLU(sum_k w_k A_k). Ablation-CAM (Desai and Ramaswamy, eq. 3): w_k = (y_c - y_c^k) / y_c,
y_c^k the logit with map k of the layer set to 0 by a forward hook (the rest of the network, residual stream included,
runs as it does); map ReLU(sum_k w_k A_k). Recipro-CAM (Byun and Lee, eq. 2-4): map(i, j) = softmax(F(A * e_ij))_c,
only position (i, j) of every map kept. Prefix tokens keep their values. The channel weights are stored too (a map can be all zeros after
the ReLU: normalised tokens have zero mean over their channels). `layer` is the ONNX tensor the hooked module's last node outputs.

    /usr/bin/python3 tools/export/export_tiny_transformers.py
"""
import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.models as tvm
from torchvision.models.swin_transformer import SwinTransformer

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "ScoreCam.Onnx.Tests", "Gradients", "Fixtures", "transformers")
SIZE, CLASSES = 32, 5


class DistilledVit(nn.Module):
    """DeiT's token layout on torchvision's ViT: [class, distillation, patches...]; logits = mean of both heads."""

    def __init__(self):
        super().__init__()
        self.vit = tvm.VisionTransformer(image_size=SIZE, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16,
                                         mlp_dim=32, num_classes=CLASSES)
        self.dist_token = nn.Parameter(torch.randn(1, 1, 16) * 0.5)
        self.vit.encoder.pos_embedding = nn.Parameter(torch.randn(1, 18, 16) * 0.02)  # one more token
        self.head_dist = nn.Linear(16, CLASSES)

    def forward(self, x):
        v = self.vit
        x = v._process_input(x)
        n = x.shape[0]
        x = torch.cat([v.class_token.expand(n, -1, -1), self.dist_token.expand(n, -1, -1), x], dim=1)
        x = v.encoder(x)
        return (v.heads(x[:, 0]) + self.head_dist(x[:, 1])) / 2


def vit():
    return tvm.VisionTransformer(image_size=SIZE, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                                 num_classes=CLASSES)


def swin():
    return SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[1, 2], num_heads=[2, 2], window_size=[4, 4],
                           num_classes=CLASSES)


class TokensLayout:
    """[N, T, D] tokens: `prefix` tokens, then the patch grid row by row."""

    def __init__(self, prefix):
        self.prefix = prefix

    def to_maps(self, a):  # [N, T, D] -> [N, D, h, w]
        t = a[:, self.prefix:, :]
        side = int(round(t.shape[1] ** 0.5))
        return t.reshape(t.shape[0], side, side, t.shape[2]).permute(0, 3, 1, 2)

    def to_layer(self, maps, original):  # [N, D, h, w] -> tokens, the prefix tokens as they were
        n, d = maps.shape[:2]
        cells = maps.permute(0, 2, 3, 1).reshape(n, -1, d)
        return torch.cat([original[:, :self.prefix, :].expand(n, -1, -1), cells], dim=1)


class ChannelsLastLayout:
    """[N, h, w, D] maps."""

    @staticmethod
    def to_maps(a):
        return a.permute(0, 3, 1, 2)

    @staticmethod
    def to_layer(maps, original):
        return maps.permute(0, 2, 3, 1)


MODELS = [
    # name, constructor, opset, the hooked module, its ONNX scope, reshape
    ("tiny-vit", vit, 17, lambda m: m.encoder.layers[-1].ln_1, "/encoder/layers/encoder_layer_1/ln_1/", TokensLayout(1)),
    ("tiny-vit-opset14", vit, 14, lambda m: m.encoder.layers[-1].ln_1, "/encoder/layers/encoder_layer_1/ln_1/", TokensLayout(1)),
    ("tiny-deit", DistilledVit, 17, lambda m: m.vit.encoder.layers[-1].ln_1, "/encoder/layers/encoder_layer_1/ln_1/", TokensLayout(2)),
    ("tiny-swin", swin, 17, lambda m: m.features[-1][-1].norm1, "/features/features.3/features.3.1/norm1/", ChannelsLastLayout()),
]


def sine_input(size=SIZE):
    i = np.arange(3 * size * size, dtype=np.float64)
    return (2 * np.sin(0.001 * i) + 0.5 * np.cos(0.0173 * i)).astype(np.float32).reshape(1, 3, size, size)


def layer_tensor(path, scope):
    graph = onnx.load(path).graph
    nodes = [n for n in graph.node if n.name.startswith(scope)]
    if not nodes:
        raise SystemExit(f"no node under {scope} in {path}")
    return nodes[-1].output[0]


def min_max_masks(A, size):
    up = F.interpolate(A.unsqueeze(1), size=(size, size), mode="bilinear", align_corners=False).squeeze(1)
    masks = []
    for k in range(len(A)):
        lo, hi = up[k].min(), up[k].max()
        masks.append(None if hi == lo else (up[k] - lo) / (hi - lo))
    return masks


def randomize(model, classes=CLASSES):
    """Random LayerNorm scales and biases and a random classifier (torchvision starts them at 1, 0 and 0)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + 0.3 * torch.randn_like(m.weight))
                m.bias.copy_(0.2 * torch.randn_like(m.bias))
            elif isinstance(m, nn.Linear) and m.out_features == classes:
                m.weight.copy_(torch.randn_like(m.weight) * 0.5)
                m.bias.copy_(torch.randn_like(m.bias) * 0.1)
    return model


BATCH = 32


def with_layer(model, module, layout, maps, x):
    """The model's outputs on x (repeated) with the hooked layer's output replaced by `maps` (laid out as the layer)."""
    outputs = []
    for i in range(0, len(maps), BATCH):
        part = maps[i:i + BATCH]
        handle = module.register_forward_hook(lambda _m, _i, output: layout.to_layer(part, output))
        try:
            with torch.no_grad():
                outputs.append(model(x.expand(len(part), -1, -1, -1)))
        finally:
            handle.remove()
    return torch.cat(outputs)


def batched(model, inputs):
    with torch.no_grad():
        return torch.cat([model(torch.stack(inputs[i:i + BATCH])) for i in range(0, len(inputs), BATCH)])


def reference(name, make, opset, module_of, scope, layout, size=SIZE, onnx_dir=OUT, out=OUT, seed=20, tails=True, sampled=None,
              classes=CLASSES, score_channels=None):
    """Exports the model and writes NAME.reference.json into `out`; `tails`: Ablation-CAM and Recipro-CAM too;
    `sampled`: store the gradient at that many sampled positions (and the largest ones) instead of all;
    `score_channels`: Score-CAM over only that many channels, those of largest spatial variance (the others weigh 0)."""
    torch.manual_seed(seed)
    model = randomize(make(), classes).eval()
    x = torch.from_numpy(sine_input(size))
    path = os.path.join(onnx_dir, f"{name}.onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=opset,
                      do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))

    saved = {}
    def hook(_module, _inputs, output):
        output.retain_grad()
        saved["A"] = output
    handle = module_of(model).register_forward_hook(hook)
    x.requires_grad_(sampled is None)
    logits = model(x)
    handle.remove()
    order = logits[0].argsort(descending=True)
    top, second = int(order[0]), int(order[1])
    maps = layout.to_maps(saved["A"]).detach().double()[0]
    result = {"torch": torch.__version__, "torchvision": torchvision.__version__, "layer": layer_tensor(path, scope),
              "raw_shape": list(saved["A"].shape[1:]), "maps_shape": list(maps.shape), "logits": logits[0].tolist(),
              "top": top, "second": second, "classes": {}}
    if sampled is None:
        result["activations"] = maps.flatten().tolist()
    leaf, x = x, x.detach()
    masks = min_max_masks(maps.float(), size)
    if score_channels is not None:
        result["score_channels"] = score_channels
        variance = maps.var(dim=(1, 2), unbiased=False)
        chosen = set(int(k) for k in variance.argsort(descending=True)[:score_channels])
        masks = [m if k in chosen else None for k, m in enumerate(masks)]
    probabilities = torch.softmax(batched(model, [x[0] * m for m in masks if m is not None]).double(), dim=1)
    if tails:
        # Ablation-CAM: map k set to 0; Recipro-CAM: only position (i, j) kept, for every channel (prefix tokens as they were).
        A = maps.float()
        k_count, h, w = A.shape
        ablated = A.unsqueeze(0).repeat(k_count, 1, 1, 1)
        for k in range(k_count):
            ablated[k, k] = 0
        ablated_logits = with_layer(model, module_of(model), layout, ablated, x).double()
        kept = torch.zeros(h * w, k_count, h, w)
        for p in range(h * w):
            kept[p, :, p // w, p % w] = A[:, p // w, p % w]
        kept_probabilities = torch.softmax(with_layer(model, module_of(model), layout, kept, x).double(), dim=1)
    for c in (top, second):
        saved["A"].grad, leaf.grad = None, None
        model.zero_grad()
        logits[0, c].backward(retain_graph=True)
        g = layout.to_maps(saved["A"].grad).double()[0]
        w = g.mean(dim=(1, 2))
        gradcam = torch.relu((w[:, None, None] * maps).sum(0))
        kept = [k for k, m in enumerate(masks) if m is not None]
        weights = torch.zeros(len(masks), dtype=torch.float64)
        weights[kept] = probabilities[:, c]
        scorecam = torch.relu((weights[:, None, None] * maps).sum(0))
        entry = {"gradcam": gradcam.flatten().tolist(), "gradcam_weights": w.tolist(), "scorecam": scorecam.flatten().tolist(),
                 "scorecam_weights": weights.tolist()}
        flat = g.flatten()
        if sampled is None:
            entry["gradient"] = flat.tolist()
            entry["input_gradient"] = leaf.grad.double()[0].flatten().tolist()
        else:
            rng = np.random.default_rng(c)
            positions = np.concatenate([rng.choice(len(flat), sampled, replace=False), np.argsort(-np.abs(flat.numpy()))[:50]])
            entry["gradient_at"] = {str(int(p)): float(flat[p]) for p in positions}
            entry["gradient_max"] = float(flat.abs().max())
        if tails:
            y = float(logits[0, c])
            ablation_weights = (y - ablated_logits[:, c]) / y
            entry.update({"ablationcam_weights": ablation_weights.tolist(),
                          "ablationcam": torch.relu((ablation_weights[:, None, None] * maps).sum(0)).flatten().tolist(),
                          "reciprocam": kept_probabilities[:, c].tolist()})
        result["classes"][str(c)] = entry
    with open(os.path.join(out, f"{name}.reference.json"), "w") as f:
        json.dump(result, f)
    print(name, "layer", result["layer"], "raw", result["raw_shape"], "maps", result["maps_shape"], "top", top,
          "bytes", os.path.getsize(path))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for spec in MODELS:
        reference(*spec)
