using Google.Protobuf;
using Onnx;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Gradients.Recurrent;
using ScoreCam.Onnx.Gradients.Rules;

namespace ScoreCam.Onnx.Gradients;

/// <summary>
/// The one code path behind <see cref="GradientGraph"/> (the head) and <see cref="InputGradientGraph"/> (the whole
/// model): cuts the subgraph from a <see cref="GradientSource"/> to the differentiated output, rewrites older opsets,
/// probes the tensors' shapes, emits one <see cref="IGradientRule"/> per node in reverse order, and records what the
/// graph was made for in its metadata so a saved graph is reused only for the same source and output.
/// </summary>
internal static class GraphDifferentiator
{
    public const string SeedInput = "seed", LogitsOutput = "logits";
    public const string Prefix = "scorecam.grad.";
    /// <summary>Metadata key: "true" when <c>logits</c> are the pre-softmax scores of a model that outputs probabilities.</summary>
    public const string PreSoftmaxKey = Prefix + "presoftmax";
    private const string OutputKey = Prefix + "output";
    /// <summary>Metadata key: the model's inputs besides the image (comma-separated) that the graph was made for.</summary>
    private const string FedKey = Prefix + "fed_inputs";
    /// <summary>Metadata key: "LENGTH,INNER" of the <see cref="SoftmaxAxis"/> when <see cref="PreSoftmaxKey"/> is "true".</summary>
    public const string SoftmaxAxisKey = Prefix + "softmax_axis";
    /// <summary>Metadata key, instead of <see cref="SoftmaxAxisKey"/>: why the output row's probabilities cannot be differentiated through the Softmax.</summary>
    public const string SoftmaxRefusalKey = Prefix + "softmax_refusal";
    /// <summary>
    /// Metadata key, only for a model whose export fixes its batch size (<see cref="PreparedModel.FixedBatchSize"/>):
    /// that size, which every run of the graph takes too.
    /// </summary>
    public const string BatchKey = Prefix + "batch";
    /// <summary>
    /// Metadata key, only in a graph that runs the whole model from the image (<see cref="GradientSource.Leaf"/>): the
    /// layer whose gradient it gives.
    /// </summary>
    public const string LeafKey = Prefix + "leaf";
    /// <summary>Prefix of the tensors and nodes that apply the output's selection to the Softmax's input.</summary>
    private const string PreSoftmaxName = "scorecam/presoftmax/";
    private const int MinimumOpset = 7, GradientOpset = 16; // numpy broadcasting from 7; ScatterElements' reduction = add needs 16

    /// <summary>
    /// The tensor the graph differentiates: the model's output, or for a model whose output is read from Softmaxes over
    /// any axis but the batch's (<see cref="ProbabilityOutput"/>), the pre-softmax score of each output element, the
    /// logits that Grad-CAM and the pixel-space gradients differentiate: the Softmax's input when the output only
    /// reshapes it, else the output's selection (Gather, Slice, Transpose, ...) applied to the Softmaxes' inputs.
    /// </summary>
    public static (string Tensor, bool PreSoftmax) Differentiated(PreparedModel model) =>
        FinalSoftmax(model) is not { } p ? (model.OutputName, false)
        : p.IsReshape ? (p.Softmaxes[0].Input[0], true)
        : (PreSoftmaxName + model.OutputName, true);

    private static ProbabilityOutput? FinalSoftmax(PreparedModel model)
    {
        if (model.OutputKind != ModelOutputKind.Probabilities) return null;
        ProbabilityOutput? p = ProbabilityOutput.Trace(new GraphIndex(model.Proto.Graph), model.OutputName);
        return p is not null && p.Softmaxes.All(s => Attr.GetInt(s, "axis", DefaultAxis(model)) != 0) ? p : null;
    }

