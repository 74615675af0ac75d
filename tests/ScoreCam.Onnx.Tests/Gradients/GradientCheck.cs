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
/// (the largest gradients and random ones), and along one random direction.
/// </summary>
internal static class GradientCheck
{
    public const string Layer = "features";

    /// <summary>A prepared model whose image input "x" (N×K×h×w) is the target layer itself (through an Identity).</summary>
    public static PreparedModel Model(OnnxGraphBuilder g, int k, int h, int w, string output, int outputSize)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(g.Build());
        return new PreparedModel(proto, new ImageInputSpec("x", k, h, w), output, outputSize, ModelOutputKind.Logits,
            new TargetLayer(Layer, null, "Identity", k, h, w), true, Array.Empty<string>(), "test head");
    }

    /// <summary>Starts a head: input x [N,k,h,w] and the target layer "features" = Identity(x).</summary>
    public static (OnnxGraphBuilder Builder, string Layer) Start(int k, int h, int w, int opset = 14) // HardSwish is opset 14
    {
        var g = new OnnxGraphBuilder(opset);
        string x = g.Input("x", null, k, h, w);
        return (g, g.Node("Identity", new[] { x }, Layer));
    }

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

    /// <summary>
    /// Runs the check; entries whose difference quotient changes between ε and ε/2 (a kink of ReLU or MaxPool within
    /// ε) or whose one-sided slopes differ (a tie) are skipped. Errors are relative to max(|analytic|, |numeric|, 5% of the largest gradient).
    /// </summary>
    public static Result Run(PreparedModel model, float[] activations, float[]? seed = null, int samples = 24, float epsilon = 1e-2f, int randomSeed = 7)
    {
        var random = new Random(randomSeed);
        seed ??= Enumerable.Range(0, model.OutputSize).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        using var gradients = new GradientSession(GradientGraph.Build(model), model.Layer.Channels, model.Layer.Height, model.Layer.Width, model.OutputSize);
        float[] g = gradients.Run(activations, seed).Gradients;
        using var head = new InferenceSession(GradientGraph.HeadModel(model).ToByteArray());
        long[] shape = { 1, model.Layer.Channels, model.Layer.Height, model.Layer.Width };
        double F(float[] a)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(a, shape);
            using var run = new RunOptions();
            using var outputs = head.Run(run, new[] { GradientGraph.ActivationsInput }, new[] { input }, new[] { GradientGraph.LogitsOutput });
            ReadOnlySpan<float> logits = outputs[0].GetTensorDataAsSpan<float>();
            double sum = 0;
            for (int i = 0; i < seed.Length; i++) sum += (double)seed[i] * logits[i];
            return sum;
        }
        double Quotient(int i, float eps)
        {
            var a = (float[])activations.Clone();
            a[i] = activations[i] + eps;
            double up = F(a);
            a[i] = activations[i] - eps;
            double down = F(a);
            return (up - down) / ((double)(activations[i] + eps) - (activations[i] - eps));
        }

        double scale = g.Max(v => Math.Abs((double)v));
        double floor = Math.Max(0.05 * scale, 1e-6);
        var entries = Enumerable.Range(0, g.Length).OrderByDescending(i => Math.Abs(g[i])).Take(samples / 2)
            .Concat(Enumerable.Range(0, samples / 2).Select(_ => random.Next(g.Length))).Distinct().ToList();
        int checkedCount = 0, skipped = 0;
        double worst = 0;
        foreach (int i in entries)
        {
            double numeric = Quotient(i, epsilon), finer = Quotient(i, epsilon / 2);
            double denominator = Math.Max(Math.Max(Math.Abs(g[i]), Math.Abs(numeric)), floor);
            var a = (float[])activations.Clone();
            double centre = F(a);
            a[i] = activations[i] + epsilon;
            double forward = (F(a) - centre) / epsilon;
            a[i] = activations[i] - epsilon;
            double backward = (centre - F(a)) / epsilon;
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
        float small = epsilon / 4;
        var plus = activations.Select((a, i) => a + small * v[i]).ToArray();
        var minus = activations.Select((a, i) => a - small * v[i]).ToArray();
        double directional = (F(plus) - F(minus)) / (2 * small), dot = 0, norm = 0;
        for (int i = 0; i < g.Length; i++)
        {
            dot += (double)g[i] * v[i];
            norm += Math.Abs((double)g[i] * v[i]);
        }
        double directionalError = Math.Abs(directional - dot) / Math.Max(Math.Max(Math.Abs(dot), Math.Abs(directional)), Math.Max(0.05 * norm, 1e-6));
        return new Result(checkedCount, skipped, worst, directionalError, g);
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
