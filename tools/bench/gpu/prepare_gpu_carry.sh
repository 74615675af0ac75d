#!/usr/bin/env bash
# Here (no GPU needed): builds what tools/bench/gpu/run_gpu_bench.sh needs on a lent GPU machine, into .gpu/ at the
# root of the checkout whose working tree the device calls send (tools/bench/gpu/README.md says how it is carried).
#   tools/bench/gpu/prepare_gpu_carry.sh [CHECKOUT]        (default: the checkout this script is in)
# Writes, each file under the 48 MiB a call can carry beside a ~4 MB working tree:
#   .gpu/app.part.*      self-contained linux-x64 publishes of the scorecam CLI and the benchmark tool, in one folder,
#                        without the CUDA provider library: a tar, xz-compressed and split
#   .gpu/cuda.part.*     libonnxruntime_providers_cuda.so (ONNX Runtime 1.31), xz-compressed and split
#   .gpu/models/         the default model (fashion-clutter), its preprocessing and labels; the torchvision models are made
#                        there by export_models.py with the machine's PyTorch
#   .gpu/chelsea.png, .gpu/sample.png   the pictures explained
# Decompression there uses Python's lzma and tarfile modules (the machines have no xz or zstd binaries to rely on).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
target="$(cd "${1:-$repo}" && pwd)"
gpu="$target/.gpu"
exclude="$(git -C "$target" rev-parse --path-format=absolute --git-common-dir)/info/exclude"
mkdir -p "$(dirname "$exclude")"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >> "$exclude"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pub="$work/pub"

# Both apps into one folder: one .NET runtime and one ONNX Runtime for the two.
for project in src/ScoreCam.Onnx.Cli tools/bench/ScoreCam.Onnx.Benchmarks; do
  dotnet publish "$repo/$project" -c Release -r linux-x64 --self-contained -p:OnnxRuntime=Gpu -o "$pub" -v quiet -nologo
done
rm -f "$pub"/onnxruntime*.dll "$pub"/*.pdb     # Windows native libraries; debug symbols
[ -x "$pub/scorecam" ] && [ -x "$pub/ScoreCam.Onnx.Benchmarks" ] || { echo "publish did not produce both apps" >&2; exit 1; }
provider="$pub/libonnxruntime_providers_cuda.so"
[ -f "$provider" ] || { echo "no $provider: is Microsoft.ML.OnnxRuntime.Gpu restored?" >&2; exit 1; }

rm -rf "$gpu"
mkdir -p "$gpu/models"
mv "$provider" "$work/"
xz -9 -T0 -c "$work/libonnxruntime_providers_cuda.so" | split -b 45M - "$gpu/cuda.part."
tar -C "$pub" -cf - . | xz -9 -T0 -c | split -b 45M - "$gpu/app.part."
cp "$repo/onnx-models/fashion-clutter/fashion-clutter.onnx" "$repo/onnx-models/fashion-clutter/fashion-clutter.preprocess.json" "$repo/onnx-models/fashion-clutter/labels.txt" "$gpu/models/"
cp "$repo/onnx-models/samples/chelsea.png" "$gpu/chelsea.png"
cp "$repo/onnx-models/fashion-clutter/sample.png" "$gpu/sample.png"

limit=$((48 * 1024 * 1024))
for f in "$gpu"/app.part.* "$gpu"/cuda.part.*; do
  size=$(stat -c %s "$f")
  [ "$size" -le "$limit" ] || { echo "$f is $size bytes, over the 48 MiB a call carries" >&2; exit 1; }
done
ls -l "$gpu" "$gpu/models"
echo "calls: one per .gpu/*.part.* (carry it, copy it to /tmp/stash), then the last one: tools/bench/gpu/README.md"
