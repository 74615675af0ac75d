#!/usr/bin/python3
"""Regenerates docs/robustness.md and its pictures (docs/images/exp-*.png and .svg) from the library's experiments:
`scorecam experiment robustness|stability|convergence` (sections 5.4.1, 5.4.2, 5.5.1) and `scorecam explain --versus`
(5.5.2). This script only runs those commands and puts their Markdown, figures and numbers into the page; every
number is computed by the library. Debian's /usr/bin/python3, standard library only.

    dotnet build -c Release && /usr/bin/python3 tools/experiments/make_experiments.py
"""
import json
import os
import shutil
import subprocess

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DLL = os.path.join(ROOT, "src/ScoreCam.Onnx.Cli/bin/Release/net10.0/scorecam.dll")
WORK = os.path.join(ROOT, "tools/.cache/experiments")
IMAGES = os.path.join(ROOT, "docs/images")
SET = "onnx-models/eval/single"
EARLY = "onnx-models/fashion-clutter/fashion-clutter-early.onnx"
VGG = "onnx-models/coverage/vgg.onnx"
INNER_LAYER = "/layer3/layer3.0/Relu_1_output_0"  # the default model's last block but one: layer3.1 follows it
LIMIT = "20"
STABILITY_EPSILONS = "0,1/255,2/255,4/255,6/255,8/255"

HEADER = f"""# Adversarial robustness, weight stability, counterfactuals and model analysis

The paper's sections 5.4 and 5.5 on the default model (`onnx-models/fashion-clutter`) and the first {LIMIT} images of
`{SET}`, every number and picture made by the library through `scorecam experiment robustness|stability|convergence`
and `scorecam explain --versus`; the commands are listed under each section, and all of them run from

    dotnet build -c Release && /usr/bin/python3 tools/experiments/make_experiments.py

(about 6 minutes on 2 busy cores; the text after the tables is `tools/experiments/commentary.md`).

"""


def scorecam(*args):
    cmd = ["dotnet", DLL, *args]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return "scorecam " + " ".join(a if " " not in a else f"'{a}'" for a in args)


def experiment(kind, name, *args):
    """Runs `scorecam experiment KIND` into WORK/NAME; returns (the command line, its Markdown without the title, its JSON)."""
    out = os.path.join(WORK, name)
    line = scorecam("experiment", kind, "--set", SET, "--limit", LIMIT, "--out-dir", os.path.relpath(out, ROOT), "--quiet", *args)
    with open(os.path.join(out, f"{kind}.md")) as f:
        md = f.read().split("\n", 2)[2].strip()
    with open(os.path.join(out, f"{kind}.json")) as f:
        data = json.load(f)
    # The figure: NAME.svg (with its titles, axes and numbers) is the one the Markdown shows; NAME.png is kept beside it.
    for ext in ("png", "svg"):
        figure = os.path.join(out, f"{kind}.{ext}")
        if os.path.exists(figure):
            shutil.copyfile(figure, os.path.join(IMAGES, f"exp-{name}.{ext}"))
            md = md.replace(f"]({kind}.{ext})", f"](images/exp-{name}.{ext})")
    return line.replace(os.path.relpath(WORK, ROOT), "OUT"), md, data


