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
/// Where the output reads more than A (a transformer's residual stream around its norm1, the input's shape) or A is
/// not N×K×h×w (tokens, channels-last maps), the graph takes the image <c>input</c> instead, runs the whole model
/// and gives dA with A held as a leaf (every other path as it is, as a hook on the layer sees it), as N×K×h×w maps.
/// For a model that ends in Softmax, <c>logits</c> are the Softmax's input (pre-softmax scores).
/// One <see cref="IGradientRule"/> per op type; saved next to the model as NAME.grad.onnx.
/// </summary>
public static class GradientGraph
{
    public const string ActivationsInput = "activations", ImageInput = "input", SeedInput = GraphDifferentiator.SeedInput,
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

    /// <summary>
    /// The head alone (activations in) where the part after the layer reads nothing else and the layer holds N×K×h×w
    /// maps; else the whole model from the image with the layer's tensor held as a leaf (a transformer's norm1, around
    /// which the residual stream runs; tokens; a head that reads the input's shape).
    /// </summary>
    private static GradientSource Source(PreparedModel model)
    {
        TargetLayer layer = model.Layer;
        bool leaf = TailGraph.TakesImage(model);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["layer"] = layer.TensorName, ["form"] = leaf ? "leaf" : "head" };
        const string remedy = "Choose a later target layer (ModelPreparationOptions.Layer) or convert the op.";
        if (!leaf)
            return new GradientSource(layer.TensorName, ActivationsInput, new long[] { layer.Channels, layer.Height, layer.Width }, GradientOutput, Guided: false,
                $"the target layer '{layer.TensorName}'", remedy,
                "Give every input besides the image a fixed value (ModelPreparationOptions.Feeds); it is held constant.", metadata);
        ImageInputSpec input = model.Input;
        if (input.Height is null || input.Width is null)
            throw new ScoreCamException(
                $"The target layer '{layer.TensorName}' of model '{model.Source}' is not the only way from the input to the output (a residual stream around it, " +
                "or tokens), so its gradient graph runs the whole model, which needs a fixed input size; export the model with one.");
        return new GradientSource(input.Name, ImageInput, new long[] { input.Channels, input.Height.Value, input.Width.Value }, GradientOutput, Guided: false,
            $"the target layer '{layer.TensorName}'", remedy,
            "Give every input besides the image a fixed value (ModelPreparationOptions.Feeds); it is held constant.", metadata, layer);
    }
}
