using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Methods;

/// <summary>
/// The compatibility variants of the Grad-CAM family and Score-CAM against pytorch-grad-cam's and torch-cam's formulas re-implemented in
/// PyTorch on a narrow torchvision ResNet-18 layout (1000 classes, 7×7 layer4 maps): Fixtures/variants.* were made by
/// tools/variants/make_variant_reference.py. Maps are compared after min-max normalization, within 1e-3.
/// </summary>
public class CompatibilityVariantTests
{
    private static readonly string Fixtures = Repository.Path("tests", "ScoreCam.Onnx.Tests", "Methods", "Fixtures");
    private static readonly string[] Methods = { "gradcam", "gradcam++", "xgradcam", "layercam", "scorecam" };
    private static readonly (string Name, CompatibilityVariant Variant)[] Variants =
        { ("paper", CompatibilityVariant.Paper), ("pytorch-grad-cam", CompatibilityVariant.PytorchGradCam), ("torch-cam", CompatibilityVariant.TorchCam) };

    private static CamExplainer _explainer = null!;
    private static JsonElement _reference;

    [OneTimeSetUp]
    public static void Open()
    {
        _explainer = CamExplainer.Open(Path.Combine(Fixtures, "variants.onnx"));
        _reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "variants.reference.json"))).RootElement;
    }

    [OneTimeTearDown]
    public static void Close() => _explainer.Dispose();

    private static double[] Expected(string classIndex, string variant, string method) =>
        Reference.MinMax(_reference.GetProperty("maps").GetProperty(classIndex).GetProperty(variant).GetProperty(method).EnumerateArray().Select(e => e.GetDouble()));

    private static IEnumerable<string> Classes => _reference.GetProperty("maps").EnumerateObject().Select(p => p.Name);

    [Test]
    public void Each_variants_maps_match_that_implementations_formulas_for_both_classes()
    {
        ImageTensor image = Reference.SineInput();
        (_explainer.Model.Layer.Height, _explainer.Model.Layer.Width).Should().Be((7, 7), "layer4's output, the layer both implementations are pointed at");
        foreach (string c in Classes)
            foreach (var (name, variant) in Variants)
                foreach (string method in Methods)
                {
                    Explanation e = _explainer.Explain(image, ExplanationTarget.Class(int.Parse(c)), MethodCatalog.Create(method, new MethodSettings().With(CommonOptions.Variant, variant)));
                    Reference.MinMax(e.Map.Values.Select(v => (double)v)).Should().Equal(Expected(c, name, method), (a, b) => Math.Abs(a - b) <= 1e-3,
                        $"{method} --variant {name}, class {c}");
                }
    }

    [Test]
    public void The_fixture_tells_the_Grad_CAM_plus_plus_and_Score_CAM_variants_apart()
    {
        foreach (string c in Classes)
        {
            foreach (string method in new[] { "gradcam++", "scorecam" })
            {
                double[] paper = Expected(c, "paper", method);
                foreach (string other in new[] { "pytorch-grad-cam", "torch-cam" })
                    paper.Zip(Expected(c, other, method), (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(0.01,
                        $"{other}'s {method} differs from the paper's by more than the tolerance on class {c}, so a wrong variant fails");
            }
        }
    }

    [Test]
    public void The_pytorch_grad_cam_heatmap_is_its_grayscale_cam_at_the_input_size()
    {
        var (expected, shape) = NpyFile.Read(Path.Combine(Fixtures, "variants.pytorch-grad-cam-gradcam++.npy"));
        shape.Should().Equal(1, 224, 224);
        int top = int.Parse(Classes.First());
        Explanation e = _explainer.Explain(Reference.SineInput(), ExplanationTarget.Class(top), MethodCatalog.Create("gradcam++", new MethodSettings().With(CommonOptions.Variant, CompatibilityVariant.PytorchGradCam)));
        e.Prediction.Index.Should().Be(top, "the script's first class is the top prediction, pytorch-grad-cam's default target");
        (e.Heatmap.Width, e.Heatmap.Height).Should().Be((224, 224));
        e.Heatmap.Values.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-3f, "min-max, bilinear resize (cv2), min-max");
    }

    [Test]
    public void Explain_variant_pytorch_grad_cam_writes_its_pre_resize_map_as_the_json_map()
    {
        using var folder = new TempFolder();
        ImageTensor image = Reference.SineInput();
        string tensor = folder.File("x.npy"), json = folder.File("e.json");
        NpyFile.Write(tensor, image.Data, 1, 3, 224, 224);
        var error = new StringWriter();
        ScoreCam.Onnx.Cli.CliApp.Run(new[] { "explain", "--model", Path.Combine(Fixtures, "variants.onnx"), "--tensor", tensor, "--method", "gradcam++",
            "--variant", "pytorch-grad-cam", "--json", json }, new StringWriter(), error).Should().Be(0, error.ToString());
        using var written = JsonDocument.Parse(File.ReadAllText(json));
        string top = Classes.First();
        written.RootElement.GetProperty("target").GetProperty("index").GetInt32().Should().Be(int.Parse(top));
        Reference.MinMax(written.RootElement.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetDouble()))
            .Should().Equal(Expected(top, "pytorch-grad-cam", "gradcam++"), (a, b) => Math.Abs(a - b) <= 1e-3);
    }

    [Test]
    public void Explain_heatmap_values_are_pytorch_grad_cams_grayscale_cam_and_absent_without_the_flag()
    {
        using var folder = new TempFolder();
        string tensor = folder.File("x.npy"), with = folder.File("with.json"), without = folder.File("without.json");
        NpyFile.Write(tensor, Reference.SineInput().Data, 1, 3, 224, 224);
        var (expected, _) = NpyFile.Read(Path.Combine(Fixtures, "variants.pytorch-grad-cam-gradcam++.npy"));
        foreach (var (json, flags) in new[] { (with, new[] { "--heatmap-values" }), (without, Array.Empty<string>()) })
        {
            var error = new StringWriter();
            ScoreCam.Onnx.Cli.CliApp.Run(new[] { "explain", "--model", Path.Combine(Fixtures, "variants.onnx"), "--tensor", tensor, "--method", "gradcam++",
                "--variant", "pytorch-grad-cam", "--json", json }.Concat(flags).ToArray(), new StringWriter(), error).Should().Be(0, error.ToString());
        }
        using var written = JsonDocument.Parse(File.ReadAllText(with));
        JsonElement heatmap = written.RootElement.GetProperty("heatmap");
        (heatmap.GetProperty("width").GetInt32(), heatmap.GetProperty("height").GetInt32()).Should().Be((224, 224));
        heatmap.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble())
            .Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-3f, "the grayscale_cam of the same tensor and class");
        using var plain = JsonDocument.Parse(File.ReadAllText(without));
        plain.RootElement.GetProperty("heatmap").TryGetProperty("values", out _).Should().BeFalse("the H×W values are only written when asked for");
    }
}
