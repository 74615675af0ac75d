using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Output;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Targets;

/// <summary>
/// The segmentation target on the trained tiny segmenter (onnx-models/tiny-segmenter) against the independent PyTorch
/// references of tools/export/make_tiny_references.py (Fixtures/tiny-segmenter.json: the region's score, Grad-CAM by
/// autograd and a plain Score-CAM loop at two layers, the input gradient; maps within 1e-3 after dividing by their
/// maximum), its derivative against central differences, and its layouts and refusals.
/// </summary>
public class SegmentationTargetTests
{
    private const string Model = "tiny-segmenter";
    private static readonly string Fixtures = Repository.Path("tests", "ScoreCam.Onnx.Tests", "Targets", "Fixtures");
    private static readonly Lazy<JsonElement> Fixture = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "tiny-segmenter.json"))).RootElement);
    private static readonly Lazy<ImageTensor> Input = new(() => NpyFile.ReadImageTensor(Repository.Path("onnx-models", Model, "sample.input.npy")));
    private static readonly Lazy<byte[]> Items = new(() =>
    {
        using var items = Image.Load<L8>(Repository.Path("onnx-models", Model, "sample.items.png"));
        var pixels = new byte[items.Width * items.Height];
        items.CopyPixelDataTo(pixels);
        return pixels;
    });

    private static CamExplainer Open(string layer) => CamExplainer.Open(Repository.Path("onnx-models", Model, $"{Model}.onnx"),
        new ExplainerOptions { Preparation = new ModelPreparationOptions { OutputName = "out", Layer = Fixture.Value.GetProperty("layers").GetProperty(layer).GetProperty("name").GetString() } });

    public static IEnumerable<TestCaseData> Cases()
    {
        var fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "tiny-segmenter.json"))).RootElement;
        int i = 0;
        foreach (JsonElement c in fixture.GetProperty("cases").EnumerateArray())
        {
            yield return new TestCaseData(i).SetArgDisplayNames($"{c.GetProperty("label").GetString()} {c.GetProperty("region").GetString()} {c.GetProperty("mode").GetString()}");
            i++;
        }
    }

    private static JsonElement Case(int i) => Fixture.Value.GetProperty("cases")[i];

    /// <summary>The case's target, built as a user would: the class by label, the region from the fixture's description.</summary>
    private static SegmentationTarget Target(JsonElement c)
    {
        int[] box = c.GetProperty("box").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int item = c.GetProperty("item").GetInt32();
        SegmentationRegion region = c.GetProperty("region").GetString() switch
        {
            "predicted" => SegmentationRegion.Predicted,
            "mask" => SegmentationRegion.Mask(Items.Value.Select(v => (byte)(v == item ? 1 : 0)).ToArray(), 96, 96),
            "box" => SegmentationRegion.Box(box[0], box[1], box[2], box[3], 96, 96),
            var r => throw new ArgumentException(r),
        };
        return new SegmentationTarget(c.GetProperty("label").GetString(), region);
    }

    private static ScoreMode Mode(JsonElement c) => c.GetProperty("mode").GetString() == "raw" ? ScoreMode.RawScore : ScoreMode.Probability;

    private static float[] OverMax(IEnumerable<float> values)
    {
        float[] v = values.ToArray();
        float max = v.Max();
        return max == 0 ? v : v.Select(x => x / max).ToArray();
    }

    private static void ShouldMatch(SaliencyMap actual, JsonElement expected, string what)
    {
        float[] e = OverMax(expected.EnumerateArray().Select(x => x.GetSingle()));
        OverMax(actual.Values).Should().Equal(e, (a, b) => Math.Abs(a - b) <= 1e-3f, what);
    }

    [TestCaseSource(nameof(Cases))]
    public void The_region_score_and_maps_match_the_pytorch_reference(int i)
    {
        JsonElement c = Case(i);
        SegmentationTarget target = Target(c);
        ScoreMode mode = Mode(c);
        using (CamExplainer explainer = Open("deep"))
        {
            var resolved = (SegmentationTarget.RegionScore)target.Resolve(new TargetModel(explainer.Model, explainer.Labels, explainer.Embed(Input.Value)));
            resolved.Inside.Count(v => v).Should().Be(c.GetProperty("pixels").GetInt32());
            resolved.Score(TargetScorerOutputs(explainer, Input.Value), mode).Should().BeApproximately(c.GetProperty("score").GetSingle(), 1e-3f * Math.Max(1, Math.Abs(c.GetProperty("score").GetSingle())));
        }
        // Gradient methods differentiate the raw score (the logits summed over the region) in either scores mode, as
        // Grad-CAM differentiates a class's pre-softmax score: a probability case's Grad-CAM is the raw case's.
        JsonElement raw = mode == ScoreMode.RawScore ? c : Fixture.Value.GetProperty("cases").EnumerateArray().Single(o =>
            o.GetProperty("class").GetInt32() == c.GetProperty("class").GetInt32() && o.GetProperty("region").GetString() == c.GetProperty("region").GetString()
            && o.GetProperty("mode").GetString() == "raw");
        foreach (JsonProperty layer in c.GetProperty("maps").EnumerateObject())
        {
            using CamExplainer explainer = Open(layer.Name);
            Explanation grad = explainer.Explain(Input.Value, target, new GradCamMethod());
            ShouldMatch(grad.Map, raw.GetProperty("maps").GetProperty(layer.Name).GetProperty("gradcam"), $"Grad-CAM at {layer.Name}");
            Explanation score = explainer.Explain(Input.Value, target, new ScoreCamMethod(new ScoreCamOptions { Scores = mode }));
            ShouldMatch(score.Map, layer.Value.GetProperty("scorecam"), $"Score-CAM at {layer.Name}");
        }
    }

    private static TargetOutputs TargetScorerOutputs(CamExplainer explainer, ImageTensor input) =>
        TargetScorer.Outputs(explainer.Model, explainer.Embed(input));

    [Test]
    public void The_input_gradient_matches_the_pytorch_reference()
    {
        JsonElement c = Case(0);
        using CamExplainer explainer = Open("deep");
        Explanation e = explainer.Explain(Input.Value, Target(c), new VanillaGradientMethod());
        var (expected, _) = NpyFile.Read(Path.Combine(Fixtures, Fixture.Value.GetProperty("input_gradient").GetString()!));
        float scale = expected.Max(Math.Abs);
        e.Attribution!.Values.Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-3f * scale);
    }

    [Test]
    public void The_picture_outlines_the_region_on_the_input()
    {
        using CamExplainer explainer = Open("deep");
        var pipeline = new ExplanationPipeline(explainer, Model) { Style = new PictureStyle(new OverlayOptions { MinShortSide = 0, ColorBar = false }) };
        using PictureInput input = pipeline.Load(Repository.Path("onnx-models", Model, "sample.png"));
        ExplainedPicture result = pipeline.Explain(input, new GradCamMethod(), new ExplanationRequest { Target = new SegmentationTarget("Bag") });
        using var panel = Image.Load<Rgb24>(result.Pictures.OverlayPng);
        var yellow = new List<(int X, int Y)>();
        for (int y = 0; y < 96; y++)
            for (int x = 0; x < 96; x++)
                if (panel[x, y] == new Rgb24(255, 220, 0)) yellow.Add((x, y));
        // The Bag's predicted pixels (600 of them) lie in its item's box [27, 48, 76, 74): so does their outline.
        yellow.Should().HaveCountGreaterThan(60);
        yellow.Count(p => p.X >= 25 && p.X < 78 && p.Y >= 46 && p.Y < 76).Should().BeGreaterThanOrEqualTo((int)(0.9 * yellow.Count));
    }

    [Test]
    public void The_derivative_agrees_with_central_differences_of_the_score_in_both_layouts()
    {
        const int classes = 3, h = 4, w = 5;
        var random = new Random(5);
        float[] values = Enumerable.Range(0, classes * h * w).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        foreach (bool channelsLast in new[] { false, true })
        {
            int[] shape = channelsLast ? new[] { h, w, classes } : new[] { classes, h, w };
            var target = new SegmentationTarget("1", SegmentationRegion.Box(1, 1, 4, 3, w, h), channelsLast);
            ResolvedTarget resolved = target.Resolve(SyntheticModel(shape, values));
            var seed = new float[values.Length];
            resolved.Derivative(Outputs(values, shape), seed);
            for (int j = 0; j < values.Length; j++)
            {
                float[] up = (float[])values.Clone(), down = (float[])values.Clone();
                up[j] += 0.01f;
                down[j] -= 0.01f;
                double numeric = (resolved.Score(Outputs(up, shape), ScoreMode.RawScore) - resolved.Score(Outputs(down, shape), ScoreMode.RawScore)) / 0.02;
                seed[j].Should().BeApproximately((float)numeric, 1e-3f, $"entry {j}, channels last {channelsLast}");
            }
            seed.Count(v => v == 1f).Should().Be(3 * 2, "the box covers 3 x 2 pixels of class 1");
        }
    }

    [Test]
    public void The_probability_score_is_each_region_pixels_softmax_over_the_classes()
    {
        int[] shape = { 2, 1, 3 };
        float[] values = { 0f, 1f, 2f, /* class 1: */ 1f, 1f, 0f };
        var resolved = new SegmentationTarget("1", SegmentationRegion.Box(0, 0, 2, 1, 3, 1)).Resolve(SyntheticModel(shape, values));
        double expected = Math.Exp(1) / (1 + Math.Exp(1)) + 0.5;
        resolved.Score(Outputs(values, shape), ScoreMode.Probability).Should().BeApproximately((float)expected, 1e-6f);
        resolved.Score(Outputs(values, shape), ScoreMode.RawScore).Should().Be(2f);
    }

    [Test]
    public void Without_a_class_the_target_takes_the_class_with_the_most_pixels_other_than_background()
    {
        int[] shape = { 3, 1, 4 };
        // background wins 2 pixels, class 1 one, class 2 one: class 1 is taken (the first of the most assigned)
        float[] values = { 5, 5, 0, 0, /* 1 */ 0, 0, 3, 0, /* 2 */ 0, 0, 0, 3 };
        var resolved = (SegmentationTarget.RegionScore)new SegmentationTarget().Resolve(SyntheticModel(shape, values));
        resolved.Class.Should().Be(1);
        resolved.Inside.Should().Equal(false, false, true, false);
    }

    [Test]
    public void A_mask_or_a_picture_box_follows_a_centre_crop_as_the_picture_does()
    {
        // A 12x6 picture cropped to a 4x4 input: its centre 6x6 (x 3..9), 1.5 picture pixels per input pixel, so the
        // input pixels' centres lie at x = 3.75, 5.25, 6.75, 8.25 and y = 0.75, 2.25, 3.75, 5.25 of the picture.
        using var picture = new Image<Rgb24>(12, 6);
        ImageTensor input = Preprocessor.ToTensor(picture, new PreprocessOptions { Width = 4, Height = 4, Resize = ResizeMode.Crop });
        input.SourceRegion.Should().Be(new SourceRegion(12, 6, 3, 0, 6, 6));
        // The marked block x 5..6, y 2..3 holds the centres (5.25 | 6.75, 2.25 | 3.75): input pixels (1..2, 1..2).
        var mask = new byte[12 * 6];
        for (int y = 2; y <= 3; y++)
            for (int x = 5; x <= 6; x++) mask[y * 12 + x] = 1;
        bool[] expected = new bool[16];
        foreach (int p in new[] { 1 * 4 + 1, 1 * 4 + 2, 2 * 4 + 1, 2 * 4 + 2 }) expected[p] = true;

        TargetModel model = SyntheticModel(new[] { 2, 4, 4 }, new float[32], input.SourceRegion);
        Inside(SegmentationRegion.Mask(mask, 12, 6), model).Should().Equal(expected);
        Inside(SegmentationRegion.Box(5, 2, 7, 4, 12, 6), model).Should().Equal(expected);
        // A mask of another size covers the whole picture too: at half size the centres fall at x 1.875, 2.625, 3.375,
        // 4.125 and y 0.375, 1.125, 1.875, 2.625, so the same block is its pixels x 2..3, y 1.
        var half = new byte[6 * 3];
        half[1 * 6 + 2] = half[1 * 6 + 3] = 1;
        Inside(SegmentationRegion.Mask(half, 6, 3), model).Should().Equal(expected);
        // The evaluation measures an item on the same input pixels as its target sums.
        SegmentationEvaluation.InputPixels(mask, 12, 6, input, 1).Should().Equal(expected);
        // A box in the input's pixels stays where it is: its middle half holds the 4x4 output's pixels 1..2.
        int w = model.Model.Input.Width!.Value, h = model.Model.Input.Height!.Value;
        Inside(SegmentationRegion.Box(w / 4.0, h / 4.0, 3 * w / 4.0, 3 * h / 4.0), model).Should().Equal(expected);
    }

    private static IReadOnlyList<bool> Inside(SegmentationRegion region, TargetModel model) =>
        ((SegmentationTarget.RegionScore)new SegmentationTarget("1", region).Resolve(model)).Inside;

    [Test]
    public void Wrong_requests_are_refused_saying_what_to_do()
    {
        int[] shape = { 2, 2, 2 };
        float[] values = { 1, 1, 1, 1, 0, 0, 0, 0 };
        FluentActions.Invoking(() => new SegmentationTarget("1").Resolve(SyntheticModel(shape, values)))
            .Should().Throw<ScoreCamException>().WithMessage("*assigns no pixel to class 1*box or a mask*");
        FluentActions.Invoking(() => new SegmentationTarget("7").Resolve(SyntheticModel(shape, values)))
            .Should().Throw<ScoreCamException>().WithMessage("*out of range*2 classes*");
        FluentActions.Invoking(() => new SegmentationTarget("Dress").Resolve(SyntheticModel(shape, values)))
            .Should().Throw<ScoreCamException>().WithMessage("*no labels file*");
        FluentActions.Invoking(() => new SegmentationTarget("1").Resolve(SyntheticModel(new[] { 8 }, values)))
            .Should().Throw<ScoreCamException>().WithMessage("*[C, H, W] or [H, W, C]*[8]*");
        FluentActions.Invoking(() => SegmentationRegion.Box(5, 0, 2, 1, 3, 1)).Should().Throw<ScoreCamException>().WithMessage("*empty*");
        FluentActions.Invoking(() => SegmentationRegion.Mask(new byte[5], 2, 2)).Should().Throw<ScoreCamException>().WithMessage("*needs 4 values, not 5*");
    }

    private static TargetOutputs Outputs(float[] values, int[] shape) => new("out", values, shape, default);

    private static readonly Lazy<PreparedModel> StandIn = new(() => ModelPreparer.Prepare(Repository.Path("onnx-models", "coverage", "resnet-basic.onnx")));

    /// <summary>A TargetModel over a made-up output of the given shape (a coverage model's graph stands in: a target reads only the output's name and shape).</summary>
    private static TargetModel SyntheticModel(int[] shape, float[] unmasked, SourceRegion? source = null)
    {
        PreparedModel m = StandIn.Value;
        var model = new PreparedModel(m.Proto, m.Input, "out", unmasked.Length, ModelOutputKind.Logits, m.Layer, null, 0, Array.Empty<string>(), "synthetic output",
            outputShape: shape);
        return new TargetModel(model, null, unmasked, source);
    }
}
