using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>The compatibility variants a method has, for methods that only some implementations offer.</summary>
internal static class Variants
{
    /// <summary><paramref name="variant"/> when <paramref name="method"/> has it; else a clear error naming the ones it has.</summary>
    public static CompatibilityVariant Only(string method, CompatibilityVariant variant, params CompatibilityVariant[] offered) =>
        offered.Contains(variant) ? variant
            : throw new ScoreCamException($"{method} has no {CommonOptions.Variant.Format(variant)} variant; its variants are {string.Join(" and ", offered.Select(v => CommonOptions.Variant.Format(v)))}.");
}
