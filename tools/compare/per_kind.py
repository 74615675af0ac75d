#!/usr/bin/python3
"""Each kind of model the library explains, explained by the `scorecam` CLI with Score-CAM, Grad-CAM and RISE and
recomputed by an independent PyTorch reference written from the papers' definitions; prints one table row per model
and method: the largest |ours - reference| after each map is divided by its maximum, and the CLI's wall seconds.

    dotnet publish src/ScoreCam.Onnx.Cli -c Release -o /tmp/scorecam-cli
    nice -n 10 /usr/bin/python3 tools/compare/per_kind.py --cli /tmp/scorecam-cli/scorecam [--only NAME,...] [--json OUT]

Models (the shipped tiny models, and torchvision's architectures with random weights exported into the git-ignored
tools/.cache/models, exported here when missing and checked against their recorded sha256):
  tiny-detector   raw YOLO (ultralytics v8 [1, 4 + C, N]); torch module rebuilt from the ONNX file's initializers
                  (tiny_common.load_from_onnx); target: the sample's first item's box and class (--box, --target),
                  D-RISE's similarity; layer: the stride-8 features (stage2)
  tiny-segmenter  segmenter [1, 11, 96, 96], rebuilt the same way; target: the class with the most predicted pixels
                  (background excepted) summed over those pixels; layer: the 12x12 features (deep)
  tiny-vit        ViT classifier (its trained weights, tools/.cache/tiny/tiny-vit.pt); top class; the last block's
                  ln_1 tokens, class token dropped, on the 8x8 patch grid
  lraspp          torchvision lraspp_mobilenet_v3_large (export_architectures.py); segmentation target as above;
                  layer: the backbone's last block (960 channels, 14x14)
  vit_b_16        torchvision vit_b_16 (export_torchvision_transformers.py); top class; encoder_layer_11's ln_1 tokens
  swin_t          torchvision swin_t; top class; the last block's norm1, channels-last [1, 7, 7, 768]
Settings: the tiny models with every channel and 1000 RISE masks; the torchvision models with Score-CAM on the 32
channels of largest spatial variance (--channels 32, the others weigh 0) and 64 RISE masks (lraspp: 256).

References (not the library's code):
- Score-CAM (Wang et al. eq. 1-5): for each channel k (of the chosen ones) whose upsampled map is not constant,
  up_k = bilinear(A_k, input size, align_corners=False), m_k = (up_k - min) / (max - min), w_k = S(F(x * m_k));
  map = ReLU(sum_k w_k A_k) at the layer's h x w.
- Grad-CAM (Selvaraju et al. eq. 1-2): g = dS/dA by autograd at the hooked layer (its other paths held: what a
  hook gives), w_k = mean over h x w of g_k, map = ReLU(sum_k w_k A_k).
- RISE (Petsiuk et al. 2018, eq. 5-6): saliency = sum_i S(F(x * M_i)) M_i / (N p), with the library's masks: s x s
  = 8 x 8 binary grids (cell kept with p = 0.5), bilinearly upsampled (align_corners=False) to (s + 1) C with
  C = ceil(H / s), shifted by (dy, dx) in [0, C) and cropped to H x W, all drawn from .NET's System.Random(seed)
  (its seeded algorithm, Knuth's subtractive generator, re-implemented in DotNetRandom below): per mask s*s
  NextDouble() row-major (kept when < p), then Next(C) for dy, then Next(C) for dx.
Scores S: a class's softmax probability (Score-CAM, RISE) or logit (Grad-CAM); a segmentation region's per-pixel
softmax probabilities (Score-CAM, RISE) or logits (Grad-CAM) summed over the region fixed on the unmasked output; the
detection's D-RISE similarity max_j IoU(box, box_j) * P_j[c] / |P_j| (every method).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
EXPORT = os.path.join(ROOT, "tools", "export")
sys.path.insert(0, EXPORT)
import tiny_common as tc  # noqa: E402
from onnx_export import sha256  # noqa: E402

CACHE = os.path.join(ROOT, "tools", ".cache", "models")
MODELS = os.path.join(ROOT, "onnx-models")
METHODS = ("scorecam", "gradcam", "rise")
RISE_GRID, RISE_KEEP, RISE_SEED = 8, 0.5, 0
BATCH = 16


class DotNetRandom:
    """System.Random(seed) of .NET (the seeded, Knuth subtractive generator): NextDouble and Next(max)."""
    MBIG, MSEED = 2147483647, 161803398

    def __init__(self, seed):
        s = [0] * 56
        mj = self.MSEED - (self.MBIG if seed == -2 ** 31 else abs(seed))
        s[55] = mj
        mk, ii = 1, 0
        for _ in range(1, 55):
            ii = (ii + 21) % 55
            s[ii] = mk
            mk = mj - mk
            if mk < 0:
                mk += self.MBIG
            mj = s[ii]
        for _ in range(1, 5):
            for i in range(1, 56):
                s[i] -= s[1 + (i + 30) % 55]
                if s[i] < 0:
                    s[i] += self.MBIG
        self.s, self.inext, self.inextp = s, 0, 21

    def _sample(self):
        self.inext = 1 if self.inext + 1 >= 56 else self.inext + 1
        self.inextp = 1 if self.inextp + 1 >= 56 else self.inextp + 1
        v = self.s[self.inext] - self.s[self.inextp]
        if v == self.MBIG:
            v -= 1
        if v < 0:
            v += self.MBIG
        self.s[self.inext] = v
        return v * (1.0 / self.MBIG)

    def next_double(self):
        return self._sample()

    def next(self, max_value):
        return int(self._sample() * max_value)


def rise_masks(count, height, width, seed=RISE_SEED, s=RISE_GRID, p=RISE_KEEP):
    """The library's RISE masks [count, H, W], drawn as its mask generator draws them."""
    rng = DotNetRandom(seed)
    ch, cw = -(-height // s), -(-width // s)
    masks = torch.empty(count, height, width)
    for i in range(count):
        grid = torch.tensor([1.0 if rng.next_double() < p else 0.0 for _ in range(s * s)]).reshape(1, 1, s, s)
        dy, dx = rng.next(ch), rng.next(cw)
        up = F.interpolate(grid, size=((s + 1) * ch, (s + 1) * cw), mode="bilinear", align_corners=False)[0, 0]
        masks[i] = up[dy:dy + height, dx:dx + width]
    return masks


# ---- layouts of the hooked layer -> maps [K, h, w]

def conv_maps(a):
    return a[0]


def token_maps(a, prefix=1):
    t = a[0, prefix:]
    side = int(round(t.shape[0] ** 0.5))
    return t.reshape(side, side, t.shape[1]).permute(2, 0, 1)


def channels_last_maps(a):
    return a[0].permute(2, 0, 1)


# ---- targets: batched scores of the model's outputs, for Score-CAM / RISE ("probability") and Grad-CAM ("raw")

def class_target(c):
    return {"probability": lambda out: torch.softmax(out, 1)[:, c], "raw": lambda out: out[:, c]}


def region_target(region, c):
    region = region.float()
    return {"probability": lambda out: (torch.softmax(out, 1)[:, c] * region).sum((1, 2)),
            "raw": lambda out: (out[:, c] * region).sum((1, 2))}


def corners(cxcywh):
    return torch.cat([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2], 1)


def iou(box, boxes):
    w = (torch.minimum(box[2], boxes[:, 2]) - torch.maximum(box[0], boxes[:, 0])).clamp(min=0)
    h = (torch.minimum(box[3], boxes[:, 3]) - torch.maximum(box[1], boxes[:, 1])).clamp(min=0)
    area = lambda b: (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)
    inter = w * h
    return inter / (area(box) + area(boxes) - inter)


def drise_target(box, c):
    """D-RISE (Petsiuk et al. 2021, eq. 2-3) on ultralytics v8 raw outputs [B, 4 + C, N], no objectness."""
    def score(out):
        values = []
        for o in out:
            o = o.T
            p = o[:, 4:]
            values.append((iou(box, corners(o[:, :4])) * p[:, c] / p.norm(dim=1)).max())
        return torch.stack(values)
    return {"probability": score, "raw": score}


# ---- the three references

def hooked(model, module, x):
    seen = []
    handle = module.register_forward_hook(lambda m, i, o: seen.append(o))
    try:
        out = model(x)
    finally:
        handle.remove()
    return seen[-1], out


def batched(model, inputs, score):
    with torch.no_grad():
        return torch.cat([score(model(inputs[i:i + BATCH])) for i in range(0, len(inputs), BATCH)])


def score_cam(model, module, to_maps, x, score, channels=None):
    with torch.no_grad():
        a = to_maps(hooked(model, module, x)[0]).double()
    chosen = range(a.shape[0]) if channels is None else \
        sorted(int(k) for k in a.var(dim=(1, 2), unbiased=False).argsort(descending=True)[:channels])
    kept, masks = [], []
    for k in chosen:
        up = F.interpolate(a[k][None, None].float(), size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
        lo, hi = up.min(), up.max()
        if hi == lo:
            continue                                            # a constant map masks nothing: weight 0
        kept.append(k)
        masks.append((up - lo) / (hi - lo))                    # eq. 1
    w = torch.zeros(a.shape[0], dtype=torch.float64)
    if kept:
        w[kept] = batched(model, x * torch.stack(masks)[:, None], score).double()   # eq. 2-4
    return torch.relu((w[:, None, None] * a).sum(0))          # eq. 5


def grad_cam(model, module, to_maps, x, score):
    raw, out = hooked(model, module, x)
    g = to_maps(torch.autograd.grad(score(out)[0], raw)[0]).double()
    a = to_maps(raw).detach().double()
    return torch.relu((g.mean((1, 2))[:, None, None] * a).sum(0))


def rise(model, x, score, count):
    masks = rise_masks(count, x.shape[-2], x.shape[-1])
    s = batched(model, x * masks[:, None], score).double()
    return (s[:, None, None] * masks.double()).sum(0) / (count * RISE_KEEP)


# ---- the models

def onnx_tensor(path, scope):
    """The output of the last node under a module scope (the hooked module's tensor in the exported graph)."""
    nodes = [n for n in onnx.load(path, load_external_data=False).graph.node if n.name.startswith(scope)]
    if not nodes:
        raise SystemExit(f"no node under {scope} in {path}")
    return nodes[-1].output[0]


def check_sum(path, sums_file):
    recorded = dict(reversed(line.split()) for line in open(os.path.join(EXPORT, sums_file)) if line.strip())
    digest = sha256(path)
    if recorded.get(os.path.basename(path)) != digest:
        raise SystemExit(f"{path}: sha256 {digest} is not the one in tools/export/{sums_file}; re-export it")


def check_outputs(model, x, expected, scale_of=lambda e: max(1.0, float(np.abs(e).max())), view=lambda y: y):
    with torch.no_grad():
        y = view(model(x)).numpy()
    diff = float(np.abs(y.ravel() - expected.ravel()).max())
    if diff > 1e-4 * scale_of(expected):
        raise SystemExit(f"the torch model does not reproduce the exported outputs (largest difference {diff})")


def tiny_detector():
    import train_tiny_detector as det
    path = os.path.join(MODELS, "tiny-detector", "tiny-detector.onnx")
    model = tc.load_from_onnx(det.TinyYolo(), path)
    x = torch.from_numpy(np.load(os.path.join(MODELS, "tiny-detector", "sample.input.npy")))
    check_outputs(model, x, np.load(os.path.join(MODELS, "tiny-detector", "sample.output0.npy")))
    # the sample's first item as the reference detection (box and class): the model's own detection would put the
    # reference box on its proposal's, where IoU = 1 is a kink and Grad-CAM's derivative a choice of subgradient
    facts = json.load(open(os.path.join(MODELS, "tiny-detector", "tiny-detector.json")))
    item = facts["sample"]["items"][0]
    box, c = torch.tensor(item["box"], dtype=torch.float32), item["class"]
    return dict(name="tiny-detector", kind="raw YOLO (v8) detector", path=path, x=x, model=model, module=model.stage2,
                to_maps=conv_maps, layer=onnx_tensor(path, "/stage2/stage2.1/"), target=drise_target(box, c),
                flags=["--box", ",".join(str(v) for v in item["box"]), "--target", str(c)],
                expect=f"{det.fc.CLASSES[c]} at ", channels=None, masks=1000)


def segmenter_case(name, kind, path, x, model, module, scope, labels, channels, masks):
    with torch.no_grad():
        assigned = model(x)[0].argmax(0)
    counts = torch.bincount(assigned.flatten(), minlength=len(labels))
    counts[0] = -1                                             # background excepted
    c = int(counts.argmax())
    return dict(name=name, kind=kind, path=path, x=x, model=model, module=module, to_maps=conv_maps,
                layer=onnx_tensor(path, scope), target=region_target(assigned == c, c), flags=["--region", "predicted", "--output", "out"],
                expect=f"{labels[c]} over ", channels=channels, masks=masks)


def tiny_segmenter():
    import train_tiny_segmenter as seg
    folder = os.path.join(MODELS, "tiny-segmenter")
    path = os.path.join(folder, "tiny-segmenter.onnx")
    model = tc.load_from_onnx(seg.TinySegmenter(), path)
    x = torch.from_numpy(np.load(os.path.join(folder, "sample.input.npy")))
    check_outputs(model, x, np.load(os.path.join(folder, "sample.out-every4th.npy")), view=lambda y: y[:, :, ::4, ::4])
    return segmenter_case("tiny-segmenter", "segmenter", path, x, model, model.deep, "/deep/deep.1/", seg.CLASSES, None, 1000)


def tiny_vit():
    import train_tiny_vit as vit
    folder = os.path.join(MODELS, "tiny-vit")
    path = os.path.join(folder, "tiny-vit.onnx")
    model = vit.build()
    model.load_state_dict(torch.load(os.path.join(tc.CACHE, "tiny-vit.pt")))
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(folder, "sample.input.npy")))
    check_outputs(model, x, np.load(os.path.join(folder, "sample.logits.npy")))
    with torch.no_grad():
        c = int(model(x)[0].argmax())
    return dict(name="tiny-vit", kind="ViT classifier", path=path, x=x, model=model, module=model.encoder.layers[-1].ln_1,
                to_maps=token_maps, layer=vit.token_layers()[-2], target=class_target(c), flags=[],
                expect=vit.fc.CLASSES[c], channels=None, masks=1000)


