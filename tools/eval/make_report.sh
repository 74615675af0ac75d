#!/usr/bin/env bash
# Regenerates docs/evaluation.md and docs/images/eval-grid.png from a fresh clone, after
#   dotnet build -c Release
# Runs `scorecam evaluate` on the three annotated sets with the default model and the paper's methods
# (into tools/.cache/eval, git-ignored), the Adebayo sanity check (SanityCheckModelTests, which writes
# its correlations where SCORECAM_SANITY_OUT says), the overlay grid, and writes the report.
# The slow methods (RISE: 4000 forward passes per map; Mask: 300 forward and 300 gradient passes, one image
# at a time) get their own, smaller limits: each group of methods evaluates each set in its own process
# (into <set> for the main group, <set>-<group> for the others; the report merges them, each row with its n),
# all side by side, with the grid beside them.
#
# Environment (defaults: the committed report's settings):
#   LIMIT_SINGLE, LIMIT_TWO, LIMIT_SAME   --limit per set for the main methods (first N images of each set)
#   SLOW                                  the other groups, "methods:single/two/same ..." (methods comma-separated;
#                                         empty: none), e.g. "rise:8/3/3 mask:8/3/3"
#   MODEL                                 ONNX classifier (default: the trained fashion-clutter model)
#   EXTRA                                 extra flags for evaluate / explain (e.g. "--size 64")
#   OUT                                   output folder (default tools/.cache/eval)
#   RESUME=1                              reuse an earlier run's results.csv and grid tiles (default: --fresh, so
#                                         times are measured); its timings.txt is kept, this run's times go to
#                                         timings-resume.txt
#   SKIP_SANITY=1, SKIP_GRID=1            leave those steps out (their sections say so)
#   CATALOGUE                             the catalogue run, "methods:N" (default: Score-CAM, Grad-CAM and the CAM
#                                         methods beyond the paper's on the first 8 single-item canvases, with ROAD);
#                                         its section is written into the page by tools/eval/make_catalogue_report.py;
#                                         empty: none
#   ONLY_CATALOGUE=1                      run the catalogue alone and rewrite only its section of the committed page
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

DLL=src/ScoreCam.Onnx.Cli/bin/Release/net10.0/scorecam.dll
[[ -f $DLL ]] || { echo "error: $DLL is missing; run 'dotnet build -c Release' first." >&2; exit 1; }
PY=/usr/bin/python3
MODEL=${MODEL:-onnx-models/fashion-clutter/fashion-clutter.onnx}
OUT=${OUT:-tools/.cache/eval}
LIMIT_SINGLE=${LIMIT_SINGLE:-24}
LIMIT_TWO=${LIMIT_TWO:-8}
LIMIT_SAME=${LIMIT_SAME:-8}
METHODS=scorecam,gradcam,gradcam++,xgradcam,layercam,gradient,smoothgrad,integrated-gradients
SLOW=${SLOW-rise:8/0/3 mask:8/3/3}
EXTRA=${EXTRA:-}
FRESH=--fresh
REUSE=
if [[ ${RESUME:-0} == 1 ]]; then FRESH=; REUSE=--reuse; fi
CATALOGUE=${CATALOGUE-scorecam,gradcam,hirescam,eigencam,eigengradcam,sscam,iscam,groupcam,ablationcam,reciprocam:8}
CATALOGUE_METRICS=pointing_game,energy_pointing_game,average_drop,increase_in_confidence,deletion_auc,insertion_auc,road_morf,road_lerf
mkdir -p "$OUT"
read -r -a EXTRA_ARGS <<< "$EXTRA"
read -r -a GROUPS_ <<< "$SLOW"
GRID_METHODS=$METHODS
for group in "${GROUPS_[@]}"; do GRID_METHODS+=",${group%%:*}"; done

start=$(date +%s)
timings="$OUT/timings.txt"
[[ -n $REUSE ]] && timings="$OUT/timings-resume.txt"
: > "$timings"
pids=()
background() { # name, then the command; its output goes to $OUT/name.log
    local name=$1; shift
    ( "$@" ) > "$OUT/$name.log" 2>&1 &
    pids+=("$!:$name")
}
run_set() { # set limit methods out-folder
    local t0; t0=$(date +%s)
    dotnet "$DLL" evaluate --model "$MODEL" --set "onnx-models/eval/$1" --method "$3" --limit "$2" \
        --out-dir "$OUT/$4" $FRESH "${EXTRA_ARGS[@]}"
    echo "evaluate $4 $(( $(date +%s) - t0 ))" >> "$timings"
}
grid() {
    local t0; t0=$(date +%s)
    "$PY" tools/eval/make_grid.py --dll "$DLL" --model "$MODEL" --methods "$GRID_METHODS" --work "$OUT/grid" \
        --out docs/images/eval-grid.png $REUSE -- "${EXTRA_ARGS[@]}"
    echo "grid $(( $(date +%s) - t0 ))" >> "$timings"
}

