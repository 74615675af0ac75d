"""Trains the "fashion-clutter" residual CNN on 2 CPU cores, deterministically and resumably.

    nice -n 10 /usr/bin/python3 tools/export/train_fashion_clutter.py

Canvases are pre-generated once into tools/.cache/fashion-clutter/ (uint8 .npy, memory-mapped);
every epoch writes a checkpoint there and a rerun resumes from the last one. The shuffle order
and flips of epoch e come from a generator seeded with (SEED, e), so a resumed run follows the
same trajectory as an uninterrupted one.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import fashion_clutter as fc

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(HERE, "..", ".cache", "fashion-clutter")
SEED = 20240601
TRAIN_SEED, TEST_SEED = 1, 2            # canvas stream seeds (train split / test split)
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class Block(nn.Module):
    """torchvision-style basic block: conv-bn-relu-conv-bn, residual Add, then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class FashionClutterNet(nn.Module):
    """96x96 -> stem (48x48, 32ch) -> 48x48x32 -> 24x24x64 -> 12x12x128 (x2 blocks) -> GAP -> fc."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.layer1 = Block(32, 32, 1)
        self.layer2 = Block(32, 64, 2)
        self.layer3 = nn.Sequential(Block(64, 128, 2), Block(128, 128, 1))
        self.fc = nn.Linear(128, num_classes)

    def features(self, x):
        """The last conv block's output after its ReLU: the Score-CAM target layer (Kx12x12)."""
        return self.layer3(self.layer2(self.layer1(self.stem(x))))

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


def normalize(batch_uint8):
    """uint8 NHWC -> float NCHW, scaled to [0,1] then ImageNet mean/std (the model's preprocessing)."""
    x = torch.from_numpy(np.array(batch_uint8))  # a copy: memmap slices are read-only
    x = x.permute(0, 3, 1, 2).float() / 255.0
    return (x - MEAN) / STD


def canvases(split, seed, count):
    """Pre-generated canvases (memory-mapped uint8 [N,96,96,3]) and labels, cached on disk."""
    os.makedirs(CACHE, exist_ok=True)
    stem = os.path.join(CACHE, f"{split}-s{seed}-n{count}")
    if not os.path.exists(stem + ".labels.npy"):
        images = np.lib.format.open_memmap(stem + ".tmp.npy", "w+", np.uint8, (count, 96, 96, 3))
        labels = np.zeros(count, np.int64)
        for i in range(count):
            images[i], items = fc.make_canvas(split, seed, i)
            labels[i] = items[0]["class"]
            if i % 5000 == 0:
                print(f"generated {split} {i}/{count}", flush=True)
        images.flush()
        del images
        os.replace(stem + ".tmp.npy", stem + ".npy")
        np.save(stem + ".labels.npy", labels)
    return np.load(stem + ".npy", mmap_mode="r"), np.load(stem + ".labels.npy")


def evaluate(model, images, labels, batch=250):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(labels), batch):
            pred = model(normalize(images[i:i + batch])).argmax(1).numpy()
            correct += int((pred == labels[i:i + batch]).sum())
    return correct / len(labels)


def train_epoch(model, opt, sched, images, labels, epoch, batch, max_steps=None):
    """One pass in an order (and with flips) fixed by (SEED, epoch); the first max_steps steps only when given."""
    model.train()
    g = torch.Generator().manual_seed(SEED * 1000 + epoch)
    order = torch.randperm(len(labels), generator=g).numpy()
    flips = torch.rand(len(labels), generator=g).numpy() < 0.5
    total, seen = 0.0, 0
    for i in range(0, len(order) - batch + 1, batch):
        if max_steps is not None and i // batch == max_steps:
            break
        idx = np.sort(order[i:i + batch])        # sorted reads are faster on the memmap
        x = normalize(images[idx])
        f = torch.from_numpy(flips[idx])
        x[f] = x[f].flip(3)
        loss = F.cross_entropy(model(x), torch.from_numpy(labels[idx]), label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        total, seen = total + loss.item() * len(idx), seen + len(idx)
    return total / seen


def build(args, steps_per_epoch):
    torch.manual_seed(SEED)
    model = FashionClutterNet()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.15)
    return model, opt, sched


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", type=int, default=45000, help="training canvases")
    p.add_argument("--test", type=int, default=2000, help="test canvases")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--time-only", action="store_true", help="time 20 steps and exit")
    p.add_argument("--early-steps", type=int, help="stop after this many steps of the first epoch (same "
                   "seeds and schedule as the full run) and save fashion-clutter-early.pt")
    args = p.parse_args()
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    tr_x, tr_y = canvases("train", TRAIN_SEED, args.train)
    te_x, te_y = canvases("test", TEST_SEED, args.test)
    model, opt, sched = build(args, len(tr_y) // args.batch)
    if args.time_only:
        t = time.time()
        train_epoch(model, opt, sched, tr_x[:20 * args.batch], tr_y[:20 * args.batch], 0, args.batch)
        per_step = (time.time() - t) / 20
        print(f"{per_step:.3f}s/step -> {per_step * len(tr_y) / args.batch / 60:.1f} min/epoch")
        return
    if args.early_steps is not None:
        t = time.time()
        loss = train_epoch(model, opt, sched, tr_x, tr_y, 0, args.batch, args.early_steps)
        acc = evaluate(model, te_x, te_y)
        torch.save(model.state_dict(), os.path.join(CACHE, "fashion-clutter-early.pt"))
        with open(os.path.join(CACHE, "train-early-result.json"), "w") as f:
            json.dump({"steps": args.early_steps, "total_steps": args.epochs * (len(tr_y) // args.batch),
                       "test_accuracy": acc, "test_canvases": len(te_y), "train_seconds": time.time() - t,
                       "args": vars(args)}, f)
        print(f"early checkpoint after {args.early_steps} steps: loss {loss:.4f} test_acc {acc:.4f}", flush=True)
        return
    ckpt = os.path.join(CACHE, f"ckpt-n{args.train}-e{args.epochs}.pt")
    start, seconds = 0, 0.0
    if os.path.exists(ckpt):
        state = torch.load(ckpt)
        model.load_state_dict(state["model"]), opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        start, seconds = state["epoch"] + 1, state.get("seconds", 0.0)
        print(f"resumed after epoch {state['epoch']}", flush=True)
    for epoch in range(start, args.epochs):
        t = time.time()
        loss = train_epoch(model, opt, sched, tr_x, tr_y, epoch, args.batch)
        acc = evaluate(model, te_x, te_y)
        seconds += time.time() - t
        print(f"epoch {epoch} loss {loss:.4f} test_acc {acc:.4f} {time.time() - t:.0f}s", flush=True)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "epoch": epoch, "seconds": seconds}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
    final = os.path.join(CACHE, "fashion-clutter.pt")
    torch.save(model.state_dict(), final)
    acc = evaluate(model, te_x, te_y)
    with open(os.path.join(CACHE, "train-result.json"), "w") as f:
        json.dump({"test_accuracy": acc, "test_canvases": len(te_y), "train_seconds": seconds,
                   "args": vars(args)}, f)
    print(f"final test accuracy {acc:.4f} on {len(te_y)} canvases", flush=True)


if __name__ == "__main__":
    main()