    /// <summary>
    /// Copies of the selection nodes that read each Softmax's input where the originals read its output, their
    /// outputs renamed: the last one gives the pre-softmax score of every output element. A copy is named after its
    /// original (or, unnamed, after the original's output) behind <see cref="PreSoftmaxName"/>.
    /// </summary>
    private static List<NodeProto> PreSoftmaxSelection(ProbabilityOutput p)
    {
        var renamed = p.Softmaxes.ToDictionary(s => s.Output[0], s => s.Input[0], StringComparer.Ordinal);
        foreach (NodeProto node in p.Selection) renamed[node.Output[0]] = PreSoftmaxName + node.Output[0];
        return p.Selection.Select(node =>
        {
            NodeProto copy = node.Clone();
            copy.Name = PreSoftmaxName + (node.Name.Length > 0 ? node.Name : node.Output[0]); // unique also where exporters leave names empty
            for (int i = 0; i < copy.Input.Count; i++)
                if (renamed.TryGetValue(copy.Input[i], out string? pre)) copy.Input[i] = pre;
            copy.Output[0] = renamed[node.Output[0]];
            return copy;
        }).ToList();
    }

    /// <summary>The output row's grouping: each Softmax's, carried through the selection nodes.</summary>
    private static SoftmaxAxis OutputGrouping(PreparedModel model, ProbabilityOutput p, IReadOnlyDictionary<string, long[]> shapes)
    {
        if (p.IsReshape) return Grouping(model, p.Softmaxes[0], shapes[p.Softmaxes[0].Input[0]]);
        var start = p.Softmaxes.ToDictionary(s => s.Input[0], s => Grouping(model, s, shapes[s.Input[0]]), StringComparer.Ordinal);
        return SoftmaxGrouping.Through(PreSoftmaxSelection(p), start, shapes, Differentiated(model).Tensor,
            $"the output '{model.OutputName}' of model '{model.Source}'", node => node.Name[PreSoftmaxName.Length..]);
    }

    private static long Opset(PreparedModel model) =>
        model.Proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();

    private static long DefaultAxis(PreparedModel model) => Opset(model) < 13 ? 1 : -1;

    /// <summary>
    /// The groups the final Softmax normalises, from its input's shape at batch size 1: one axis (opset 13 on), or the
    /// flattened dimensions from the axis on (before 13, "coerced to 2-D").
    /// </summary>
    private static SoftmaxAxis Grouping(PreparedModel model, NodeProto softmax, long[] shape)
    {
        long axis = Attr.GetInt(softmax, "axis", DefaultAxis(model));
        if (axis < 0) axis += shape.Length;
        if (axis <= 0 || axis >= shape.Length)
            throw new ScoreCamException(
                $"The output '{model.OutputName}' of model '{model.Source}' is a Softmax over axis {Attr.GetInt(softmax, "axis", DefaultAxis(model))} of a " +
                $"{string.Join('×', shape)} tensor, not over values of one image; gradient graphs differentiate a Softmax within each image. Score another output (ModelPreparationOptions.OutputName).");
        long Product(IEnumerable<long> dims) => dims.Aggregate(1L, (a, d) => a * d);
        return Opset(model) < 13
            ? new SoftmaxAxis((int)Product(shape.Skip((int)axis)), 1)
            : new SoftmaxAxis((int)shape[axis], (int)Product(shape.Skip((int)axis + 1)));
    }

