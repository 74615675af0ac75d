#!/usr/bin/python3
"""Regenerates docs/robustness.md and its pictures (docs/images/exp-*.png): FGSM robustness (section 5.4.1),
weight stability (5.4.2), a counterfactual explanation (5.5.2) and the convergence check (5.5.1), all through
`scorecam explain` (--attack fgsm --epsilon, --versus, --model). Debian's /usr/bin/python3 (numpy, PIL, matplotlib).

    dotnet build -c Release && /usr/bin/python3 tools/experiments/make_experiments.py
"""
import json
import os
import subprocess

import numpy as np
from PIL import Image

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DLL = os.path.join(ROOT, "src/ScoreCam.Onnx.Cli/bin/Release/net10.0/scorecam.dll")
WORK = os.path.join(ROOT, "tools/.cache/experiments")
IMAGES = os.path.join(ROOT, "docs/images")
SET = os.path.join(ROOT, "onnx-models/eval/single")
FINAL = os.path.join(ROOT, "onnx-models/fashion-clutter/fashion-clutter.onnx")
EARLY = os.path.join(ROOT, "onnx-models/fashion-clutter/fashion-clutter-early.onnx")
FILES = ["0001.png", "0002.png", "0003.png", "0004.png"]
EPSILONS = ["0", "2/255", "4/255", "8/255"]
METHODS = ["gradcam", "gradcam++", "scorecam"]


HEADER = """# Adversarial robustness, weight stability, counterfactuals and model analysis

The paper's sections 5.4 and 5.5 on the default model (`onnx-models/fashion-clutter`) and `onnx-models/eval/single`,
every number and picture made by `scorecam explain` (`--attack fgsm --epsilon E`, `--versus`, `--model`) from

    dotnet build -c Release && /usr/bin/python3 tools/experiments/make_experiments.py

(about 5 minutes on 2 busy cores; the text after the tables is `tools/experiments/commentary.md`).

"""


def explain(name, *args):
    out = os.path.join(WORK, name)
    cmd = ["dotnet", DLL, "explain", "--quiet", "--out", out + ".png", "--json", out + ".json", *args]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out + ".json") as f:
        return json.load(f), out + ".png"


def upsample(values, h, w, out_h, out_w):
    """Bilinear, align_corners=False (PyTorch's default; the library's display heatmap), then min-max."""
    m = np.asarray(values, np.float64).reshape(h, w)
    def axis(n_in, n_out):
        s = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0)
        i0 = np.floor(s).astype(int)
        return i0, np.minimum(i0 + 1, n_in - 1), s - i0
    y0, y1, ly = axis(h, out_h)
    x0, x1, lx = axis(w, out_w)
    top = m[y0][:, x0] * (1 - lx) + m[y0][:, x1] * lx
    bottom = m[y1][:, x0] * (1 - lx) + m[y1][:, x1] * lx
    up = top * (1 - ly)[:, None] + bottom * ly[:, None]
    lo, hi = up.min(), up.max()
    return (up - lo) / (hi - lo) if hi > lo else np.zeros_like(up)


def heat(result):
    m = result["map"]
    return upsample(m["values"], m["height"], m["width"], result["heatmap"]["height"], result["heatmap"]["width"])


def energy(h, box):
    x0, y0, x1, y1 = box
    return float(h[y0:y1, x0:x1].sum() / h.sum()) if h.sum() > 0 else 0.0


def outside_mean(h, box):
    x0, y0, x1, y1 = box
    mask = np.ones_like(h, bool)
    mask[y0:y1, x0:x1] = False
    return float(h[mask].mean())


def peak(h):
    y, x = np.unravel_index(np.argmax(h), h.shape)
    return np.array([x, y], float)


def strip(paths, labels, out, scale=2):
    tiles = [Image.open(p).convert("RGB") for p in paths]
    w, h = tiles[0].size
    sheet = Image.new("RGB", (len(tiles) * (w * scale + 4), h * scale + 4), "white")
    for i, t in enumerate(tiles):
        sheet.paste(t.resize((w * scale, h * scale), Image.NEAREST), (i * (w * scale + 4), 0))
    sheet.save(out)


