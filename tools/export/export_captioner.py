"""A toy image-to-next-word model for section 5.5.3 (eq. 8): f(I, S, s_k) = P(s_k | I, s_1..s_{k-1}).

    /usr/bin/python3 tools/export/export_captioner.py [OUT_DIR]     # default: onnx-models/captions

Canvases: 64x64, a coloured shape in the left half and one in the right half on a noisy grey
background. Caption: "<bos> left COLOUR SHAPE right COLOUR SHAPE <eos>" over a 10-word vocabulary.
Model: a CNN encoder (its last convolution, 32x16x16 after ReLU, is the target layer) whose 2x2
average-pooled features set the initial state of a GRU decoder; the GRU reads the previous words
as FLOAT one-hot vectors, left-padded with zero vectors to 7 steps, and its last state together
with the pooled features gives the next word's logits. Inputs: `image` [batch,3,64,64] and `tokens` [batch,7,10]; outputs `logits`
[batch,10] and `probabilities` [batch,10] (their softmax).

Writes captioner.onnx, vocab.txt, captioner.preprocess.json, sample.png, sample.input.npy and
two prefixes of the sample's caption as feeds: prefix-right.npy ([1,7,10], before the right-hand
shape) and prefix-left.npy ([7,10], no batch dimension, before the left-hand shape). For each
prefix an independent PyTorch Score-CAM (eq. 1-5, eq. 8's probability as the weight) writes the
expected low-resolution map scorecam-right.npy / scorecam-left.npy; reference.json holds the
words, the probabilities and the training facts. Seeded: the same numbers on every run with the
same torch/numpy versions (Debian 12: torch 1.13, numpy 1.24). About a minute on 2 cores.
"""
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_export import OPSET, sha256  # noqa: E402

SEED = 0
SIZE = 64
STEPS = 7
VOCAB = ["<bos>", "<eos>", "left", "right", "red", "green", "blue", "square", "circle", "triangle"]
COLOURS = {"red": (0.85, 0.1, 0.1), "green": (0.1, 0.7, 0.15), "blue": (0.15, 0.2, 0.9)}
SHAPES = ["square", "circle", "triangle"]
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
TRAIN_IMAGES, EPOCHS, BATCH = 3000, 8, 50


def shape_mask(kind, cx, cy, r):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    if kind == "square":
        return (abs(xx - cx) <= r) & (abs(yy - cy) <= r)
    if kind == "circle":
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    # an upright triangle: apex at the top, base at the bottom
    t = (yy - (cy - r)) / (2 * r)
    return (t >= 0) & (t <= 1) & (abs(xx - cx) <= t * r)


