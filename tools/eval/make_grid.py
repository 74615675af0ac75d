#!/usr/bin/python3
"""Composes the overlay grid of docs/evaluation.md: rows are example canvases from the annotated sets,
columns the input and each method's overlay, made by `scorecam explain --method M --target C --out`.
Standard library + PIL only (Debian's /usr/bin/python3). Usage: see tools/eval/make_report.sh."""
import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from PIL import Image, ImageDraw, ImageFont

# (set, image, index of the annotated item whose class is explained)
EXAMPLES = [
    ("single", "0001.png", 0),
    ("single", "0002.png", 0),
]
SCALE = 2
TITLE = 14
WORKERS = 3  # explain processes side by side: each is mostly start-up and one-image passes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dll", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--methods", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--reuse", action="store_true", help="keep the overlays an earlier run left in --work")
    p.add_argument("extra", nargs="*")
    a = p.parse_args()
    methods = a.methods.split(",")
    os.makedirs(a.work, exist_ok=True)
    rows, jobs = [], []
    for set_name, file, item in EXAMPLES:
        folder = os.path.join("onnx-models", "eval", set_name)
        with open(os.path.join(folder, "annotations.json")) as f:
            entry = next(i for i in json.load(f)["images"] if i["file"] == file)
        target = entry["items"][item]
        outs = []
        for m in methods:
            out = os.path.join(a.work, f"{set_name}-{os.path.splitext(file)[0]}-{m.replace('+', 'p')}.png")
            outs.append(out)
            if a.reuse and os.path.exists(out):
                continue
            jobs.append(["dotnet", a.dll, "explain", "--model", a.model, "--image", os.path.join(folder, file),
                         "--method", m, "--target", str(target["class"]), "--out", out] + a.extra)
        rows.append((f"{set_name}/{file}: {target['label']}", os.path.join(folder, file), outs))
    jobs.sort(key=lambda cmd: cmd[cmd.index("--method") + 1] not in ("rise", "mask"))  # the longest first
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda cmd: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL), jobs))
    rows = [(caption, [Image.open(p).convert("RGB") for p in [source] + outs]) for caption, source, outs in rows]
    tiles = rows[0][1]

    w, h = tiles[0].size
    tw, th = w * SCALE, h * SCALE
    font = ImageFont.load_default()
    header = TITLE + 4
    grid = Image.new("RGB", (tw * (len(methods) + 1), header + len(rows) * (th + TITLE + 2)), "white")
    draw = ImageDraw.Draw(grid)
    for j, name in enumerate(["input"] + methods):
        draw.text((j * tw + 4, 3), name, fill="black", font=font)
    y = header
    for caption, tiles in rows:
        draw.text((4, y + 1), caption, fill="black", font=font)
        y += TITLE + 2
        for j, tile in enumerate(tiles):
            grid.paste(tile.resize((tw, th), Image.NEAREST), (j * tw, y))
        y += th
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    grid.save(a.out, optimize=True)
    if os.path.getsize(a.out) > 900_000:  # keep the repository light: a 256-colour palette is plenty for overlays
        grid.quantize(256, dither=Image.Dither.NONE).save(a.out, optimize=True)
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
