#!/usr/bin/env bash
# GPU check of the CUDA path, run on a lent GPU machine from the repository root:
#   .gpu/app.tar.zst   a self-contained linux-x64 `dotnet publish` of src/ScoreCam.Onnx.Cli without the CUDA provider
#   .gpu/cuda.part.*   libonnxruntime_providers_cuda.so (ONNX Runtime 1.31), zstd-compressed and split to fit the transfer limit
#   .gpu/chelsea.png   the sample photo
# CUDA 13 / cuDNN 9 come from the machine's Python nvidia packages. Writes JSON and logs to $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p /tmp/app /tmp/models "$OUT"
zstd -q -d .gpu/app.tar.zst -c | tar -xf - -C /tmp/app
cat .gpu/cuda.part.* | zstd -q -d -o /tmp/app/libonnxruntime_providers_cuda.so
nv=$(python3 -c 'import nvidia, os; print(list(nvidia.__path__)[0])')
export LD_LIBRARY_PATH=$(find "$nv" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:):${LD_LIBRARY_PATH:-}
nvidia-smi -L | tee "$OUT/gpu.txt"
python3 tools/bench/gpu/export_models.py /tmp/models > "$OUT/export.log" 2>&1 || { cat "$OUT/export.log"; exit 1; }
app=/tmp/app/scorecam
img=.gpu/chelsea.png
# Same explanation on CUDA and CPU: the maps must agree.
$app explain --model /tmp/models/resnet18.onnx --image $img --device cuda --json "$OUT/r18-cuda.json" --out "$OUT/r18-cuda.png" 2>&1 | tee "$OUT/explain.log"
$app explain --model /tmp/models/resnet18.onnx --image $img --device cpu --json "$OUT/r18-cpu.json" 2>&1 | tail -1
python3 - "$OUT" <<'PY' | tee "$OUT/compare.txt"
import json, sys
a = json.load(open(sys.argv[1] + "/r18-cuda.json"))["map"]["values"]
b = json.load(open(sys.argv[1] + "/r18-cpu.json"))["map"]["values"]
ma, mb = max(a) or 1, max(b) or 1
print("resnet18 map cuda vs cpu: max abs diff after /max =", max(abs(x / ma - y / mb) for x, y in zip(a, b)))
PY
for m in resnet18 resnet50 vgg16; do
  $app bench --model /tmp/models/$m.onnx --image $img --device cuda --batch 16,64,128 --runs 5 --json "$OUT/bench-$m-cuda.json" 2>&1 | tee -a "$OUT/bench.log"
done
$app bench --model /tmp/models/resnet18.onnx --image $img --device cpu --batch 16 --runs 2 --json "$OUT/bench-resnet18-cpu16.json" 2>&1 | tee -a "$OUT/bench.log"
