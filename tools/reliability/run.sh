#!/usr/bin/env bash
# The long reliability runs behind docs/reliability.md (the suite runs small budgets of the same tests):
#   1. the fuzz test with many cases (CASES, SEED), its report in $OUT/fuzz.txt;
#   2. 16 concurrent callers on one explainer for SECONDS (default 120), compared with sequential results;
#   3. resident memory over COUNT explanations (tools/bench soak, as in docs/performance.md).
# Usage: tools/reliability/run.sh [OUT=tools/.cache/reliability]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-tools/.cache/reliability}"
mkdir -p "$OUT"
dotnet build ScoreCam.Onnx.sln -c Release -v q -nologo

SCORECAM_FUZZ_CASES="${CASES:-3000}" SCORECAM_FUZZ_SEED="${SEED:-11}" SCORECAM_FUZZ_REPORT="$PWD/$OUT/fuzz.txt" \
  dotnet test tests/ScoreCam.Onnx.Tests -c Release --no-build --filter "FullyQualifiedName~Reliability.FuzzTests.Corrupt_files" -v q -nologo
cat "$OUT/fuzz.txt"

SCORECAM_LOAD_SECONDS="${SECONDS_UNDER_LOAD:-120}" \
  dotnet test tests/ScoreCam.Onnx.Tests -c Release --no-build --filter "FullyQualifiedName~Sixteen_concurrent_callers_for_minutes" \
  --logger "console;verbosity=detailed" -nologo | grep -E "callers,|Passed|Failed" | tee "$OUT/load.txt"

dotnet run --project tools/bench/ScoreCam.Onnx.Benchmarks -c Release --no-build -- soak \
  onnx-models/coverage/resnet-basic.onnx onnx-models/samples/coffee.png "${COUNT:-2000}" 200 64 | tee "$OUT/soak.txt"
