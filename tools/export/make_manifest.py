"""Writes onnx-models/manifest.json: every committed model (default model and coverage), the eval
sets and the sample photos, with sha256 of every file. Paths are relative to onnx-models/.

    /usr/bin/python3 tools/export/make_manifest.py

Reads the facts the exporters left: fashion-clutter/export.json, coverage/coverage.json,
eval/eval-sets.json, tiny-*/tiny-*.json.
"""
import json
import os

import export_coverage as ec
import onnx_export as ox

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "onnx-models")
IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def read(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return json.load(f)


def model_entry(facts, folder, size, source, weights, preprocessing, extra_files=()):
    """One manifest entry; every path is prefixed with the model's folder."""
    rel = lambda name: f"{folder}/{name}"
    files = [facts["file"], facts["act_file"], *facts["fixtures"].values(), *extra_files]
    logits = {"name": "logits", "shape": ["batch", facts["num_classes"]]}
    return {
        "name": facts["name"],
        "file": rel(facts["file"]),
        "act_file": rel(facts["act_file"]),
        "fixtures": {k: rel(v) for k, v in facts["fixtures"].items()},
        "source": source,
        "weights": weights,
        "input": {"name": "input", "shape": ["batch", 3, size, size], "layout": "NCHW",
                  "preprocessing": preprocessing},
        "outputs": [logits],
        "act_outputs": [logits, {"name": "activations", "shape": ["batch", *facts["target_layer_shape"][1:]]}],
        "num_classes": facts["num_classes"],
        "expected_target_layer": facts["expected_target_layer"],
        "target_layer_shape": facts["target_layer_shape"],
        "target_layer_context": facts["target_layer_context"],
        "opset": ox.OPSET,
        "sha256": {rel(f): ox.sha256(os.path.join(ROOT, folder, f)) for f in files},
    }


def default_model():
    facts = read("fashion-clutter/export.json")
    pre = read("fashion-clutter/fashion-clutter.preprocess.json")
    pre["labels"] = "fashion-clutter/" + pre["labels"]
    extra = ["labels.txt", "fashion-clutter.preprocess.json", "sample.png", "MODEL_CARD.md"]
    entry = model_entry(facts, "fashion-clutter", 96,
                        {"class": "tools/export/train_fashion_clutter.py:FashionClutterNet",
                         "args": "num_classes=10"},
                        "trained on fashion-clutter canvases, see fashion-clutter/MODEL_CARD.md", pre, extra)
    entry.update(default=True, labels="fashion-clutter/labels.txt", sample=facts["sample"],
                 test_accuracy=facts["test_accuracy"], eval_accuracy=facts["eval_accuracy"])
    entry["sample"]["file"] = "fashion-clutter/sample.png"
    return entry


def early_checkpoint():
    """The default model after 150 of its 3510 training steps (export_fashion_clutter_early.py): section 5.5.1's
    not-yet-converged model, logits only."""
    facts = read("fashion-clutter/early.json")
    files = [facts["file"], facts["preprocess"], "early.json"]
    return {
        "name": facts["name"],
        "file": "fashion-clutter/" + facts["file"],
        "source": {"class": "tools/export/train_fashion_clutter.py:FashionClutterNet", "args": "num_classes=10"},
        "weights": f"the default model's training run stopped after {facts['steps']} of {facts['total_steps']} steps",
        "input": {"name": "input", "shape": ["batch", 3, 96, 96], "layout": "NCHW",
                  "preprocessing": "fashion-clutter/" + facts["preprocess"]},
        "outputs": [{"name": "logits", "shape": ["batch", 10]}],
        "num_classes": 10,
        "labels": "fashion-clutter/labels.txt",
        "test_accuracy": facts["test_accuracy"],
        "eval_accuracy": facts["eval_accuracy"],
        "sha256": {f"fashion-clutter/{f}": ox.sha256(os.path.join(ROOT, "fashion-clutter", f)) for f in files},
    }


def coverage_models():
    pre = {"width": 64, "height": 64, "resize": "stretch", "scale": 1, **IMAGENET, "bgr": False}
    weights = (f"random: torch.manual_seed({ec.SEED}) before construction (torchvision's init), then "
               "BatchNorm statistics calibrated on 4 batches of 16 random-normal inputs")
    return [model_entry(f, "coverage", 64, f["source"], weights, pre) for f in read("coverage/coverage.json")]


def tiny_models():
    """The trained tiny detector, segmenter and ViT (train_tiny_*.py): kind, input, outputs, held-out measures."""
    entries = []
    for name in ("tiny-detector", "tiny-segmenter", "tiny-vit"):
        if not os.path.exists(os.path.join(ROOT, name, f"{name}.json")):
            continue
        facts = read(f"{name}/{name}.json")
        pre = read(f"{name}/{name}.preprocess.json")
        pre["labels"] = f"{name}/{pre['labels']}"
        files = [*facts["sha256"], f"{name}.json", "MODEL_CARD.md"]
        entry = {"name": name, "kind": facts["kind"], "file": f"{name}/{facts['file']}",
                 "source": facts.get("source", {"class": f"tools/export/train_{name.replace('-', '_')}.py"}),
                 "weights": f"trained on fashion-clutter canvases, see {name}/MODEL_CARD.md",
                 "input": {**facts["input"], "layout": "NCHW", "preprocessing": pre},
                 "outputs": facts["outputs"], "num_classes": facts["num_classes"], "labels": f"{name}/labels.txt",
                 "test": facts["test"], "opset": facts["opset"],
                 "sha256": {f"{name}/{f}": ox.sha256(os.path.join(ROOT, name, f)) for f in sorted(files)}}
        for key in ("layout", "strides", "token_layers", "token_shape", "patch_grid"):
            if key in facts:
                entry[key] = facts[key]
        entries.append(entry)
    return entries


def captioner():
    """The toy image-to-next-word model of export_captioner.py (section 5.5.3), its feeds and references."""
    folder = os.path.join(ROOT, "captions")
    return {"name": "captioner", "file": "captions/captioner.onnx", "inputs": ["image", "tokens"],
            "outputs": ["logits", "probabilities"], "source": {"class": "tools/export/export_captioner.py:Captioner"},
            "sha256": {f"captions/{n}": ox.sha256(os.path.join(folder, n)) for n in sorted(os.listdir(folder))}}


def other_folders(covered):
    """Committed folders that no exporter above describes (e.g. detection-test/): their files with sha256."""
    entries = []
    for name in sorted(os.listdir(ROOT)):
        folder = os.path.join(ROOT, name)
        if os.path.isdir(folder) and name not in covered:
            files = sorted(f for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f)))
            entries.append({"folder": name, "sha256": {f"{name}/{f}": ox.sha256(os.path.join(folder, f)) for f in files}})
    return entries


