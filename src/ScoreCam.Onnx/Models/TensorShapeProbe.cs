using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Learns the runtime shapes of intermediate tensors by running the model once on a zero image with those tensors
/// exposed as extra outputs. Exported graphs often lack shape annotations; ONNX Runtime always knows the truth.
/// </summary>
internal static class TensorShapeProbe
{
    public static Dictionary<string, long[]> Run(ModelProto model, string inputName, long[] inputShape, IReadOnlyCollection<string> tensors,
        string? externalDataFolder = null, IReadOnlyList<FedInput>? feeds = null)
    {
        ModelProto probe = model.Clone();
        var existing = probe.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (string t in tensors.Where(t => !existing.Contains(t)))
            probe.Graph.Output.Add(FloatOutput(t));

        var wanted = tensors.Distinct().ToArray();
        var input = new float[inputShape.Aggregate(1L, (a, b) => a * b)];
        using SessionOptions options = OrtRuntime.Options(externalDataFolder);
        try
        {
            using var session = new InferenceSession(probe.ToByteArray(), options);
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, inputShape);
            var inputs = new Dictionary<string, OrtValue> { [inputName] = inputValue };
            // Fed inputs go with the image, repeated over its batch.
            foreach (FedInput feed in feeds ?? Array.Empty<FedInput>())
                inputs[feed.Name] = OrtValue.CreateTensorValueFromMemory(feed.Broadcast((int)inputShape[0]), feed.Shape((int)inputShape[0]));
            using var runOptions = new RunOptions();
            try
            {
                using var results = session.Run(runOptions, inputs, wanted);
                var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
                int i = 0;
                foreach (OrtValue value in results)
                    shapes[wanted[i++]] = value.GetTensorTypeAndShape().Shape;
                return shapes;
            }
            finally
            {
                foreach (var (name, value) in inputs)
                    if (name != inputName) value.Dispose();
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new ScoreCamException(
                $"ONNX Runtime could not run the model on a {string.Join('x', inputShape)} input: {OrtRuntime.Describe(e)} " +
                "Check the input size (ModelPreparationOptions.ProbeSize) and that the model is a valid image classifier.", e);
        }
    }

    public static ValueInfoProto FloatOutput(string name) => new()
    {
        Name = name,
        Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
    };
}
