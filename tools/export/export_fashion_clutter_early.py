"""Exports the early checkpoint of the default model (the paper's section 5.5.1: maps of a model that has not
converged) next to it in onnx-models/fashion-clutter/, and measures it.

    nice -n 10 /usr/bin/python3 tools/export/train_fashion_clutter.py --early-steps 150
    /usr/bin/python3 tools/export/export_fashion_clutter_early.py

The checkpoint is the full recipe's run (same seeds, data order and one-cycle schedule) stopped after the first
150 of its 3510 steps. Writes fashion-clutter-early.onnx (logits only: the library adds the activations output),
fashion-clutter-early.preprocess.json (the default model's preprocessing and labels) and early.json (facts for
the model card and the manifest).
"""
import json
import os

import numpy as np
import torch
from PIL import Image

import export_fashion_clutter as ef
import onnx_export as ox
import train_fashion_clutter as tr

NAME = "fashion-clutter-early"


def main():
    torch.set_num_threads(2)
    model = tr.FashionClutterNet()
    model.load_state_dict(torch.load(os.path.join(tr.CACHE, NAME + ".pt")))
    model.eval()
    with open(os.path.join(tr.CACHE, "train-early-result.json")) as f:
        train = json.load(f)
    sample = np.asarray(Image.open(os.path.join(ef.OUT, "sample.png")).convert("RGB"))
    path = os.path.join(ef.OUT, NAME + ".onnx")
    with torch.no_grad():
        ox._export(model, tr.normalize(sample[None]), path, ["logits"])
    with open(os.path.join(ef.OUT, NAME + ".preprocess.json"), "w") as f:
        json.dump(ef.PREPROCESS, f)
        f.write("\n")
    acc, n = ef.test_accuracy(model)
    sets = {name: ef.eval_set_accuracy(model, name)[0] for name in ("single", "two-classes", "same-class")}
    facts = {"name": NAME, "file": NAME + ".onnx", "preprocess": NAME + ".preprocess.json",
             "steps": train["steps"], "total_steps": train["total_steps"],
             "test_accuracy": acc, "test_canvases": n, "eval_accuracy": sets,
             "train_seconds": train["train_seconds"]}
    with open(os.path.join(ef.OUT, "early.json"), "w") as f:
        json.dump(facts, f, indent=1)
        f.write("\n")
    print(json.dumps(facts, indent=1))


if __name__ == "__main__":
    main()