def lraspp():
    import export_architectures as ea
    name = "lraspp_mobilenet_v3_large"
    spec = ea.SPECS[name]
    path = os.path.join(CACHE, f"{name}.onnx")
    if not os.path.exists(path):
        ea.export(name, spec, CACHE)
    check_sum(path, "architectures.sha256")
    torch.manual_seed(ea.SEED)
    model = spec["build"]().eval()
    x = torch.from_numpy(np.load(os.path.join(CACHE, f"{name}.input.npy")))
    backbone = model.model.backbone
    last = list(backbone.named_children())[-1][0]
    return segmenter_case("lraspp", "segmenter (torchvision)", path, x, model, getattr(backbone, last),
                          f"/model/backbone/backbone.{last}/", [f"class {i}" for i in range(21)], 32, 256)


def torchvision_transformer(name):
    import export_tiny_transformers as ett
    import torchvision.models as tvm
    make, scope, module_of, to_maps = {
        "vit_b_16": (lambda: tvm.vit_b_16(weights=None), "/encoder/layers/encoder_layer_11/ln_1/",
                     lambda m: m.encoder.layers[-1].ln_1, token_maps),
        "swin_t": (lambda: tvm.swin_t(weights=None), "/features/features.7/features.7.1/norm1/",
                   lambda m: m.features[-1][-1].norm1, channels_last_maps)}[name]
    torch.manual_seed(4321)                                    # export_torchvision_transformers.py's model
    model = ett.randomize(make(), 1000).eval()
    x = torch.from_numpy(ett.sine_input(224))
    path = os.path.join(CACHE, f"torchvision-{name}.onnx")
    if not os.path.exists(path):
        os.makedirs(CACHE, exist_ok=True)
        torch.onnx.export(model, x, path, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                          do_constant_folding=True)
    check_sum(path, "transformers.sha256")
    with torch.no_grad():
        c = int(model(x)[0].argmax())
    return dict(name=name, kind="ViT (torchvision)" if name == "vit_b_16" else "Swin (torchvision)", path=path, x=x,
                model=model, module=module_of(model), to_maps=to_maps, layer=onnx_tensor(path, scope),
                target=class_target(c), flags=["--target", str(c)], expect=None, channels=32, masks=64)