catalogue() { # the catalogue's evaluation, then each method's passes on the set's first canvas
    local t0 methods=${CATALOGUE%:*} n=${CATALOGUE##*:} first
    t0=$(date +%s)
    dotnet "$DLL" evaluate --model "$MODEL" --set onnx-models/eval/single --method "$methods" --metrics "$CATALOGUE_METRICS" \
        --limit "$n" --out-dir "$OUT/catalogue" $FRESH "${EXTRA_ARGS[@]}"
    first=$("$PY" -c 'import json; print(json.load(open("onnx-models/eval/single/annotations.json"))["images"][0]["file"])')
    for m in ${methods//,/ }; do
        dotnet "$DLL" explain --model "$MODEL" --image "onnx-models/eval/single/$first" --method "$m" --json "$OUT/catalogue/$m.json" \
            --quiet "${EXTRA_ARGS[@]}"
    done
    "$PY" -c 'import json, sys; print(json.dumps({m: json.load(open(f"{sys.argv[1]}/{m}.json"))["forwardPasses"] for m in sys.argv[2].split(",")}))' \
        "$OUT/catalogue" "$methods" > "$OUT/catalogue/passes.json"
    echo "catalogue $(( $(date +%s) - t0 ))" >> "$timings"
}
catalogue_section() {
    "$PY" tools/eval/make_catalogue_report.py --eval "$OUT/catalogue" --limit "${CATALOGUE##*:}" --out docs/evaluation.md \
        --command "dotnet $DLL evaluate --model $MODEL --set onnx-models/eval/single --method ${CATALOGUE%:*} --metrics $CATALOGUE_METRICS --limit ${CATALOGUE##*:} --out-dir $OUT/catalogue $FRESH${EXTRA:+ $EXTRA}"
}
if [[ ${ONLY_CATALOGUE:-0} == 1 ]]; then
    catalogue
    catalogue_section
    echo "rewrote the catalogue section of docs/evaluation.md ($(( $(date +%s) - start )) s)"
    exit 0
fi

[[ ${SKIP_GRID:-0} != 1 ]] && background grid grid
[[ -n $CATALOGUE ]] && background catalogue catalogue
background single run_set single "$LIMIT_SINGLE" "$METHODS" single
background two-classes run_set two-classes "$LIMIT_TWO" "$METHODS" two-classes
background same-class run_set same-class "$LIMIT_SAME" "$METHODS" same-class
for group in "${GROUPS_[@]}"; do
    methods=${group%%:*} name=${group%%:*}; name=${name//,/+}
    IFS=/ read -r n_single n_two n_same <<< "${group#*:}"
    for pair in "single $n_single" "two-classes $n_two" "same-class $n_same"; do
        read -r set n <<< "$pair"
        if (( n > 0 )); then background "$set-$name" run_set "$set" "$n" "$methods" "$set-$name"; fi
    done
done
failed=0
for job in "${pids[@]}"; do
    wait "${job%%:*}" || { echo "error: the ${job#*:} step failed; see $OUT/${job#*:}.log" >&2; failed=1; }
done
(( failed == 0 )) || exit 1

rm -f "$OUT/sanity.json"
if [[ ${SKIP_SANITY:-0} != 1 ]]; then
    t0=$(date +%s)
    SCORECAM_SANITY_OUT="$ROOT/$OUT/sanity.json" dotnet test tests/ScoreCam.Onnx.Tests -c Release \
        --filter "FullyQualifiedName~SanityCheckModelTests" --logger "console;verbosity=normal"
    echo "sanity $(( $(date +%s) - t0 ))" >> "$timings"
fi

echo "total $(( $(date +%s) - start ))" >> "$timings"
"$PY" tools/eval/make_report.py --eval "$OUT" --model "$MODEL" --methods "$METHODS" \
    --limits "single=$LIMIT_SINGLE,two-classes=$LIMIT_TWO,same-class=$LIMIT_SAME" --slow "$SLOW" --extra "$EXTRA" $REUSE \
    --out docs/evaluation.md
[[ -n $CATALOGUE ]] && catalogue_section
echo "wrote docs/evaluation.md ($(( $(date +%s) - start )) s in all)"
