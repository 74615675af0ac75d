"""What the tiny detector, segmenter and ViT scripts share: cached fashion-clutter canvases with their
items' boxes and pixels, the preprocessing, a seeded training loop's plumbing, the ONNX export and the
files every model folder holds (labels, preprocess sidecar, sample, facts).

Canvases of 1 to 3 items come from fashion_clutter.make_canvas (train split for training, test split
for the held-out set) and are cached in tools/.cache/tiny/ as .npz; item sizes shrink with the item
count so the items fit side by side.
"""
import json
import os
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch

import fashion_clutter as fc
import onnx_export as ox

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CACHE = os.path.join(ROOT, "tools", ".cache", "tiny")
SIZE = fc.SIZE
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
SIDES = {1: (32, 72), 2: (28, 56), 3: (24, 48)}      # item side range by item count
THREADS = 2


def setup(seed):
    """Seeded, deterministic, 2-thread torch (the same numbers on every run with the same torch and BLAS)."""
    torch.manual_seed(seed)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)


def canvases(split, seed, count, max_items):
    """Canvases i = 0..count-1 of stream (split, seed) with 1 + i % max_items items.

    Returns (images uint8 [N,96,96,3], owners uint8 [N,96,96] (0 none, j + 1 item j), items per canvas)."""
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, f"{split}-s{seed}-n{count}-m{max_items}.npz")
    if not os.path.exists(path):
        images = np.zeros((count, SIZE, SIZE, 3), np.uint8)
        owners = np.zeros((count, SIZE, SIZE), np.uint8)
        items = []
        for i in range(count):
            n = 1 + i % max_items
            images[i], its, owners[i] = fc.make_canvas(split, seed, i, n_items=n, side_range=SIDES[n], item_map=True)
            items.append(its)
        np.savez(path + ".tmp.npz", images=images, owners=owners, items=json.dumps(items))
        os.replace(path + ".tmp.npz", path)
    data = np.load(path)
    return data["images"], data["owners"], json.loads(str(data["items"]))


def class_map(owner, items):
    """Per-pixel class of a canvas: 0 background, class + 1 where an item's pixels are."""
    lookup = np.zeros(len(items) + 1, np.int64)
    for j, it in enumerate(items):
        lookup[j + 1] = it["class"] + 1
    return lookup[owner]


