#!/usr/bin/env bash
# The GPU check of issue 13, run on a lent GPU machine from the repository root in ONE call, after the CUDA provider
# parts were copied to .gpu/ (tools/bench/gpu/README.md); .gpu/ is made here by tools/bench/gpu/prepare_gpu_carry.sh.
# CUDA 13 / cuDNN 9 come from the machine's Python nvidia packages; the torchvision models are exported there.
# For each of the default model, ResNet-18, ResNet-50 and VGG16 (random weights): Score-CAM with TF32 off and on,
# IOBinding device-resident buffers off and on, CUDA graphs, float16, each against its floor and its map against a
# float32 CPU explanation (max |difference| after /max, Spearman); the <= 60 ms ResNet-18 goal (GOAL PASS / FAIL);
# and `scorecam bench --images 1,16` on CUDA. Writes at most 8 files to $OUT (the device tool's limit).
#   DRY_RUN=1 bash tools/bench/gpu/run_gpu_bench.sh    here, without a GPU: the steps on the CPU provider, the
#       default model only, few passes, apps from APP_DIR (default: the Release builds in this checkout)
set -uo pipefail
OUT=${OUT:-/tmp/out}
G=.gpu
mkdir -p "$OUT"
log="$OUT/log.txt"
: > "$log"
step() { echo "== $* ($(date +%T))" | tee -a "$log"; }

if [ "${DRY_RUN:-0}" = 1 ]; then
  device=cpu
  bench="dotnet ${APP_DIR:-tools/bench/ScoreCam.Onnx.Benchmarks/bin/Release/net10.0}/ScoreCam.Onnx.Benchmarks.dll"
  app="dotnet ${APP_DIR:-src/ScoreCam.Onnx.Cli/bin/Release/net10.0}/scorecam.dll"
  models=/tmp/gpu-dry-models
  mkdir -p "$models"
  cp onnx-models/fashion-clutter/fashion-clutter.onnx onnx-models/fashion-clutter/fashion-clutter.preprocess.json onnx-models/fashion-clutter/labels.txt "$models/"
  sample=onnx-models/fashion-clutter/sample.png
  first=(--batch 4 --runs 1 --channels 8)
else
  device=cuda
  mkdir -p /tmp/app /tmp/models
  step unpack
  python3 - "$G" /tmp/app <<'PY' || exit 1
import glob, io, lzma, os, sys, tarfile
gpu, app = sys.argv[1], sys.argv[2]

def unpack(pattern):
    """The parts of one xz stream, in order, decompressed."""
    parts = sorted(glob.glob(os.path.join(gpu, pattern)))
    if not parts:
        sys.exit(f"no .gpu/{pattern}: copy the stashed parts into .gpu/ first")
    d = lzma.LZMADecompressor()
    chunks = []
    for p in parts:
        with open(p, "rb") as f:
            chunks.append(d.decompress(f.read()))
    if not d.eof:
        sys.exit(f".gpu/{pattern}: the parts are incomplete")
    return b"".join(chunks)

with tarfile.open(fileobj=io.BytesIO(unpack("app.part.*"))) as t:
    t.extractall(app)
with open(os.path.join(app, "libonnxruntime_providers_cuda.so"), "wb") as out:
    out.write(unpack("cuda.part.*"))
PY
  chmod +x /tmp/app/scorecam /tmp/app/ScoreCam.Onnx.Benchmarks
  nv=$(python3 -c 'import nvidia, os; print(list(nvidia.__path__)[0])')
  export LD_LIBRARY_PATH=$(find "$nv" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:):${LD_LIBRARY_PATH:-}
  nvidia-smi -L | tee -a "$log"
  step export the torchvision models
  python3 tools/bench/gpu/export_models.py /tmp/models >> "$log" 2>&1 || { tail -20 "$log"; exit 1; }
  cp "$G"/models/* /tmp/models/
  bench=/tmp/app/ScoreCam.Onnx.Benchmarks
  app=/tmp/app/scorecam
  models=/tmp/models
  sample=$G/sample.png
  first=(--batch 32,128 --runs 5)
fi
photo=${PHOTO:-$G/chelsea.png}
[ -f "$photo" ] || photo=onnx-models/samples/chelsea.png

# Settings side by side, interleaved, each map against the CPU's: the default model, then the torchvision models.
step default model
$bench gpu "$models/fashion-clutter.onnx" "$sample" "$OUT/gpu-default.json" --device $device "${first[@]}" 2>&1 | tee -a "$log"
if [ "$device" = cuda ]; then
  step resnet18
  $bench gpu "$models/resnet18.onnx" "$photo" "$OUT/gpu-resnet18.json" --device cuda --batch 32,128 --runs 5 --goal-ms 60 2>&1 | tee -a "$log"
  step resnet50
  $bench gpu "$models/resnet50.onnx" "$photo" "$OUT/gpu-resnet50.json" --device cuda --batch 64 --runs 3 2>&1 | tee -a "$log"
  step vgg16
  $bench gpu "$models/vgg16.onnx" "$photo" "$OUT/gpu-vgg16.json" --device cuda --batch 64 --runs 3 2>&1 | tee -a "$log"
  step "bench --images 1,16 on cuda"
  $app bench --model "$models/resnet18.onnx" --image "$photo" --device cuda --batch 128 --images 1,16 --runs 3 --json "$OUT/bench-images-cuda.json" 2>&1 | tee -a "$log"
else
  step "bench --images 1,4 (dry run)"
  $app bench --model "$models/fashion-clutter.onnx" --image "$sample" --device cpu --batch 4 --channels 8 --images 1,4 --runs 1 --json "$OUT/bench-images-cpu.json" 2>&1 | tee -a "$log"
fi
step done
grep -h "GOAL" "$log" || true
