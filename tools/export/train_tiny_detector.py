"""A tiny YOLO-style detector of fashion-clutter items whose ONNX output has the ultralytics v8/v11 raw layout.

    nice -n 10 /usr/bin/python3 tools/export/train_tiny_detector.py [OUT_DIR]   # default onnx-models/tiny-detector

Model: a stride-2 Conv-BN-SiLU backbone (96 -> 48 -> 24 -> 12 -> 6) with two anchor-free heads, as YOLOv8's
(separate box and class branches) at stride 8 (12x12 cells) and stride 16 (6x6 cells): N = 180 anchor points.
Each point predicts distances (left, top, right, bottom) = softplus(raw) * stride from its centre and one logit
per class. The exported graph decodes them as ultralytics' export does (no DFL, no NMS):
input `images` [batch,3,96,96] -> output `output0` [batch, 4 + 10, 180]: cx, cy, w, h in input pixels, then
the 10 classes' sigmoid scores; points ordered stride 8 (row-major) then stride 16.

Training: 4000 train-split canvases with 1-3 items; an anchor point is positive for an item when its centre is
inside the item's box and within 2.5 strides of the box centre (the smallest such item wins); loss = BCE of the
class scores (target 1 for the item's class, 0 otherwise, summed over all points / positives) + 2 (1 - GIoU) on
positives. Adam, seeded, 2 threads, deterministic. Held-out: 600 test-split canvases; NMS per class (IoU 0.5),
score >= 0.001 for mAP@0.5 (VOC all-point interpolation, mean over classes) and >= 0.25 for recall / precision.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_clutter as fc  # noqa: E402
import tiny_common as tc  # noqa: E402

SEED = 7
TRAIN_SEED, TEST_SEED = 11, 12
TRAIN, TEST, EPOCHS, BATCH = 4000, 600, 5, 32
STRIDES = (8, 16)
NAME = "tiny-detector"


def cbs(cin, cout, stride=1, kernel=3):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2 if stride == 1 or kernel == 3 else 0,
                                   bias=False), nn.BatchNorm2d(cout), nn.SiLU())


class Head(nn.Module):
    """YOLOv8's decoupled head at one level: a box branch (4 distances) and a class branch (C logits)."""

    def __init__(self, cin, classes, width=16):
        super().__init__()
        self.box = nn.Sequential(cbs(cin, width), nn.Conv2d(width, 4, 1))
        self.cls = nn.Sequential(cbs(cin, width), nn.Conv2d(width, classes, 1))

    def forward(self, x):
        return self.box(x), self.cls(x)


