"""Real detector and segmenter architectures from Debian's torchvision, random weights (fixed seed), exported to
ONNX into a git-ignored cache, never committed. (vit_b_16 and swin_t: export_torchvision_transformers.py.)

    nice -n 10 /usr/bin/python3 tools/export/export_architectures.py [--check] [OUT_DIR]   # default tools/.cache/models

Models (torchvision 0.14 builders, weights=None and weights_backbone=None: no download):
  ssdlite320_mobilenet_v3_large  detector with NMS inside: input `images` [1,3,320,320] (0..1, the model
                                 normalizes itself), outputs `boxes` [n,4] (x0,y0,x1,y1 pixels), `scores` [n],
                                 `labels` [n] (int64), n dynamic; opset 11 as torchvision's detection exports
  lraspp_mobilenet_v3_large      segmenter: input `input` [batch,3,224,224], output `out` [batch,21,224,224]
  deeplabv3_mobilenet_v3_large   segmenter: the same layout
Each export writes MODEL.onnx, MODEL.input.npy (a seeded 1x3xHxW input) and MODEL.outputs.npz (PyTorch's outputs
on it); architectures.json records, per model, what exported (sizes, outputs, named layers) or the error that stopped
it. --check verifies the files against tools/export/architectures.sha256 (bytes hold for Debian 12's torch 1.13 /
torchvision 0.14 only).
"""
import json
import os
import subprocess
import sys
import time
import traceback

import numpy as np
import onnx
import torch
import torchvision.models.detection as tvd
import torchvision.models.segmentation as tvs
from onnx_export import sha256  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 4321
CHECKSUMS = os.path.join(HERE, "architectures.sha256")


class OutOnly(torch.nn.Module):
    """torchvision's segmenters return {'out': ..., 'aux': ...}; exporters keep 'out'."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


class SingleImageDetector(torch.nn.Module):
    """torchvision's detectors take a list of images and return a list of dicts; one image in, three tensors out."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        d = self.model(list(x))[0]
        return d["boxes"], d["scores"], d["labels"]


SPECS = {
    "ssdlite320_mobilenet_v3_large": dict(
        build=lambda: SingleImageDetector(tvd.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)),
        size=320, opset=11, input="images", outputs=["boxes", "scores", "labels"], dynamic=False, unit_input=True),
    "lraspp_mobilenet_v3_large": dict(
        build=lambda: OutOnly(tvs.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None)),
        size=224, opset=13, input="input", outputs=["out"], dynamic=True),
    "deeplabv3_mobilenet_v3_large": dict(
        build=lambda: OutOnly(tvs.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, aux_loss=False)),
        size=224, opset=13, input="input", outputs=["out"], dynamic=True),
}


def named_layers(graph, name):
    """The layers an explanation would target, by tensor name (what the library's layer listing should offer)."""
    outs = [o for n in graph.node for o in n.output]
    if name.startswith("ssdlite"):
        pick = [o for o in outs if o.startswith("/model/backbone/features.1/")][-1:]
    else:
        pick = [o for o in outs if o.startswith("/model/backbone/")][-1:]
    return pick


def export(name, spec, out_dir):
    torch.manual_seed(SEED)
    model = spec["build"]().eval()
    g = torch.Generator().manual_seed(SEED)
    x = torch.rand(1, 3, spec["size"], spec["size"], generator=g)
    if not spec.get("unit_input"):
        x = (x - 0.45) / 0.225                              # an ImageNet-normalized-like input
    path = os.path.join(out_dir, f"{name}.onnx")
    axes = {n: {0: "batch"} for n in [spec["input"], *spec["outputs"]]} if spec["dynamic"] else None
    start = time.time()
    torch.onnx.export(model, x, path, input_names=[spec["input"]], output_names=spec["outputs"], dynamic_axes=axes,
                      opset_version=spec["opset"], do_constant_folding=True)
    onnx.checker.check_model(path)
    with torch.no_grad():
        outputs = model(x)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    np.save(os.path.join(out_dir, f"{name}.input.npy"), x.numpy().astype("<f4"))
    np.savez(os.path.join(out_dir, f"{name}.outputs.npz"), **{k: v.numpy() for k, v in zip(spec["outputs"], outputs)})
    graph = onnx.load(path).graph
    ops = sorted({n.op_type for n in graph.node})
    return {"status": "exported", "file": f"{name}.onnx", "bytes": os.path.getsize(path), "opset": spec["opset"],
            "input": {"name": spec["input"], "shape": [1 if not spec["dynamic"] else "batch", 3, spec["size"], spec["size"]]},
            "outputs": {k: list(v.shape) for k, v in zip(spec["outputs"], outputs)}, "dynamic_batch": spec["dynamic"],
            "layers": named_layers(graph, name), "ops": ops, "seconds": round(time.time() - start, 1)}


def main():
    args = [a for a in sys.argv[1:] if a != "--check"]
    out_dir = args[0] if args else os.path.join(HERE, "..", ".cache", "models")
    os.makedirs(out_dir, exist_ok=True)
    if "--check" in sys.argv:
        sys.exit(subprocess.call(["sha256sum", "-c", CHECKSUMS], cwd=out_dir))
    torch.set_num_threads(2)
    report = {"torch": torch.__version__, "seed": SEED, "models": {}}
    for name, spec in SPECS.items():
        try:
            report["models"][name] = export(name, spec, out_dir)
        except Exception as e:                                   # recorded: what failed and why is the result
            report["models"][name] = {"status": "failed", "error": f"{type(e).__name__}: {e}".splitlines()[0][:400],
                                      "trace": traceback.format_exc().splitlines()[-3:]}
        print(name, json.dumps({k: v for k, v in report["models"][name].items() if k != "ops"}), flush=True)
    with open(os.path.join(out_dir, "architectures.json"), "w") as f:
        json.dump(report, f, indent=1)
    exported = [n for n, r in report["models"].items() if r["status"] == "exported"]
    with open(os.path.join(out_dir, "architectures.sha256.new"), "w") as f:
        for n in exported:
            for suffix in (".onnx", ".input.npy"):
                f.write(f"{sha256(os.path.join(out_dir, n + suffix))}  {n}{suffix}\n")
    print("checksums of this run in", os.path.join(out_dir, "architectures.sha256.new"))


if __name__ == "__main__":
    main()
