using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// The model-parameter randomization test of Adebayo et al. ("Sanity checks for saliency maps"): re-initializes the
/// weights of the top <c>layers</c> parametric layers (Conv, Gemm, MatMul), cascading from the logits down, with
/// Gaussian values of the same standard deviation as the trained ones. An explanation that does not change when
/// the model it explains is destroyed does not explain the model.
/// </summary>
internal static class CascadingRandomization
{
    private static readonly HashSet<string> Parametric = new(StringComparer.Ordinal) { "Conv", "Gemm", "MatMul", "ConvTranspose" };

    /// <summary>A copy of <paramref name="model"/> with its top <paramref name="layers"/> parametric layers randomized.</summary>
    public static PreparedModel Randomize(PreparedModel model, int layers, int seed = 0)
    {
        if (layers < 0) throw new ArgumentOutOfRangeException(nameof(layers), "The number of layers cannot be negative.");
        ModelProto proto = model.Proto.Clone();
        var index = new GraphIndex(proto.Graph);
        var ancestors = index.Ancestors(model.OutputName);
        var initializers = proto.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var random = new Random(seed);
        var top = proto.Graph.Node.Where(n => Parametric.Contains(n.OpType) && n.Output.Any(ancestors.Contains)).Reverse().Take(layers).ToList();
        if (top.Count < layers)
            throw new ScoreCamException($"The model has only {top.Count} parametric layers on the path to its output; cannot randomize {layers}.");
        foreach (NodeProto node in top)
            foreach (string input in node.Input.Skip(1))
                if (initializers.TryGetValue(input, out TensorProto? tensor)) Resample(tensor, random);
        return new PreparedModel(proto, model.Input, model.OutputName, model.OutputSize, model.OutputKind, model.Layer,
            model.FixedBatchSize, model.IntermediateBytesPerImage, model.Warnings, $"{model.Source} (top {layers} layers randomized)", model.ExternalDataFolder, model.ExportedLayout);
    }

    private static void Resample(TensorProto tensor, Random random)
    {
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float) return;
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            throw new ScoreCamException($"Weights '{tensor.Name}' are stored as external data and cannot be randomized in memory; save the model with its weights inside it for the sanity check.");
        float[] values = tensor.RawData.Length > 0
            ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray()
            : tensor.FloatData.ToArray();
        if (values.Length == 0) return;
        double mean = values.Average(v => (double)v);
        double std = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
        if (std == 0) std = 0.01;
        for (int i = 0; i < values.Length; i++)
        {
            // Box-Muller: a normal draw from two uniforms.
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            values[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        tensor.FloatData.Clear();
        tensor.RawData = Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }
}
