#!/usr/bin/python3
"""Writes docs/evaluation.md from the outputs of tools/eval/make_report.sh: the three `scorecam evaluate`
folders (summary.json, results.csv), sanity.json (SanityCheckModelTests) and timings.txt.
Standard library only. Every figure in the document comes from those files, except the paper's,
which are copied from its Tables 1 and 2 (PAPER_* below)."""
import argparse
import csv
import json
import os
import platform
import statistics
import subprocess

# Score-CAM paper, Table 1 (energy-based pointing game, VGG16 on ILSVRC 2012 validation, %).
PAPER_T1 = {"gradient": 41.3, "smoothgrad": 42.4, "integrated-gradients": 44.7, "mask": 56.1,
            "rise": 36.3, "gradcam": 48.1, "gradcam++": 49.3, "scorecam": 63.7}
# Table 2 (VGG16, ILSVRC 2012 validation, %): (Average Drop, Average Increase).
PAPER_T2 = {"mask": (63.5, 5.29), "rise": (47.0, 14.0), "gradcam": (47.8, 19.6),
            "gradcam++": (45.5, 18.9), "scorecam": (31.5, 30.6)}
SETS = ["single", "two-classes", "same-class"]
NAMES = {"scorecam": "Score-CAM", "gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++",
         "xgradcam": "XGrad-CAM", "layercam": "LayerCAM", "rise": "RISE", "gradient": "Gradient",
         "smoothgrad": "SmoothGrad", "integrated-gradients": "Integrated Gradients", "mask": "Mask"}
T1_METRICS = ["energy_pointing_game"]
T2_METRICS = ["average_drop", "increase_in_confidence", "deletion_auc", "insertion_auc"]


