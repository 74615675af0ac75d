using System.Globalization;
using System.Text.Json;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Metrics;

/// <summary>
/// The model-parameter randomization test of Adebayo et al. ("Sanity checks for saliency maps") on the trained default
/// model: the top 1, 2, 3 parametric layers, and then all of them, are re-initialized, cascading from the logits down
/// (<see cref="CascadingRandomization"/>), and each method's map (at the target layer's resolution, after ReLU) for
/// the item's annotated class is compared with the trained model's by Spearman rank correlation ρ.
/// Assertion: at the full cascade the mean |ρ| over the images stays below <see cref="MaxMeanAbsRho"/> for every
/// method, and a map that ignores the model (the control: the input's brightness, an "edge detector" in Adebayo's
/// terms) is caught. The measurements (also the top 1-3 steps, where Score-CAM, Grad-CAM++ and LayerCAM keep
/// ρ ≈ 0.7-1 on this model, about as much as the target layer's raw activations) are in docs/evaluation.md;
/// tools/eval/make_report.sh sets SCORECAM_SANITY_OUT to collect them.
/// </summary>
public class SanityCheckModelTests
{
    /// <summary>The largest mean |ρ| a method may keep with the trained model's maps at the full cascade.</summary>
    public const double MaxMeanAbsRho = 0.5;

    private const int Images = 4;
    /// <summary>Cascade steps: the top 1, 2, 3 parametric layers, then all of them (0 stands for all).</summary>
    private static readonly int[] Steps = { 1, 2, 3, 0 };

    private static readonly string[] MethodNames = { "scorecam", "gradcam", "gradcam++", "xgradcam", "layercam" };

    /// <summary>Reported, not asserted: equal weights for every channel, the target layer's summed activations.</summary>
    private const string Activations = "activations";

    /// <summary>The check's control: the input's brightness averaged over the map's cells, which ignores the model.</summary>
    private const string Control = "input";

    private sealed class EqualWeights : CamMethod
    {
        public override string Name => Activations;

        protected override float[][] ChannelWeights(ExplanationContext context) =>
            context.Targets.Select(_ => Enumerable.Repeat(1f, context.Channels).ToArray()).ToArray();
    }

    private sealed class InputBrightness : CamMethod
    {
        public override string Name => Control;

        protected override float[][] ChannelWeights(ExplanationContext context) =>
            context.Targets.Select(_ => new float[context.Channels]).ToArray();

        protected override void CamImage(ExplanationContext context, int target, ReadOnlySpan<float> weights, Span<float> map)
        {
            ImageTensor image = context.Image;
            map.Clear();
            for (int c = 0; c < image.Channels; c++)
                for (int y = 0; y < image.Height; y++)
                    for (int x = 0; x < image.Width; x++)
                        map[y * context.Height / image.Height * context.Width + x * context.Width / image.Width] +=
                            image.Data[(c * image.Height + y) * image.Width + x];
            // Brightness can be negative after mean / std normalization; shift it so the final ReLU keeps its ranks.
            float min = System.Numerics.Tensors.TensorPrimitives.Min(map);
            System.Numerics.Tensors.TensorPrimitives.Add(map, 1f - min, map);
        }
    }

    private static IExplanationMethod Create(string name) => name switch
    {
        Activations => new EqualWeights(),
        Control => new InputBrightness(),
        _ => MethodCatalog.Create(name),
    };

    private static Dictionary<string, double[][]>? _measured;
    private static int[] _layers = Array.Empty<int>();

    /// <summary>ρ[method][cascade step][image], measured once for all the test cases.</summary>
    private static Dictionary<string, double[][]> Measure()
    {
        if (_measured is not null) return _measured;
        string modelPath = Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx");
        File.Exists(modelPath).Should().BeTrue("the default model is committed under onnx-models/fashion-clutter");
        PreparedModel trained = ModelPreparer.Prepare(modelPath);
        var options = new ExplainerOptions { Preprocess = ScoreCam.Onnx.Imaging.PreprocessOptions.FromSidecar(modelPath) };
        AnnotatedSet set = AnnotatedSet.Read(Repository.Path("onnx-models", "eval", "single"));

        using var original = new CamExplainer(trained, options);
        var inputs = new List<(ImageTensor Input, int Class)>();
        foreach (AnnotatedImage entry in set.Images.Take(Images))
        {
            using Image<Rgb24> picture = original.LoadImage(Path.Combine(set.Folder, entry.File));
            inputs.Add((original.Preprocess(picture), entry.Items[0].ClassIndex));
        }

        int all = trained.Proto.Graph.Node.Count(n => n.OpType is "Conv" or "Gemm" or "MatMul" or "ConvTranspose");
        _layers = Steps.Select(k => k == 0 ? all : k).ToArray();
        var models = _layers.Select(layers => CascadingRandomization.Randomize(trained, layers, seed: 1)).ToList();
        var explainers = models.Select(m => new CamExplainer(m, options)).ToList();
        try
        {
            var result = new Dictionary<string, double[][]>();
            foreach (string name in MethodNames.Append(Activations).Append(Control))
            {
                IExplanationMethod method = Create(name);
                try
                {
                    var rho = _layers.Select(_ => new double[inputs.Count]).ToArray();
                    for (int i = 0; i < inputs.Count; i++)
                    {
                        var target = ExplanationTarget.Class(inputs[i].Class);
                        float[] reference = original.Explain(inputs[i].Input, target, method).Map.Values;
                        for (int s = 0; s < _layers.Length; s++)
                            rho[s][i] = RankCorrelation.Spearman(reference, explainers[s].Explain(inputs[i].Input, target, method).Map.Values);
                    }
                    result[name] = rho;
                }
                finally
                {
                    (method as IDisposable)?.Dispose();
                }
            }
            Write(result);
            return _measured = result;
        }
        finally
        {
            foreach (var e in explainers) e.Dispose();
        }
    }

    /// <summary>Writes the measurements as JSON where SCORECAM_SANITY_OUT says (the report script reads them).</summary>
    private static void Write(Dictionary<string, double[][]> result)
    {
        string? path = Environment.GetEnvironmentVariable("SCORECAM_SANITY_OUT");
        if (string.IsNullOrEmpty(path)) return;
        var doc = new
        {
            threshold = MaxMeanAbsRho,
            images = Images,
            seed = 1,
            layers = _layers,
            rho = result,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
    }

    [TestCaseSource(nameof(MethodNames))]
    public void Every_methods_map_changes_when_the_top_layers_are_randomized(string name)
    {
        double[][] rho = Measure()[name];
        string table = string.Join("; ", _layers.Select((layers, s) =>
            string.Create(CultureInfo.InvariantCulture, $"top {layers}: mean |rho| {rho[s].Average(Math.Abs):0.000}")));
        TestContext.Out.WriteLine($"{name}: {table}");
        rho[^1].Average(Math.Abs).Should().BeLessThan(MaxMeanAbsRho,
            $"{name}'s maps must not survive randomizing all {_layers[^1]} parametric layers ({table})");
    }

    [Test]
    public void A_map_that_ignores_the_model_fails_the_check()
    {
        double[][] rho = Measure()[Control];
        rho[^1].Average(Math.Abs).Should().BeGreaterThanOrEqualTo(MaxMeanAbsRho, "the control's map does not depend on the model");
    }
}
