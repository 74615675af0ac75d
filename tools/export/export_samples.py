"""Sample photos from Debian's python3-skimage data into onnx-models/samples/ (each < 500 KB).

    /usr/bin/python3 tools/export/export_samples.py

Files that are already small enough are copied byte for byte (PNG stays PNG, the rocket stays
the original JPEG); the astronaut PNG (790 KB) is re-encoded as JPEG. LICENSE.md records each
photo's origin and licence as skimage.data documents them.
"""
import os
import shutil

import skimage.data
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "onnx-models", "samples")
SRC = os.path.dirname(skimage.data.__file__)
MAX_BYTES = 500 * 1024

# output name, source file in skimage/data, credit and licence (from skimage.data docstrings)
PHOTOS = [
    ("chelsea.png", "chelsea.png", "Chelsea the cat. Photographer Stefan van der Walt; CC0, no copyright restrictions."),
    ("coffee.png", "coffee.png", "Coffee cup, courtesy of Pikolo Espresso Bar. Photographer Rachel Michetti; CC0, no copyright restrictions."),
    ("astronaut.jpg", "astronaut.png", "Astronaut Eileen Collins, NASA Great Images database (https://flic.kr/p/r9qvLn); public domain, no known copyright restrictions."),
    ("rocket.jpg", "rocket.jpg", "Launch of DSCOVR on Falcon 9, SpaceX Photos (https://www.flickr.com/photos/spacexphotos/16511594820/); released by SpaceX into the public domain."),
]

LICENSE_HEAD = """# Sample photos: origin and licences

Copied from the scikit-image sample data shipped by Debian's python3-skimage package
(`skimage/data/`; scikit-image is BSD-3-Clause, the photos carry their own terms below, as
documented in `skimage.data`). Regenerate with `/usr/bin/python3 tools/export/export_samples.py`.

| file | origin and licence |
|---|---|
"""


def export(name, source):
    src, dst = os.path.join(SRC, source), os.path.join(OUT, name)
    if os.path.splitext(name)[1] == os.path.splitext(source)[1]:
        shutil.copyfile(src, dst)
    else:
        Image.open(src).convert("RGB").save(dst, quality=92)
    size = os.path.getsize(dst)
    assert size < MAX_BYTES, f"{name} is {size} bytes"
    return size


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = []
    for name, source, credit in PHOTOS:
        size = export(name, source)
        w, h = Image.open(os.path.join(OUT, name)).size
        rows.append(f"| {name} ({w}x{h}) | {credit} |")
        print(name, size, "bytes", f"{w}x{h}")
    with open(os.path.join(OUT, "LICENSE.md"), "w") as f:
        f.write(LICENSE_HEAD + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