CASES = {"tiny-detector": tiny_detector, "tiny-segmenter": tiny_segmenter, "tiny-vit": tiny_vit, "lraspp": lraspp,
         "vit_b_16": lambda: torchvision_transformer("vit_b_16"), "swin_t": lambda: torchvision_transformer("swin_t")}


# ---- running the CLI and comparing

def run_cli(cli, case, method, work):
    tensor = os.path.join(work, f"{case['name']}.input.npy")
    np.save(tensor, case["x"].numpy().astype("<f4"))
    out = os.path.join(work, f"{case['name']}-{method}.json")
    args = [cli, "explain", "--model", case["path"], "--tensor", tensor, "--layer", case["layer"], "--method", method,
            "--json", out, "--quiet", *case["flags"]]
    if method == "scorecam" and case["channels"]:
        args += ["--channels", str(case["channels"])]
    if method == "rise":
        args += ["--rise-masks", str(case["masks"]), "--seed", str(RISE_SEED)]
    start = time.time()
    done = subprocess.run(args, cwd=work, capture_output=True, text=True)
    seconds = time.time() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    document = json.load(open(out))
    explanation = document["explanations"][0] if "explanations" in document else document
    label = explanation["target"]["label"]
    if case["expect"] is not None and not label.startswith(case["expect"]):
        raise SystemExit(f"{case['name']} {method}: the CLI explained '{label}', the reference '{case['expect']}...'")
    m = explanation["map"]
    return torch.tensor(m["values"], dtype=torch.float64).reshape(m["height"], m["width"]), seconds, args[1:]


