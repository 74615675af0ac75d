"""Deterministic "fashion-clutter" canvases: Fashion-MNIST items on cluttered 96x96 RGB scenes.

Every canvas is a pure function of (split, seed, index): the random generator is seeded with
SeedSequence([seed, index]), so any canvas can be regenerated alone, in any order; the bytes are
the same wherever numpy and Pillow are the same versions (Debian 12: numpy 1.24, Pillow 9.4).

Items are drawn from dataset-fashion-mnist (Debian package, MIT licence). The training split feeds
training canvases; the test split feeds test and evaluation canvases.
"""
import gzip
import os
from functools import lru_cache

import numpy as np
from PIL import Image

DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
SIZE = 96
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ITEM_THRESHOLD = 24       # resized intensity (0-255) above which a pixel belongs to the item
FILES = {"train": "train", "test": "t10k"}


@lru_cache(maxsize=2)
def load_split(split):
    """Returns (images uint8 [N,28,28], labels uint8 [N]) of the 'train' or 'test' split."""
    prefix = os.path.join(DATA_DIR, FILES[split])
    with gzip.open(prefix + "-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(prefix + "-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


@lru_cache(maxsize=2)
def indices_by_class(split):
    _, labels = load_split(split)
    return [np.flatnonzero(labels == c) for c in range(len(CLASSES))]


def _resize(gray, w, h):
    return np.asarray(Image.fromarray(gray).resize((w, h), Image.BILINEAR), np.float32)


def _color(rng, lo=0.0, hi=1.0):
    return rng.uniform(lo, hi, 3).astype(np.float32)


def background(rng):
    """Smooth two-colour noise plus faint stripes and grain: texture without object-like shapes."""
    grid = rng.uniform(0, 1, (int(rng.integers(3, 9)),) * 2).astype(np.float32)
    blend = _resize((grid * 255).astype(np.uint8), SIZE, SIZE)[..., None] / 255.0
    a, b = _color(rng), _color(rng)
    img = a * blend + b * (1 - blend)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    angle, period = rng.uniform(0, np.pi), rng.uniform(4, 16)
    stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    img += (rng.uniform(0, 0.12) * stripes)[..., None]
    img += rng.normal(0, rng.uniform(0.01, 0.05), img.shape).astype(np.float32)
    return np.clip(img, 0, 1)


def _tint_against(rng, bg_patch):
    """A random tint whose brightness differs clearly from the background under the item."""
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    bg_luma = float(bg_patch.reshape(-1, 3).mean(0) @ luma)
    for _ in range(100):
        tint = _color(rng, 0.05, 1.0)
        if abs(float(tint @ luma) - bg_luma) > 0.3:
            return tint
    return np.float32([1, 1, 1]) if bg_luma < 0.5 else np.float32([0.05, 0.05, 0.05])


def paste(img, rng, gray, x, y):
    """Alpha-blends a tinted grayscale sprite at (x, y); intensity becomes shading so the
    garment's texture survives the tint. Returns the sprite's item mask."""
    h, w = gray.shape
    region = img[y:y + h, x:x + w]
    tint = _tint_against(rng, region)
    alpha = np.clip(gray / 48.0, 0, 1)[..., None]
    colour = tint * (0.35 + 0.65 * gray[..., None] / 255.0)
    region[:] = alpha * colour + (1 - alpha) * region
    return gray > ITEM_THRESHOLD


def fragment(rng, split, exclude):
    """A small crop (with content) of another item, used as clutter."""
    images, _ = load_split(split)
    while True:
        idx = int(rng.integers(len(images)))
        if idx == exclude:
            continue
        side = int(rng.integers(9, 15))
        x, y = rng.integers(0, 28 - side, 2)
        crop = images[idx, y:y + side, x:x + side]
        if (crop > ITEM_THRESHOLD).mean() > 0.3:
            return crop


def box_of(mask, x, y):
    """Tight box [x0, y0, x1, y1] (exclusive ends) of a sprite mask placed at (x, y)."""
    ys, xs = np.nonzero(mask)
    return [int(x + xs.min()), int(y + ys.min()), int(x + xs.max() + 1), int(y + ys.max() + 1)]


def overlap(a, b):
    """Intersection area over the smaller box's area."""
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / smaller


def _place_items(rng, split, picks, side_range, max_overlap):
    """Chooses sizes and positions for the picked items so their boxes overlap little."""
    images, _ = load_split(split)
    for _ in range(200):
        placed = []
        for idx in picks:
            side = int(rng.integers(side_range[0], side_range[1] + 1))
            sprite = _resize(images[idx], side, side)
            x, y = (int(v) for v in rng.integers(0, SIZE - side + 1, 2))
            mask = sprite > ITEM_THRESHOLD
            placed.append((idx, sprite, x, y, box_of(mask, x, y)))
        boxes = [p[4] for p in placed]
        if all(overlap(a, b) <= max_overlap for i, a in enumerate(boxes) for b in boxes[i + 1:]):
            return placed
    raise RuntimeError("could not place items without overlap")


def _pick_items(rng, split, n_items, same_class):
    """Item indices: one random item, or two of different / of the same class."""
    by_class = indices_by_class(split)
    classes = rng.choice(len(CLASSES), size=n_items, replace=False) if not same_class \
        else np.repeat(rng.integers(len(CLASSES)), n_items)
    picks = []
    for c in classes:
        while True:
            idx = int(rng.choice(by_class[int(c)]))
            if idx not in picks:
                picks.append(idx)
                break
    return picks


def make_canvas(split, seed, index, n_items=1, same_class=False,
                side_range=(32, 72), max_overlap=0.15, item_map=False):
    """Renders canvas number `index` of the stream (split, seed).

    Returns (image uint8 [96,96,3], items), items = [{"class", "label", "box"}], boxes exclusive.
    Clutter fragments go under the items so the labelled items stay whole and dominant.
    With item_map, also a uint8 [96,96] map of each pixel's item (0: none, i + 1: items[i]; a later
    item covers an earlier one); it draws nothing from the random stream, so the canvas is the same."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    _, labels = load_split(split)
    picks = _pick_items(rng, split, n_items, same_class)
    img = background(rng)
    placed = _place_items(rng, split, picks, side_range, max_overlap)
    for _ in range(int(rng.integers(1, 4))):
        side = max(8, int(rng.uniform(0.2, 0.4) * placed[0][1].shape[0]))
        crop = _resize(fragment(rng, split, picks[0]), side, side)
        x, y = (int(v) for v in rng.integers(0, SIZE - side + 1, 2))
        paste(img, rng, crop, x, y)
    items, owner = [], np.zeros((SIZE, SIZE), np.uint8)
    for idx, sprite, x, y, box in placed:
        mask = paste(img, rng, sprite, x, y)
        owner[y:y + mask.shape[0], x:x + mask.shape[1]][mask] = len(items) + 1
        c = int(labels[idx])
        items.append({"class": c, "label": CLASSES[c], "box": box})
    canvas = (img * 255 + 0.5).astype(np.uint8)
    return (canvas, items, owner) if item_map else (canvas, items)


def box_fraction(box):
    return (box[2] - box[0]) * (box[3] - box[1]) / float(SIZE * SIZE)


if __name__ == "__main__":
    import sys
    import time
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/fc_preview"
    os.makedirs(out, exist_ok=True)
    t = time.time()
    for i in range(200):
        img, items = make_canvas("train", 1, i)
    print("ms per canvas", (time.time() - t) * 5)
    for i in range(16):
        img, items = make_canvas("test", 7, i, n_items=1 + i % 2, same_class=i % 4 == 3,
                                 side_range=(32, 72) if i % 2 == 0 else (32, 52))
        Image.fromarray(img).save(f"{out}/{i:02d}.png")
        print(i, items)
