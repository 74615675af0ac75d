#!/usr/bin/python3
"""The catalogue's CAM methods on a real torchvision export (too large to commit: tools/export/export_realistic.py
writes it into tools/.cache/models) against make_method_reference.py's PyTorch references, on the sine input
x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i) for its top class and runner-up, at the layer the library picks.
Each map is explained by the `scorecam` CLI (--tensor, --target, the reference's options), min-max normalized as
the reference stores it, and compared; prints the largest |difference| per map and fails above 1e-3.

    dotnet build src/ScoreCam.Onnx.Cli -c Release
    /usr/bin/python3 tools/methods/compare_torchvision.py [--model tools/.cache/models/torchvision-resnet18.onnx]

The reference (float64, every masked pass of SS-CAM and IS-CAM through the whole network: about 7000 ResNet-18
passes per class for all maps) takes the longest; its maps are kept in WORK and reused unless --fresh, and --keys
compares (and computes) some of them.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from make_method_reference import STRIDE, min_max, sine_input  # noqa: E402

# Reference map -> the CLI's method and flags (the reference's sample counts, sigma and seed).
RUNS = {
    "hirescam": ["hirescam"],
    "eigencam/paper": ["eigencam"],
    "eigencam/pytorch-grad-cam": ["eigencam", "--variant", "pytorch-grad-cam"],
    "eigengradcam": ["eigengradcam"],
    "sscam/masks": ["sscam", "--sscam-noise", "masks"],
    "sscam/input": ["sscam", "--sscam-noise", "input"],
    "sscam/torch-cam": ["sscam", "--variant", "torch-cam"],
    "iscam/paper": ["iscam"],
    "iscam/torch-cam": ["iscam", "--variant", "torch-cam"],
    "gradcam/eigen-smooth": ["gradcam", "--eigen-smooth"],
    "layercam/eigen-smooth": ["layercam", "--eigen-smooth"],
    "gradcam/aug-smooth": ["gradcam", "--aug-smooth"],
    "groupcam": ["groupcam"],
    "ablationcam": ["ablationcam"],
    "reciprocam": ["reciprocam"],
    "reciprocam/gaussian": ["reciprocam", "--reciprocam-spread", "gaussian"],
}
AT_INPUT = ("groupcam", "gradcam/aug-smooth")


def cli(dll, *args):
    result = subprocess.run(["dotnet", dll, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"scorecam {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def explain(dll, model, tensor, target, flags, json_path):
    cli(dll, "explain", "--model", model, "--tensor", tensor, "--target", str(target), "--method", flags[0], *flags[1:],
        "--json", json_path, "--quiet")
    with open(json_path) as f:
        return json.load(f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(ROOT, "tools", ".cache", "models", "torchvision-resnet18.onnx"))
    p.add_argument("--dll", default=os.path.join(ROOT, "src", "ScoreCam.Onnx.Cli", "bin", "Release", "net10.0", "scorecam.dll"))
    p.add_argument("--work", help="default tools/.cache/methods/<model name>")
    p.add_argument("--fresh", action="store_true", help="recompute the reference")
    p.add_argument("--keys", help="comma-separated maps to compare (default: all; the reference computes those it lacks)")
    p.add_argument("--classes", type=int, default=2, choices=(1, 2), help="for the maps the reference computes: the top class, or it and the runner-up")
    p.add_argument("--sscam-samples", type=int, default=2, help="for the maps the reference computes: SS-CAM's N")
    p.add_argument("--iscam-samples", type=int, default=4, help="for the maps the reference computes: IS-CAM's N")
    a = p.parse_args()
    name = os.path.splitext(os.path.basename(a.model))[0]
    work = a.work or os.path.join(ROOT, "tools", ".cache", "methods", name)
    os.makedirs(work, exist_ok=True)
    tensor = os.path.join(work, "sine.npy")
    np.save(tensor, sine_input())

    # The layer the library picks, from a cheap explanation.
    layer = explain(a.dll, a.model, tensor, 0, ["gradcam"], os.path.join(work, "layer.json"))["layer"]["name"]
    fixture = os.path.join(work, f"methods.{name}.json")
    if a.fresh and os.path.exists(fixture):
        os.remove(fixture)
    keys = a.keys.split(",") if a.keys else list(RUNS)
    with_reference = json.load(open(fixture))["maps"] if os.path.exists(fixture) else {}
    missing = [k for k in keys if not any(k in m for m in with_reference.values())]
    if missing:
        subprocess.run([sys.executable, os.path.join(HERE, "make_method_reference.py"), "--model", a.model, "--layer", layer,
                        "--name", name, "--out", work, "--keys", ",".join(missing), "--classes", str(a.classes),
                        "--sscam-samples", str(a.sscam_samples), "--iscam-samples", str(a.iscam_samples)], check=True)
    with open(fixture) as f:
        reference = json.load(f)
    if reference["layer"] != layer:
        sys.exit(f"the reference was made at {reference['layer']}; the library picks {layer}: rerun with --fresh")
    samples = reference["samples"]
    common = ["--sscam-samples", str(samples["sscam"]), "--sscam-sigma", str(samples["sscam_sigma"]), "--seed", "0",
              "--iscam-samples", str(samples["iscam"])]

    worst_all = 0.0
    print(f"{name}, layer {layer}, SS-CAM N = {samples['sscam']}, IS-CAM N = {samples['iscam']}: max |ours - reference| after min-max")
    for key in keys:
        flags, worst = RUNS[key], 0.0
        for c, maps in reference["maps"].items():
            if key not in maps:
                continue
            e = explain(a.dll, a.model, tensor, c, flags + common, os.path.join(work, f"{key.replace('/', '-')}-{c}.json"))
            m = e["map"]
            ours = min_max(np.array(m["values"], dtype=np.float64).reshape(m["height"], m["width"]))
            if key in AT_INPUT:
                ours = ours[::STRIDE, ::STRIDE]
            expected = np.array(maps[key])
            if ours.size != expected.size:
                sys.exit(f"{key}: {ours.size} values, the reference has {expected.size}")
            worst = max(worst, float(np.abs(ours.ravel() - expected).max()))
        worst_all = max(worst_all, worst)
        print(f"  {key:28s} {worst:.2e}  (classes {', '.join(c for c, m in reference['maps'].items() if key in m)})", flush=True)
    print(f"largest: {worst_all:.2e} ({'within' if worst_all <= 1e-3 else 'OVER'} 1e-3)")
    sys.exit(0 if worst_all <= 1e-3 else 1)


if __name__ == "__main__":
    main()
