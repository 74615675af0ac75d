"""A tiny random-init detector with torchvision-style non-maximum suppression inside its graph, for the tests that
run on every build (not trained: its boxes mean nothing, but its graph has the ops of torchvision's detection
exports: per-class score threshold (NonZero, GatherND), TopK, batched NonMaxSuppression, boxes/scores/labels out).
Writes to onnx-models/detection-test/:

  random-nms.onnx                 input `images` [1,3,64,64] (0..1), outputs `boxes` [K,4] (x0,y0,x1,y1 input pixels),
                                  `scores` [K], `labels` [K] (int64, 1..C; 0 is the background), K varying per image
  random-nms.input.npy            a fixed input
  random-nms.reference.*.npy      PyTorch references for its first detection at layer /stem/stem.3/Relu_output_0
                                  (16x16x16), as tools/detection/ssdlite_reference.py documents them, and
                                  input_gradient: the D-RISE score's gradient with respect to the input (3x64x64)

Run: /usr/bin/python3 tools/detection/export_tiny_nms.py (seconds, deterministic).
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.detection import _utils as det_utils
from torchvision.ops import boxes as box_ops

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ssdlite_reference import drise, references, save  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "onnx-models", "detection-test")
NAME, SIZE, CLASSES = "random-nms", 64, 4          # classes include the background (0), as torchvision's
LAYER = "/stem/stem.3/Relu_output_0"


class TinyNmsDetector(nn.Module):
    """One anchor per cell of a stride-4 grid: box deltas and class logits, decoded, then torchvision's
    SSD postprocess_detections (per-class threshold and top-k, batched NMS, at most max_det)."""

    def __init__(self, score_thresh=0.6, topk=100, nms_thresh=0.5, max_det=100):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, 4 + CLASSES, 1))
        self.score_thresh, self.topk, self.nms_thresh, self.max_det = score_thresh, topk, nms_thresh, max_det

    def forward(self, x):
        raw = self.head(self.stem(x))[0]                                   # [4+C, h, w]
        h, w = raw.shape[1:]
        stride = SIZE / h
        gy, gx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
        cx = ((gx + 0.5) * stride + torch.tanh(raw[0]) * stride).reshape(-1)
        cy = ((gy + 0.5) * stride + torch.tanh(raw[1]) * stride).reshape(-1)
        bw = (torch.exp(raw[2].clamp(max=2)) * 2 * stride).reshape(-1)
        bh = (torch.exp(raw[3].clamp(max=2)) * 2 * stride).reshape(-1)
        boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)
        boxes = box_ops.clip_boxes_to_image(boxes, (SIZE, SIZE))
        scores = F.softmax(raw[4:].reshape(CLASSES, -1).T, dim=-1)       # [N, C]
        all_boxes, all_scores, all_labels = [], [], []
        for label in range(1, CLASSES):
            score = scores[:, label]
            keep = score > self.score_thresh
            score, box = score[keep], boxes[keep]
            score, idx = score.topk(det_utils._topk_min(score, self.topk, 0))
            all_boxes.append(box[idx])
            all_scores.append(score)
            all_labels.append(torch.full_like(score, label, dtype=torch.int64))
        b, s, l = torch.cat(all_boxes), torch.cat(all_scores), torch.cat(all_labels)
        keep = box_ops.batched_nms(b, s, l, self.nms_thresh)[: self.max_det]
        return b[keep], s[keep], l[keep]


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(3)
    model = TinyNmsDetector().eval()
    with torch.no_grad():
        model.head[2].weight[4:].mul_(60)                                      # class logits that spread
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, SIZE, SIZE, generator=g)
    path = os.path.join(OUT, NAME + ".onnx")
    torch.onnx.export(model, x, path, input_names=["images"], output_names=["boxes", "scores", "labels"], opset_version=11,
                      do_constant_folding=True)
    graph = onnx.load(path).graph
    onnx.checker.check_model(path)
    assert any(n.op_type == "NonMaxSuppression" for n in graph.node) or any(
        n.op_type == "If" for n in graph.node), "the export has no suppression"
    assert any(LAYER in n.output for n in graph.node), f"{LAYER} is not a tensor of the export"
    np.save(os.path.join(OUT, NAME + ".input.npy"), x.numpy().astype("<f4"))
    reference, counts, _ = references(model, x, model.stem[3])
    # The vanilla gradient (Simonyan et al. 2014) of the same D-RISE score with respect to the input, kept set as it is.
    xg = x.clone().requires_grad_(True)
    boxes, scores, labels = model(xg)
    score = drise(boxes, scores, labels, torch.from_numpy(reference["box"]), int(reference["cls"][0]))
    reference["input_gradient"] = torch.autograd.grad(score, xg)[0][0].numpy()
    save(reference, OUT, NAME)
    print(f"{NAME}: {len(reference['outputs_scores'])} detections, first class {int(reference['cls'][0])} at {reference['box'].tolist()} "
          f"D-RISE {float(reference['drise'][0]):.4f}; masked images {min(counts)}..{max(counts)} detections; {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