    /// <summary>
    /// The gradient graph: inputs <c>source.GraphInput</c> (N×Shape) and <c>seed</c> (N×OutputSize), outputs
    /// <c>logits</c> and <c>source.GradientOutput</c> = d Σ(seed ⊙ logits) / d source.
    /// </summary>
    public static ModelProto Build(PreparedModel model, GradientSource source)
    {
        var (graph, nodes) = Cut(model, source, forGradients: true);
        // Shapes are probed at the batch size a run takes: 1, or the one the model's export fixes.
        long[] sourceShape = new long[] { model.FixedBatchSize ?? 1 }.Concat(source.Shape).ToArray();
        // The fed inputs the cut graph reads: constants of the gradient graph, given with every run.
        var fed = model.FedInputs.Where(f => graph.Graph.Input.Any(i => i.Name == f.Name)).ToList();
        IReadOnlyList<string> unrolled = nodes.Any(RecurrentUnrolling.IsRecurrent)
            ? RecurrentUnrolling.Apply(graph.Graph, nodes, TensorShapeProbe.Run(graph, source.GraphInput, sourceShape,
                nodes.Where(RecurrentUnrolling.IsRecurrent).Select(n => n.Input[0]).Distinct().ToArray(), model.ExternalDataFolder, fed))
            : Array.Empty<string>();
        string wrt = source.Leaf?.TensorName ?? source.Tensor;
        var differentiable = new GraphIndex(graph.Graph).DataDerivedFrom(wrt);
        var shapes = TensorShapeProbe.Run(graph, source.GraphInput, sourceShape,
            nodes.SelectMany(n => n.Output).Where(o => o != source.Tensor && differentiable.Contains(o)).Concat(unrolled).Distinct().ToArray(),
            model.ExternalDataFolder, fed);
        shapes[source.Tensor] = sourceShape;

        var g = graph.Graph;
        g.Input.Add(Value(SeedInput, model.OutputSize));
        var e = new GradientEmitter(g, differentiable, shapes, source.Guided);
        var (logits, preSoftmax) = Differentiated(model);
        e.Accumulate(logits, e.Reshape(SeedInput, e.ShapeOf(logits)));
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            NodeProto node = nodes[i];
            if (!node.Output.Any(o => e.NeedsGradient(o) && e.GradientOf(o) is not null)) continue;
            e.Current = node;
            IGradientRule rule = GradientRules.For(node.Domain, node.OpType) ?? throw new ScoreCamException(
                $"Cannot build the gradient graph: node '{node.Name}' ({(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType}) between {source.Description} " +
                $"and the output '{model.OutputName}' has no differentiation rule. Supported ops: " +
                $"{string.Join(", ", GradientRules.OpTypes.Order(StringComparer.Ordinal))}. {source.Remedy}");
            rule.Emit(node, e);
        }
        e.Current = null;
        string gradient = e.GradientOf(wrt) ?? throw new ScoreCamException(
            $"The output '{model.OutputName}' does not depend on {source.Description}: there is no gradient to compute.");
        if (source.Leaf is { } leaf)
        {
            ActivationLayout.AddMapsNodes(g, leaf, gradient, source.GradientOutput);
            g.Output.Add(Value(source.GradientOutput, leaf.Channels, leaf.Height, leaf.Width));
            Put(graph, LeafKey, leaf.TensorName);
        }
        else
        {
            g.Node.Add(Node("Identity", gradient, source.GradientOutput));
            g.Output.Add(Value(source.GradientOutput, source.Shape));
        }
        foreach (var (key, value) in source.Metadata) Put(graph, Prefix + key, value);
        Put(graph, OutputKey, logits);
        Put(graph, FedKey, FedNames(model));
        Put(graph, PreSoftmaxKey, preSoftmax ? "true" : "false");
        if (model.FixedBatchSize is { } batch) Put(graph, BatchKey, batch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (preSoftmax)
        {
            SoftmaxAxis axis = OutputGrouping(model, FinalSoftmax(model)!, shapes);
            if (axis.Refusal is { } why) Put(graph, SoftmaxRefusalKey, why);
            else Put(graph, SoftmaxAxisKey, $"{axis.Length},{axis.Inner}");
        }
        return graph;
    }

    /// <summary>The forward subgraph alone: <c>source.GraphInput</c> in, <c>logits</c> out (tests run it on perturbed inputs).</summary>
    public static ModelProto Forward(PreparedModel model, GradientSource source) => Cut(model, source, forGradients: false).Model;

