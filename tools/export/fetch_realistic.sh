#!/usr/bin/env bash
# Realistic-size models for timing and for the similarity target, into a git-ignored cache
# (default tools/.cache/models), each checked against tools/export/realistic.sha256:
#   - ResNet18.onnx and ResNetPreprocess.onnx from the NuGet package
#     Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (ImageNet-pretrained CNTK trunk), fetched by
#     `dotnet package download` (.NET 10 SDK) from the sources your NuGet configuration names;
#   - torchvision resnet18 / resnet50 / vgg16 with random weights (export_realistic.py).
# Usage: tools/export/fetch_realistic.sh [--trunk-only] [OUT_DIR]
#   --trunk-only: the NuGet trunk alone (needs only the .NET SDK; what .ci/run fetches for the tests that use it)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
trunk_only=0
if [ "${1:-}" = "--trunk-only" ]; then trunk_only=1; shift; fi
out="${1:-$here/../.cache/models}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
pkg=microsoft.ml.dnnimagefeaturizer.resnet18
ver=0.23.1
nupkg="$out/$pkg.$ver.nupkg"

fetch_nupkg() {
  [ -f "$nupkg" ] && return
  # the NuGet client alone, so the caller's nuget.config (sources, mapping, credentials) applies;
  # it resolves configuration from the current directory, as restore does
  local tmp; tmp="$(mktemp -d "$out/download.XXXXXX")"
  dotnet package download "Microsoft.ML.DnnImageFeaturizer.ResNet18@$ver" --output "$tmp" --verbosity quiet
  mv "$tmp/$pkg/$ver/$pkg.$ver.nupkg" "$nupkg"
  rm -rf "$tmp"
}

extract_trunk() {
  # flatten: the package keeps them under tools/DnnImageModels/{ResNet18Onnx,ResNetPrepOnnx}/
  unzip -o -j -q "$nupkg" tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx \
    tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx -d "$out"
}

export_torchvision() {
  local missing=0
  for m in resnet18 resnet50 vgg16; do [ -f "$out/torchvision-$m.onnx" ] || missing=1; done
  [ "$missing" = 0 ] || nice -n 10 /usr/bin/python3 "$here/export_realistic.py" "$out"
}

fetch_nupkg
extract_trunk
if [ "$trunk_only" = 1 ]; then
  (cd "$out" && grep -E ' (ResNet18|ResNetPreprocess)\.onnx$| [^ ]+\.nupkg$' "$here/realistic.sha256" | sha256sum -c -)
else
  export_torchvision
  (cd "$out" && sha256sum -c "$here/realistic.sha256")
fi
echo "models in $out"
