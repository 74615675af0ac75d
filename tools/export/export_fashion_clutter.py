"""Exports the trained fashion-clutter model into onnx-models/fashion-clutter/ and measures it.

    /usr/bin/python3 tools/export/export_fashion_clutter.py

Needs the weights train_fashion_clutter.py leaves in tools/.cache/fashion-clutter/ and the eval
sets (make_eval_sets.py). Writes fashion-clutter.onnx (logits), fashion-clutter.act.onnx (logits +
activations of the last conv block), the .npy fixtures, labels.txt, the preprocess json,
sample.png and export.json (facts for the manifest and the model card).
"""
import json
import os

import numpy as np
import torch
from PIL import Image

import fashion_clutter as fc
import onnx_export as ox
import train_fashion_clutter as tr

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "onnx-models")
OUT = os.path.join(MODELS, "fashion-clutter")
NAME = "fashion-clutter"
SAMPLE_SEED = 3            # own test-split stream, so the sample is not one of the eval images
SAMPLE_CLASS = 9           # Ankle boot: a shape everyone recognizes at a glance
PREPROCESS = {"width": 96, "height": 96, "resize": "stretch", "scale": 1,
              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "bgr": False,
              "labels": "labels.txt"}


def load_model():
    model = tr.FashionClutterNet()
    model.load_state_dict(torch.load(os.path.join(tr.CACHE, "fashion-clutter.pt")))
    return model.eval()


def predict(model, images_uint8):
    with torch.no_grad():
        return torch.softmax(model(tr.normalize(images_uint8)), 1).numpy()


def choose_sample(model):
    """First canvas of the sample stream that is a clear, confidently and correctly classified
    item of SAMPLE_CLASS with clutter around it."""
    for index in range(10000):
        img, items = fc.make_canvas("test", SAMPLE_SEED, index)
        item = items[0]
        if item["class"] != SAMPLE_CLASS or not 0.2 <= fc.box_fraction(item["box"]) <= 0.4:
            continue
        probs = predict(model, img[None])[0]
        if probs.argmax() == SAMPLE_CLASS and probs.max() > 0.95:
            return img, item, index, float(probs.max())
    raise RuntimeError("no sample canvas found")


def eval_set_accuracy(model, name):
    """Top-1 accuracy on a committed eval set, read back from its PNGs; for two-item sets the
    prediction counts as right when it is one of the labelled classes."""
    folder = os.path.join(MODELS, "eval", name)
    with open(os.path.join(folder, "annotations.json")) as f:
        images = json.load(f)["images"]
    pixels = np.stack([np.asarray(Image.open(os.path.join(folder, im["file"])).convert("RGB"))
                       for im in images])
    pred = np.concatenate([predict(model, pixels[i:i + 250]).argmax(1) for i in range(0, len(pixels), 250)])
    right = [int(p) in {it["class"] for it in im["items"]} for p, im in zip(pred, images)]
    return float(np.mean(right)), len(images)


def test_accuracy(model, count=5000):
    """Accuracy on `count` fresh test-split canvases (training's test stream, seed 2)."""
    images, labels = tr.canvases("test", tr.TEST_SEED, count)
    return tr.evaluate(model, images, labels), count


def write_static_files():
    with open(os.path.join(OUT, "labels.txt"), "w") as f:
        f.write("\n".join(fc.CLASSES) + "\n")
    with open(os.path.join(OUT, f"{NAME}.preprocess.json"), "w") as f:
        json.dump(PREPROCESS, f)
        f.write("\n")


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    model = load_model()
    sample, item, sample_index, confidence = choose_sample(model)
    Image.fromarray(sample).save(os.path.join(OUT, "sample.png"), optimize=True)
    second, _ = fc.make_canvas("test", SAMPLE_SEED, sample_index + 1)
    x = tr.normalize(np.stack([sample, second]))
    facts = ox.export_pair(model, ox.hook_capture(lambda m: m.layer3), x, OUT, NAME)
    write_static_files()
    acc, n = test_accuracy(model)
    sets = {name: eval_set_accuracy(model, name) for name in ("single", "two-classes", "same-class")}
    facts.update(
        name=NAME, num_classes=10, parameters=sum(p.numel() for p in model.parameters()),
        test_accuracy=acc, test_canvases=n, eval_accuracy={k: v[0] for k, v in sets.items()},
        sample={"file": "sample.png", "class": item["class"], "label": item["label"],
                "box": item["box"], "stream": {"split": "test", "seed": SAMPLE_SEED, "index": sample_index},
                "softmax": confidence})
    with open(os.path.join(OUT, "export.json"), "w") as f:
        json.dump(facts, f, indent=1)
    print(json.dumps(facts, indent=1))


if __name__ == "__main__":
    main()
