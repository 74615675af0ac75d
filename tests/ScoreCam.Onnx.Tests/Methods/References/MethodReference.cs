using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Methods.References;

/// <summary>
/// The maps of tools/methods/make_method_reference.py (an independent PyTorch implementation of each method's paper
/// definition, Fixtures/methods.MODEL.json) for the default model's first committed input and the ResNet-18 layout of
/// Fixtures/variants.onnx on the sine input, top class and runner-up. A method's map must equal the reference's within
/// 1e-3 after min-max normalization (all zeros for a constant map); a map at the input's size (Group-CAM's, aug-smooth's) is compared
/// at every stride-th row and column, as the fixture keeps it.
/// </summary>
internal static class MethodReference
{
    public const string DefaultModel = "fashion-clutter", ResNet18 = "resnet18";
    private static readonly string Fixtures = Repository.Path("tests", "ScoreCam.Onnx.Tests", "Methods", "Fixtures");
    private static readonly Dictionary<string, JsonElement> Loaded = new();

    public static JsonElement Fixture(string model)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(model, out JsonElement root))
                Loaded[model] = root = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, $"methods.{model}.json"))).RootElement;
            return root;
        }
    }

    public static string ModelPath(string model) => model == DefaultModel
        ? Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx") : Path.Combine(Fixtures, "variants.onnx");

    public static ImageTensor Input(string model)
    {
        if (model != DefaultModel) return Reference.SineInput();
        var (data, shape) = NpyFile.Read(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.input.npy"));
        int length = shape[1] * shape[2] * shape[3];
        return new ImageTensor(data[..length], shape[1], shape[2], shape[3]);
    }

    /// <summary>The reference's classes: the top prediction, then the runner-up.</summary>
    public static IEnumerable<int> Classes(string model) => Fixture(model).GetProperty("maps").EnumerateObject().Select(p => int.Parse(p.Name));

    public static double[] Expected(string model, int classIndex, string key) =>
        Fixture(model).GetProperty("maps").GetProperty(classIndex.ToString()).GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static int Parameter(string model, string name) => Fixture(model).GetProperty("samples").GetProperty(name).GetInt32();

    public static double Number(string model, string name) => Fixture(model).GetProperty("samples").GetProperty(name).GetDouble();

    private static double[] Normalized(string model, SaliencyMap map, bool atLayer)
    {
        double[] v = map.Values.Select(x => (double)x).ToArray();
        double min = v.Min(), max = v.Max();
        v = v.Select(x => max == min ? 0 : (x - min) / (max - min)).ToArray();
        if (atLayer) return v;
        int stride = Fixture(model).GetProperty("stride").GetInt32();
        return Enumerable.Range(0, (map.Height + stride - 1) / stride)
            .SelectMany(y => Enumerable.Range(0, (map.Width + stride - 1) / stride).Select(x => v[y * stride * map.Width + x * stride])).ToArray();
    }

    /// <summary>
    /// The largest |ours − reference| after min-max over both classes (explained together, from one set of passes, as
    /// several targets are); asserts it is at most 1e-3.
    /// </summary>
    public static double Check(string model, string key, IExplanationMethod method)
    {
        using var explainer = CamExplainer.Open(ModelPath(model));
        explainer.Model.Layer.TensorName.Should().Be(Fixture(model).GetProperty("layer").GetString(), "the layer the reference was made at");
        double worst = 0;
        int[] classes = Classes(model).ToArray();
        IReadOnlyList<Explanation> explanations = explainer.ExplainTargets(Input(model), classes.Select(ExplanationTarget.Class).ToArray(), method);
        foreach (var (c, e) in classes.Zip(explanations))
        {
            double[] ours = Normalized(model, e.Map, atLayer: e.Map.Width == explainer.Model.Layer.Width), expected = Expected(model, c, key);
            ours.Should().HaveCount(expected.Length);
            double difference = ours.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
            difference.Should().BeLessThanOrEqualTo(1e-3, $"{method.Name} ({key}) on {model}, class {c}");
            worst = Math.Max(worst, difference);
        }
        TestContext.Out.WriteLine($"{key} on {model}: max |difference| after min-max {worst:E2}");
        return worst;
    }
}
