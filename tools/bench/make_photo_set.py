#!/usr/bin/env python3
"""Writes the photo set for the channel-selection curve on the ImageNet ResNet-18 trunk (docs/performance.md):
six of skimage's photos, each with a hand-drawn box around its main object (in the photo's pixels, x1 and y1
exclusive), as an annotated set (annotations.json; "class" is unused, the target is a similarity), plus the trunk's
preprocessing (BGR, 0..255, per-channel means of its mean image) as trunk.preprocess.json.

Usage: /usr/bin/python3 tools/bench/make_photo_set.py [OUT_DIR=tools/.cache/photo-set]
"""
import json
import os
import sys

from PIL import Image
import skimage.data

# name in skimage.data, file written, object, box [x0, y0, x1, y1]
PHOTOS = [
    ("chelsea", "chelsea.png", "cat's face", [90, 60, 370, 300]),
    ("coffee", "coffee.png", "cup and spoon", [170, 15, 425, 330]),
    ("astronaut", "astronaut.png", "astronaut", [20, 15, 375, 512]),
    ("rocket", "rocket.png", "rocket", [300, 125, 345, 410]),
    ("stereo_motorcycle", "motorcycle.png", "motorcycle", [90, 95, 690, 440]),
    ("camera", "camera.png", "cameraman, camera and tripod", [0, 65, 410, 512]),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".cache", "photo-set")
    os.makedirs(out, exist_ok=True)
    images = []
    for name, file, label, box in PHOTOS:
        pixels = getattr(skimage.data, name)()
        if name == "stereo_motorcycle":
            pixels = pixels[0]  # the left view
        picture = Image.fromarray(pixels).convert("RGB")
        assert box[2] <= picture.width and box[3] <= picture.height, (name, picture.size, box)
        picture.save(os.path.join(out, file))
        images.append({"file": file, "items": [{"class": 0, "label": label, "box": box}]})
    with open(os.path.join(out, "annotations.json"), "w") as f:
        json.dump({"images": images}, f, indent=1)
    with open(os.path.join(out, "trunk.preprocess.json"), "w") as f:
        json.dump({"width": 224, "height": 224, "scale": 255, "bgr": True,
                   "mean": [103.06, 115.90, 123.15], "std": [1, 1, 1]}, f, indent=1)
    print(f"{len(images)} photos in {out}")


if __name__ == "__main__":
    main()