def over_max(t):
    top = float(t.max())
    return t / top if top != 0 else t


def settings(case, method):
    if method == "scorecam":
        return f"{case['channels']} channels by variance" if case["channels"] else "every channel"
    if method == "rise":
        return f"{case['masks']} masks, s={RISE_GRID}, p={RISE_KEEP}, seed {RISE_SEED}"
    return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default="scorecam", help="the scorecam executable (dotnet publish of src/ScoreCam.Onnx.Cli)")
    parser.add_argument("--only", help=f"comma-separated: {', '.join(CASES)}")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(tc.THREADS)
    names = args.only.split(",") if args.only else list(CASES)
    rows = []
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)", flush=True)
    print("| model | kind | layer | method | settings | max abs(ours - ref) after /max | CLI seconds |")
    print("|---|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="per-kind-") as work:
        for name in names:
            case = CASES[name]()
            for method in METHODS:
                ours, seconds, command = run_cli(args.cli, case, method, work)
                model, module, to_maps, x = case["model"], case["module"], case["to_maps"], case["x"]
                if method == "scorecam":
                    ref = score_cam(model, module, to_maps, x, case["target"]["probability"], case["channels"])
                elif method == "gradcam":
                    ref = grad_cam(model, module, to_maps, x, case["target"]["raw"])
                else:
                    ref = rise(model, x, case["target"]["probability"], case["masks"])
                if ours.shape != ref.shape:
                    raise SystemExit(f"{name} {method}: map {tuple(ours.shape)} against the reference's {tuple(ref.shape)}")
                diff = float((over_max(ours) - over_max(ref.detach())).abs().max())
                row = dict(model=name, kind=case["kind"], layer=case["layer"], method=method, settings=settings(case, method),
                           max_difference=diff, seconds=round(seconds, 1), command=" ".join(command))
                rows.append(row)
                print(f"| {name} | {case['kind']} | `{case['layer']}` | {method} | {row['settings']} | {diff:.1e} | "
                      f"{seconds:.1f} |", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    worst = max(r["max_difference"] for r in rows)
    sys.exit(0 if worst <= 1e-3 else f"largest difference {worst:.1e} exceeds 1e-3")


if __name__ == "__main__":
    main()
