#!/usr/bin/env bash
# Regenerates docs/evaluation.md and docs/images/eval-grid.png from a fresh clone, after
#   dotnet build -c Release
# Runs `scorecam evaluate` on the three annotated sets with the default model and the paper's methods
# (into tools/.cache/eval, git-ignored; the slow ones, Mask above all, in a second run per set with smaller limits), the Adebayo sanity check (SanityCheckModelTests, which writes
# its correlations where SCORECAM_SANITY_OUT says), the overlay grid, and writes the report.
#
# Environment (defaults: the committed report's settings):
#   LIMIT_SINGLE, LIMIT_TWO, LIMIT_SAME   --limit per set (images evaluated, first N of each set)
#   SLOW_METHODS                          methods evaluated in a second, parallel run per set (default: mask;
#                                         empty: none)
#   SLOW_SINGLE, SLOW_TWO, SLOW_SAME      their --limit per set (0 leaves the second run out)
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
LIMIT_SINGLE=${LIMIT_SINGLE:-40}
LIMIT_TWO=${LIMIT_TWO:-12}
LIMIT_SAME=${LIMIT_SAME:-12}
METHODS=scorecam,gradcam,gradcam++,xgradcam,layercam,rise,gradient,smoothgrad,integrated-gradients
SLOW_METHODS=${SLOW_METHODS-mask}
SLOW_SINGLE=${SLOW_SINGLE:-16}
SLOW_TWO=${SLOW_TWO:-4}
SLOW_SAME=${SLOW_SAME:-4}
GRID_METHODS=$METHODS${SLOW_METHODS:+,$SLOW_METHODS},guided-scorecam,guided-gradcam
EXTRA=${EXTRA:-}
FRESH=--fresh
[[ ${RESUME:-0} == 1 ]] && FRESH=
mkdir -p "$OUT"
read -r -a EXTRA_ARGS <<< "$EXTRA"

start=$(date +%s)
timings="$OUT/timings.txt"
: > "$timings"
run_set() { # set limit methods out-folder
    local t0; t0=$(date +%s)
    dotnet "$DLL" evaluate --model "$MODEL" --set "onnx-models/eval/$1" --methods "$3" --limit "$2" \
        --out "$OUT/$4" $FRESH "${EXTRA_ARGS[@]}"
    echo "evaluate $4 $(( $(date +%s) - t0 ))" >> "$timings"
}
# Three processes side by side (Mask's passes and the grid's `explain` calls are one image at a time, so they
# share the cores well with the batched main run): the main evaluation here, the slow methods' (rows in
# <set>-slow, which the report merges, each row with its own n) and the overlay grid in the background.
pids=()
background() { # name, then the command; its output goes to $OUT/name.log
    local name=$1; shift
    ( "$@" ) > "$OUT/$name.log" 2>&1 &
    pids+=("$!:$name")
}
SLOW_LIMITS=
if [[ -n $SLOW_METHODS ]]; then
    SLOW_LIMITS="single=$SLOW_SINGLE,two-classes=$SLOW_TWO,same-class=$SLOW_SAME"
    slow_sets() {
        local pair set n
        for pair in "single $SLOW_SINGLE" "two-classes $SLOW_TWO" "same-class $SLOW_SAME"; do
            read -r set n <<< "$pair"
            if (( n > 0 )); then run_set "$set" "$n" "$SLOW_METHODS" "$set-slow"; fi
        done
    }
    background slow slow_sets
fi
if [[ ${SKIP_GRID:-0} != 1 ]]; then
    grid() {
        local t0; t0=$(date +%s)
        "$PY" tools/eval/make_grid.py --dll "$DLL" --model "$MODEL" --methods "$GRID_METHODS" --work "$OUT/grid" \
            --out docs/images/eval-grid.png -- "${EXTRA_ARGS[@]}"
        echo "grid $(( $(date +%s) - t0 ))" >> "$timings"
    }
    background grid grid
fi
run_set single "$LIMIT_SINGLE" "$METHODS" single
run_set two-classes "$LIMIT_TWO" "$METHODS" two-classes
run_set same-class "$LIMIT_SAME" "$METHODS" same-class
for job in "${pids[@]}"; do
    wait "${job%%:*}" || { echo "error: the ${job#*:} step failed; see $OUT/${job#*:}.log" >&2; exit 1; }
done

rm -f "$OUT/sanity.json"
if [[ ${SKIP_SANITY:-0} != 1 ]]; then
    t0=$(date +%s)
    SCORECAM_SANITY_OUT="$ROOT/$OUT/sanity.json" dotnet test tests/ScoreCam.Onnx.Tests -c Release \
        --filter "FullyQualifiedName~SanityCheckModelTests" --logger "console;verbosity=normal"
    echo "sanity $(( $(date +%s) - t0 ))" >> "$timings"
fi

echo "total $(( $(date +%s) - start ))" >> "$timings"
"$PY" tools/eval/make_report.py --eval "$OUT" --model "$MODEL" --methods "$METHODS" \
    --limits "single=$LIMIT_SINGLE,two-classes=$LIMIT_TWO,same-class=$LIMIT_SAME" \
    --slow-methods "$SLOW_METHODS" --slow-limits "$SLOW_LIMITS" --extra "$EXTRA" \
    --out docs/evaluation.md
echo "wrote docs/evaluation.md ($(( $(date +%s) - start )) s in all)"
