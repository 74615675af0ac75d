"""A tiny semantic segmenter of fashion-clutter items: output [batch, 11, 96, 96] (background + 10 classes).

    nice -n 10 /usr/bin/python3 tools/export/train_tiny_segmenter.py [OUT_DIR]   # default onnx-models/tiny-segmenter

Model (the shape of LR-ASPP / DeepLab heads, small): a 4x4 stride-4 Conv-BN-ReLU stem (24x24), a 3x3 block at
24x24 (the skip), two 3x3 blocks at 12x12; the 12x12 features are upsampled bilinearly (align_corners=False) to
24x24, concatenated with the skip, fused (1x1 then 3x3), classified by a 1x1 convolution into 11 logits at 24x24
and upsampled bilinearly x4 to the input's size, as torchvision's segmentation models do. Input `input`
[batch,3,96,96], output `out` [batch,11,96,96] (logits; class 0 is background, class k + 1 is Fashion-MNIST class
k). Pixels: an item's pixels are those of its sprite above fashion_clutter.ITEM_THRESHOLD (a later item covers an
earlier one), everything else is background.

Training: the detector's 4000 train-split canvases (1-3 items), per-pixel cross-entropy, Adam with one-cycle,
seeded, 2 threads, deterministic. Held-out: the detector's 600 test-split canvases; mIoU over the 11 classes
(intersections and unions summed over the set) and pixel accuracy.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_clutter as fc  # noqa: E402
import tiny_common as tc  # noqa: E402
import train_tiny_detector as det  # noqa: E402

SEED = 8
TRAIN, TEST, EPOCHS, BATCH = det.TRAIN, det.TEST, 4, 32
NAME = "tiny-segmenter"
CLASSES = ["background", *fc.CLASSES]


def cbr(cin, cout, kernel=3, stride=1):
    pad = 0 if kernel == stride else (kernel - 1) // 2
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class TinySegmenter(nn.Module):
    def __init__(self, classes=len(CLASSES)):
        super().__init__()
        self.stem = cbr(3, 16, 4, 4)                                  # 24x24
        self.skip = cbr(16, 24)                                       # 24x24
        self.deep = nn.Sequential(cbr(24, 48, stride=2), cbr(48, 48))  # 12x12
        self.fuse = nn.Sequential(cbr(72, 24, kernel=1), cbr(24, 24))  # 24x24
        self.classifier = nn.Conv2d(24, classes, 1)

    def forward(self, x):
        skip = self.skip(self.stem(x))
        deep = F.interpolate(self.deep(skip), size=skip.shape[-2:], mode="bilinear", align_corners=False)
        logits = self.classifier(self.fuse(torch.cat([deep, skip], 1)))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def labels_of(owners, items, idx):
    return torch.from_numpy(np.stack([tc.class_map(owners[i], items[i]) for i in idx]))


def evaluate(model, images, owners, items):
    k = len(CLASSES)
    confusion = np.zeros((k, k), np.int64)
    with torch.no_grad():
        for i in range(0, len(images), 100):
            idx = list(range(i, min(i + 100, len(images))))
            pred = model(tc.normalize(images[idx])).argmax(1).numpy()
            truth = labels_of(owners, items, idx).numpy()
            confusion += np.bincount(truth.ravel() * k + pred.ravel(), minlength=k * k).reshape(k, k)
    inter = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - inter
    iou = inter / np.maximum(union, 1)
    return {"miou": float(iou.mean()), "iou_per_class": {c: float(v) for c, v in zip(CLASSES, iou)},
            "pixel_accuracy": float(inter.sum() / confusion.sum()), "canvases": len(images)}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tc.ROOT, "onnx-models", NAME)
    os.makedirs(out, exist_ok=True)
    tc.setup(SEED)
    images, owners, items = tc.canvases("train", det.TRAIN_SEED, TRAIN, 3)
    test_images, test_owners, test_items = tc.canvases("test", det.TEST_SEED, TEST, 3)
    model = TinySegmenter()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=EPOCHS * (TRAIN // BATCH), pct_start=0.15)

    def step(idx, epoch):
        model.train()
        idx = idx.tolist()
        loss = F.cross_entropy(model(tc.normalize(images[idx])), labels_of(owners, items, idx))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        return loss.item()

    seconds = tc.epochs(TRAIN, BATCH, EPOCHS, SEED, step)
    model.eval()
    tc.save_weights(model, NAME)
    metrics = evaluate(model, test_images, test_owners, test_items)
    print(json.dumps(metrics, indent=1))

    tc.export(model, os.path.join(out, f"{NAME}.onnx"), "input", ["out"])
    tc.write_sidecars(out, NAME, CLASSES)
    # the output at every 4th row and column (11 x 24 x 24) keeps the fixture small
    sample = tc.write_sample(out, lambda x: {"out-every4th": model(x)[:, :, ::4, ::4]})
    tc.write_facts(out, NAME, {
        "name": NAME, "file": f"{NAME}.onnx", "kind": "segmenter", "layout": "NCHW logits, class 0 background",
        "input": {"name": "input", "shape": ["batch", 3, tc.SIZE, tc.SIZE]},
        "outputs": [{"name": "out", "shape": ["batch", len(CLASSES), tc.SIZE, tc.SIZE]}],
        "num_classes": len(CLASSES), "labels": "labels.txt", "parameters": tc.parameters(model),
        "seed": SEED, "train": {"canvases": TRAIN, "stream": ["train", det.TRAIN_SEED], "epochs": EPOCHS,
                                "batch": BATCH, "seconds": round(seconds)},
        "test": {"stream": ["test", det.TEST_SEED], **metrics}, "sample": sample})


if __name__ == "__main__":
    main()
