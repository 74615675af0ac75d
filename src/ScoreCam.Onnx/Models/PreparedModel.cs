using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// A classifier graph ready for explanation: it outputs the class scores and the target layer's activations.
/// Saved as <c>NAME.cam.onnx</c> with what was found recorded in the model's metadata, so a service prepares once.
/// Immutable and thread-safe.
/// </summary>
public sealed class PreparedModel
{
    private const string Prefix = "scorecam.";
    private readonly ModelProto _model;

    internal PreparedModel(ModelProto model, ImageInputSpec input, string outputName, int outputSize, ModelOutputKind outputKind,
        TargetLayer layer, int? fixedBatchSize, long intermediateBytesPerImage, IReadOnlyList<string> warnings, string source, string? externalDataFolder = null,
        InputLayout exportedLayout = InputLayout.ChannelsFirst, IReadOnlyDictionary<string, InputFeed>? feeds = null, IReadOnlyList<FedInput>? fedInputs = null,
        IReadOnlyList<int>? outputShape = null)
    {
        _model = model;
        OutputShape = outputShape is not null && outputShape.Aggregate(1L, (a, d) => a * d) == outputSize ? outputShape : new[] { outputSize };
        (Input, OutputName, OutputSize, OutputKind, Layer, FixedBatchSize, IntermediateBytesPerImage, Warnings, Source, ExternalDataFolder, ExportedLayout) =
            (input, outputName, outputSize, outputKind, layer, fixedBatchSize, intermediateBytesPerImage, warnings, source, externalDataFolder, exportedLayout);
        Feeds = feeds ?? new Dictionary<string, InputFeed>();
        FedInputs = fedInputs ?? Array.Empty<FedInput>();
    }

    public ImageInputSpec Input { get; }
    public string OutputName { get; }
    /// <summary>Number of values in one output row: the class count for a classifier.</summary>
    public int OutputSize { get; }
    /// <summary>The shape of one output row (the output's dimensions after the batch), e.g. 4+C × N for a detector's raw boxes.</summary>
    public IReadOnlyList<int> OutputShape { get; }
    public ModelOutputKind OutputKind { get; }
    /// <summary>The target layer; its activations are the graph output named <see cref="TargetLayer.TensorName"/>.</summary>
    public TargetLayer Layer { get; }
    /// <summary>
    /// The batch size the model's export fixes (and that could not be made symbolic), or null when any batch size runs.
    /// Every run of such a model takes exactly this many inputs: a single input and a partial last batch are padded,
    /// the padding's outputs read by no one and counted as no pass.
    /// </summary>
    public int? FixedBatchSize { get; }
    /// <summary>True when any batch size runs (<see cref="FixedBatchSize"/> is null).</summary>
    public bool SupportsBatching => FixedBatchSize is null;
    /// <summary>
    /// Peak bytes of the intermediate tensors one input needs in a forward pass (at the size probed at preparation):
    /// what <see cref="BatchSizePolicy"/> multiplies by the batch size.
    /// </summary>
    public long IntermediateBytesPerImage { get; }
    /// <summary>Things the user should hear about once (e.g. a batch size fixed by the export).</summary>
    public IReadOnlyList<string> Warnings { get; }
    /// <summary>Where the model came from (a path or a description).</summary>
    public string Source { get; }
    /// <summary>
    /// The folder ONNX Runtime reads the model's external data files from (the model file's folder), or null when
    /// every weight is inside the model. Sessions of this model must be given it.
    /// </summary>
    public string? ExternalDataFolder { get; }
    /// <summary>The input layout the model was exported with; the prepared graph always takes N×C×H×W.</summary>
    public InputLayout ExportedLayout { get; }

    /// <summary>
    /// The fixed values of the model's inputs besides the image (<see cref="ModelPreparationOptions.Feeds"/>), given to
    /// every pass; empty for a model whose only input is the image. <see cref="Save"/> keeps those inputs as inputs.
    /// </summary>
    public IReadOnlyDictionary<string, InputFeed> Feeds { get; }

    internal IReadOnlyList<FedInput> FedInputs { get; }

    internal ModelProto Proto => _model;

    /// <summary>
    /// This model with other values for its inputs besides the image (the next word's prefix of a caption), without
    /// preparing it again. Every such input must be fed, each with one row of its shape.
    /// </summary>
    public PreparedModel WithFeeds(IReadOnlyDictionary<string, InputFeed> feeds) =>
        new(_model, Input, OutputName, OutputSize, OutputKind, Layer, FixedBatchSize, IntermediateBytesPerImage, Warnings, Source, ExternalDataFolder,
            ExportedLayout, feeds, FedInput.Bind(new GraphIndex(_model.Graph), Input.Name, feeds, Source), OutputShape);

    public byte[] ToBytes() => _model.ToByteArray();

