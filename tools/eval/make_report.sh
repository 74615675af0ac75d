#!/usr/bin/env bash
# Regenerates docs/evaluation.md and docs/images/eval-grid.png from a fresh clone, after
#   dotnet build -c Release
# Runs `scorecam evaluate` on the three annotated sets with the default model and all six methods
# (into tools/.cache/eval, git-ignored), the Adebayo sanity check (SanityCheckModelTests, which writes
# its correlations where SCORECAM_SANITY_OUT says), the overlay grid, and writes the report.
#
# Environment (defaults: the committed report's settings):
#   LIMIT_SINGLE, LIMIT_TWO, LIMIT_SAME   --limit per set (images evaluated, first N of each set)
#   MODEL                                 ONNX classifier (default: the trained fashion-clutter model)
#   EXTRA                                 extra flags for evaluate / explain (e.g. "--size 64")
#   OUT                                   output folder (default tools/.cache/eval)
#   RESUME=1                              reuse an earlier run's results.csv (default: --fresh, so times are measured)
#   SKIP_SANITY=1, SKIP_GRID=1            leave those steps out (their sections say so)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

DLL=src/ScoreCam.Onnx.Cli/bin/Release/net10.0/scorecam.dll
[[ -f $DLL ]] || { echo "error: $DLL is missing; run 'dotnet build -c Release' first." >&2; exit 1; }
PY=/usr/bin/python3
MODEL=${MODEL:-onnx-models/fashion-clutter/fashion-clutter.onnx}
OUT=${OUT:-tools/.cache/eval}
LIMIT_SINGLE=${LIMIT_SINGLE:-80}
LIMIT_TWO=${LIMIT_TWO:-25}
LIMIT_SAME=${LIMIT_SAME:-25}
METHODS=scorecam,gradcam,gradcam++,xgradcam,layercam,rise
EXTRA=${EXTRA:-}
FRESH=--fresh
[[ ${RESUME:-0} == 1 ]] && FRESH=
mkdir -p "$OUT"
read -r -a EXTRA_ARGS <<< "$EXTRA"

start=$(date +%s)
timings="$OUT/timings.txt"
: > "$timings"
run_set() { # set limit
    local t0; t0=$(date +%s)
    dotnet "$DLL" evaluate --model "$MODEL" --set "onnx-models/eval/$1" --methods "$METHODS" --limit "$2" \
        --out "$OUT/$1" $FRESH "${EXTRA_ARGS[@]}"
    echo "evaluate $1 $(( $(date +%s) - t0 ))" >> "$timings"
}
run_set single "$LIMIT_SINGLE"
run_set two-classes "$LIMIT_TWO"
run_set same-class "$LIMIT_SAME"

rm -f "$OUT/sanity.json"
if [[ ${SKIP_SANITY:-0} != 1 ]]; then
    t0=$(date +%s)
    SCORECAM_SANITY_OUT="$ROOT/$OUT/sanity.json" dotnet test tests/ScoreCam.Onnx.Tests -c Release \
        --filter "FullyQualifiedName~SanityCheckModelTests" --logger "console;verbosity=normal"
    echo "sanity $(( $(date +%s) - t0 ))" >> "$timings"
fi

if [[ ${SKIP_GRID:-0} != 1 ]]; then
    t0=$(date +%s)
    "$PY" tools/eval/make_grid.py --dll "$DLL" --model "$MODEL" --methods "$METHODS" --work "$OUT/grid" \
        --out docs/images/eval-grid.png -- "${EXTRA_ARGS[@]}"
    echo "grid $(( $(date +%s) - t0 ))" >> "$timings"
fi

echo "total $(( $(date +%s) - start ))" >> "$timings"
"$PY" tools/eval/make_report.py --eval "$OUT" --model "$MODEL" --methods "$METHODS" \
    --limits "single=$LIMIT_SINGLE,two-classes=$LIMIT_TWO,same-class=$LIMIT_SAME" --extra "$EXTRA" \
    --out docs/evaluation.md
echo "wrote docs/evaluation.md ($(( $(date +%s) - start )) s in all)"