def eval_sets():
    sets = []
    for s in read("eval/eval-sets.json"):
        s = {k: v for k, v in s.items() if k != "stream_indices"}
        s["annotations"] = s["folder"] + "/annotations.json"
        s["sha256"] = {f"{s['folder']}/{k}": v for k, v in s["sha256"].items()}
        # The two-item sets' item pixel maps (make_eval_sets.py), listed here: eval-sets.json covers the canvases.
        folder = os.path.join(ROOT, s["folder"])
        maps = sorted(f for f in os.listdir(folder) if f.endswith(".items.png"))
        if maps:
            s["item_maps"] = s["folder"] + "/NNNN.items.png"
            s["sha256"].update({f"{s['folder']}/{f}": ox.sha256(os.path.join(folder, f)) for f in maps})
        sets.append(s)
    return sets


def samples():
    folder = os.path.join(ROOT, "samples")
    names = sorted(os.listdir(folder))
    return {"license": "samples/LICENSE.md",
            "sha256": {f"samples/{n}": ox.sha256(os.path.join(folder, n)) for n in names}}


def main():
    manifest = {
        "description": "Models, evaluation sets and samples committed for ScoreCam.Onnx's tests and "
                       "CLI; regenerate with the scripts in tools/export (see tools/README.md). "
                       "Paths are relative to onnx-models/.",
        "default_model": "fashion-clutter",
        "models": [default_model(), *coverage_models()],
        "checkpoints": [early_checkpoint()],
        "tiny_models": tiny_models(),
        "captioner": captioner(),
        "other_folders": other_folders({"fashion-clutter", "coverage", "eval", "samples", "captions",
                                        "tiny-detector", "tiny-segmenter", "tiny-vit"}),
        "eval_sets": eval_sets(),
        "samples": samples(),
    }
    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    for m in manifest["models"]:
        print(f"{m['name']:18s} {m['expected_target_layer']} {m['target_layer_shape']}")


if __name__ == "__main__":
    main()
