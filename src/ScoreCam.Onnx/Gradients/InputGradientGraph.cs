using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// Reverse-mode differentiation of a whole prepared model, from its image input to the class scores: inputs
/// <c>input</c> (N×C×H×W) and <c>seed</c> (N×OutputSize), outputs <c>logits</c> and <c>grad_input</c> =
/// d Σ(seed ⊙ logits) / d input, for the vanilla gradient and the methods built on it (SmoothGrad, Integrated
/// Gradients). For a model that ends in Softmax, <c>logits</c> are the Softmax's input (pre-softmax scores).
/// With <c>guided</c>, ReLU (and Clip from 0, ReLU6) pass a gradient only where both their input and the incoming
/// gradient are positive: Guided Backpropagation (Springenberg et al.). Saved next to the model as
/// NAME.input-grad.onnx (NAME.guided-grad.onnx).
/// </summary>
public static class InputGradientGraph
{
    public const string Input = "input", SeedInput = GraphDifferentiator.SeedInput,
        LogitsOutput = GraphDifferentiator.LogitsOutput, GradientOutput = "grad_input";

    /// <summary>Builds the input gradient graph of <paramref name="model"/> for <paramref name="height"/>×<paramref name="width"/> inputs; serialized ONNX.</summary>
    public static byte[] Build(PreparedModel model, int height, int width, bool guided) =>
        GraphDifferentiator.Build(model, Source(model, height, width, guided)).ToByteArray();

    /// <summary>Builds and writes the input gradient graph (atomically).</summary>
    public static void Save(PreparedModel model, int height, int width, bool guided, string path) =>
        AtomicFile.Write(path, Build(model, height, width, guided));

    /// <summary>Where the input gradient graph of the model at <paramref name="modelPath"/> lives: NAME.input-grad.onnx, or NAME.guided-grad.onnx (NAME without .cam).</summary>
    public static string DefaultPath(string modelPath, bool guided) => GraphDifferentiator.NextTo(modelPath, Suffix(guided));

    /// <summary>
    /// The input gradient graph for <paramref name="model"/>: the saved one next to the model's file when it exists and
    /// was made for the same input, size, ReLU rule and output, else built in memory.
    /// </summary>
    public static byte[] Load(PreparedModel model, int height, int width, bool guided) =>
        GraphDifferentiator.Load(model, Source(model, height, width, guided), GraphDifferentiator.SavedPath(model, Suffix(guided)));

    /// <summary>The model alone, cut to <c>input</c> in and <c>logits</c> out (tests run it on perturbed inputs).</summary>
    internal static ModelProto ForwardModel(PreparedModel model, int height, int width) =>
        GraphDifferentiator.Forward(model, Source(model, height, width, guided: false));

    private static string Suffix(bool guided) => guided ? ".guided-grad.onnx" : ".input-grad.onnx";

    private static GradientSource Source(PreparedModel model, int height, int width, bool guided)
    {
        ImageInputSpec input = model.Input;
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"The input size must be positive; got {height}×{width}.");
        if (input.Height is { } h && h != height || input.Width is { } w && w != width)
            throw new ScoreCamException($"Model '{model.Source}' takes {input.Height}×{input.Width} inputs; a gradient graph for {height}×{width} was asked for. Use the model's input size.");
        return new GradientSource(input.Name, Input, new long[] { input.Channels, height, width }, GradientOutput, guided,
            $"the input '{input.Name}'",
            "Convert the op, or use a method that needs no gradient with respect to the input.",
            "Give every input besides the image a fixed value (ModelPreparationOptions.Feeds); it is held constant.",
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["input"] = input.Name,
                ["size"] = $"{height}x{width}",
                ["rule"] = guided ? "guided-backprop" : "gradient",
            });
    }
}
