using Onnx;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Models;

/// <summary>
/// Turns an ONNX image classifier into a <see cref="PreparedModel"/>: finds the image input, the class-score output
/// and the target layer, exposes the layer's activations as an extra output, and makes the batch dimension symbolic.
/// </summary>
public static class ModelPreparer
{
    private const string BatchParam = "batch";
    private const long MaxDimension = 1 << 16, MaxProbeValues = 1 << 28;

    /// <summary>Prepares the model at <paramref name="path"/>; a model saved by <see cref="PreparedModel.Save"/> is used as it is.</summary>
    public static PreparedModel Prepare(string path, ModelPreparationOptions? options = null)
    {
        ModelProto model = OnnxModelReader.Read(path);
        return Prepare(model, path, ExternalData.Folder(model, path, path), options ?? new());
    }

    /// <summary>Prepares a model held in memory; one whose weights are in external data files must be loaded from its path.</summary>
    public static PreparedModel Prepare(byte[] model, string source, ModelPreparationOptions? options = null)
    {
        ModelProto proto = OnnxModelReader.Parse(model, source);
        return Prepare(proto, source, ExternalData.Folder(proto, null, source), options ?? new());
    }

    /// <summary>The spatial layers that could be explained, in graph order, the automatic choice marked.</summary>
    public static IReadOnlyList<LayerCandidate> ListLayers(string path, ModelPreparationOptions? options = null)
    {
        ModelProto model = OnnxModelReader.Read(path);
        return ListLayers(model, path, ExternalData.Folder(model, path, path), options ?? new());
    }

    /// <summary>The spatial layers of a model held in memory; one whose weights are in external data files must be read from its path.</summary>
    public static IReadOnlyList<LayerCandidate> ListLayers(byte[] model, string source, ModelPreparationOptions? options = null)
    {
        ModelProto proto = OnnxModelReader.Parse(model, source);
        return ListLayers(proto, source, ExternalData.Folder(proto, null, source), options ?? new());
    }

    private static IReadOnlyList<LayerCandidate> ListLayers(ModelProto model, string path, string? folder, ModelPreparationOptions options)
    {
        var (index, input, _, _) = ReadInput(model, options, path);
        var fed = FedInput.Bind(index, input.Name, options.Feeds, path);
        long[] probeShape = ProbeShape(input, options);
        var (outputs, shapes) = Probe(model, index, input.Name, probeShape, folder, fed);
        string output = FindOutput(model, outputs, options, path);
        var candidates = TargetLayerFinder.Candidates(index, input.Name, output, shapes);
        LayerCandidate? chosen = TargetLayerFinder.Choose(index, candidates, input.Name, output, ClassCount(outputs[output]), shapes);
        return candidates.Select(c => c == chosen ? c with { IsAutomaticChoice = true } : c).ToList();
    }

    private static PreparedModel Prepare(ModelProto model, string source, string? folder, ModelPreparationOptions options)
    {
        var feeds = options.Feeds ?? new Dictionary<string, InputFeed>();
        if (options.Layer is null && PreparedModel.FromMetadata(model, source, folder) is { } saved)
        {
            if (options.OutputName is { } name && name != saved.OutputName)
                throw new ScoreCamException(
                    $"Prepared model '{source}' scores output '{saved.OutputName}', not '{name}'; prepare the original model again with that output.");
            return saved.WithFeeds(feeds);
        }

        var (index, input, (channels, height, width), layoutNote) = ReadInput(model, options, source);
        var fed = FedInput.Bind(index, input.Name, feeds, source);
        long[] probeShape = ProbeShape(input, options);
        var (outputShapes, shapes) = Probe(model, index, input.Name, probeShape, folder, fed);
        string output = FindOutput(model, outputShapes, options, source);
        long classCount = ClassCount(outputShapes[output]);

        TargetLayer layer = FindLayer(model, index, input.Name, output, probeShape, outputShapes, shapes, classCount, options, source, folder, fed);
        ModelProto prepared = model.Clone();
        if (layer.Layout != LayerLayout.ChannelsFirst && !index.Producer.ContainsKey(layer.MapsTensor)) ActivationLayout.AddMapsNodes(prepared.Graph, layer, layer.TensorName, layer.MapsTensor);
        if (!prepared.Graph.Output.Any(o => o.Name == layer.MapsTensor))
            prepared.Graph.Output.Add(TensorShapeProbe.FloatOutput(layer.MapsTensor));
        long bytesPerImage = BatchSizePolicy.PeakBytesPerImage(prepared.Graph, input.Name, shapes);

        var warnings = new List<string>();
        if (layoutNote is not null) warnings.Add(layoutNote);
        int? fixedBatch = EnsureSymbolicBatch(prepared, input.Name, probeShape, warnings, folder, fed);
        return new PreparedModel(prepared, new ImageInputSpec(input.Name, channels, height, width), output, (int)classCount,
            DetectOutputKind(index, output, classCount), layer, fixedBatch, bytesPerImage, warnings, source, folder,
            layoutNote is null ? InputLayout.ChannelsFirst : InputLayout.ChannelsLast, feeds, fed, outputShapes[output].Skip(1).Select(d => (int)d).ToArray());
    }

