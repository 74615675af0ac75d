using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// An <see cref="InputFeed"/> bound to a model input: one row of the input without its batch dimension, which every
/// batch repeats once per image.
/// </summary>
internal sealed class FedInput
{
    private FedInput(string name, long[] rowShape, float[] row) => (Name, RowShape, Row) = (name, rowShape, row);

    public string Name { get; }
    public long[] RowShape { get; }
    public float[] Row { get; }

    /// <summary>The input's shape for a batch of <paramref name="count"/>.</summary>
    public long[] Shape(int count) => RowShape.Prepend(count).ToArray();

    /// <summary>The row repeated <paramref name="count"/> times: the input of a batch of that size (a new array, the caller's).</summary>
    public float[] Broadcast(int count)
    {
        var values = new float[count * Row.Length];
        for (int i = 0; i < count; i++) Row.CopyTo(values, i * Row.Length);
        return values;
    }

    private float[] _repeated = Array.Empty<float>();

    /// <summary>
    /// The row repeated <paramref name="count"/> times for runs that only read it (the gradient sessions): one shared
    /// array, grown to the largest count asked, so a run does not copy the row again. Never write to it.
    /// </summary>
    public Memory<float> Repeated(int count)
    {
        float[] repeated = Volatile.Read(ref _repeated);
        if (repeated.Length < count * Row.Length)
        {
            // A racing caller may grow it too; either array holds the same rows, and readers keep the one they took.
            repeated = Broadcast(count);
            Volatile.Write(ref _repeated, repeated);
        }
        return repeated.AsMemory(0, count * Row.Length);
    }

    /// <summary>
    /// Binds <paramref name="feeds"/> to the inputs of the graph other than the image <paramref name="image"/>: every
    /// such input must be fed, every feed must name one, with a float32 row of the input's shape.
    /// </summary>
    public static IReadOnlyList<FedInput> Bind(GraphIndex index, string image, IReadOnlyDictionary<string, InputFeed>? feeds, string source)
    {
        feeds ??= new Dictionary<string, InputFeed>();
        var inputs = index.RealInputs.ToList();
        foreach (string name in feeds.Keys)
        {
            if (name == image)
                throw new ScoreCamException($"'{name}' is the image input of model '{source}'; it takes the picture, not a fixed value (ModelPreparationOptions.Feeds).");
            if (inputs.All(i => i.Name != name))
                throw new ScoreCamException(
                    $"ModelPreparationOptions.Feeds[\"{name}\"]: model '{source}' has no input named '{name}'. Its inputs besides the image '{image}' are: {Describe(inputs.Where(i => i.Name != image))}.");
        }
        // A fed input shares the image's batch dimension: symbolic, 1, or the size the image's export fixes.
        long? imageBatch = inputs.Where(i => i.Name == image).Select(i => ModelPreparer.Dims(i).FirstOrDefault()).FirstOrDefault();
        var bound = new List<FedInput>();
        foreach (ValueInfoProto input in inputs.Where(i => i.Name != image))
        {
            if (!feeds.TryGetValue(input.Name, out InputFeed? feed))
                throw new ScoreCamException(
                    $"Model '{source}' needs input '{input.Name}' [{DimsText(input)}] {ElementType(input)} besides its image '{image}'. Give it a fixed value, broadcast over the batch: " +
                    $"ModelPreparationOptions.Feeds[\"{input.Name}\"].");
            bound.Add(BindOne(input, feed, imageBatch ?? 1, source));
        }
        return bound;
    }

    private static FedInput BindOne(ValueInfoProto input, InputFeed feed, long batch, string source)
    {
        if (input.Type?.TensorType?.ElemType != (int)TensorProto.Types.DataType.Float)
            throw new ScoreCamException(
                $"Input '{input.Name}' of model '{source}' takes {ElementType(input)} tensors; fed inputs are float32 .npy arrays. " +
                "Re-export the model with a float32 input (one-hot tokens, or a Cast inside the graph).");
        var dims = ModelPreparer.Dims(input);
        int[] given = feed.Shape.ToArray();
        if (dims.Count > 0 && dims[0] is { } fixedBatch && fixedBatch != batch)
            throw new ScoreCamException(
                $"Input '{input.Name}' of model '{source}' has a batch dimension fixed at {fixedBatch}; a fed input's first dimension is the batch, shared with the image " +
                (batch == 1 ? "(symbolic or 1)." : $"(fixed at {batch} by the export). Export the model with both fixed at {batch}, or both symbolic."));
        // One row, with the batch dimension 1 or without it; where the model declares no shape, the batch dimension must be there.
        int[]? row = dims.Count == 0 ? (given.Length > 0 && given[0] == 1 ? given[1..] : null)
            : given.Length == dims.Count && given[0] == 1 ? given[1..]
            : given.Length == dims.Count - 1 ? given
            : null;
        if (row is null || (dims.Count > 0 && dims.Skip(1).Zip(row).Any(p => p.First is { } d && d != p.Second)))
            throw new ScoreCamException(
                $"The feed for input '{input.Name}' has shape [{string.Join('×', given)}]; the input takes [{DimsText(input)}]. " +
                $"Give one row: [1×{RowText(dims)}] or [{RowText(dims)}] (the batch dimension 1, or none); it is repeated for every image of a batch.");
        return new FedInput(input.Name, row.Select(d => (long)d).ToArray(), feed.Data);
    }

    private static string RowText(List<long?> dims) => dims.Count == 0 ? "..." : string.Join('×', dims.Skip(1).Select(d => d?.ToString() ?? "?"));

    private static string DimsText(ValueInfoProto input)
    {
        var d = input.Type?.TensorType?.Shape?.Dim;
        return d is null ? "unknown shape" : string.Join('×', d.Select(x => x.HasDimValue ? x.DimValue.ToString() : x.DimParam is { Length: > 0 } p ? p : "?"));
    }

    private static string ElementType(ValueInfoProto value) =>
        value.Type?.TensorType is { } t ? ((TensorProto.Types.DataType)t.ElemType).ToString().ToLowerInvariant() : "non-tensor";

    private static string Describe(IEnumerable<ValueInfoProto> inputs)
    {
        string text = string.Join(", ", inputs.Select(i => $"{i.Name} [{DimsText(i)}] {ElementType(i)}"));
        return text.Length > 0 ? text : "none";
    }
}
