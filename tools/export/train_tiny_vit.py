"""A tiny vision transformer classifier of fashion-clutter canvases: torchvision's own VisionTransformer, small.

    nice -n 10 /usr/bin/python3 tools/export/train_tiny_vit.py [OUT_DIR]   # default onnx-models/tiny-vit

Model: torchvision.models.VisionTransformer(image_size=96, patch_size=12, num_layers=3, num_heads=4,
hidden_dim=64, mlp_dim=128, num_classes=10) with torchvision's convolutional stem in place of the 12x12 patch
projection (conv_stem_configs: 3x3 Conv-BN-ReLU 3->16 stride 2, 16->32 stride 2, 32->64 stride 3, then a 1x1
convolution to the hidden size; 96 -> 48 -> 24 -> 8, so still 8x8 = 64 patch tokens of 12x12 pixels). The stem
is Xiao et al. 2021, "Early Convolutions Help Transformers See Better" (a ViT with it trains faster and more
stably; with the plain projection an earlier attempt here stayed at chance after an epoch). Then the class token, learned
position embeddings, 3 pre-norm encoder blocks (LayerNorm, multi-head attention with its Softmax, LayerNorm, MLP
with GELU), the final LayerNorm and a linear head on the class token. Exported as torchvision exports it
(torch.onnx, dynamic batch: the class token is expanded by the Shape of the input), opset 17 so the norms are
LayerNormalization nodes (the stem's BatchNorms are folded into its convolutions). Input `input`
[batch,3,96,96], output `logits` [batch,10]. Token activations [batch, 65, 64] (class token first, then the 8x8
patches row by row) are tensors of the graph: each block's ln_1 output
`/encoder/layers/encoder_layer_{i}/ln_1/LayerNormalization_output_0` (the last block's is pytorch-grad-cam's
advice for ViT) and the final norm's `/encoder/ln/LayerNormalization_output_0`.

Training: 6000 single-item train-split canvases, horizontal flips, AdamW with one-cycle (peak 1e-3; at 3e-3 and
batch 64 the loss stayed at chance for two epochs), label smoothing 0.1, 4 epochs of batch 32, seeded, 2 threads,
deterministic; the loss and the top-1 accuracy on the first 300 held-out canvases are printed after every epoch. Held-out: 1000 single-item test-split canvases (top-1 accuracy),
and the committed eval sets (eval/single: the item's class; two-classes: either item's class).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_clutter as fc  # noqa: E402
import tiny_common as tc  # noqa: E402

SEED = 9
TRAIN_SEED, TEST_SEED = 21, 22
TRAIN, TEST, EPOCHS, BATCH, PEAK_LR = 6000, 1000, 4, 32, 1e-3
NAME = "tiny-vit"
CONFIG = dict(image_size=tc.SIZE, patch_size=12, num_layers=3, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10)
STEM = [(16, 3, 2), (32, 3, 2), (64, 3, 3)]     # (out_channels, kernel_size, stride) of each Conv-BN-ReLU
OPSET = 17


def build():
    """The untrained model (make_tiny_references.py loads the trained weights into it)."""
    stem = [torchvision.models.vision_transformer.ConvStemConfig(*s) for s in STEM]
    return torchvision.models.VisionTransformer(**CONFIG, conv_stem_configs=stem)


def token_layers():
    return [f"/encoder/layers/encoder_layer_{i}/ln_1/LayerNormalization_output_0" for i in range(CONFIG["num_layers"])] \
        + ["/encoder/ln/LayerNormalization_output_0"]


def accuracy(model, images, labels):
    right = 0
    with torch.no_grad():
        for i in range(0, len(images), 200):
            right += int((model(tc.normalize(images[i:i + 200])).argmax(1) == torch.tensor(labels[i:i + 200])).sum())
    return right / len(images)


def eval_set_accuracy(model, name):
    folder = os.path.join(tc.ROOT, "onnx-models", "eval", name)
    with open(os.path.join(folder, "annotations.json")) as f:
        entries = json.load(f)["images"]
    right = 0
    with torch.no_grad():
        for e in entries:
            png = np.asarray(Image.open(os.path.join(folder, e["file"])).convert("RGB"))
            right += int(model(tc.normalize(png[None])).argmax()) in {it["class"] for it in e["items"]}
    return right / len(entries)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tc.ROOT, "onnx-models", NAME)
    os.makedirs(out, exist_ok=True)
    tc.setup(SEED)
    images, _, items = tc.canvases("train", TRAIN_SEED, TRAIN, 1)
    labels = torch.tensor([its[0]["class"] for its in items])
    test_images, _, test_items = tc.canvases("test", TEST_SEED, TEST, 1)
    test_labels = [its[0]["class"] for its in test_items]
    model = build()
    opt = torch.optim.AdamW(model.parameters(), lr=PEAK_LR, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, PEAK_LR, total_steps=EPOCHS * (TRAIN // BATCH), pct_start=0.1)
    flips = torch.Generator().manual_seed(SEED)

    steps = []

    def step(idx, epoch):
        model.train()
        x = tc.normalize(images[idx.tolist()])
        flip = torch.rand(len(idx), generator=flips) < 0.5
        x[flip] = x[flip].flip(-1)
        loss = F.cross_entropy(model(x), labels[idx], label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        steps.append(loss.item())
        if len(steps) % 50 == 0:
            print(f"step {len(steps)}: mean loss of the last 50 {sum(steps[-50:]) / 50:.4f}", flush=True)
        return loss.item()

    def progress():
        model.eval()
        return f"top-1 {accuracy(model, test_images[:300], test_labels[:300]):.3f} on 300 held-out"

    seconds = tc.epochs(TRAIN, BATCH, EPOCHS, SEED, step, progress)
    model.eval()
    tc.save_weights(model, NAME)
    metrics = {"accuracy": accuracy(model, test_images, test_labels),
               "canvases": TEST,
               "eval_accuracy": {s: eval_set_accuracy(model, s) for s in ("single", "two-classes")}}
    print(json.dumps(metrics, indent=1))

    tc.export(model, os.path.join(out, f"{NAME}.onnx"), "input", ["logits"], opset=OPSET)
    tc.write_sidecars(out, NAME, fc.CLASSES)
    tokens = {}

    def forward(x):
        hooks = [model.encoder.layers[-1].ln_1.register_forward_hook(lambda m, i, o: tokens.update(tokens=o))]
        try:
            return {"logits": model(x), "tokens": tokens["tokens"]}
        finally:
            for h in hooks:
                h.remove()

    sample = tc.write_sample(out, forward, max_items=1)
    sample["tokens_layer"] = token_layers()[-2]
    tc.write_facts(out, NAME, {
        "name": NAME, "file": f"{NAME}.onnx", "kind": "vit-classifier", "opset": OPSET,
        "source": {"class": "torchvision.models.VisionTransformer", "args": CONFIG,
                   "conv_stem_configs": [dict(zip(("out_channels", "kernel_size", "stride"), s)) for s in STEM]},
        "input": {"name": "input", "shape": ["batch", 3, tc.SIZE, tc.SIZE]},
        "outputs": [{"name": "logits", "shape": ["batch", 10]}],
        "token_layers": token_layers(), "token_shape": ["batch", 1 + (tc.SIZE // CONFIG["patch_size"]) ** 2,
                                                          CONFIG["hidden_dim"]],
        "patch_grid": [tc.SIZE // CONFIG["patch_size"]] * 2,
        "num_classes": 10, "labels": "labels.txt", "parameters": tc.parameters(model),
        "seed": SEED, "train": {"canvases": TRAIN, "stream": ["train", TRAIN_SEED], "epochs": EPOCHS, "batch": BATCH,
                                "peak_lr": PEAK_LR, "seconds": round(seconds)},
        "test": {"stream": ["test", TEST_SEED], **metrics}, "sample": sample})


if __name__ == "__main__":
    main()