def main():
    os.makedirs(WORK, exist_ok=True)
    parts = []

    cmd, md, _ = experiment("robustness", "robustness")
    parts.append("## Robustness under FGSM (section 5.4.1)\n\n"
                 "Each image is attacked with FGSM against its true class (ε in picture units, `explain --attack fgsm`'s "
                 "attack) and the true class is explained on the adversarial picture. *still correct*: share of images the "
                 "model still gets right; *peak shift*: distance in input pixels between the heatmap's maximum and the clean "
                 "heatmap's maximum; *EPG*: energy-based pointing game on the true box. Means over the images.\n\n"
                 f"    {cmd}\n\n{md}\n\nThe figure, per image (rows: the first two): the clean picture, the picture at "
                 "ε = 8/255, then for Grad-CAM, Grad-CAM++ and Score-CAM the clean overlay and the overlay at ε = 8/255.\n")

    parts.append("## Weight stability (section 5.4.2)\n\n"
                 "The channel weights of the true class on the adversarial input against the clean ones, three ways: the "
                 "default model at its default target layer (global average pooling and one linear layer follow it), the "
                 "same model one residual block earlier (`--layer`), and a VGG whose three fully connected layers follow "
                 "the target layer (`onnx-models/coverage/vgg.onnx`; random weights, so its classes mean nothing, but its "
                 "gradients flow through a head like the paper's VGG16).\n")
    for name, title, extra in (("stability", "Default model, default layer", ()),
                               ("stability-inner", f"Default model, layer `{INNER_LAYER}`", ("--layer", INNER_LAYER)),
                               ("stability-vgg", "VGG with a fully connected head (random weights)", ("--model", VGG))):
        cmd, md, _ = experiment("stability", name, "--epsilons", STABILITY_EPSILONS, *extra)
        parts.append(f"### {title}\n\n    {cmd}\n\n{md}\n")

    cmd, md, data = experiment("convergence", "convergence", "--early", EARLY)
    parts.append("## Model analysis: an early checkpoint against the final model (section 5.5.1)\n\n"
                 "The early checkpoint stopped after 150 of 3510 training steps (28% test accuracy; the final model 88.6%). "
                 "Both explain the true class of the same images with Score-CAM.\n\n"
                 f"    {cmd}\n\n{md}\n\nThe figure, per image (rows: the first two): the picture, the early checkpoint's "
                 "overlay, the final model's.\n")

    # The other half of section 5.5.1: evaluate draws, for each misclassified image, both classes' maps.
    out = os.path.join(WORK, "evaluate")
    cmd = scorecam("evaluate", "--set", SET, "--limit", LIMIT, "--method", "scorecam", "--metrics", "energy_pointing_game",
                   "--out-dir", os.path.relpath(out, ROOT), "--fresh", "--quiet").replace(os.path.relpath(WORK, ROOT), "OUT")
    with open(os.path.join(out, "misclassified.json")) as f:
        wrong = json.load(f)
    with open(os.path.join(ROOT, SET, "annotations.json")) as f:
        labels = {i["class"]: i["label"] for image in json.load(f)["images"] for i in image["items"]}
    lines = [f"### Misclassified images\n\n    {cmd}\n\nwrites `misclassified/NAME-CLASS.png` for each of the "
             f"{len(wrong)} misclassified images among the {LIMIT}: the picture, Score-CAM of the predicted class, Score-CAM "
             "of the true class (the paper's Fig. 13).\n"]
    for w in wrong[:2]:
        target = f"exp-misclassified-{os.path.basename(w['picture'])}"
        shutil.copyfile(os.path.join(out, w["picture"]), os.path.join(IMAGES, target))
        lines.append(f"`{w['image']}`: true {labels[w['class']]}, predicted {labels.get(w['predicted'], w['predicted'])}.\n\n"
                     f"![picture, predicted class, true class](images/{target})\n")
    parts.append("\n".join(lines))

    parts.append("## Counterfactual explanation (section 5.5.2, eq. 7)\n")
    for file in ("0001.png", "0002.png"):
        stem = file[:-4]
        picture = os.path.join(SET, file)
        shots = {}
        for tag, args in (("versus", ("--versus",)), ("target", ()), ("reference", None)):
            if args is None:
                args = ("--target", str(shots["versus"][1]["counterfactual"]["reference"]["index"]))
            png, js = os.path.join(IMAGES, f"exp-counterfactual-{stem}-{tag}.png"), os.path.join(WORK, f"{stem}-{tag}.json")
            line = scorecam("explain", "--quiet", "--image", picture, "--out", os.path.relpath(png, ROOT), "--json", os.path.relpath(js, ROOT), *args)
            with open(js) as f:
                shots[tag] = (line.replace(os.path.relpath(WORK, ROOT), "OUT"), json.load(f))
        line, r = shots["versus"]
        c = r["counterfactual"]
        parts.append(f"`{file}`: target {r['target']['label']} versus {c['reference']['label']}: p = {c['input']['target']:.3f} / "
                     f"{c['input']['reference']:.3f} on the input, {c['masked']['target']:.3f} / {c['masked']['reference']:.3f} on "
                     f"the input masked by 1 − L_CE.\n\n    {line}\n\n"
                     f"![L^target](images/exp-counterfactual-{stem}-target.png) "
                     f"![L^reference](images/exp-counterfactual-{stem}-reference.png) "
                     f"![L_CE](images/exp-counterfactual-{stem}-versus.png)\n\n"
                     f"Score-CAM of {r['target']['label']}, of {c['reference']['label']}, and L_CE = ReLU(L^target − L^reference).\n")

    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "commentary.md")) as f:
        commentary = f.read()
    text = HEADER + "\n".join(parts) + "\n" + commentary
    tmp = os.path.join(ROOT, "docs", "robustness.md.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(ROOT, "docs", "robustness.md"))
    print(text)


if __name__ == "__main__":
    main()