    /// <summary>
    /// Writes the prepared graph (atomically: a temporary file renamed into place). A model with external data keeps
    /// referring to its data files by relative path, so it is saved in the same folder as the original.
    /// </summary>
    public void Save(string path)
    {
        if (ExternalDataFolder is not null && Path.GetDirectoryName(Path.GetFullPath(path)) != ExternalDataFolder)
            throw new ScoreCamException(
                $"Model '{Source}' keeps its weights in external data files in '{ExternalDataFolder}'; save the prepared model in that folder too, " +
                "where its relative references to them still hold.");
        ModelProto copy = _model.Clone();
        foreach (var key in copy.MetadataProps.Where(p => p.Key.StartsWith(Prefix, StringComparison.Ordinal)).ToList())
            copy.MetadataProps.Remove(key);
        void Put(string key, object value) => copy.MetadataProps.Add(new StringStringEntryProto { Key = Prefix + key, Value = value.ToString() ?? "" });
        Put("input", Input.Name);
        Put("output", OutputName);
        Put("output_kind", OutputKind);
        Put("output_shape", string.Join(',', OutputShape));
        Put("layer", Layer.TensorName);
        Put("layer_node", Layer.NodeName ?? "");
        Put("layer_op", Layer.OpType ?? "");
        Put("layer_shape", $"{Layer.Channels},{Layer.Height},{Layer.Width}");
        Put("layer_layout", $"{Layer.Layout},{Layer.PrefixTokens}");
        Put("exported_layout", ExportedLayout);
        Put("intermediate_bytes_per_image", IntermediateBytesPerImage);
        BatchSizeChoice choice = BatchSizePolicy.Choose(this);
        Put("batch_size", choice.BatchSize);
        Put("batch_size_reason", choice.Reason);
        AtomicFile.Write(path, copy.ToByteArray());
    }

    /// <summary>Reads back what <see cref="Save"/> wrote, or null when the model carries no such record.</summary>
    internal static PreparedModel? FromMetadata(ModelProto model, string source, string? externalDataFolder)
    {
        var meta = model.MetadataProps.Where(p => p.Key.StartsWith(Prefix, StringComparison.Ordinal))
            .ToDictionary(p => p.Key[Prefix.Length..], p => p.Value, StringComparer.Ordinal);
        // Files saved before layouts were recorded hold N×K×h×w maps.
        string[] mapsLayout = meta.GetValueOrDefault("layer_layout", nameof(LayerLayout.ChannelsFirst) + ",0").Split(',');
        // Files saved before the memory estimate was recorded are prepared again (their activations output is kept).
        if (!meta.TryGetValue("layer", out string? layer) || !model.Graph.Output.Any(o => o.Name == layer || o.Name == layer + ActivationLayout.MapsSuffix)
            || !long.TryParse(meta.GetValueOrDefault("intermediate_bytes_per_image"), out long bytesPerImage)) return null;
        var index = new GraphIndex(model.Graph);
        ValueInfoProto input = index.RealInputs.FirstOrDefault(i => i.Name == meta.GetValueOrDefault("input"))
            ?? throw new ScoreCamException($"Prepared model '{source}' names an input that it does not have; prepare it again.");
        var (channels, height, width) = ModelPreparer.ReadImageInput(input);
        try
        {
            int[] shape = meta["layer_shape"].Split(',').Select(int.Parse).ToArray();
            ValueInfoProto output = model.Graph.Output.First(o => o.Name == meta["output"]);
            int outputSize = (int)ModelPreparer.Dims(output).Skip(1).Aggregate(1L, (a, d) => a * (d ?? 1));
            // The graph's input tells whether the batch is fixed: preparation made it symbolic wherever it could.
            // The kind follows from the graph: read again, a file saved by a version that knew fewer probability outputs is scored right.
            return new PreparedModel(model, new ImageInputSpec(input.Name, channels, height, width), output.Name, outputSize,
                ModelPreparer.DetectOutputKind(index, output.Name, outputSize),
                new TargetLayer(layer, NullIfEmpty(meta.GetValueOrDefault("layer_node")), NullIfEmpty(meta.GetValueOrDefault("layer_op")), shape[0], shape[1], shape[2])
                {
                    Layout = Enum.Parse<LayerLayout>(mapsLayout[0]), PrefixTokens = int.Parse(mapsLayout[1], System.Globalization.CultureInfo.InvariantCulture),
                },
                (int?)ModelPreparer.Dims(input)[0], bytesPerImage, Array.Empty<string>(), source, externalDataFolder,
                meta.TryGetValue("exported_layout", out string? layout) ? Enum.Parse<InputLayout>(layout) : InputLayout.ChannelsFirst,
                outputShape: meta.TryGetValue("output_shape", out string? dims) ? dims.Split(',').Select(int.Parse).ToArray() : null);
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or OverflowException or ArgumentException
                                      or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new ScoreCamException($"Prepared model '{source}' has a damaged ScoreCam record in its metadata ({e.Message}); prepare it again from the original model.", e);
        }
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
