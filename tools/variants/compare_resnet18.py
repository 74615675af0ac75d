"""Grad-CAM++ of `scorecam explain --variant V` against each variant's formula on torchvision's ResNet-18.

Rebuilds the random-weight resnet18 of tools/export/export_realistic.py (seed 4321; its ONNX file is
tools/.cache/models/torchvision-resnet18.onnx, made by that script, 45 MB, not committed), computes the
top class's 7x7 Grad-CAM++ map of layer4 with make_variant_reference.py's formulas (paper, pytorch-grad-cam,
torch-cam) on x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i), runs the scorecam command on the same tensor for
each variant and prints max |ours - reference| after min-max for every pair (each variant should match its
own formula and no other).

    /usr/bin/python3 tools/variants/compare_resnet18.py MODEL.onnx SCORECAM...
    e.g. /usr/bin/python3 tools/variants/compare_resnet18.py tools/.cache/models/torchvision-resnet18.onnx \
             dotnet run --project src/ScoreCam.Onnx.Cli --
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_variant_reference as ref  # noqa: E402

FORMULAS = {"paper": ref.paper_weights, "pytorch-grad-cam": ref.pytorch_grad_cam_weights,
            "torch-cam": lambda m, A, g: ref.torch_cam_weights(m, A, g).numpy()}


def main(model_path, scorecam):
    torch.manual_seed(4321)
    model = tvm.resnet18(weights=None).eval()
    i = np.arange(3 * 224 * 224, dtype=np.float64)
    x = (2 * np.sin(0.001 * i) + 0.5 * np.cos(0.0173 * i)).astype(np.float32).reshape(1, 3, 224, 224)
    saved = {}

    def keep(_module, _inputs, output):
        output.retain_grad()
        saved["A"] = output

    model.layer4.register_forward_hook(keep)
    logits = model(torch.from_numpy(x))
    c = int(logits[0].argmax())
    logits[0, c].backward()
    A, g = saved["A"].detach().numpy()[0], saved["A"].grad.numpy()[0]
    expected = {v: ref.cam("gradcam++", f("gradcam++", A, g), A, g).ravel() for v, f in FORMULAS.items()}
    mm = lambda a: (np.asarray(a) - np.min(a)) / (np.max(a) - np.min(a))
    with tempfile.TemporaryDirectory() as folder:
        tensor = os.path.join(folder, "x.npy")
        np.save(tensor, x)
        for v in FORMULAS:
            out = os.path.join(folder, f"{v}.json")
            subprocess.run(scorecam + ["explain", "--model", model_path, "--tensor", tensor, "--method", "gradcam++", "--variant", v,
                                       "--json", out, "--quiet"], check=True, stdout=subprocess.DEVNULL)
            ours = json.load(open(out))
            assert ours["target"]["index"] == c, (ours["target"], c)
            print(f"--variant {v:16s} class {c}: " + ", ".join(
                f"{w} {np.abs(mm(ours['map']['values']) - mm(e)).max():.2e}" for w, e in expected.items()))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