def canvas(rng):
    """One canvas (uint8 64x64x3) and its caption as word indices."""
    img = np.full((SIZE, SIZE, 3), rng.uniform(0.45, 0.75), np.float32)
    img += rng.normal(0, 0.06, img.shape).astype(np.float32)
    words = ["<bos>"]
    for side, x0 in (("left", 0), ("right", SIZE // 2)):
        colour, kind = rng.choice(list(COLOURS)), rng.choice(SHAPES)
        r = float(rng.uniform(6, 11))
        cx, cy = float(rng.uniform(x0 + r + 1, x0 + SIZE // 2 - r - 1)), float(rng.uniform(r + 1, SIZE - r - 1))
        m = shape_mask(kind, cx, cy, r)
        img[m] = np.float32(COLOURS[colour]) + rng.normal(0, 0.03, (int(m.sum()), 3)).astype(np.float32)
        words += [side, colour, kind]
    words.append("<eos>")
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), [VOCAB.index(w) for w in words]


def preprocess(uint8):
    x = torch.from_numpy(uint8.astype(np.float32) / 255).permute(2, 0, 1)
    return (x - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]


def prefix(caption, k):
    """The first k words, one-hot, left-padded with zero vectors to STEPS rows."""
    t = torch.zeros(STEPS, len(VOCAB))
    for i, w in enumerate(caption[:k]):
        t[STEPS - k + i, w] = 1
    return t


class Captioner(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())          # target layer: 32x16x16
        self.pool = nn.AvgPool2d(8)                              # 2x2: keeps left from right
        self.init = nn.Linear(32 * 4, hidden)
        self.gru = nn.GRU(len(VOCAB), hidden, batch_first=True)
        self.head = nn.Linear(hidden + 32 * 4, len(VOCAB))      # the image's features join the last state

    def features(self, image):
        return self.encoder(image)

    def decode(self, features, tokens):
        pooled = self.pool(features).flatten(1)
        out, _ = self.gru(tokens, torch.tanh(self.init(pooled)).unsqueeze(0))
        return self.head(torch.cat([out[:, -1], pooled], 1))

    def forward(self, image, tokens):
        logits = self.decode(self.features(image), tokens)
        return logits, torch.softmax(logits, dim=1)


def train(model, rng):
    data = [canvas(rng) for _ in range(TRAIN_IMAGES)]
    images = torch.stack([preprocess(d[0]) for d in data])
    # every prefix of every caption: k = 1..7 words given, word k to predict
    prefixes = torch.stack([torch.stack([prefix(d[1], k) for k in range(1, STEPS + 1)]) for d in data])
    targets = torch.tensor([[d[1][k] for k in range(1, STEPS + 1)] for d in data])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(SEED)
    start = time.time()
    for epoch in range(EPOCHS):
        order = torch.randperm(TRAIN_IMAGES, generator=g)
        total = 0.0
        for i in range(0, TRAIN_IMAGES, BATCH):
            idx = order[i:i + BATCH]
            feats = model.features(images[idx])
            feats = feats.repeat_interleave(STEPS, 0)
            logits = model.decode(feats, prefixes[idx].flatten(0, 1))
            loss = F.cross_entropy(logits, targets[idx].flatten())
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}: loss {total / TRAIN_IMAGES:.4f} ({time.time() - start:.0f} s)", flush=True)


def caption_accuracy(model, rng, n=500):
    """Greedy decoding of whole captions on fresh canvases: the fraction decoded exactly."""
    right = 0
    with torch.no_grad():
        for _ in range(n):
            img, caption = canvas(rng)
            x = preprocess(img)[None]
            words = [0]
            while len(words) < len(caption):
                logits, _ = model(x, prefix(words, len(words))[None])
                words.append(int(logits.argmax()))
            right += words == caption
    return right / n


def score_cam(model, x, tokens, word):
    """Independent Score-CAM (eq. 1-5) with eq. 8's probability of `word` as each map's weight."""
    with torch.no_grad():
        a = model.features(x)[0]                                  # K x h x w
        weights = torch.zeros(a.shape[0])
        for k in range(a.shape[0]):
            up = F.interpolate(a[k][None, None], size=x.shape[2:], mode="bilinear", align_corners=False)[0, 0]
            lo, hi = up.min(), up.max()
            if hi == lo:
                continue                                          # constant map: no mask, weight 0
            mask = (up - lo) / (hi - lo)                          # eq. 1
            _, p = model(x * mask, tokens)                        # eq. 2, eq. 8
            weights[k] = p[0, word]                               # eq. 3-4
        return torch.relu((weights[:, None, None] * a).sum(0))   # eq. 5


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "onnx-models", "captions")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = np.random.default_rng(SEED)
    model = Captioner()
    train(model, rng)
    model.eval()
    accuracy = caption_accuracy(model, np.random.default_rng(SEED + 1))
    print(f"whole captions right (greedy, 500 fresh canvases): {accuracy:.3f}")

    path = os.path.join(out, "captioner.onnx")
    dummy = (torch.zeros(1, 3, SIZE, SIZE), torch.zeros(1, STEPS, len(VOCAB)))
    names = ["image", "tokens", "logits", "probabilities"]
    torch.onnx.export(model, dummy, path, input_names=names[:2], output_names=names[2:],
                      dynamic_axes={n: {0: "batch"} for n in names}, opset_version=OPSET, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(out, "captioner.preprocess.json"), "w") as f:
        json.dump({"width": SIZE, "height": SIZE, "resize": "stretch", "scale": 1, "mean": MEAN, "std": STD,
                   "bgr": False, "labels": "vocab.txt"}, f)

    sample, caption = canvas(np.random.default_rng(SEED + 2))
    Image.fromarray(sample).save(os.path.join(out, "sample.png"))
    x = preprocess(np.asarray(Image.open(os.path.join(out, "sample.png")).convert("RGB")))[None]
    np.save(os.path.join(out, "sample.input.npy"), x.numpy().astype("<f4"))
    reference = {"caption": [VOCAB[w] for w in caption], "opset": OPSET, "seed": SEED,
                 "train_images": TRAIN_IMAGES, "epochs": EPOCHS, "caption_accuracy": accuracy, "cases": {}}
    for name, k, batch_dim in (("right", 6, True), ("left", 3, False)):
        tokens = prefix(caption, k)
        np.save(os.path.join(out, f"prefix-{name}.npy"), (tokens[None] if batch_dim else tokens).numpy().astype("<f4"))
        word = caption[k]
        with torch.no_grad():
            logits, p = model(x, tokens[None])
        cam = score_cam(model, x, tokens[None], word)
        np.save(os.path.join(out, f"scorecam-{name}.npy"), cam.numpy().astype("<f4"))
        reference["cases"][name] = {"prefix": [VOCAB[w] for w in caption[:k]], "word": VOCAB[word], "index": word,
                                    "probability": float(p[0, word]), "logits": logits[0].tolist(),
                                    "argmax": VOCAB[int(logits.argmax())], "map_max": float(cam.max())}
        print(name, reference["cases"][name]["prefix"], "->", VOCAB[word], f"p={float(p[0, word]):.4f}")
    files = sorted(f for f in os.listdir(out) if f != "reference.json" and f != "MODEL_CARD.md")
    reference["sha256"] = {f: sha256(os.path.join(out, f)) for f in files}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