    /// <summary>
    /// Checks what ONNX Runtime will be asked to run and finds the image input; a channels-last input is folded
    /// (on a copy) so that everything after this sees N×C×H×W. Returns the sentence stating the fold, if any.
    /// </summary>
    private static (GraphIndex Index, ValueInfoProto Input, (int Channels, int? Height, int? Width) Image, string? LayoutNote) ReadInput(
        ModelProto model, ModelPreparationOptions options, string source)
    {
        OperatorDomains.Check(model, source);
        SuppressedDetections.Add(model);
        var index = new GraphIndex(model.Graph);
        ValueInfoProto input = FindInput(index, options, source);
        string? note = null;
        if (ChannelsLastInput.Detect(input))
        {
            note = ChannelsLastInput.Fold(model, input.Name);
            index = new GraphIndex(model.Graph);
            input = index.RealInputs.First(i => i.Name == input.Name);
        }
        return (index, input, ReadImageInput(input), note);
    }

    /// <summary>
    /// One run on a zero image gives the shapes of the graph outputs and of every data tensor derived from the input
    /// (the candidate layers and the intermediate tensors whose size decides the batch size).
    /// </summary>
    private static (Dictionary<string, long[]> Outputs, Dictionary<string, long[]> All) Probe(ModelProto model, GraphIndex index, string input,
        long[] probeShape, string? folder, IReadOnlyList<FedInput> fed)
    {
        var outputs = model.Graph.Output.Select(o => o.Name).ToList();
        var tensors = outputs.Concat(index.DataDerivedFrom(input).Where(index.Producer.ContainsKey)).Distinct().ToArray();
        var all = TensorShapeProbe.Run(model, input, probeShape, tensors, folder, fed);
        all[input] = probeShape;
        return (outputs.ToDictionary(o => o, o => all[o], StringComparer.Ordinal), all);
    }

    private static ValueInfoProto FindInput(GraphIndex index, ModelPreparationOptions options, string source)
    {
        var inputs = index.RealInputs.ToList();
        ValueInfoProto input;
        if (options.InputName is { } name)
            input = inputs.FirstOrDefault(i => i.Name == name) ?? throw new ScoreCamException(
                $"Model '{source}' has no input named '{name}'. Its inputs are: {Describe(inputs)}.");
        else
        {
            var images = inputs.Where(i => Dims(i).Count == 4).ToList();
            var floats = images.Where(IsFloat).ToList();
            input = floats.Count switch
            {
                1 => floats[0],
                0 when images.Count > 0 => images[0],
                0 => throw new ScoreCamException($"Model '{source}' has no image-like input (a 4-D float tensor N×C×H×W). Its inputs are: {Describe(inputs)}."),
                _ => throw new ScoreCamException(
                    $"Model '{source}' has several image-like inputs ({string.Join(", ", floats.Select(i => i.Name))}); name one with ModelPreparationOptions.InputName."),
            };
        }
        if (!IsFloat(input))
            throw new ScoreCamException(
                $"Input '{input.Name}' of model '{source}' takes {ElementType(input)} tensors; ScoreCam.Onnx feeds float32 images (masked images are fractional). " +
                "Re-export the model with a float32 input (a Cast inside the graph can convert it).");
        return input;
    }

    private static bool IsFloat(ValueInfoProto value) => value.Type?.TensorType?.ElemType == (int)TensorProto.Types.DataType.Float;

    private static string ElementType(ValueInfoProto value) =>
        value.Type?.TensorType is { } t ? ((TensorProto.Types.DataType)t.ElemType).ToString().ToLowerInvariant() : "non-tensor";

    private static string Describe(IEnumerable<ValueInfoProto> inputs) =>
        string.Join(", ", inputs.Select(i => $"{i.Name} [{string.Join('x', Dims(i).Select(d => d?.ToString() ?? "?"))}] {ElementType(i)}"));