def main():
    os.makedirs(WORK, exist_ok=True)
    with open(os.path.join(SET, "annotations.json")) as f:
        notes = {i["file"]: i["items"][0] for i in json.load(f)["images"]}
    lines = []

    # Robustness and weight stability: every method, every epsilon, the true class attacked and explained.
    rows, weights = [], {}
    for file in FILES:
        item = notes[file]
        for m in METHODS:
            for e in EPSILONS:
                r, png = explain(f"{file[:-4]}-{m.replace('+', 'p')}-{e.replace('/', '_')}", "--image", os.path.join(SET, file),
                                 "--method", m, "--target", str(item["class"]), "--attack", "fgsm", "--epsilon", e)
                rows.append((file, m, e, r, heat(r), png))
                weights[(file, m, e)] = np.array(r["weights"], np.float64)
    lines.append("## Robustness under FGSM (section 5.4.1)\n")
    lines.append("Each image of `eval/single` 0001-0004 is attacked with FGSM against its true class (ε in picture units) and "
                 "that class is explained on the adversarial picture. *peak shift*: distance in input pixels between the "
                 "heatmap's maximum and the clean heatmap's maximum; *EPG*: energy-based pointing game on the true box. "
                 "Mean over the images.\n")
    lines.append("| ε | prediction correct | true-class p | " + " | ".join(f"{m} peak shift | {m} EPG" for m in METHODS) + " |")
    lines.append("|---|---|---|" + "---|---|" * len(METHODS))
    clean = {(f, m): h for f, m, e, r, h, _ in rows if e == "0"}
    for e in EPSILONS:
        sel = [x for x in rows if x[2] == e and x[1] == METHODS[-1]]
        correct = np.mean([x[3]["attack"]["after"]["index"] == notes[x[0]]["class"] for x in sel])
        p = np.mean([x[3]["attack"]["targetProbabilityAfter"] for x in sel])
        cells = []
        for m in METHODS:
            mine = [x for x in rows if x[2] == e and x[1] == m]
            shift = np.mean([np.linalg.norm(peak(x[4]) - peak(clean[(x[0], m)])) for x in mine])
            epg = np.mean([energy(x[4], notes[x[0]]["box"]) for x in mine])
            cells.append(f"{shift:.1f} | {epg:.3f}")
        lines.append(f"| {e} | {correct:.2f} | {p:.3f} | " + " | ".join(cells) + " |")
    first = FILES[0]
    strip([os.path.join(SET, first)] + [x[5] for x in rows if x[0] == first and x[2] in ("0", "8/255")],
          None, os.path.join(IMAGES, "exp-robustness.png"))
    lines.append(f"\n![clean and ε = 8/255 maps](images/exp-robustness.png)\n\n`{first}`: the input, then for Grad-CAM, "
                 "Grad-CAM++ and Score-CAM the clean map and the map at ε = 8/255 (on the adversarial picture).\n")

    lines.append("## Weight stability (section 5.4.2)\n")
    lines.append("Channel weights on the adversarial input against the clean ones: relative change ‖w(ε) − w(0)‖ / ‖w(0)‖ "
                 "and the share of the 128 channels whose weight changes sign. Mean over the four images.\n")
    lines.append("| ε | " + " | ".join(f"{m} relative change | {m} sign changes" for m in METHODS) + " |")
    lines.append("|---|" + "---|---|" * len(METHODS))
    curves = {m: [] for m in METHODS}
    for e in EPSILONS:
        cells = []
        for m in METHODS:
            rel = np.mean([np.linalg.norm(weights[(f, m, e)] - weights[(f, m, "0")]) / np.linalg.norm(weights[(f, m, "0")]) for f in FILES])
            sign = np.mean([np.mean(np.sign(weights[(f, m, e)]) != np.sign(weights[(f, m, "0")])) for f in FILES])
            curves[m].append(rel)
            cells.append(f"{rel:.3f} | {sign:.3f}")
        lines.append(f"| {e} | " + " | ".join(cells) + " |")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        xs = [eval(e) * 255 if e != "0" else 0 for e in EPSILONS]
        plt.figure(figsize=(5, 3.2))
        for m in METHODS:
            plt.plot(xs, curves[m], marker="o", label=m)
        plt.xlabel("ε × 255")
        plt.ylabel("relative weight change")
        plt.legend()
        plt.tight_layout()
        plt.savefig(os.path.join(IMAGES, "exp-weight-stability.png"), dpi=100)
        lines.append("\n![weight change against ε](images/exp-weight-stability.png)\n")
    except ImportError:
        lines.append("\n(matplotlib missing: no plot.)\n")

    # Counterfactual: the first image, its prediction against the most probable other class.
    lines.append("## Counterfactual explanation (section 5.5.2, eq. 7)\n")
    for file in FILES[:2]:
        r, png = explain(f"{file[:-4]}-versus", "--image", os.path.join(SET, file), "--versus")
        c = r["counterfactual"]
        plain, plain_png = explain(f"{file[:-4]}-target", "--image", os.path.join(SET, file))
        ref, ref_png = explain(f"{file[:-4]}-reference", "--image", os.path.join(SET, file), "--target", str(c["reference"]["index"]))
        strip([os.path.join(SET, file), plain_png, ref_png, png], None, os.path.join(IMAGES, f"exp-counterfactual-{file[:-4]}.png"))
        lines.append(f"`{file}` (true: {notes[file]['label']}): target {r['target']['label']} versus {c['reference']['label']}: "
                     f"p = {c['input']['target']:.3f} / {c['input']['reference']:.3f} on the input, "
                     f"{c['masked']['target']:.3f} / {c['masked']['reference']:.3f} on the input masked by 1 − L_CE.\n")
        lines.append(f"![input, L^target, L^reference, L_CE](images/exp-counterfactual-{file[:-4]}.png)\n")

    lines.append("## Model analysis: an early checkpoint against the final model (section 5.5.1)\n")
    lines.append("Score-CAM of the true class with the early checkpoint (150 of 3510 training steps, 28% test accuracy) "
                 "and the final model (88.6%); *noise outside*: mean display heatmap outside the box.\n")
    lines.append("| image | early EPG | final EPG | early noise outside | final noise outside |")
    lines.append("|---|---|---|---|---|")
    tiles = []
    for file in FILES:
        item = notes[file]
        vals = []
        pngs = []
        for tag, model in (("early", EARLY), ("final", FINAL)):
            r, png = explain(f"{file[:-4]}-{tag}", "--model", model, "--image", os.path.join(SET, file), "--target", str(item["class"]))
            h = heat(r)
            vals.append((energy(h, item["box"]), outside_mean(h, item["box"])))
            pngs.append(png)
        tiles += pngs
        lines.append(f"| {file} | {vals[0][0]:.3f} | {vals[1][0]:.3f} | {vals[0][1]:.3f} | {vals[1][1]:.3f} |")
    strip(tiles, None, os.path.join(IMAGES, "exp-convergence.png"))
    lines.append("\n![early and final maps](images/exp-convergence.png)\n\nPairs of (early, final) Score-CAM overlays for 0001-0004.\n")
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "commentary.md")) as f:
        commentary = f.read()
    with open(os.path.join(ROOT, "docs", "robustness.md"), "w") as f:
        f.write(HEADER + "\n".join(lines) + "\n" + commentary)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
