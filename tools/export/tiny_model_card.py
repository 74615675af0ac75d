"""Writes MODEL_CARD.md of each tiny model (onnx-models/tiny-detector, tiny-segmenter, tiny-vit) from the facts its
training script left (NAME.json) and the script's own description.

    /usr/bin/python3 tools/export/tiny_model_card.py
"""
import importlib
import json
import os

import tiny_common as tc

SCRIPTS = {"tiny-detector": "train_tiny_detector", "tiny-segmenter": "train_tiny_segmenter", "tiny-vit": "train_tiny_vit"}
# What the measures mean for using the model (training budgets were cut to fit a shared, saturated 2-core machine).
NOTES = {
    "tiny-detector": "A small budget (5 epochs): boxes are good where it fires, classes often wrong (on the sample the "
                     "Dress is boxed well but called Trouser, and the Bag stays below 0.25). Good enough to test "
                     "explanations of a raw YOLO output, not as a detector.",
    "tiny-segmenter": "A small budget (4 epochs): it tells items from background well (background IoU above 0.9) but often "
                      "gives an item's pixels a wrong class, so per-class IoU is low. Good enough to test explanations of "
                      "a segmenter's output, not as a segmenter.",
    "tiny-vit": "A hybrid ViT: its patch embedding reads the frozen first two stages of the fashion-clutter CNN, so the "
                "transformer (projection, 3 blocks, head) learns on trained features; trained from pixels, a plain patch "
                "projection and a convolutional stem stayed at chance within this machine's CPU budget. A small budget "
                "(3 epochs of 4000 canvases): well above chance (10 classes), far below the CNN. Good enough to test "
                "explanations of token layers on a trained ViT, not as a classifier.",
}


def measures(facts):
    t = facts["test"]
    if facts["kind"] == "detector":
        return [("mAP@0.5 (VOC all-point, mean over 10 classes)", t["map50"]),
                ("recall at score >= 0.25 (NMS IoU 0.5)", t["recall_at_0.25"]),
                ("precision at score >= 0.25", t["precision_at_0.25"])], f"{t['canvases']} canvases, {t['items']} items"
    if facts["kind"] == "segmenter":
        return [("mIoU (11 classes incl. background)", t["miou"]), ("pixel accuracy", t["pixel_accuracy"])] + \
            [(f"IoU {c}", v) for c, v in t["iou_per_class"].items()], f"{t['canvases']} canvases"
    return [("top-1 accuracy", t["accuracy"])] + \
        [(f"eval/{s} (predicted class is an item's class)", v) for s, v in t["eval_accuracy"].items()], f"{t['canvases']} canvases"


def card(name):
    folder = os.path.join(tc.ROOT, "onnx-models", name)
    facts = json.load(open(os.path.join(folder, f"{name}.json")))
    script = SCRIPTS[name]
    doc = importlib.import_module(script).__doc__.strip()
    rows, held_out = measures(facts)
    tr = facts["train"]
    lines = [f"# {name}", "", f"Made by `tools/export/{script}.py` (seed {facts['seed']}, torch {facts['torch']}, "
             f"opset {facts['opset']}); {facts['parameters']:,} parameters, "
             f"{os.path.getsize(os.path.join(folder, facts['file'])):,} bytes.", "", "```", doc, "```", "",
             "## Input and output", "",
             f"- input `{facts['input']['name']}` {facts['input']['shape']}: RGB 96x96 stretched, /255, ImageNet mean/std "
             f"(`{name}.preprocess.json`)",
             *[f"- output `{o['name']}` {o['shape']}" for o in facts["outputs"]],
             f"- classes: `labels.txt` ({facts['num_classes']} lines)"]
    if "token_layers" in facts:
        lines += [f"- token activations {facts['token_shape']} (patch grid {facts['patch_grid']}): " +
                  ", ".join(f"`{t}`" for t in facts["token_layers"])]
    lines += ["", f"## Held-out measures (test split, stream {facts['test']['stream']}, {held_out})", "",
              "| measure | value |", "|---|---|", *[f"| {k} | {v:.4f} |" for k, v in rows], "",
              *([NOTES[name], ""] if name in NOTES else []),
              "## Training", "",
              f"{tr['canvases']} canvases of train-split stream {tr['stream']}, {tr['epochs']} epochs, batch {tr['batch']}, "
              f"{tr['seconds']} s on the shared 2-core machine. Deterministic for the same torch build and BLAS; elsewhere it "
              "reproduces the measures, not the bytes.", "",
              "## Sample", "",
              f"`sample.png` (test stream {facts['sample']['stream']}), its items' pixels `sample.items.png` (0 none, i + 1 "
              f"item i), its preprocessed tensor `sample.input.npy` and PyTorch's outputs on it: " +
              ", ".join(f"`{v}`" for v in facts["sample"]["outputs"].values()) + ". Items: " +
              "; ".join(f"{it['label']} {it['box']}" for it in facts["sample"]["items"]) + ".", ""]
    if "detections" in facts["sample"]:
        lines += ["Detections (score >= 0.25, NMS): " + "; ".join(
            f"{d['label']} {d['score']:.3f} {[round(v, 1) for v in d['box']]}" for d in facts["sample"]["detections"]) + ".", ""]
    with open(os.path.join(folder, "MODEL_CARD.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    for n in SCRIPTS:
        if os.path.exists(os.path.join(tc.ROOT, "onnx-models", n, f"{n}.json")):
            card(n)