def load(folder, others=()):
    """One set's summary, rows and summary.md, with the other groups' runs (their folders) merged in."""
    with open(os.path.join(folder, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(folder, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(folder, "summary.md")) as f:
        md = f.read()
    for other in others:
        extra, extra_rows, _ = load(other)
        summary.update(extra)
        rows += extra_rows
    return summary, rows, md


def n(rows, method):
    """The n of a method's means: its correctly classified rows."""
    return sum(r["method"] == method and r["correct"] == "true" for r in rows)


def subset_means(rows, methods, images, metrics):
    """Each method's mean of each metric over the correctly classified rows of the given images: the common ground
    of methods evaluated on different numbers of images."""
    out = {}
    for m in methods:
        mine = [r for r in rows if r["method"] == m and r["correct"] == "true" and r["image"] in images]
        out[m] = {}
        for metric in metrics:
            vals = [float(r[metric]) for r in mine if r.get(metric) not in (None, "", "NaN")]
            out[m][metric] = {"mean": statistics.mean(vals) if vals else None,
                              "ci95": 1.96 * statistics.stdev(vals) / len(vals) ** 0.5 if len(vals) > 1 else None}
    return out


def cell(summary, method, metric, scale=1.0, digits=1):
    v = summary.get(method, {}).get(metric)
    if not v or v.get("mean") is None:
        return "–"
    ci = v.get("ci95")
    text = f"{v['mean'] * scale:.{digits}f}"
    return text + (f" ± {ci * scale:.{digits}f}" if ci is not None else "")


def mean(summary, method, metric):
    v = summary.get(method, {}).get(metric)
    return None if not v or v.get("mean") is None else v["mean"]


def order(summary, methods, metric, higher=True):
    vals = [(m, mean(summary, m, metric)) for m in methods if mean(summary, m, metric) is not None]
    vals.sort(key=lambda x: -x[1] if higher else x[1])
    return (" > " if higher else " < ").join(NAMES[m] for m, _ in vals)


def paper_order(values, methods, higher=True):
    vals = sorted(((m, values[m]) for m in methods), key=lambda x: -x[1] if higher else x[1])
    return (" > " if higher else " < ").join(NAMES[m] for m, _ in vals)


def counts(rows, first):
    mine = [r for r in rows if r["method"] == first]
    return (len({r["image"] for r in mine}), len(mine), sum(r["correct"] != "true" for r in mine))


def seconds(rows, method):
    s = [float(r["seconds"]) for r in rows if r["method"] == method]
    return statistics.mean(s) if s else None


def git_head():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "unknown"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--eval", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--methods", required=True)
    p.add_argument("--limits", required=True)
    p.add_argument("--slow", default="", help='the other groups, "methods:single/two/same ..."')
    p.add_argument("--extra", default="")
    p.add_argument("--reuse", action="store_true", help="the rows were reused from an earlier run (RESUME=1)")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    fast = a.methods.split(",")
    limits = dict(kv.split("=") for kv in a.limits.split(","))
    groups = []  # (methods, folder suffix, {set: limit})
    for g in a.slow.split():
        names, counts_ = g.split(":")
        groups.append((names.split(","), names.replace(",", "+"), dict(zip(SETS, map(int, counts_.split("/"))))))
    slow = [m for names, _, _ in groups for m in names]
    methods = fast + slow
    data = {s: load(os.path.join(a.eval, s), [os.path.join(a.eval, f"{s}-{suffix}") for _, suffix, lim in groups if lim[s] > 0])
            for s in SETS}
    timings = {}
    tpath = os.path.join(a.eval, "timings.txt")
    if os.path.exists(tpath):
        for line in open(tpath):
            parts = line.split()
            timings[" ".join(parts[:-1])] = int(parts[-1])
    sanity = None
    spath = os.path.join(a.eval, "sanity.json")
    if os.path.exists(spath):
        with open(spath) as f:
            sanity = json.load(f)
    commentary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "commentary.md")

    single, two, same = (data[s][0] for s in SETS)
    L = []
    w = L.append
    w("# Evaluation: the paper's Tables 1 and 2 on the shipped model and sets\n")
    w("*Generated by `tools/eval/make_report.sh` (do not edit by hand: edit `tools/eval/make_report.py` or "
      "`tools/eval/commentary.md` and rerun).*\n")
    w(f"Model `{a.model}`; methods {', '.join(NAMES[m] for m in methods)}; sets `onnx-models/eval/{{{','.join(SETS)}}}`. "
      f"Made at commit `{git_head()}` on {platform.machine()} with {os.cpu_count()} CPU cores (ONNX Runtime CPU provider).\n")
    w("The command (after `dotnet build -c Release`, from the repository root):\n")
    env = f"LIMIT_SINGLE={limits['single']} LIMIT_TWO={limits['two-classes']} LIMIT_SAME={limits['same-class']} "
    env += f'SLOW="{a.slow}" '
    if a.extra:
        env += f'EXTRA="{a.extra}" '
    w("```\n" + env + "tools/eval/make_report.sh\n```\n")
    w("which runs, for each set S and its limit N:\n")
    w("```\ndotnet src/ScoreCam.Onnx.Cli/bin/Release/net10.0/scorecam.dll evaluate --model " + a.model +
      f" --set onnx-models/eval/S --method {a.methods} --limit N --out-dir {a.eval}/S --fresh" +
      (f" {a.extra}" if a.extra else "") + "\n```\n")
    others = "; ".join(f"`--method {','.join(names)} --limit N_{suffix} --out-dir {a.eval}/S-{suffix}` with N_{suffix} = "
                       f"{'/'.join(str(lim[s]) for s in SETS)}" for names, suffix, lim in groups)
    if others:
        w(f"and the same for the slow methods with their own limits ({others}, for the three sets in order). Each (set, "
          "group) runs in its own process, all side by side, with the overlay grid (`tools/eval/make_grid.py`, "
          "`scorecam explain --method M --target C --out`) beside them; the tables merge the runs and give each row's n. ")
    else:
        w("beside the overlay grid (`tools/eval/make_grid.py`, `scorecam explain --method M --target C --out`). ")
    w("Then the sanity check (`SCORECAM_SANITY_OUT=... dotnet test -c Release --filter SanityCheckModelTests`) and "
      "this page (`tools/eval/make_report.py`). Deterministic: RISE and SmoothGrad are seeded, so a rerun gives the same "
      "numbers except the times.\n")
    if a.reuse:
        w("The rows were reused from an earlier run's `results.csv` (RESUME=1); the times quoted are that run's "
          "(its `timings.txt`), as far as it recorded them.\n")
    if timings:
        parts = ", ".join(f"{k} {v} s" for k, v in timings.items() if k != "total")
        total = timings.get("total")
        label = "this run" if total else "the evaluations (the longest of them)"
        w(f"Wall time of {label}: **{(total or max(timings.values())) / 60:.1f} min** ({parts}; the evaluations and the "
          "grid ran side by side, on a machine shared with other jobs).\n")

    w("## Data\n")
    w("The first N canvases of each set (N below: limits meant to fit the report into about 35 minutes on a 2-core "
      "machine shared with other jobs; RISE, 4000 forward passes per map, and Mask, about 300 forward and 300 "
      "gradient passes one image at a time, get smaller ones). Each image is explained once per annotated class. "
      "Means and 95% intervals (±1.96·s/√n) are over the correctly classified rows; a row counts as correct when its "
      "class is in the model's top-m predictions, m the number of distinct classes in the canvas. Misclassified rows are "
      "listed in each set's `summary.md` and left out of the means.\n")
    def data_row(s, label, first, t):
        n_img, n_rows, wrong = counts(data[s][1], first)
        per = f"{t / n_img:.1f}" if t and n_img else "–"
        return f"| {s} | {label} | {n_img} | {n_rows} | {wrong} | {per} |"
    w("| set | methods, --limit | images | explained classes | misclassified | seconds per image, these methods and all metrics |")
    w("|---|---|---|---|---|---|")
    for s in SETS:
        w(data_row(s, f"all but {', '.join(NAMES[m] for m in slow)}, {limits[s]}" if slow else f"all, {limits[s]}",
                   fast[0], timings.get(f"evaluate {s}")))
        for names, suffix, lim in groups:
            if lim[s] > 0:
                w(data_row(s, f"{', '.join(NAMES[m] for m in names)}, {lim[s]}", names[0], timings.get(f"evaluate {s}-{suffix}")))
    w("\nEvery table gives each method's n (its correctly classified rows); a method with a smaller n is measured on the "
      "first images only, so the single-set tables are followed by all methods' means on exactly those images.\n")

    w("## Table 1 analog: energy-based pointing game (single-item set)\n")
    w("Share of the map's energy inside the item's box (section 5.2.2; the map upsampled to the input size), in %. "
      "Pointing game: hit rate of the map's maximum within the box (15-pixel tolerance), in %. "
      "Paper: VGG16 on ILSVRC 2012 validation, its Table 1 (higher is better).\n")
    single_rows = data["single"][1]
    w("| method | n | energy pointing game (%) | pointing game (%) | paper, energy pointing game (%) |")
    w("|---|---|---|---|---|")
    for m in methods:
        paper = PAPER_T1.get(m)
        w(f"| {NAMES[m]} | {n(single_rows, m)} | {cell(single, m, 'energy_pointing_game', 100)} | {cell(single, m, 'pointing_game', 100)} | "
          f"{paper if paper is not None else 'not in the paper'} |")
    t1 = [m for m in PAPER_T1 if m in methods]
    w(f"\nOrdering here (the paper's {len(t1)} methods): {order(single, t1, 'energy_pointing_game')}; "
      f"in the paper: {paper_order(PAPER_T1, t1)}. All {len(methods)}: {order(single, methods, 'energy_pointing_game')}.\n")

    w("## Table 2 analog: recognition (single-item set)\n")
    w("Average Drop = mean of max(0, Y − O)/Y and Increase in Confidence = share of images with O > Y, in %, where Y is "
      "the softmax probability of the class on the input and O on the input multiplied by the map restricted to its top "
      "50% pixels (section 5.3). Deletion / insertion: area under the probability curve as pixels are removed (or "
      "inserted into a blurred image) in order of saliency (Petsiuk et al.; the paper's Fig. 10 shows one deletion curve "
      "but reports no mean). Paper: VGG16 on ILSVRC 2012 validation, its Table 2.\n")
    def table2(summary, rows, with_paper):
        w("| method | n | Average Drop (%) ↓ | Increase in Confidence (%) ↑ | deletion AUC ↓ | insertion AUC ↑ |"
          + (" paper: Average Drop / Increase (%) |" if with_paper else ""))
        w("|---|---|---|---|---|---|" + ("---|" if with_paper else ""))
        for m in methods:
            paper = PAPER_T2.get(m)
            w(f"| {NAMES[m]} | {rows(m)} | {cell(summary, m, 'average_drop')} | {cell(summary, m, 'increase_in_confidence')} | "
              f"{cell(summary, m, 'deletion_auc', 1, 3)} | {cell(summary, m, 'insertion_auc', 1, 3)} |"
              + (f" {f'{paper[0]} / {paper[1]}' if paper else 'not in the paper'} |" if with_paper else ""))

    def orderings2(summary, label):
        t2 = [m for m in PAPER_T2 if m in methods]
        pd = {m: PAPER_T2[m][0] for m in t2}
        pi = {m: PAPER_T2[m][1] for m in t2}
        w(f"Average Drop, lowest first, {label}: {order(summary, t2, 'average_drop', higher=False)}; paper: {paper_order(pd, t2, higher=False)}.  ")
        w(f"Increase in Confidence {label}: {order(summary, t2, 'increase_in_confidence')}; paper: {paper_order(pi, t2)}.  ")
        w(f"Deletion AUC, lowest first (all {len(methods)}): {order(summary, methods, 'deletion_auc', higher=False)}.  ")
        w(f"Insertion AUC (all {len(methods)}): {order(summary, methods, 'insertion_auc')}.\n")

    table2(single, lambda m: n(single_rows, m), True)
    w("")
    orderings2(single, "here")

    if slow:
        images = set.intersection(*({r["image"] for r in single_rows if r["method"] == m} for m in methods))
        sub = subset_means(single_rows, methods, images, ["energy_pointing_game"] + T2_METRICS)
        n_sub = lambda m: sum(r["method"] == m and r["correct"] == "true" and r["image"] in images for r in single_rows)
        w(f"### Tables 1 and 2 on the {len(images)} images that every method had\n")
        w(f"The same metrics, every method restricted to the first {len(images)} canvases of the single-item set "
          "(the like-for-like comparison with the slow methods; computed from `results.csv`).\n")
        w("| method | n | energy pointing game (%) | Average Drop (%) ↓ | Increase in Confidence (%) ↑ | deletion AUC ↓ | insertion AUC ↑ |")
        w("|---|---|---|---|---|---|---|")
        for m in methods:
            w(f"| {NAMES[m]} | {n_sub(m)} | {cell(sub, m, 'energy_pointing_game', 100)} | {cell(sub, m, 'average_drop')} | "
              f"{cell(sub, m, 'increase_in_confidence')} | {cell(sub, m, 'deletion_auc', 1, 3)} | {cell(sub, m, 'insertion_auc', 1, 3)} |")
        w("")
        w(f"Energy pointing game on these images: {order(sub, t1, 'energy_pointing_game')}; paper: {paper_order(PAPER_T1, t1)}.  ")
        orderings2(sub, "on these images")

    w("## Class discrimination (two-classes set)\n")
    w("Each canvas holds two items of different classes; each class is explained in turn. Own box: energy share in the "
      "explained class's box (higher is better); other box: energy share in the other class's box (lower is better). "
      "The paper shows this only as pictures (its Fig. 5).\n")
    w("| method | n | energy in own box (%) | energy in the other class's box (%) | pointing game (%) | Average Drop (%) | deletion AUC | insertion AUC |")
    w("|---|---|---|---|---|---|---|---|")
    for m in methods:
        w(f"| {NAMES[m]} | {n(data['two-classes'][1], m)} | {cell(two, m, 'energy_pointing_game', 100)} | {cell(two, m, 'energy_other_classes', 100)} | "
          f"{cell(two, m, 'pointing_game', 100)} | {cell(two, m, 'average_drop')} | {cell(two, m, 'deletion_auc', 1, 3)} | {cell(two, m, 'insertion_auc', 1, 3)} |")
    w("")

    w("## Multiple occurrences (same-class set)\n")
    w("Each canvas holds two items of the same class. Energy in both boxes together, and in the box that gets less of it "
      "(`energy_weakest_box`: both objects found, higher is better; at most half of the total). The paper shows this "
      "only as pictures (its Fig. 8, where Grad-CAM tends to find one object).\n")
    w("| method | n | energy in both boxes (%) | energy in the weaker box (%) | pointing game (%) |")
    w("|---|---|---|---|---|")
    for m in methods:
        w(f"| {NAMES[m]} | {n(data['same-class'][1], m)} | {cell(same, m, 'energy_pointing_game', 100)} | {cell(same, m, 'energy_weakest_box', 100)} | "
          f"{cell(same, m, 'pointing_game', 100)} |")
    w("")

    w("## Time per explanation\n")
    w("Mean wall seconds of one explanation (the map only, not the metrics), from `results.csv`, on this machine "
      "(shared with other jobs, and with the other processes of this run: compare within a column with care). "
      "RISE runs N masked forward passes; Score-CAM one per non-constant channel of the target layer; the Grad-CAM "
      "family one forward pass plus one pass of the head's gradient graph; Gradient one pass of the input-gradient "
      "graph, SmoothGrad one per noisy copy (50), Integrated Gradients one per Riemann step, Mask one forward and one "
      "gradient pass per Adam iteration (300), one image at a time.\n")
    settings = [l for l in data["single"][2].splitlines() if l.startswith("RISE:")]
    if settings:
        w(settings[0] + "\n")
    w("| method | " + " | ".join(SETS) + " |")
    w("|---|" + "---|" * len(SETS))
    for m in methods:
        vals = [seconds(data[s][1], m) for s in SETS]
        w(f"| {NAMES[m]} | " + " | ".join("–" if v is None else f"{v:.3f}" for v in vals) + " |")
    w("")

    w("## Sanity check (Adebayo et al.)\n")
    if sanity is None:
        w("Not run in this report (SKIP_SANITY=1).\n")
    else:
        layers = sanity["layers"]
        full = layers[-1]
        label = lambda k: f"all {k}" if k == full else f"top {k}"
        w(f"`tests/ScoreCam.Onnx.Tests/Metrics/SanityCheckModelTests.cs`: the model's top 1, 2, 3 parametric layers "
          f"(Conv / Gemm, cascading from the logits down), then all {full} of them, are re-initialized with Gaussian "
          f"weights of the trained weights' standard deviation (seed {sanity['seed']}); for the first {sanity['images']} "
          "canvases of the single-item set, each method's map (target-layer resolution, after ReLU) for the annotated "
          "class is compared with the trained model's by Spearman rank correlation ρ. Two reference rows: "
          "*activations* (equal channel weights: the target layer's summed activations, which never ask the class head) "
          "and *input* (the input's brightness averaged over the map's cells: ignores the model, the control the check "
          f"must catch). The test asserts mean |ρ| < {sanity['threshold']} at the full cascade for every method and "
          f"mean |ρ| ≥ {sanity['threshold']} for the input control. RISE is left out (4000 forward passes per map "
          "would take the test far past its 20 s budget).\n")
        w("| method | " + " | ".join(f"mean \\|ρ\\|, {label(k)} randomized" for k in layers) + " |")
        w("|---|" + "---|" * len(layers))
        for m, rho in sanity["rho"].items():
            name = NAMES.get(m, f"*{m}* (reference)")
            w(f"| {name} | " + " | ".join(f"{statistics.mean(abs(x) for x in r):.2f}" for r in rho) + " |")
        w("")

    w("## Examples\n")
    w("![Overlays: input, then each method](images/eval-grid.png)\n")
    w("*Rows: canvases from the sets (set/file: the explained class, the first annotated item's); columns: the input "
      "and each method's overlay (jet colormap), made with `scorecam explain --method M --target C`; tiles upscaled ×2, "
      "nearest neighbour. For the pixel-space methods the overlay shows the heatmap, max |attribution| over the colour "
      "channels, min-max normalized; Guided Score-CAM and Guided Grad-CAM (eq. 6: the CAM heatmap times Guided "
      "Backpropagation) are shown here only, not measured above.*\n")
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_grid import EXAMPLES
    notes = []
    for set_name, file, item in EXAMPLES:
        folder = os.path.join("onnx-models", "eval", set_name)
        with open(os.path.join(folder, "annotations.json")) as f:
            cls = next(i for i in json.load(f)["images"] if i["file"] == file)["items"][item]["class"]
        row = next((r for r in data[set_name][1] if r["image"] == file and r["method"] == methods[0] and r["class"] == str(cls)), None)
        if row is not None and row["correct"] != "true":
            notes.append(f"{set_name}/{file} is misclassified by the model (top prediction: class {row['predicted']})")
    if notes:
        w("Note: " + "; ".join(notes) + "; its maps explain the annotated class all the same.\n")

    w("## Commentary\n")
    if os.path.exists(commentary):
        with open(commentary) as f:
            w(f.read().strip() + "\n")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    main()
