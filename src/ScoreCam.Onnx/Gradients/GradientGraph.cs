using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients.Rules;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// Reverse-mode differentiation of a prepared model's head (the subgraph from the target layer's activations A to
/// the class scores), emitted as an ONNX model that ONNX Runtime runs like any other: inputs <c>activations</c>
/// (N×K×h×w) and <c>seed</c> (N×C), outputs <c>logits</c> and <c>grad_activations</c> = d Σ(seed ⊙ logits) / dA.
/// For a model that ends in Softmax, <c>logits</c> are the Softmax's input (pre-softmax scores).
/// One <see cref="IGradientRule"/> per op type; saved next to the model as NAME.grad.onnx.
/// </summary>
public static class GradientGraph
{
    public const string ActivationsInput = "activations", SeedInput = GraphDifferentiator.SeedInput,
        LogitsOutput = GraphDifferentiator.LogitsOutput, GradientOutput = "grad_activations";

    /// <summary>Builds the gradient graph of <paramref name="model"/>'s head; serialized ONNX.</summary>
    public static byte[] Build(PreparedModel model) => GraphDifferentiator.Build(model, Source(model)).ToByteArray();

    /// <summary>Builds and writes the gradient graph (atomically).</summary>
    public static void Save(PreparedModel model, string path) => AtomicFile.Write(path, Build(model));

    /// <summary>Where the gradient graph of the model at <paramref name="modelPath"/> lives: NAME.grad.onnx (NAME without .cam).</summary>
    public static string DefaultPath(string modelPath) => GraphDifferentiator.NextTo(modelPath, ".grad.onnx");

    /// <summary>
    /// The gradient graph for <paramref name="model"/>: NAME.grad.onnx next to the model's file when it exists and
    /// was made for the same target layer and output, else built in memory.
    /// </summary>
    public static byte[] Load(PreparedModel model) =>
        GraphDifferentiator.Load(model, Source(model), GraphDifferentiator.SavedPath(model, ".grad.onnx"));

    /// <summary>The head alone as a model: <c>activations</c> in, <c>logits</c> out (tests run it on perturbed activations).</summary>
    internal static ModelProto HeadModel(PreparedModel model) => GraphDifferentiator.Forward(model, Source(model));

    private static GradientSource Source(PreparedModel model)
    {
        TargetLayer layer = model.Layer;
        return new GradientSource(layer.TensorName, ActivationsInput, new long[] { layer.Channels, layer.Height, layer.Width }, GradientOutput, Guided: false,
            $"the target layer '{layer.TensorName}'",
            "Choose a later target layer (--layer) or convert the op.",
            "Gradient graphs need a head that depends only on the target layer's activations and constants (not, e.g., a skip connection " +
            "around it); choose a later target layer (--layer), such as a block's output.",
            new Dictionary<string, string>(StringComparer.Ordinal) { ["layer"] = layer.TensorName });
    }
}
