"""torchvision's ssdlite320_mobilenet_v3_large (NonMaxSuppression inside the graph) with a random init whose scores
spread, exported to ONNX, and PyTorch references for explaining one of its detections. Git-ignored output, checksums
in tools/detection/ssdlite_reference.sha256.

    nice -n 10 /usr/bin/python3 tools/detection/ssdlite_reference.py [--check] [OUT_DIR]   # default tools/.cache/models

Why not tools/export/export_architectures.py's export: torchvision's default random init (std 0.03 convolutions, BN at
identity) shrinks the features to nothing, so every one of its 300 detections scores 1/91 and which one is "first"
is a tie-break. Here every backbone convolution is re-drawn (Kaiming normal, fan in) and the classification head's
with std 0.03, so scores spread; score_thresh 0.2 (torchvision's default 0.001) keeps the detections per image to
tens, so that a masked image has fewer, or none. Everything else is the builder's (91 classes, 300 detections at
most, NMS IoU 0.55).

Writes ssdlite320-spread.onnx (input `images` [1,3,320,320] in 0..1, outputs `boxes` [K,4], `scores` [K],
`labels` [K]), ssdlite320-spread.input.npy, and ssdlite320-spread.reference.KEY.npy (float32) for these keys, for the reference detection
(the unmasked input's first: box, class) and the target layer (backbone block features.0.12's output,
/model/backbone/features.0/features.0.12/Add_output_0, 112x20x20):
  drise            D-RISE score of the unmasked input (Petsiuk et al. 2021, eq. 2-3, on kept detections: the maximum over
                   the image's detections of IoU x score x [label == class]; 0 with no detection)
  gradcam_weights  Grad-CAM (Selvaraju et al. 2017, eq. 1): the plane mean of dS/dA by autograd, through the kept
                   detections (NMS's indices are integers: autograd holds them as they are)
  gradcam          ReLU(sum_k w_k A_k), 20x20
  scorecam_weights Score-CAM (Wang et al. 2020, eq. 1-4): D-RISE score of the input times each channel's upsampled,
                   min-max normalised map (0 for a constant map): the D-RISE score per masked image
  scorecam         ReLU(sum_k w_k A_k) (eq. 5), 20x20
  outputs_*        PyTorch's boxes, scores, labels on the unmasked input
"""
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision.models.detection as tvd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "export"))
from export_architectures import SingleImageDetector  # noqa: E402  torchvision's detector as exported, one image in
from onnx_export import sha256  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKSUMS = os.path.join(HERE, "ssdlite_reference.sha256")
NAME, SEED, SIZE = "ssdlite320-spread", 4321, 320
LAYER = "/model/backbone/features.0/features.0.12/Add_output_0"


def build():
    torch.manual_seed(SEED)
    model = tvd.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, score_thresh=0.2).eval()
    with torch.no_grad():
        for m in model.backbone.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        for m in model.head.classification_head.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.normal_(m.weight, std=0.03)
    return SingleImageDetector(model).eval()


def iou(ref, boxes):
    x0 = torch.maximum(boxes[:, 0], ref[0]); y0 = torch.maximum(boxes[:, 1], ref[1])
    x1 = torch.minimum(boxes[:, 2], ref[2]); y1 = torch.minimum(boxes[:, 3], ref[3])
    inter = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (area + (ref[2] - ref[0]) * (ref[3] - ref[1]) - inter)


def drise(boxes, scores, labels, ref_box, ref_class):
    """D-RISE on kept detections: each detection's class vector is one-hot, so the cosine is [label == class]."""
    if boxes.shape[0] == 0:
        return scores.sum() * 0
    s = iou(ref_box, boxes) * scores * (labels == ref_class).to(scores.dtype)
    return s.max().clamp(min=0)


def references(model, x, block):
    """The references for the model's first detection on x at the output of module block (see the docstring)."""
    keep = {}
    hook = block.register_forward_hook(lambda m, i, o: keep.__setitem__("a", o))
    boxes, scores, labels = model(x)
    a = keep["a"]
    ref_box, ref_class = boxes[0].detach().clone(), int(labels[0])
    score = drise(boxes, scores, labels, ref_box, ref_class)
    grads = torch.autograd.grad(score, a)[0][0]
    weights = grads.mean(dim=(1, 2))
    acts = a[0].detach()
    gradcam = F.relu((weights[:, None, None] * acts).sum(0))

    start = time.time()
    size = x.shape[-1]
    sc_weights = torch.zeros(acts.shape[0])
    counts = []
    with torch.no_grad():
        for k in range(acts.shape[0]):
            up = F.interpolate(acts[k][None, None], size=(size, size), mode="bilinear", align_corners=False)[0, 0]
            if up.max() == up.min():
                continue
            m = (up - up.min()) / (up.max() - up.min())
            b, s, l = model(x * m)
            counts.append(b.shape[0])
            sc_weights[k] = drise(b, s, l, ref_box, ref_class)
    hook.remove()
    scorecam = F.relu((sc_weights[:, None, None] * acts).sum(0))
    reference = dict(box=ref_box.numpy(), cls=np.array([ref_class]), drise=score.detach().numpy().reshape(1), gradcam_weights=weights.numpy(),
                     gradcam=gradcam.numpy(), scorecam_weights=sc_weights.numpy(), scorecam=scorecam.numpy(), outputs_boxes=boxes.detach().numpy(),
                     outputs_scores=scores.detach().numpy(), outputs_labels=labels.numpy())
    return reference, counts, time.time() - start


def save(reference, out, name):
    for key, value in reference.items():
        np.save(os.path.join(out, f"{name}.reference.{key}.npy"), np.ascontiguousarray(value).astype("<f4"))


def main():
    args = [a for a in sys.argv[1:] if a != "--check"]
    out = args[0] if args else os.path.join(HERE, "..", ".cache", "models")
    os.makedirs(out, exist_ok=True)
    if "--check" in sys.argv:
        sys.exit(subprocess.call(["sha256sum", "-c", CHECKSUMS], cwd=out))
    torch.set_num_threads(2)
    model = build()
    g = torch.Generator().manual_seed(SEED)
    x = torch.rand(1, 3, SIZE, SIZE, generator=g)
    path = os.path.join(out, NAME + ".onnx")
    torch.onnx.export(model, x, path, input_names=["images"], output_names=["boxes", "scores", "labels"], opset_version=11,
                      do_constant_folding=True)
    graph = onnx.load(path).graph
    assert any(LAYER in n.output for n in graph.node), f"{LAYER} is not a tensor of the export"
    np.save(os.path.join(out, NAME + ".input.npy"), x.numpy().astype("<f4"))

    reference, counts, seconds = references(model, x, model.model.backbone.features[0][12])
    print(f"{NAME}: {len(reference['outputs_scores'])} detections; reference class {int(reference['cls'][0])} at {reference['box'].tolist()}, "
          f"D-RISE {float(reference['drise'][0]):.4f}; masked images: {min(counts)}..{max(counts)} detections; PyTorch Score-CAM loop {seconds:.1f} s "
          f"({len(counts)} passes)")
    save(reference, out, NAME)
    with open(os.path.join(out, NAME + ".sha256.new"), "w") as f:
        for suffix in (".onnx", ".input.npy"):
            f.write(f"{sha256(os.path.join(out, NAME + suffix))}  {NAME}{suffix}\n")


if __name__ == "__main__":
    main()
