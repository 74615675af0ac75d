using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Gradients;

/// <summary>
/// Checks a gradient graph against central finite differences of the forward head, run as an ONNX model on
/// perturbed activations: f(A) = Σ seed ⊙ logits in double, (f(A + εe_i) − f(A − εe_i)) / 2ε at sampled entries
/// (the largest gradients and random ones), and along one random direction; whole input gradient graphs along
/// directions only.
/// </summary>
internal static class GradientCheck
{
    public const string Layer = "features";

    /// <summary>A prepared model whose image input "x" (N×K×h×w) is the target layer itself (through an Identity).</summary>
    public static PreparedModel Model(OnnxGraphBuilder g, int k, int h, int w, string output, int outputSize)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(g.Build());
        return new PreparedModel(proto, new ImageInputSpec("x", k, h, w), output, outputSize, ModelOutputKind.Logits,
            new TargetLayer(Layer, null, "Identity", k, h, w), null, sizeof(float) * k * h * w, Array.Empty<string>(), "test head");
    }

    /// <summary>Starts a head: input x [N,k,h,w] and the target layer "features" = Identity(x).</summary>
    public static (OnnxGraphBuilder Builder, string Layer) Start(int k, int h, int w, int opset = 14) // HardSwish is opset 14
    {
        var g = new OnnxGraphBuilder(opset);
        string x = g.Input("x", null, k, h, w);
        return (g, g.Node("Identity", new[] { x }, Layer));
    }

    /// <summary>
    /// The model with every ReLU (Relu, and Clip from 0 as in ReLU6) replaced by Softplus: the same graph with smooth
    /// activations, so that finite differences of a deep network are not spoilt by the many ReLU kinks a step crosses.
    /// </summary>
    public static PreparedModel Smoothed(PreparedModel model)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(model.ToBytes());
        var zeros = proto.Graph.Initializer.Where(t => t.DataType == 1 && t.Dims.Count == 0 && Values(t) is [0f]).Select(t => t.Name)
            .Concat(proto.Graph.Node.Where(n => n.OpType == "Constant" && n.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { } t && Values(t) is [0f]).Select(n => n.Output[0]))
            .ToHashSet();
        foreach (NodeProto node in proto.Graph.Node.Where(n => n.OpType == "Relu" || n.OpType == "Clip" && n.Input.Count > 1 && zeros.Contains(n.Input[1])))
        {
            node.OpType = "Softplus";
            while (node.Input.Count > 1) node.Input.RemoveAt(1);
        }
        return new PreparedModel(proto, model.Input, model.OutputName, model.OutputSize, model.OutputKind, model.Layer, model.FixedBatchSize,
            model.IntermediateBytesPerImage, model.Warnings, model.Source + " (smoothed)", model.ExternalDataFolder, model.ExportedLayout, model.Feeds, model.FedInputs);
    }

    private static float[] Values(TensorProto t) =>
        t.RawData.Length > 0 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();

    public static float[] RandomActivations(int length, int seed, bool positive)
    {
        var random = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < a.Length; i++)
        {
            double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            a[i] = positive ? (float)(0.5 + Math.Abs(normal)) : (float)normal;
        }
        return a;
    }

    public sealed record Result(int Checked, int Skipped, double WorstError, double DirectionalError, float[] Gradient);

    /// <summary>The head's gradient graph of <paramref name="model"/> against finite differences of its head at <paramref name="activations"/>.</summary>
    public static Result Run(PreparedModel model, float[] activations, float[]? seed = null, int samples = 24, float epsilon = 1e-2f, int randomSeed = 7)
    {
        var random = new Random(randomSeed);
        using var subject = new Subject(GradientGraph.Build(model), GradientGraph.HeadModel(model), GradientGraph.ActivationsInput,
            new long[] { 1, model.Layer.Channels, model.Layer.Height, model.Layer.Width }, model.OutputSize, activations, seed, random);
        float[] g = subject.Gradient;
        double scale = g.Max(v => Math.Abs((double)v));
        double floor = Math.Max(0.05 * scale, 1e-6);
        var entries = Enumerable.Range(0, g.Length).OrderByDescending(i => Math.Abs(g[i])).Take(samples / 2)
            .Concat(Enumerable.Range(0, samples / 2).Select(_ => random.Next(g.Length))).Distinct().ToList();
        int checkedCount = 0, skipped = 0;
        double worst = 0;
        foreach (int i in entries)
        {
            double numeric = subject.Quotient(i, epsilon), finer = subject.Quotient(i, epsilon / 2);
            double denominator = Math.Max(Math.Max(Math.Abs(g[i]), Math.Abs(numeric)), floor);
            var (forward, backward) = subject.OneSided(i, epsilon);
            // Not differentiable here (a ReLU kink or a MaxPool tie within ε): the one-sided slopes disagree.
            if (Math.Abs(numeric - finer) / denominator > 5e-3 || Math.Abs(forward - backward) / denominator > 0.1)
            {
                skipped++;
                continue;
            }
            checkedCount++;
            worst = Math.Max(worst, Math.Abs(numeric - g[i]) / denominator);
        }

        // Along a random direction v (|v|∞ ≤ 1): (f(A + εv) − f(A − εv)) / 2ε = ⟨g, v⟩.
        // Entries that are exactly 0 (a ReLU'd target layer) are left out: they tie in MaxPool windows of zeros.
        var v = Enumerable.Range(0, g.Length).Select(i => activations[i] == 0 ? 0f : (float)(random.NextDouble() * 2 - 1)).ToArray();
        return new Result(checkedCount, skipped, worst, subject.DirectionalError(v, epsilon / 4), g);
    }

    /// <summary>
    /// The input gradient graph of <paramref name="model"/> against finite differences of the whole model at
    /// <paramref name="input"/>, along <paramref name="directions"/> random directions (|v|∞ ≤ 1) and along the gradient
    /// itself (the direction of the largest change, so the least float32 rounding), each at the steps ε and ε/2: the
    /// worst relative error. Single-pixel quotients are left out: one pixel moves the logits of a 64×64 model too
    /// little for float32.
    /// </summary>
    public static (double WorstError, float[] Gradient) AlongDirections(PreparedModel model, int height, int width, float[] input, float epsilon, int directions = 2, int randomSeed = 7)
    {
        var random = new Random(randomSeed);
        using var subject = new Subject(InputGradientGraph.Build(model, height, width, guided: false), InputGradientGraph.ForwardModel(model, height, width),
            InputGradientGraph.Input, new long[] { 1, model.Input.Channels, height, width }, model.OutputSize, input, null, random);
        float[] g = subject.Gradient;
        float scale = g.Max(Math.Abs);
        var vs = Enumerable.Range(0, directions).Select(_ => g.Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray())
            .Append(g.Select(x => x / scale).ToArray());
        return (vs.Max(v => Math.Max(subject.DirectionalError(v, epsilon), subject.DirectionalError(v, epsilon / 2))), g);
    }

    /// <summary>A gradient graph's result at a point and f = Σ seed ⊙ logits (in double) of its forward graph nearby.</summary>
    private sealed class Subject : IDisposable
    {
        private readonly InferenceSession _forward;
        private readonly string _inputName;
        private readonly long[] _shape;
        private readonly float[] _point, _seed;

        public Subject(byte[] gradientGraph, ModelProto forwardModel, string inputName, long[] shape, int outputSize, float[] point, float[]? seed, Random random)
        {
            (_inputName, _shape, _point) = (inputName, shape, point);
            _seed = seed ?? Enumerable.Range(0, outputSize).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            using var gradients = new GradientSession(gradientGraph, (int)shape[1], (int)shape[2], (int)shape[3], outputSize);
            Gradient = gradients.Run(point, _seed).Gradients;
            _forward = new InferenceSession(forwardModel.ToByteArray());
        }

        public float[] Gradient { get; }

        public double F(float[] a)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(a, _shape);
            using var run = new RunOptions();
            using var outputs = _forward.Run(run, new[] { _inputName }, new[] { input }, new[] { GradientGraph.LogitsOutput });
            ReadOnlySpan<float> logits = outputs[0].GetTensorDataAsSpan<float>();
            double sum = 0;
            for (int i = 0; i < _seed.Length; i++) sum += (double)_seed[i] * logits[i];
            return sum;
        }

        /// <summary>The central difference quotient at entry <paramref name="i"/> (over the float32 step actually taken).</summary>
        public double Quotient(int i, float eps)
        {
            var a = (float[])_point.Clone();
            a[i] = _point[i] + eps;
            double up = F(a);
            a[i] = _point[i] - eps;
            double down = F(a);
            return (up - down) / ((double)(_point[i] + eps) - (_point[i] - eps));
        }

        public (double Forward, double Backward) OneSided(int i, float eps)
        {
            var a = (float[])_point.Clone();
            double centre = F(a);
            a[i] = _point[i] + eps;
            double forward = (F(a) - centre) / eps;
            a[i] = _point[i] - eps;
            return (forward, (centre - F(a)) / eps);
        }

        /// <summary>|(f(x + εv) − f(x − εv)) / 2ε − ⟨g, v⟩| relative to max(|both|, 5% of Σ|g ⊙ v|).</summary>
        public double DirectionalError(float[] v, float eps)
        {
            var plus = _point.Select((a, i) => a + eps * v[i]).ToArray();
            var minus = _point.Select((a, i) => a - eps * v[i]).ToArray();
            double directional = (F(plus) - F(minus)) / (2 * eps), dot = 0, norm = 0;
            for (int i = 0; i < Gradient.Length; i++)
            {
                dot += (double)Gradient[i] * v[i];
                norm += Math.Abs((double)Gradient[i] * v[i]);
            }
            return Math.Abs(directional - dot) / Math.Max(Math.Max(Math.Abs(dot), Math.Abs(directional)), Math.Max(0.05 * norm, 1e-6));
        }

        public void Dispose() => _forward.Dispose();
    }
}

/// <summary>What the gradient tests add to <see cref="OnnxGraphBuilder"/>.</summary>
internal static class GraphBuilderExtensions
{
    /// <summary>A float scalar (rank-0) initializer.</summary>
    public static string Scalar(this OnnxGraphBuilder g, string name, float value) => g.Weights(name, new[] { value });

    public static AttributeProto Str(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };
}