    internal static (int Channels, int? Height, int? Width) ReadImageInput(ValueInfoProto input)
    {
        var d = Dims(input);
        // Fixed sizes must be positive and small enough for one tensor (a corrupt export can claim 0, -1 or 2^40).
        if (d.Count == 4 && d[1] is 1 or 3 && d.All(x => x is null or (> 0 and <= MaxDimension)))
            return ((int)d[1]!.Value, (int?)d[2], (int?)d[3]);
        throw new ScoreCamException(
            $"Input '{input.Name}' has shape [{string.Join('x', d.Select(x => x?.ToString() ?? "?"))}]; an image input must be N×3×H×W or N×1×H×W, every fixed size between 1 and {MaxDimension}.");
    }

    private static long[] ProbeShape(ValueInfoProto input, ModelPreparationOptions options)
    {
        var d = Dims(input);
        long[] shape = { d[0] ?? 1, d[1]!.Value, d[2] ?? options.ProbeSize.Height, d[3] ?? options.ProbeSize.Width };
        if (shape.Aggregate(1.0, (a, b) => a * b) > MaxProbeValues)
            throw new ScoreCamException($"Input '{input.Name}' of shape [{string.Join('x', shape)}] holds more than {MaxProbeValues} values; no image batch is that large. Export the model with a smaller fixed size, or a symbolic batch.");
        return shape;
    }

    private static string FindOutput(ModelProto model, Dictionary<string, long[]> shapes, ModelPreparationOptions options, string source)
    {
        if (options.OutputName is { } name)
            return shapes.ContainsKey(name) ? name : throw new ScoreCamException(
                $"Model '{source}' has no output named '{name}'. Its outputs are: {string.Join(", ", shapes.Keys)}.");
        // A detector with suppression inside is scored on its detections, gathered in one output.
        if (shapes.ContainsKey(SuppressedDetections.OutputName)) return SuppressedDetections.OutputName;
        var scores = model.Graph.Output.Select(o => o.Name).Where(n => !TargetLayerFinder.IsSpatial(shapes[n])).ToList();
        return scores.Count switch
        {
            1 => scores[0],
            0 => throw new ScoreCamException($"Model '{source}' has no class-score output (N×C); all its outputs are spatial maps. " +
                $"For a segmenter, name the output to explain ({string.Join(", ", shapes.Keys)}; the output option of model preparation) and explain a region of it."),
            _ => throw new ScoreCamException(
                $"Model '{source}' has several score outputs ({string.Join(", ", scores)}); name one with ModelPreparationOptions.OutputName."),
        };
    }

    /// <summary>The layer asked for does not exist: name the closest candidate and the last few spatial layers.</summary>
    private static ScoreCamException NoSuchLayer(string requested, IReadOnlyList<LayerCandidate> candidates, string source)
    {
        var names = candidates.Select(c => c.TensorName).Reverse().ToList();
        string closest = Suggestion.Closest(requested, names) is { } s ? $" (did you mean '{s}'?)" : "";
        string listed = names.Count == 0 ? "it has no spatial layer"
            : $"its spatial layers, last first: {string.Join(", ", names.Take(8))}{(names.Count > 8 ? $" and {names.Count - 8} more" : "")}";
        return new ScoreCamException($"Model '{source}' has no layer (tensor or node) named '{requested}'{closest}; {listed}.");
    }

    private static long ClassCount(long[] outputShape) => outputShape.Skip(1).Aggregate(1L, (a, b) => a * b);