def normalize(batch_uint8):
    """uint8 NHWC -> float NCHW in [0,1], then ImageNet mean/std (every tiny model's preprocessing)."""
    x = torch.from_numpy(np.array(batch_uint8)).permute(0, 3, 1, 2).float() / 255.0
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def epochs(count, batch, n_epochs, seed, step, after_epoch=None):
    """Runs `step(indices, epoch)` over seeded shuffles; prints the mean loss and time of every epoch, and what
    `after_epoch()` (a held-out measure, say) returns."""
    start = time.time()
    for epoch in range(n_epochs):
        order = torch.randperm(count, generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        total = 0.0
        for i in range(0, count - batch + 1, batch):
            total += step(order[i:i + batch], epoch) * batch
        extra = f", {after_epoch()}" if after_epoch else ""
        print(f"epoch {epoch + 1}/{n_epochs}: loss {total / count:.4f}{extra} ({time.time() - start:.0f} s)", flush=True)
    return time.time() - start


def export(model, path, input_name, output_names, opset=ox.OPSET):
    """torch.onnx.export with a dynamic batch dimension on the input and every output; checked by onnx.

    Traced with gradients enabled: under no_grad torch 1.13 takes nn.MultiheadAttention's fused inference path,
    which has no ONNX form."""
    x = torch.zeros(1, 3, SIZE, SIZE)
    axes = {n: {0: "batch"} for n in [input_name, *output_names]}
    torch.onnx.export(model, x, path, input_names=[input_name], output_names=output_names,
                      dynamic_axes=axes, opset_version=opset, do_constant_folding=True)
    graph = onnx.load(path)
    onnx.checker.check_model(graph)
    return graph


def write_sidecars(out, name, labels):
    """labels.txt and NAME.preprocess.json (the library's sidecar: stretch to 96x96, ImageNet mean/std)."""
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("\n".join(labels) + "\n")
    with open(os.path.join(out, f"{name}.preprocess.json"), "w") as f:
        json.dump({"width": SIZE, "height": SIZE, "resize": "stretch", "scale": 1, "mean": MEAN, "std": STD,
                   "bgr": False, "labels": "labels.txt"}, f)


def write_sample(out, model_forward, split="test", seed=9, index=0, max_items=2):
    """sample.png (a two-item test canvas) and sample.input.npy (its preprocessed tensor, 1x3x96x96), plus the
    model's outputs on it saved as sample.<output>.npy. Returns the sample's facts."""
    from PIL import Image
    n = max_items
    img, items, owner = fc.make_canvas(split, seed, index, n_items=n, side_range=SIDES[n], item_map=True)
    Image.fromarray(img).save(os.path.join(out, "sample.png"), optimize=True)
    Image.fromarray(owner).save(os.path.join(out, "sample.items.png"), optimize=True)
    png = np.asarray(Image.open(os.path.join(out, "sample.png")).convert("RGB"))
    x = normalize(png[None])
    np.save(os.path.join(out, "sample.input.npy"), x.numpy().astype("<f4"))
    with torch.no_grad():
        outputs = model_forward(x)
    for key, value in outputs.items():
        np.save(os.path.join(out, f"sample.{key}.npy"), value.numpy().astype("<f4"))
    return {"file": "sample.png", "items_file": "sample.items.png", "input": "sample.input.npy",
            "outputs": {k: f"sample.{k}.npy" for k in outputs}, "items": items,
            "stream": {"split": split, "seed": seed, "index": index, "n_items": n}}


def write_facts(out, name, facts):
    facts["opset"] = facts.get("opset", ox.OPSET)
    facts["torch"] = torch.__version__
    facts["sha256"] = {f: ox.sha256(os.path.join(out, f)) for f in sorted(os.listdir(out))
                       if f not in (f"{name}.json", "MODEL_CARD.md")}
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(facts, f, indent=1)
        f.write("\n")


def save_weights(model, name):
    """The trained state dict, in tools/.cache/tiny/NAME.pt: make_tiny_references.py reads it back."""
    torch.save(model.state_dict(), os.path.join(CACHE, f"{name}.pt"))


def parameters(model):
    return int(sum(p.numel() for p in model.parameters()))


def module_path(node_name):
    """The module path of an exported node from its scope, e.g. /heads.0/box/box.0/box.0.0/Conv -> heads.0.box.0.0
    (torch.onnx names each scope by the module's name in its parent, prefixed by the parent's scope name when the
    parent is a container)."""
    parts, previous = [], None
    for scope in node_name.strip("/").split("/")[:-1]:
        parts.append(scope[len(previous) + 1:] if previous and scope.startswith(previous + ".") else scope)
        previous = scope
    return ".".join(parts)


def load_from_onnx(model, path):
    """Loads a model's trained weights back from its exported ONNX graph (when NAME.pt is gone): every Conv node
    named /.../MODULE/Conv carries the weight and bias of module MODULE with the BatchNorm registered right after it
    (the next in its Sequential, or bn1 after conv1) folded in, so that conv takes them and the BatchNorm becomes an
    Identity. Other layers (Linear, buffers) keep the constructor's values. Returns the model in eval mode; check its
    outputs against the exported model's."""
    graph = onnx.load(path).graph
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    convs = 0
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        path_ = module_path(node.name)
        conv = model.get_submodule(path_)
        parent_path, _, name = path_.rpartition(".")
        parent = model.get_submodule(parent_path)
        siblings = list(parent.named_children())
        after = [i + 1 for i, (n, _) in enumerate(siblings) if n == name]
        if after and after[0] < len(siblings) and isinstance(siblings[after[0]][1], torch.nn.BatchNorm2d):
            setattr(parent, siblings[after[0]][0], torch.nn.Identity())
        with torch.no_grad():
            conv.weight.copy_(weights[node.input[1]])
            bias = weights[node.input[2]] if len(node.input) > 2 else torch.zeros(conv.out_channels)
            if conv.bias is None:
                conv.bias = torch.nn.Parameter(bias.clone())
            else:
                conv.bias.copy_(bias)
        convs += 1
    if convs != sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()):
        raise SystemExit(f"{path}: {convs} Conv nodes for {sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())} convolutions")
    return model.eval()