class TinyYolo(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = cbs(3, 16, 4, kernel=4)                                  # 24 (patchify, as YOLOv5's 6x6/2 stem)
        self.stage1 = cbs(16, 24)                                            # 24
        self.stage2 = nn.Sequential(cbs(24, 48, 2), cbs(48, 48))             # 12: P3
        self.stage3 = nn.Sequential(cbs(48, 64, 2), cbs(64, 64))             # 6:  P4
        self.heads = nn.ModuleList([Head(48, classes), Head(64, classes)])
        anchors, strides = [], []
        for s in STRIDES:
            n = tc.SIZE // s
            ys, xs = torch.meshgrid(torch.arange(n) + 0.5, torch.arange(n) + 0.5, indexing="ij")
            anchors.append(torch.stack([xs.flatten(), ys.flatten()], 0) * s)
            strides.append(torch.full((1, n * n), float(s)))
        self.register_buffer("anchors", torch.cat(anchors, 1))               # 2 x N, input pixels
        self.register_buffer("strides", torch.cat(strides, 1))               # 1 x N

    def raw(self, x):
        """Distances (B x 4 x N, pixels, >= 0) and class logits (B x C x N)."""
        p3 = self.stage2(self.stage1(self.stem(x)))
        p4 = self.stage3(p3)
        boxes, logits = [], []
        for head, feature in zip(self.heads, (p3, p4)):
            b, c = head(feature)
            boxes.append(b.flatten(2))
            logits.append(c.flatten(2))
        return F.softplus(torch.cat(boxes, 2)) * self.strides, torch.cat(logits, 2)

    def forward(self, x):
        """ultralytics v8 raw layout: [B, 4 + C, N] = cx, cy, w, h (pixels), sigmoid class scores."""
        dist, logits = self.raw(x)
        lt, rb = dist[:, :2], dist[:, 2:]
        x1y1, x2y2 = self.anchors - lt, self.anchors + rb
        return torch.cat([(x1y1 + x2y2) / 2, x2y2 - x1y1, logits.sigmoid()], 1)


def xyxy(dist, anchors):
    return torch.cat([anchors - dist[:2], anchors + dist[2:]], 0)                   # 4 x N


def assign(items, anchors, strides):
    """Per anchor point: the index of its item (-1: background)."""
    n = anchors.shape[1]
    best, owner = torch.full((n,), float("inf")), torch.full((n,), -1, dtype=torch.long)
    for j, it in enumerate(items):
        x0, y0, x1, y1 = it["box"]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ax, ay = anchors
        inside = (ax > x0) & (ax < x1) & (ay > y0) & (ay < y1)
        near = ((ax - cx).abs() < 2.5 * strides[0]) & ((ay - cy).abs() < 2.5 * strides[0])
        area = float((x1 - x0) * (y1 - y0))
        take = inside & near & (area < best)
        best[take], owner[take] = area, j
    return owner


def targets(batch_items, model):
    owners = torch.stack([assign(items, model.anchors, model.strides) for items in batch_items])
    boxes = torch.zeros(len(batch_items), 4, model.anchors.shape[1])
    classes = torch.zeros(len(batch_items), 10, model.anchors.shape[1])
    for b, items in enumerate(batch_items):
        for j, it in enumerate(items):
            sel = owners[b] == j
            boxes[b, :, sel] = torch.tensor(it["box"], dtype=torch.float32)[:, None]
            classes[b, it["class"], sel] = 1
    return owners, boxes, classes


def loss_of(model, x, batch_items):
    owners, gt, cls_target = targets(batch_items, model)
    dist, logits = model.raw(x)
    positives = owners >= 0
    npos = max(1, int(positives.sum()))
    cls_loss = F.binary_cross_entropy_with_logits(logits, cls_target, reduction="sum") / npos
    pred = torch.cat([model.anchors - dist[:, :2], model.anchors + dist[:, 2:]], 1)      # B x 4 x N
    p = pred.permute(0, 2, 1)[positives]
    g = gt.permute(0, 2, 1)[positives]
    giou = torchvision.ops.generalized_box_iou_loss(p, g, reduction="sum") / npos if len(p) else 0 * cls_loss
    return cls_loss + 2 * giou


def detections(output, score_min, iou=0.5):
    """NMS per class on one image's [4 + C, N] output: (boxes x0y0x1y1, scores, classes)."""
    cxcy, wh, scores = output[:2], output[2:4], output[4:]
    boxes = torch.cat([cxcy - wh / 2, cxcy + wh / 2], 0).T
    score, cls = scores.max(0)
    keep = score >= score_min
    boxes, score, cls = boxes[keep], score[keep], cls[keep]
    kept = torchvision.ops.batched_nms(boxes, score, cls, iou)
    return boxes[kept], score[kept], cls[kept]


def average_precision(hits, scores, n_gt):
    """VOC all-point interpolated AP of one class."""
    if n_gt == 0:
        return None
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.asarray(hits, np.float64)[order]
    if len(tp) == 0:
        return 0.0
    recall = np.cumsum(tp) / n_gt
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    r = np.concatenate([[0], recall, [1]])
    p = np.concatenate([[0], precision, [0]])
    for i in range(len(p) - 2, -1, -1):
        p[i] = max(p[i], p[i + 1])
    return float(np.sum((r[1:] - r[:-1]) * p[1:]))


def evaluate(model, images, all_items):
    """mAP@0.5 (score >= 0.001) and recall / precision at score >= 0.25 on the held-out canvases."""
    hits, scores, n_gt = [[] for _ in range(10)], [[] for _ in range(10)], [0] * 10
    tp25 = fp25 = 0
    with torch.no_grad():
        for i in range(0, len(images), 100):
            out = model(tc.normalize(images[i:i + 100]))
            for o, items in zip(out, all_items[i:i + 100]):
                for it in items:
                    n_gt[it["class"]] += 1
                boxes, score, cls = detections(o, 0.001)
                used = set()
                for b, s, c in zip(boxes, score.tolist(), cls.tolist()):
                    gts = [(j, it) for j, it in enumerate(items) if it["class"] == c and j not in used]
                    best, best_iou = None, 0.5
                    for j, it in gts:
                        v = float(torchvision.ops.box_iou(b[None], torch.tensor([it["box"]], dtype=torch.float32)))
                        if v >= best_iou:
                            best, best_iou = j, v
                    if best is not None:
                        used.add(best)
                    hits[c].append(best is not None)
                    scores[c].append(s)
                    if s >= 0.25:
                        tp25 += best is not None
                        fp25 += best is None
    aps = [average_precision(hits[c], scores[c], n_gt[c]) for c in range(10)]
    total = sum(n_gt)
    return {"map50": float(np.mean([a for a in aps if a is not None])),
            "ap50_per_class": {fc.CLASSES[c]: aps[c] for c in range(10)},
            "recall_at_0.25": tp25 / total, "precision_at_0.25": tp25 / max(1, tp25 + fp25),
            "items": total, "canvases": len(images)}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tc.ROOT, "onnx-models", NAME)
    os.makedirs(out, exist_ok=True)
    tc.setup(SEED)
    images, _, items = tc.canvases("train", TRAIN_SEED, TRAIN, 3)
    test_images, _, test_items = tc.canvases("test", TEST_SEED, TEST, 3)
    model = TinyYolo()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=EPOCHS * (TRAIN // BATCH), pct_start=0.15)

    def step(idx, epoch):
        model.train()
        idx = idx.tolist()
        loss = loss_of(model, tc.normalize(images[idx]), [items[i] for i in idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        return loss.item()

    seconds = tc.epochs(TRAIN, BATCH, EPOCHS, SEED, step)
    model.eval()
    tc.save_weights(model, NAME)
    metrics = evaluate(model, test_images, test_items)
    print(json.dumps(metrics, indent=1))

    tc.export(model, os.path.join(out, f"{NAME}.onnx"), "images", ["output0"])
    tc.write_sidecars(out, NAME, fc.CLASSES)
    sample = tc.write_sample(out, lambda x: {"output0": model(x)})
    with torch.no_grad():
        boxes, score, cls = detections(model(torch.from_numpy(np.load(os.path.join(out, sample["input"]))))[0], 0.25)
    sample["detections"] = [{"box": [round(v, 3) for v in b.tolist()], "score": s, "class": c, "label": fc.CLASSES[c]}
                            for b, s, c in zip(boxes, score.tolist(), cls.tolist())]
    tc.write_facts(out, NAME, {
        "name": NAME, "file": f"{NAME}.onnx", "kind": "detector", "layout": "ultralytics-v8-raw",
        "input": {"name": "images", "shape": ["batch", 3, tc.SIZE, tc.SIZE]},
        "outputs": [{"name": "output0", "shape": ["batch", 14, int(model.anchors.shape[1])]}],
        "strides": list(STRIDES), "num_classes": 10, "labels": "labels.txt", "parameters": tc.parameters(model),
        "seed": SEED, "train": {"canvases": TRAIN, "stream": ["train", TRAIN_SEED], "epochs": EPOCHS, "batch": BATCH,
                                "seconds": round(seconds)},
        "test": {"stream": ["test", TEST_SEED], **metrics}, "sample": sample})


if __name__ == "__main__":
    main()