    /// <summary>
    /// The saved graph at <paramref name="path"/> when it exists and its metadata say it was made for the same source
    /// and output, else a graph built in memory.
    /// </summary>
    public static byte[] Load(PreparedModel model, GradientSource source, string? path)
    {
        if (path is not null && File.Exists(path))
        {
            byte[] bytes = File.ReadAllBytes(path);
            try
            {
                var meta = ModelProto.Parser.ParseFrom(bytes).MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                // A graph saved before the Softmax's grouping was recorded is built again.
                if (meta.GetValueOrDefault(OutputKey) == Differentiated(model).Tensor &&
                    source.Metadata.All(m => meta.GetValueOrDefault(Prefix + m.Key) == m.Value) &&
                    meta.GetValueOrDefault(BatchKey) == model.FixedBatchSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) &&
                    (meta.GetValueOrDefault(PreSoftmaxKey) != "true" || meta.ContainsKey(SoftmaxAxisKey) || meta.ContainsKey(SoftmaxRefusalKey)))
                {
                    // Made for the same source and output, but for the model with other inputs besides the image: stale.
                    string made = meta.GetValueOrDefault(FedKey) ?? "", wanted = FedNames(model);
                    if (made != wanted)
                        throw new ScoreCamException(
                            $"The saved gradient graph '{path}' was made for a model whose inputs besides the image are {Listed(made)}, but model " +
                            $"'{model.Source}' takes {Listed(wanted)}. Delete it, or prepare the model again (with its feeds) to rewrite it.");
                    return bytes;
                }
            }
            catch (InvalidProtocolBufferException) { }
        }
        return Build(model, source).ToByteArray();
    }

    private static string FedNames(PreparedModel model) => string.Join(",", model.FedInputs.Select(f => f.Name));

    private static string Listed(string names) => names.Length == 0 ? "none" : $"({names.Replace(",", ", ")})";

    /// <summary>The file NAME<paramref name="suffix"/> next to the model at <paramref name="modelPath"/> (NAME without .cam).</summary>
    public static string NextTo(string modelPath, string suffix)
    {
        string name = Path.GetFileNameWithoutExtension(modelPath);
        if (name.EndsWith(".cam", StringComparison.Ordinal)) name = name[..^4];
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, name + suffix);
    }

    /// <summary>NAME<paramref name="suffix"/> next to the prepared model's file, or null when it did not come from a file.</summary>
    public static string? SavedPath(PreparedModel model, string suffix)
    {
        try { return File.Exists(model.Source) ? NextTo(model.Source, suffix) : null; }
        catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException) { return null; }
    }

    /// <summary>
    /// Cuts the nodes the output needs, back to the source tensor. Anything else they read must be an initializer, a
    /// constant computed from initializers, or a fed input (<see cref="PreparedModel.FedInputs"/>), which stays a graph
    /// input of the cut graph (a constant of the gradient: nothing is differentiated with respect to it); another graph
    /// input is an error.
    /// </summary>
    private static (ModelProto Model, List<NodeProto> Nodes) Cut(PreparedModel prepared, GradientSource source, bool forGradients)
    {
        ModelProto model = prepared.Proto;
        GraphProto graph = model.Graph;
        if (FinalSoftmax(prepared) is { IsReshape: false } probabilities)
        {
            // The model's graph (shared, not copied) and, after it, the selection over the Softmaxes' inputs.
            graph = new GraphProto();
            graph.Node.AddRange(model.Graph.Node);
            graph.Node.AddRange(PreSoftmaxSelection(probabilities));
            graph.Initializer.AddRange(model.Graph.Initializer);
        }
        var index = new GraphIndex(graph);
        string from = source.Tensor, output = Differentiated(prepared).Tensor;
        long opset = Opset(prepared);
        if (opset < MinimumOpset)
            throw new ScoreCamException(
                $"Model '{prepared.Source}' uses ONNX opset {opset}; gradient graphs need opset {MinimumOpset} or later (numpy-style broadcasting). Re-export the model with a newer opset.");

        var fedInputs = prepared.FedInputs.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var fedUsed = new HashSet<string>(StringComparer.Ordinal);
        var needed = new SortedSet<int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<(string Tensor, string? Reader)>();
        stack.Push((output, null));
        while (stack.Count > 0)
        {
            var (tensor, reader) = stack.Pop();
            if (!seen.Add(tensor) || tensor == from || index.Initializers.Contains(tensor)) continue;
            if (fedInputs.ContainsKey(tensor) && !index.Producer.ContainsKey(tensor))
            {
                fedUsed.Add(tensor);
                continue;
            }
            if (!index.Producer.TryGetValue(tensor, out int i))
                throw new ScoreCamException(
                    $"Cannot build the gradient graph: the output '{output}' depends on the model input '{tensor}' (read by node '{reader}') other than through " +
                    $"{source.Description}. {source.BypassRemedy}");
            NodeProto producer = graph.Node[i];
            needed.Add(i);
            foreach (string input in producer.Input.Where(t => t.Length > 0).Concat(GraphIndex.OuterScopeReads(producer))) stack.Push((input, producer.Name));
        }
        var cut = new ModelProto
        {
            IrVersion = forGradients ? Math.Max(model.IrVersion, 8) : model.IrVersion,
            ProducerName = "ScoreCam.Onnx gradient graph",
            Graph = new GraphProto { Name = forGradients ? "gradient" : "forward" },
        };
        foreach (OperatorSetIdProto o in model.OpsetImport)
            cut.OpsetImport.Add(o.Domain is "" or "ai.onnx" ? new OperatorSetIdProto { Domain = o.Domain, Version = forGradients ? Math.Max(o.Version, GradientOpset) : o.Version } : o.Clone());
        var g = cut.Graph;
        g.Input.Add(Value(source.GraphInput, source.Shape));
        foreach (FedInput fed in prepared.FedInputs.Where(f => fedUsed.Contains(f.Name)))
        {
            if (fed.Name is SeedInput or LogitsOutput || fed.Name == source.GraphInput || fed.Name == source.GradientOutput)
                throw new ScoreCamException(
                    $"Model '{prepared.Source}' has an input named '{fed.Name}', which is also the name of one of the gradient graph's own inputs and outputs " +
                    $"({source.GraphInput}, {SeedInput}, {LogitsOutput}, {source.GradientOutput}). Rename that input in the model.");
            g.Input.Add(Value(fed.Name, fed.RowShape));
        }
        if (from != source.GraphInput) g.Node.Add(Node("Identity", source.GraphInput, from));
        var nodes = new List<NodeProto>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        int fresh = 0;
        foreach (int i in needed)
        {
            NodeProto original = graph.Node[i].Clone();
            // Older opsets: rewrite into the gradient graph's opset with the same meaning.
            var upgraded = forGradients ? OpsetUpgrade.Apply(original, opset, Constant) : new[] { original };
            foreach (NodeProto node in upgraded)
            {
                if (forGradients && node.OpType == "MaxPool" && node.Domain is "" or "ai.onnx")
                {
                    while (node.Output.Count < 2) node.Output.Add("");
                    if (node.Output[1].Length == 0) node.Output[1] = $"grad/maxpool_indices_{fresh++}";
                }
                used.UnionWith(node.Input);
                used.UnionWith(GraphIndex.OuterScopeReads(node));
                g.Node.Add(node);
                nodes.Add(node);
            }
        }
        string Constant(TensorProto value)
        {
            value.Name = $"upgrade/const_{fresh++}";
            g.Initializer.Add(value);
            return value.Name;
        }
        g.Initializer.AddRange(graph.Initializer.Where(t => used.Contains(t.Name)).Select(t => t.Clone()));
        if (output != LogitsOutput) g.Node.Add(Node("Identity", output, LogitsOutput));
        g.Output.Add(TensorShapeProbe.FloatOutput(LogitsOutput));
        return (cut, nodes);
    }

    private static void Put(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static NodeProto Node(string op, string input, string output)
    {
        var node = new NodeProto { OpType = op, Name = $"grad/{output}" };
        node.Input.Add(input);
        node.Output.Add(output);
        return node;
    }

    /// <summary>A float tensor with a symbolic batch dimension N and the given fixed dimensions.</summary>
    private static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
