"""Annotated evaluation sets for the localization metrics, from the Fashion-MNIST TEST split:

    single/       500 canvases, one item whose box covers < 50% of the canvas (paper, 5.2.2)
    two-classes/  200 canvases, two items of different classes, boxes overlapping little (Fig. 7)
    same-class/   200 canvases, two items of the same class (Fig. 8)

    /usr/bin/python3 tools/export/make_eval_sets.py

Each folder holds 0001.png... and annotations.json (boxes in PNG pixels, x1/y1 exclusive); the
two-item sets also hold each canvas's item pixels, 0001.items.png... (8-bit gray: 0 no item, i + 1
item i of annotations.json; a later item covers an earlier one), for segmentation metrics.
Canvases come from fashion_clutter.make_canvas with their own stream seeds, so a rerun writes
byte-identical files; eval-sets.json records seeds, stream indices and sha256 of the canvases and
annotations (onnx-models/manifest.json lists every file, the item maps included).
"""
import json
import os

from PIL import Image

import fashion_clutter as fc
import onnx_export as ox

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "onnx-models", "eval")
MAX_OVERLAP = 0.1          # intersection over the smaller box, for two-item canvases
TWO_ITEM_SIDES = (32, 56)  # two items must fit side by side on 96x96

SETS = {
    "single": dict(count=500, seed=101, n_items=1, same_class=False, side_range=(32, 72)),
    "two-classes": dict(count=200, seed=102, n_items=2, same_class=False, side_range=TWO_ITEM_SIDES),
    "same-class": dict(count=200, seed=103, n_items=2, same_class=True, side_range=TWO_ITEM_SIDES),
}


def accepted(items):
    """The paper's filter for localization: every box covers less than half of the image."""
    return all(fc.box_fraction(it["box"]) < 0.5 for it in items)


def make_set(name, count, seed, n_items, same_class, side_range):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    images, indices, index = [], [], 0
    while len(images) < count:
        # item_map draws nothing from the canvas's random stream: the canvases are those made without it.
        img, items, owner = fc.make_canvas("test", seed, index, n_items=n_items, same_class=same_class,
                                           side_range=side_range, max_overlap=MAX_OVERLAP, item_map=True)
        if accepted(items):
            file = f"{len(images) + 1:04d}.png"
            Image.fromarray(img).save(os.path.join(folder, file), optimize=True)
            if n_items > 1:
                Image.fromarray(owner).save(os.path.join(folder, file[:-4] + ".items.png"), optimize=True)
            images.append({"file": file, "items": items})
            indices.append(index)
        index += 1
    with open(os.path.join(folder, "annotations.json"), "w") as f:
        json.dump({"images": images}, f, indent=1)
    files = ["annotations.json"] + [im["file"] for im in images]
    return {"name": name, "folder": f"eval/{name}", "split": "test", "seed": seed,
            "count": count, "items_per_image": n_items, "same_class": same_class,
            "item_side_range": list(side_range), "max_box_overlap": MAX_OVERLAP if n_items > 1 else None,
            "stream_indices": indices, "sha256": ox.files_with_sha(folder, files)}


def main():
    summary = [make_set(name, **spec) for name, spec in SETS.items()]
    with open(os.path.join(OUT, "eval-sets.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for s in summary:
        print(s["name"], s["count"], "images from", s["stream_indices"][-1] + 1, "canvases")


if __name__ == "__main__":
    main()
