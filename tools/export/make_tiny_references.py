"""Independent PyTorch references for the tiny detector, segmenter and ViT (onnx-models/tiny-*), written from the
papers' definitions with autograd and plain loops, not from the library's code.

    /usr/bin/python3 tools/export/make_tiny_references.py [detector] [segmenter] [vit]    # default: all three

Needs the trained weights the training scripts leave in tools/.cache/tiny/NAME.pt (rerun them to regenerate:
training is seeded and deterministic); without them the detector's and segmenter's weights are read back from their
committed ONNX files (tiny_common.load_from_onnx: the convolutions with their BatchNorms folded in). Each model is
rebuilt in torch from its training script's class, so the references hold for the committed ONNX file as far as ONNX
Runtime reproduces PyTorch's outputs on the sample (sample.<output>.npy, checked by the C# tests). Input: each folder's sample.input.npy. Writes
tests/ScoreCam.Onnx.Tests/Targets/Fixtures/tiny-MODEL.json (+ .npy for the larger arrays).

Definitions (the specification):
- Score-CAM (Wang et al. eq. 1-5): A = the layer's activations (K x h x w); for each channel whose upsampled map is
  not constant, up_k = bilinear(A_k, input size, align_corners=False), m_k = min-max(up_k), w_k = S(F(x * m_k));
  map = ReLU(sum_k w_k A_k) at h x w. S is the target's score (below), used as it is.
- Grad-CAM (Selvaraju et al. eq. 1-2): g = dS/dA by autograd (A's other paths held: the gradient a hook on the layer
  gives), w_k = mean over h x w of g_k, map = ReLU(sum_k w_k A_k). Input gradient: dS/dx.
- Detection (D-RISE, Petsiuk et al. CVPR 2021, eq. 2-3), for the model's own detections on the sample and for its
  items' boxes and classes: the reference detection d_t = (box L_t, class c) has the
  one-hot class vector P_t; each proposal j of the ultralytics v8 raw output [4 + C, N] has box L_j (cx, cy, w, h ->
  x0, y0, x1, y1), no objectness (O_j = 1) and class scores P_j (the sigmoid scores as output);
  S = max_j IoU(L_t, L_j) * O_j * cos(P_t, P_j), cos(P_t, P_j) = P_j[c] / |P_j|. Its derivative with respect to the
  output is the maximising proposal's (the max's subgradient). Variant "box-score" (pytorch-grad-cam's
  FasterRCNNBoxScoreTarget on raw proposals): j = argmax_j IoU(L_t, L_j); S = IoU + P_j[c] if IoU > 0.5 and
  argmax P_j == c, else 0.
- Segmentation region (pytorch-grad-cam's SemanticSegmentationTarget): S = sum over the region's pixels p of
  out[c, p] (the logits, "raw"), or of softmax over classes of out[:, p] at c ("probability"; Score-CAM only: the
  gradient methods differentiate the raw score, as Grad-CAM a class's pre-softmax score). Regions: by default
  the pixels the unmasked input's output assigns to c (argmax over classes), fixed once; a mask file (the sample's
  item map == item index); a box [x0, y0, x1, y1) in input pixels.
- ViT classifier: tokens [1, T, D] at the last block's ln_1 output, class token dropped, the 64 patch tokens
  reshaped to the 8 x 8 grid as (D, 8, 8) (pytorch-grad-cam's reshape_transform); Grad-CAM on the class logit,
  Score-CAM on the class's softmax probability, for the two most probable classes; the input gradient of the first's
  logit.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_common as tc  # noqa: E402
import train_tiny_detector as det  # noqa: E402
import train_tiny_segmenter as seg  # noqa: E402
import train_tiny_vit as vit  # noqa: E402

OUT = os.path.join(tc.ROOT, "tests", "ScoreCam.Onnx.Tests", "Targets", "Fixtures")
MODELS = os.path.join(tc.ROOT, "onnx-models")
torch.set_default_dtype(torch.float32)


def load(model, name):
    weights = os.path.join(tc.CACHE, f"{name}.pt")
    if not os.path.exists(weights) and name != vit.NAME:
        return tc.load_from_onnx(model, os.path.join(MODELS, name, f"{name}.onnx"))
    model.load_state_dict(torch.load(weights))
    return model.eval()


def sample_input(name):
    return torch.from_numpy(np.load(os.path.join(MODELS, name, "sample.input.npy")))


def activations_and_output(model, module, x, transform=lambda a: a):
    """The layer's activations as (K, h, w) with the graph kept, and the model's output."""
    seen = []
    handle = module.register_forward_hook(lambda m, i, o: seen.append(o))
    try:
        out = model(x)
    finally:
        handle.remove()
    return seen[-1], transform(seen[-1]), out


def grad_cam(model, module, x, score, transform=lambda a: a):
    raw, a, out = activations_and_output(model, module, x, transform)
    s = score(out)
    g = transform(torch.autograd.grad(s, raw, retain_graph=True)[0])[0]
    w = g.mean((1, 2))
    return torch.relu((w[:, None, None] * a[0]).sum(0)).detach(), float(s)


def input_gradient(model, x, score):
    x = x.clone().requires_grad_(True)
    return torch.autograd.grad(score(model(x)), x)[0][0].detach()


def score_cam(model, module, x, score, transform=lambda a: a):
    with torch.no_grad():
        _, a, _ = activations_and_output(model, module, x, transform)
        a = a[0]
        w = torch.zeros(a.shape[0])
        for k in range(a.shape[0]):
            up = F.interpolate(a[k][None, None], size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
            lo, hi = up.min(), up.max()
            if hi == lo:
                continue                                  # constant map: no mask, weight 0
            w[k] = score(model(x * (up - lo) / (hi - lo)))   # eq. 1-4
        return torch.relu((w[:, None, None] * a).sum(0))    # eq. 5


def corners(cxcywh):
    """[N, 4] cx, cy, w, h -> x0, y0, x1, y1."""
    return torch.cat([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2], 1)


def iou(box, boxes):
    """IoU of one x0y0x1y1 box with each of boxes [N, 4], written out (differentiable)."""
    w = (torch.minimum(box[2], boxes[:, 2]) - torch.maximum(box[0], boxes[:, 0])).clamp(min=0)
    h = (torch.minimum(box[3], boxes[:, 3]) - torch.maximum(box[1], boxes[:, 1])).clamp(min=0)
    inter = w * h
    area = lambda b: (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)
    return inter / (area(box) + area(boxes) - inter)


def drise(box, cls):
    """D-RISE similarity of the reference (box, class) to the best proposal of a [1, 4 + C, N] output."""
    box = torch.tensor(box, dtype=torch.float32)

    def score(out):
        o = out[0].T                                       # N x (4 + C)
        p = o[:, 4:]
        return (iou(box, corners(o[:, :4])) * p[:, cls] / p.norm(dim=1)).max()
    return score


def box_score(box, cls):
    box = torch.tensor(box, dtype=torch.float32)

    def score(out):
        o = out[0].T
        ious = iou(box, corners(o[:, :4]))
        j = int(ious.argmax())
        if float(ious[j]) > 0.5 and int(o[j, 4:].argmax()) == cls:
            return ious[j] + o[j, 4 + cls]
        return out.sum() * 0
    return score


def region_score(region, cls, mode):
    region = torch.as_tensor(region, dtype=torch.float32)

    def score(out):
        values = out[0, cls] if mode == "raw" else torch.softmax(out[0], 0)[cls]
        return (values * region).sum()
    return score


def flat(t, digits=7):
    return [round(float(v), digits) for v in torch.as_tensor(t).flatten()]


def save(name, key, array):
    file = f"{name}.{key}.npy"
    np.save(os.path.join(OUT, file), np.asarray(array, "<f4"))
    return file


def onnx_tensor(name, scope):
    """The output of the last node of a module scope in the exported graph (the layer's tensor name)."""
    import onnx
    graph = onnx.load(os.path.join(MODELS, name, f"{name}.onnx")).graph
    nodes = [n for n in graph.node if n.name.startswith(scope + "/")]
    return nodes[-1].output[0]


def detector():
    name = det.NAME
    model = load(det.TinyYolo(), name)
    x = sample_input(name)
    with torch.no_grad():
        out = model(x)
        kept = det.detections(out[0], 0.25)
    # the model's own detections (score >= 0.25 after NMS), then the sample's items as given boxes and classes
    facts = json.load(open(os.path.join(MODELS, name, f"{name}.json")))
    references = [{"source": "detection", "box": flat(b, 4), "class": int(c), "score": float(s)} for b, s, c in zip(*[kept[0], kept[1], kept[2]])] + \
        [{"source": "item", "box": [float(v) for v in it["box"]], "class": it["class"]} for it in facts["sample"]["items"]]
    # outputs to score: the unmasked one and four RISE-style masked ones (8x8 random grids, bilinear, seeded)
    g = torch.Generator().manual_seed(3)
    masks = F.interpolate((torch.rand(4, 1, 8, 8, generator=g) < 0.5).float(), size=(96, 96), mode="bilinear",
                          align_corners=False)
    with torch.no_grad():
        outputs = torch.cat([out, model(x * masks)])
    fixture = {"model": name, "input": f"{name}/sample.input.npy", "output": "output0",
               "outputs": save(name, "outputs", outputs), "references": [], "layer": {}}
    layer = onnx_tensor(name, "/stage2/stage2.1")
    fixture["layer"] = {"name": layer, "module": "stage2", "shape": [48, 12, 12]}
    for r in references:
        d, b = drise(r["box"], r["class"]), box_score(r["box"], r["class"])
        o = outputs.clone().requires_grad_(True)
        s0 = d(o[:1])
        seed = torch.autograd.grad(s0, o)[0][0]
        gc, s = grad_cam(model, model.stage2, x, d)
        sc = score_cam(model, model.stage2, x, d)
        entry = {**r, "drise": [float(d(outputs[i:i + 1])) for i in range(len(outputs))],
                 "box_score": [float(b(outputs[i:i + 1])) for i in range(len(outputs))],
                 "drise_seed_nonzero": {str(i): float(seed.flatten()[i]) for i in torch.nonzero(seed.flatten()).flatten().tolist()},
                 "gradcam": flat(gc), "scorecam": flat(sc)}
        fixture["references"].append(entry)
        print(f"detector: class {r['class']} box {r['box']} D-RISE {s:.4f} box-score {entry['box_score'][0]:.4f}")
    first = references[0]
    fixture["input_gradient"] = save(name, "input-gradient", input_gradient(model, x, drise(first["box"], first["class"])))
    return fixture


def segmenter():
    name = seg.NAME
    model = load(seg.TinySegmenter(), name)
    x = sample_input(name)
    facts = json.load(open(os.path.join(MODELS, name, f"{name}.json")))
    items = np.asarray(Image.open(os.path.join(MODELS, name, "sample.items.png")))
    with torch.no_grad():
        out = model(x)
    assigned = out[0].argmax(0)
    fixture = {"model": name, "input": f"{name}/sample.input.npy", "output": "out", "items": f"{name}/sample.items.png",
               "layers": {}, "cases": []}
    layers = {"deep": (model.deep, onnx_tensor(name, "/deep/deep.1")), "fuse": (model.fuse, onnx_tensor(name, "/fuse/fuse.1"))}
    for key, (module, tensor) in layers.items():
        a = activations_and_output(model, module, x)[1]
        fixture["layers"][key] = {"name": tensor, "shape": list(a.shape[1:])}
    for j, it in enumerate(facts["sample"]["items"]):
        c = it["class"] + 1
        regions = {"predicted": (assigned == c).float(), "mask": torch.from_numpy(items == j + 1).float()}
        x0, y0, x1, y1 = it["box"]
        box = torch.zeros(96, 96)
        box[y0:y1, x0:x1] = 1
        regions["box"] = box
        for region_name, region in regions.items():
            for mode in ("raw", "probability"):
                score = region_score(region, c, mode)
                case = {"class": c, "label": seg.CLASSES[c], "item": j + 1, "box": it["box"], "region": region_name,
                        "mode": mode, "pixels": int(region.sum()), "score": float(score(out)),
                        "maps": {}}
                if region_name == "predicted" or mode == "raw":
                    for key, (module, _) in layers.items():
                        case["maps"][key] = {"scorecam": flat(score_cam(model, module, x, score))}
                        if mode == "raw":                 # gradient methods differentiate the raw score in either mode
                            case["maps"][key]["gradcam"] = flat(grad_cam(model, module, x, score)[0])
                fixture["cases"].append(case)
                print(f"segmenter: {seg.CLASSES[c]} {region_name} {mode}: {case['pixels']} px, S {case['score']:.3f}")
    first = fixture["cases"][0]
    region = (assigned == first["class"]).float()
    fixture["input_gradient"] = save(name, "input-gradient", input_gradient(model, x, region_score(region, first["class"], "raw")))
    return fixture


def vit_tokens(a):
    """[1, T, D] tokens -> [1, D, 8, 8]: class token dropped, patches row by row onto the grid."""
    n, t, d = a.shape
    side = int(round((t - 1) ** 0.5))
    return a[:, 1:].reshape(n, side, side, d).permute(0, 3, 1, 2)


def vision_transformer():
    name = vit.NAME
    model = load(vit.build(), name)
    x = sample_input(name)
    module = model.encoder.layers[-1].ln_1
    with torch.no_grad():
        logits = model(x)
    fixture = {"model": name, "input": f"{name}/sample.input.npy", "output": "logits",
               "layer": {"name": vit.token_layers()[-2], "shape": [vit.CONFIG["hidden_dim"], 8, 8]}, "cases": []}
    for c in logits[0].argsort(descending=True)[:2].tolist():
        gc, _ = grad_cam(model, module, x, lambda o: o[0, c], vit_tokens)
        sc = score_cam(model, module, x, lambda o: torch.softmax(o, 1)[0, c], vit_tokens)
        fixture["cases"].append({"class": c, "logit": float(logits[0, c]),
                                 "probability": float(torch.softmax(logits, 1)[0, c]), "gradcam": flat(gc), "scorecam": flat(sc)})
        print(f"vit: class {c} p {fixture['cases'][-1]['probability']:.3f}")
    fixture["input_gradient"] = save(name, "input-gradient", input_gradient(model, x, lambda o: o[0, fixture["cases"][0]["class"]]))
    return fixture


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(tc.THREADS)
    chosen = sys.argv[1:] or ["detector", "segmenter", "vit"]
    for key, make in (("detector", detector), ("segmenter", segmenter), ("vit", vision_transformer)):
        if key not in chosen:
            continue
        if key == "vit" and not os.path.exists(os.path.join(tc.CACHE, "tiny-vit.pt")):
            sys.exit(f"no trained weights tiny-vit.pt in {tc.CACHE}: run train_tiny_vit.py first")
        fixture = make()
        path = os.path.join(OUT, f"tiny-{key}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(fixture, f, indent=1)
            f.write("\n")
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
