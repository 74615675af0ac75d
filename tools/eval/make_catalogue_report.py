#!/usr/bin/python3
"""The catalogue section of docs/evaluation.md: the CAM methods beyond the paper's (and Score-CAM and Grad-CAM again,
for reference) on the single-item set with the paper's metrics and ROAD, with each method's forward passes per
explanation and seconds. Reads the evaluate run in EVAL (results.csv, summary.json) and passes.json (method ->
forwardPasses of `scorecam explain --json` on the set's first canvas), and writes the section between the markers
<!-- catalogue:start --> and <!-- catalogue:end --> of OUT (before "## Examples" when absent). make_report.sh runs it.

    /usr/bin/python3 tools/eval/make_catalogue_report.py --eval DIR --limit N --command "..." --out docs/evaluation.md
"""
import argparse
import csv
import json
import os
import statistics

NAMES = {"scorecam": "Score-CAM", "gradcam": "Grad-CAM", "hirescam": "HiResCAM", "eigencam": "Eigen-CAM", "eigengradcam": "EigenGrad-CAM",
         "sscam": "SS-CAM", "iscam": "IS-CAM", "groupcam": "Group-CAM", "ablationcam": "Ablation-CAM", "reciprocam": "Recipro-CAM"}
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"
COLUMNS = [("pointing_game", 100, "pointing game (%)"), ("energy_pointing_game", 100, "energy pointing game (%)"),
           ("average_drop", 1, "average drop (%) ↓"), ("increase_in_confidence", 1, "increase in confidence (%) ↑"),
           ("deletion_auc", 1, "deletion AUC ↓"), ("insertion_auc", 1, "insertion AUC ↑"),
           ("road_morf", 1, "ROAD MoRF ↓"), ("road_lerf", 1, "ROAD LeRF ↑")]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--eval", required=True)
    p.add_argument("--limit", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    with open(os.path.join(a.eval, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(a.eval, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(a.eval, "passes.json")) as f:
        passes = json.load(f)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    L = [START, "## The rest of the CAM catalogue: single-item set, with ROAD\n",
         f"The first {a.limit} canvases of the single-item set, each method evaluated in one run (Score-CAM and Grad-CAM again, "
         "for reference on the same images), means and 95% intervals over the correctly classified rows as above. "
         "ROAD (Rong et al. 2022): the class probability with the most (MoRF, lower is better) or least (LeRF, higher is "
         "better) relevant 10%, 20%, …, 90% of the pixels filled in by noisy linear imputation, averaged over the nine "
         "fractions. Passes: forward (and gradient) passes of one explanation, the unmasked one included, from "
         "`scorecam explain --json` on the set's first canvas; seconds: the median time of one explanation in the run "
         "(2 shared CPU cores). Options at their defaults (SS-CAM: N = 10, σ = 2, noise on the masks; IS-CAM: N = 10; "
         "Group-CAM: G = 32; Recipro-CAM: without the Gaussian spread).\n",
         "```", a.command, "```\n",
         "| method | n | " + " | ".join(c[2] for c in COLUMNS) + " | passes | seconds |",
         "|---|---|" + "---|" * len(COLUMNS) + "---|---|"]
    for m in methods:
        mine = [r for r in rows if r["method"] == m]
        n = sum(r["correct"] == "true" for r in mine)
        cells = []
        for metric, scale, _ in COLUMNS:
            s = summary.get(m, {}).get(metric)
            digits = 1 if scale == 100 or metric in ("average_drop", "increase_in_confidence") else 3
            cells.append("–" if not s or s.get("mean") is None else f"{s['mean'] * scale:.{digits}f} ± {(s.get('ci95') or 0) * scale:.{digits}f}")
        seconds = statistics.median(float(r["seconds"]) for r in mine)
        L.append(f"| {NAMES.get(m, m)} | {n} | " + " | ".join(cells) + f" | {passes.get(m, '–')} | {seconds:.2f} |")
    L += ["", END]
    section = "\n".join(L)
    with open(a.out) as f:
        doc = f.read()
    if START in doc:
        doc = doc[:doc.index(START)] + section + doc[doc.index(END) + len(END):]
    else:
        at = doc.index("## Examples")
        doc = doc[:at] + section + "\n\n" + doc[at:]
    with open(a.out, "w") as f:
        f.write(doc)


if __name__ == "__main__":
    main()
