"""This library's Score-CAM against a batched PyTorch Score-CAM of the paper's definition, interleaved on one
machine and input, for torchvision ResNet-18, ResNet-50 and VGG16 with the same (random, seeded) weights.

    tools/export/fetch_realistic.sh                       # the ONNX models, into tools/.cache/models
    dotnet build -c Release src/ScoreCam.Onnx.Cli
    nice -n 10 /usr/bin/python3 tools/bench/peer_scorecam.py [--runs 2] [--models resnet18,resnet50,vgg16] [--channels K] [--json F]

The PyTorch side (Debian's python3-torch; tools only) rebuilds each model as tools/export/export_realistic.py does
(same seed, so the same weights as the ONNX file), preprocesses sample.png to a tensor and writes it as .npy; the
library explains that same tensor (`scorecam explain --tensor`, its own elapsedMs: the explanation, not the process
start or the model preparation). Run by run the two alternate (library, then PyTorch), so load on the machine hits
both alike. The PyTorch Score-CAM (paper section 4): one forward gives the target class c and the layer's
activations A; each channel's map, bilinearly upsampled (align_corners = False) and min-max normalized (eq. 1;
constant maps skipped), multiplies the input (eq. 2); masked inputs go through the model in batches of --batch
under torch.inference_mode; w_k = softmax(F(M_k))[c] (eq. 3-4); L = ReLU(sum_k w_k A_k) (eq. 5).
Prints medians and the ratio library / PyTorch, and the two maps' agreement (max |difference| after /max).
--channels K restricts both sides to the same K channels (the library's --channels: the top K by the activation
map's variance, ties to the lower index; the others weigh 0), for models too slow to explain in full on the machine
at hand: fewer passes of the same kind, not the paper's algorithm.
The PyTorch process runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (some machines here set them to Haswell's
kernel and cache size, which halves OpenBLAS's speed on an AVX-512 CPU): they are removed before numpy and torch load
OpenBLAS, and given back to the library's process only. The core OpenBLAS chose is printed and recorded (OpenBLAS
0.3.21 does not know Zen 5 and falls back to Prescott there; --openblas-core SkylakeX names its AVX-512 kernels for the
PyTorch process instead, as OPENBLAS_CORETYPE would). PyTorch's convolutions run in oneDNN, not OpenBLAS.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Before anything loads OpenBLAS: it reads these once, when it is loaded.
OPENBLAS_OVERRIDES = {k: os.environ.pop(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
if "--openblas-core" in sys.argv[:-1]:
    os.environ["OPENBLAS_CORETYPE"] = sys.argv[sys.argv.index("--openblas-core") + 1]

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models as tvm
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEED = 4321  # tools/export/export_realistic.py
MODELS = {"resnet18": tvm.resnet18, "resnet50": tvm.resnet50, "vgg16": tvm.vgg16}


def target_layer(name, model):
    """The library's default target layer: the last convolutional block's output (ResNet: layer4; VGG16: the ReLU
    after conv5_3, 14x14, before the last max-pool)."""
    return model.layer4 if name.startswith("resnet") else model.features[29]


def preprocess(path):
    image = Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR)
    x = np.asarray(image, dtype=np.float32) / 255.0
    x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


def top_channels(a, keep):
    """The library's channel selection (ScoreCamOptions.MaxChannels): the top `keep` channels by the population
    variance of their activation map, ties to the lower index, in channel order."""
    flat = a.reshape(a.shape[0], -1).double()
    rank = (flat * flat).mean(1) - flat.mean(1) ** 2
    order = sorted(range(a.shape[0]), key=lambda c: (-float(rank[c]), c))[:keep]
    return torch.tensor(sorted(order), dtype=torch.long)


def torch_scorecam(model, layer, x, batch, channels=None):
    store = {}
    handle = layer.register_forward_hook(lambda _m, _i, out: store.__setitem__("a", out))
    with torch.inference_mode():
        logits = model(x)
        handle.remove()
        c = int(logits.argmax(1))
        a = store["a"][0]                                              # K x h x w
        up = F.interpolate(a[None], size=x.shape[2:], mode="bilinear", align_corners=False)[0]
        flat = up.reshape(up.shape[0], -1)
        lo, hi = flat.min(1).values, flat.max(1).values
        keep = torch.nonzero(hi > lo).flatten()                        # constant maps are skipped
        if channels is not None and channels < a.shape[0]:
            chosen = top_channels(a, channels)
            keep = chosen[(hi[chosen] > lo[chosen])]
        weights = torch.zeros(a.shape[0])
        for start in range(0, len(keep), batch):
            k = keep[start:start + batch]
            m = (up[k] - lo[k, None, None]) / (hi[k] - lo[k])[:, None, None]   # eq. 1
            scores = F.softmax(model(m[:, None] * x), dim=1)[:, c]            # eq. 2-4
            weights[k] = scores
        cam = F.relu((weights[:, None, None] * a).sum(0))             # eq. 5
    return cam.numpy(), len(keep) + 1


def library_scorecam(cli, onnx_path, npy, batch, out_json, channels=None):
    cmd = ["dotnet", cli, "explain", "--model", onnx_path, "--tensor", npy, "--batch", str(batch), "--json", out_json]
    if channels is not None:
        cmd += ["--channels", str(channels)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, **OPENBLAS_OVERRIDES})
    with open(out_json) as f:
        result = json.load(f)
    m = result["map"]
    return np.array(m["values"], np.float32).reshape(m["height"], m["width"]), result


def openblas_core():
    """The kernel core OpenBLAS picked in this process (openblas_get_corename), or None when no OpenBLAS is loaded."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "openblas" in line.lower() and line.split()[-1].startswith("/")}
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="resnet18,resnet50,vgg16")
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--channels", type=int, help="both sides: only the top K channels by variance (default: all, the paper)")
    p.add_argument("--threads", type=int, default=2, help="PyTorch threads (ONNX Runtime uses one per physical core)")
    p.add_argument("--image", default=os.path.join(ROOT, "onnx-models", "samples", "chelsea.png"))
    p.add_argument("--models-dir", default=os.path.join(ROOT, "tools", ".cache", "models"))
    p.add_argument("--cli", default=os.path.join(ROOT, "src", "ScoreCam.Onnx.Cli", "bin", "Release", "net10.0", "scorecam.dll"))
    p.add_argument("--json")
    p.add_argument("--openblas-core", help="OPENBLAS_CORETYPE for the PyTorch process (default: unset, OpenBLAS's own choice)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.ones(64, 64) @ torch.ones(64, 64)  # loads the BLAS
    core = openblas_core()
    print(f"PyTorch process: OPENBLAS_CORETYPE {'= ' + args.openblas_core if args.openblas_core else 'unset'}, OPENBLAS_L2_SIZE unset "
          f"(the environment had {OPENBLAS_OVERRIDES or 'neither'}); OpenBLAS core: {core or 'no OpenBLAS loaded'}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        npy = os.path.join(tmp, "input.npy")
        x = preprocess(args.image)
        np.save(npy, x.numpy())
        print("model      passes  library_s  pytorch_s  library/pytorch  map_max_diff  runs", flush=True)
        for name in args.models.split(","):
            torch.manual_seed(SEED)
            model = MODELS[name](weights=None).eval()
            layer = target_layer(name, model)
            onnx_path = os.path.join(args.models_dir, f"torchvision-{name}.onnx")
            lib_times, torch_times = [], []
            for _ in range(args.runs):
                lib_map, result = library_scorecam(args.cli, onnx_path, npy, args.batch, os.path.join(tmp, "r.json"), args.channels)
                lib_times.append(result["elapsedMs"] / 1000)
                start = time.perf_counter()
                torch_map, passes = torch_scorecam(model, layer, x, args.batch, args.channels)
                torch_times.append(time.perf_counter() - start)
            if lib_map.shape != torch_map.shape or result["forwardPasses"] != passes:
                sys.exit(f"{name}: the two do not explain the same thing: library {lib_map.shape}, {result['forwardPasses']} passes; "
                         f"pytorch {torch_map.shape}, {passes} passes")
            diff = float(np.abs(lib_map / max(lib_map.max(), 1e-30) - torch_map / max(torch_map.max(), 1e-30)).max())
            lib_s, torch_s = statistics.median(lib_times), statistics.median(torch_times)
            rows.append({"model": name, "passes": passes, "channels": args.channels, "batch": args.batch, "runs": args.runs,
                         "library_s": lib_times, "pytorch_s": torch_times, "library_median_s": lib_s,
                         "pytorch_median_s": torch_s, "ratio": lib_s / torch_s, "map_max_diff_after_max": diff,
                         "pytorch_openblas_core": core, "openblas_overrides_removed_for_pytorch": OPENBLAS_OVERRIDES})
            print(f"{name:<10} {passes:6d}  {lib_s:9.2f}  {torch_s:9.2f}  {lib_s / torch_s:15.3f}  {diff:12.2e}  {args.runs}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
