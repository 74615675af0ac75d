"""A tiny random-init detector in the ultralytics output layouts, for the detection tests (not trained: its
boxes mean nothing, but its graph has the shapes and ops of a YOLO head). Writes to onnx-models/detection-test/:

  random-yolov8.onnx   output "output0" [batch, 4+C, N]: cx, cy, w, h (input pixels) and C sigmoid class scores
  random-yolov5.onnx   output "output0" [batch, N, 5+C]: cx, cy, w, h, objectness, C class scores
  *.input.npy, *.output.npy      a fixed input and PyTorch's output (ONNX Runtime must reproduce it)
  random-yolov8.reference.*.npy  PyTorch references for one reference detection (box, class) on the fixed input:
                                 the D-RISE score, Grad-CAM (autograd) and Score-CAM (a plain loop) at layer 'p3'

Two scales (stride 8 and 16) as ultralytics concatenates P3..P5; N = 8*8 + 4*4 = 80 on a 64x64 input, C = 3.
Run: /usr/bin/python3 tools/detection/export_random_yolo.py (seconds, deterministic).
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "onnx-models", "detection-test")
SIZE, C = 64, 3
REF_BOX, REF_CLASS = (8.0, 12.0, 40.0, 44.0), 1


class TinyYolo(nn.Module):
    def __init__(self, v5):
        super().__init__()
        self.v5 = v5
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
        self.p3 = nn.Sequential(nn.Conv2d(16, 16, 3, 2, 1), nn.ReLU())   # stride 8
        self.p4 = nn.Sequential(nn.Conv2d(16, 16, 3, 2, 1), nn.ReLU())   # stride 16
        extra = 1 if v5 else 0
        self.head3 = nn.Conv2d(16, 4 + extra + C, 1)
        self.head4 = nn.Conv2d(16, 4 + extra + C, 1)

    def decode(self, raw, stride):
        n, _, h, w = raw.shape
        gy, gx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
        cx = (gx + 0.5 + torch.tanh(raw[:, 0])) * stride
        cy = (gy + 0.5 + torch.tanh(raw[:, 1])) * stride
        bw = torch.sigmoid(raw[:, 2]) * 4 * stride
        bh = torch.sigmoid(raw[:, 3]) * 4 * stride
        rest = torch.sigmoid(raw[:, 4:])
        out = torch.cat([torch.stack([cx, cy, bw, bh], 1), rest], 1)
        return out.reshape(n, out.shape[1], h * w)

    def forward(self, x, keep=None):
        a = self.p3(self.stem(x))
        if keep is not None:
            keep.append(a)
        b = self.p4(a)
        y = torch.cat([self.decode(self.head3(a), 8), self.decode(self.head4(b), 16)], 2)  # [n, 4+C, N]
        return y.transpose(1, 2) if self.v5 else y


def iou(ref, boxes):
    x0 = torch.maximum(boxes[:, 0], ref[0]); y0 = torch.maximum(boxes[:, 1], ref[1])
    x1 = torch.minimum(boxes[:, 2], ref[2]); y1 = torch.minimum(boxes[:, 3], ref[3])
    inter = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + (ref[2] - ref[0]) * (ref[3] - ref[1]) - inter)


def drise(y):
    """D-RISE (Petsiuk et al. 2021, eq. 2): max over proposals of IoU x objectness (1: none) x cosine of the class vectors,
    the reference's being one-hot. y is one item's [4+C, N] output."""
    cx, cy, w, h = y[0], y[1], y[2], y[3]
    boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    p = y[4:].T
    cos = p[:, REF_CLASS] / p.norm(dim=1)
    return (iou(torch.tensor(REF_BOX), boxes) * cos).max()


def export(model, name):
    x = torch.zeros(1, 3, SIZE, SIZE)
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["output0"],
                      dynamic_axes={"input": {0: "batch"}, "output0": {0: "batch"}}, opset_version=13, do_constant_folding=True)
    # Name the stride-8 map so that tests and users can pick it as the target layer.
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return path


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, SIZE, SIZE, generator=g) * 2 - 1
    for v5 in (False, True):
        torch.manual_seed(1)
        model = TinyYolo(v5).eval()
        with torch.no_grad():
            # Wider class logits than the default init, so that scores spread over (0, 1).
            for head in (model.head3, model.head4):
                head.weight[4:].mul_(6)
        name = "random-yolov5" if v5 else "random-yolov8"
        export(model, name)
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(OUT, name + ".input.npy"), x.numpy())
        np.save(os.path.join(OUT, name + ".output.npy"), np.ascontiguousarray(y.numpy()))
        if v5:
            continue
        # References at layer p3 (the stride-8 map) for the reference detection.
        keep = []
        y = model(x, keep)
        a = keep[0]
        a.retain_grad()
        score = drise(y[0])
        score.backward()
        grads = a.grad[0]
        weights = grads.mean(dim=(1, 2))
        gradcam = F.relu((weights[:, None, None] * a[0]).sum(0)).detach()
        # Score-CAM (Wang et al. 2020, eq. 1-5): each channel upsampled, min-max normalised, multiplied into the input.
        acts = a[0].detach()
        sc_weights = torch.zeros(acts.shape[0])
        with torch.no_grad():
            for k in range(acts.shape[0]):
                up = F.interpolate(acts[k][None, None], size=(SIZE, SIZE), mode="bilinear", align_corners=False)[0, 0]
                if up.max() == up.min():
                    continue
                m = (up - up.min()) / (up.max() - up.min())
                sc_weights[k] = drise(model(x * m)[0])
        scorecam = F.relu((sc_weights[:, None, None] * acts).sum(0))
        reference = dict(box=np.array(REF_BOX), cls=np.array([REF_CLASS]), drise=score.detach().numpy().reshape(1),
                         gradcam_weights=weights.detach().numpy(), gradcam=gradcam.numpy(), scorecam_weights=sc_weights.numpy(),
                         scorecam=scorecam.numpy())
        for key, value in reference.items():
            np.save(os.path.join(OUT, f"{name}.reference.{key}.npy"), value.astype(np.float32))
        print(name, "D-RISE", float(score), "grad-cam max", float(gradcam.max()), "score-cam max", float(scorecam.max()))
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == "__main__":
    main()
