"""A tiny vision transformer classifier of fashion-clutter canvases: torchvision's own VisionTransformer, small.

    nice -n 10 /usr/bin/python3 tools/export/train_tiny_vit.py [OUT_DIR]   # default onnx-models/tiny-vit

Model: a hybrid ViT (Dosovitskiy et al. 2021, section 3.1: the patch embedding applied to a CNN's feature map):
torchvision.models.VisionTransformer(image_size=96, patch_size=12, num_layers=3, num_heads=4, hidden_dim=64,
mlp_dim=128, num_classes=10) whose patch projection `conv_proj` is the first two stages of the committed
fashion-clutter CNN (onnx-models/fashion-clutter: stem, layer1, layer2; 96 -> 48 -> 24, 64 channels; its weights
read from that ONNX file with the BatchNorms folded, kept frozen) followed by a trained 3x3 stride-3 convolution to
the hidden size: 8x8 = 64 patch tokens of 12x12 pixels. Then torchvision's class token, learned position embeddings,
3 pre-norm encoder blocks (LayerNorm, multi-head attention with its Softmax, LayerNorm, MLP with GELU), the final
LayerNorm and a linear head on the class token. (Trained from scratch, a plain 12x12 patch projection and a
torchvision convolutional stem both stayed at chance for 100-190 steps on this machine's CPU budget.) Exported as
torchvision exports it (torch.onnx, dynamic batch: the class token is expanded by the Shape of the input), opset 17
so the norms are LayerNormalization nodes. Input `input` [batch,3,96,96], output `logits` [batch,10]. Token
activations [batch, 65, 64] (class token first, then the 8x8 patches row by row) are tensors of the graph: each
block's ln_1 output `/encoder/layers/encoder_layer_{i}/ln_1/LayerNormalization_output_0` (the last block's is
pytorch-grad-cam's advice for ViT) and the final norm's `/encoder/ln/LayerNormalization_output_0`.

Training: the first 4000 single-item train-split canvases; the frozen stages' features are computed once, then the
projection, encoder and head train on them (no augmentation): AdamW with one-cycle (peak 1e-3), label smoothing
0.1, 3 epochs of batch 32, seeded, 2 threads, deterministic; the loss every 50 steps and the top-1 accuracy on the
first 300 held-out canvases after every epoch are printed. Held-out: 1000 single-item test-split canvases (top-1
accuracy), and the committed eval sets (eval/single: the item's class; two-classes: either item's class).
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
import train_fashion_clutter as cnn  # noqa: E402

SEED = 9
TRAIN_SEED, TEST_SEED = 21, 22
TRAIN, TEST, EPOCHS, BATCH, PEAK_LR = 4000, 1000, 3, 32, 1e-3
CACHED = 6000                                    # canvases of the cached stream; the first TRAIN are used
NAME = "tiny-vit"
CONFIG = dict(image_size=tc.SIZE, patch_size=12, num_layers=3, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10)
OPSET = 17
TRUNK = os.path.join(tc.ROOT, "onnx-models", "fashion-clutter", "fashion-clutter.onnx")


def build():
    """The model with the frozen CNN stages in its patch projection (make_tiny_references.py loads the trained
    weights into it)."""
    trunk_net = tc.load_from_onnx(cnn.FashionClutterNet(), TRUNK)
    trunk = torch.nn.Sequential(trunk_net.stem, trunk_net.layer1, trunk_net.layer2)
    for p in trunk.parameters():
        p.requires_grad_(False)
    model = torchvision.models.VisionTransformer(**CONFIG)
    model.conv_proj = torch.nn.Sequential(trunk, torch.nn.Conv2d(64, CONFIG["hidden_dim"], 3, 3))
    return model


def from_features(model, features):
    """VisionTransformer.forward from the frozen stages' output: the projection, then torchvision's own steps."""
    x = model.conv_proj[1](features)
    n = x.shape[0]
    x = x.reshape(n, model.hidden_dim, -1).permute(0, 2, 1)
    x = torch.cat([model.class_token.expand(n, -1, -1), x], dim=1)
    return model.heads(model.encoder(x)[:, 0])


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
    images, _, items = tc.canvases("train", TRAIN_SEED, CACHED, 1)
    images, items = images[:TRAIN], items[:TRAIN]
    labels = torch.tensor([its[0]["class"] for its in items])
    test_images, _, test_items = tc.canvases("test", TEST_SEED, TEST, 1)
    test_labels = [its[0]["class"] for its in test_items]
    model = build()
    trunk = model.conv_proj[0].eval()
    with torch.no_grad():
        features = torch.cat([trunk(tc.normalize(images[i:i + 200])) for i in range(0, TRAIN, 200)])
        probe = tc.normalize(images[:4])
        assert torch.allclose(model.eval()(probe), from_features(model, trunk(probe)), atol=1e-5)
    print(f"features {tuple(features.shape)} computed", flush=True)
    trained = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trained, lr=PEAK_LR, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, PEAK_LR, total_steps=EPOCHS * (TRAIN // BATCH), pct_start=0.1)
    steps = []

    def step(idx, epoch):
        model.train()
        trunk.eval()
        loss = F.cross_entropy(from_features(model, features[idx]), labels[idx], label_smoothing=0.1)
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
                   "conv_proj": "fashion-clutter stem, layer1, layer2 (frozen, from fashion-clutter.onnx), "
                                "Conv2d(64, 64, 3, stride 3)"},
        "input": {"name": "input", "shape": ["batch", 3, tc.SIZE, tc.SIZE]},
        "outputs": [{"name": "logits", "shape": ["batch", 10]}],
        "token_layers": token_layers(), "token_shape": ["batch", 1 + (tc.SIZE // CONFIG["patch_size"]) ** 2,
                                                          CONFIG["hidden_dim"]],
        "patch_grid": [tc.SIZE // CONFIG["patch_size"]] * 2,
        "num_classes": 10, "labels": "labels.txt", "parameters": tc.parameters(model),
        "trained_parameters": int(sum(p.numel() for p in trained)),
        "seed": SEED, "train": {"canvases": TRAIN, "stream": ["train", TRAIN_SEED], "epochs": EPOCHS, "batch": BATCH,
                                "peak_lr": PEAK_LR, "seconds": round(seconds)},
        "test": {"stream": ["test", TEST_SEED], **metrics}, "sample": sample})


if __name__ == "__main__":
    main()