    private static TargetLayer FindLayer(ModelProto model, GraphIndex index, string input, string output, long[] probeShape,
        Dictionary<string, long[]> outputShapes, Dictionary<string, long[]> shapes, long classCount, ModelPreparationOptions options, string source, string? folder,
        IReadOnlyList<FedInput> fed)
    {
        if (options.Layer is { } requested)
        {
            string tensor = index.Producer.ContainsKey(requested) ? requested
                : index.Graph.Node.FirstOrDefault(n => n.Name == requested)?.Output[0]
                ?? throw NoSuchLayer(requested, TargetLayerFinder.Candidates(index, input, output, shapes), source);
            long[] shape = shapes.GetValueOrDefault(tensor) ?? TensorShapeProbe.Run(model, input, probeShape, new[] { tensor }, folder, fed)[tensor];
            LayerCandidate? listed = TargetLayerFinder.Candidates(index, input, output, shapes).FirstOrDefault(c => c.TensorName == tensor);
            return listed?.ToTargetLayer() ?? ActivationLayout.Read(tensor, index.ProducerOf(tensor), shape, null, probeShape[2], probeShape[3]) ?? throw new ScoreCamException(
                $"Layer '{requested}' has shape [{string.Join('x', shape)}]; a target layer holds maps: N×K×h×w, channels last N×h×w×K, or tokens N×T×K " +
                $"whose last tokens are a grid of square patches of the {probeShape[2]}×{probeShape[3]} input.");
        }

        // A model exported with the activations as an extra output is used as it is.
        string? exported = model.Graph.Output.Select(o => o.Name).FirstOrDefault(n => n != output && TargetLayerFinder.IsSpatial(outputShapes[n]));
        if (exported is not null)
        {
            long[] s = outputShapes[exported];
            NodeProto? node = index.ProducerOf(exported);
            return new TargetLayer(exported, node?.Name, node?.OpType, (int)s[1], (int)s[2], (int)s[3]);
        }

        var candidates = TargetLayerFinder.Candidates(index, input, output, shapes);
        LayerCandidate chosen = TargetLayerFinder.Choose(index, candidates, input, output, classCount, shapes) ?? throw new ScoreCamException(
            $"Model '{source}' has no spatial layer (N×K×h×w with h·w > 1) and no normalised tokens on a patch grid before its output, so there are " +
            "no activation maps to explain with. Score-CAM needs a convolutional classifier or a vision transformer; name a layer if the finder missed it.");
        return chosen.ToTargetLayer();
    }

    /// <summary>
    /// Probabilities when the output is read from a Softmax through nodes that only select or rearrange its elements
    /// (<see cref="ProbabilityOutput"/>: one class of several included), else one logit or logits.
    /// </summary>
    internal static ModelOutputKind DetectOutputKind(GraphIndex index, string output, long classCount) =>
        ProbabilityOutput.Trace(index, output) is not null ? ModelOutputKind.Probabilities
        : classCount == 1 ? ModelOutputKind.SingleLogit
        : ModelOutputKind.Logits;

    /// <summary>
    /// Rewrites a batch dimension fixed at 1 into a symbolic one and checks that a batch of 2 really runs;
    /// where shapes are baked into the graph (a Reshape to [1, -1]) it restores the original and reports it.
    /// A batch fixed at N &gt; 1 (a fixed-shape export) is kept as exported. Returns the batch size that stays fixed, or
    /// null when any batch size runs.
    /// </summary>
    private static int? EnsureSymbolicBatch(ModelProto model, string inputName, long[] probeShape, List<string> warnings, string? folder,
        IReadOnlyList<FedInput> fed)
    {
        ValueInfoProto input = model.Graph.Input.First(i => i.Name == inputName);
        var batchDim = input.Type.TensorType.Shape.Dim[0];
        if (!batchDim.HasDimValue) return null;
        if (batchDim.DimValue != 1)
        {
            warnings.Add($"The model's export fixes its batch size at {batchDim.DimValue}; every pass runs {batchDim.DimValue} inputs, " +
                "a single input and a partial last batch padded with zeros whose outputs are dropped.");
            return (int)batchDim.DimValue;
        }

        GraphProto backup = model.Graph.Clone();
        // Fed inputs share the image's batch dimension: each batch repeats their row once per image.
        foreach (var value in model.Graph.Input.Where(i => i.Name == inputName || fed.Any(f => f.Name == i.Name)).Concat(model.Graph.Output))
        {
            var dims = value.Type?.TensorType?.Shape?.Dim;
            if (dims is { Count: > 0 } && (!dims[0].HasDimValue || dims[0].DimValue == 1))
                dims[0] = new TensorShapeProto.Types.Dimension { DimParam = BatchParam };
        }
        model.Graph.ValueInfo.Clear();
        try
        {
            long[] two = (long[])probeShape.Clone();
            two[0] = 2;
            var shapes = TensorShapeProbe.Run(model, inputName, two, model.Graph.Output.Select(o => o.Name).ToArray(), folder, fed);
            if (shapes.Values.All(s => s.Length > 0 && s[0] == 2)) return null;
        }
        catch (ScoreCamException) { }
        model.Graph = backup;
        warnings.Add("The model fixes its batch size at 1 inside the graph; masked images are run one at a time (slower).");
        return 1;
    }

    internal static List<long?> Dims(ValueInfoProto value) =>
        value.Type?.TensorType?.Shape?.Dim.Select(d => d.HasDimValue ? d.DimValue : (long?)null).ToList() ?? new List<long?>();
}
