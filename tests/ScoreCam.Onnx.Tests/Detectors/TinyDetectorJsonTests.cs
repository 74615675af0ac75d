using System.Text.Json;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Detectors;

/// <summary>
/// The shipped tiny detector (onnx-models/tiny-detector, two heads): the JSON says which detection was explained (box,
/// class, the detector's confidence), the automatic layer is the one both heads share, and a map that shows nothing
/// (a layer inside one head) is reported as such by the library and the command line.
/// </summary>
public class TinyDetectorJsonTests
{
    private static readonly string Model = Repository.Path("onnx-models", "tiny-detector", "tiny-detector.onnx");
    private static readonly string Picture = Repository.Path("onnx-models", "tiny-detector", "sample.png");
    private const string HeadLayer = "/heads.1/cls/cls.1/Conv_output_0";

    [Test]
    public void Each_explanation_names_its_detection_and_the_prediction_is_that_detection()
    {
        using var folder = new TempFolder();
        var (code, _, error) = CliRunner.Run("explain", "--model", Model, "--image", Picture, "--method", "gradcam", "--confidence", "0.2",
            "--out-dir", folder.Path, "--quiet");
        code.Should().Be(0, error);
        error.Should().NotContain("warning", "the shared layer gives every detection a map");
        using var explainer = CamExplainer.Open(Model);
        IReadOnlyList<Detection> found = DetectionHead.For(explainer.Model).Detect(Output(explainer), 0.2f, 0.7f);
        found.Should().HaveCountGreaterThan(1);
        var entries = Explanations(folder.File("results.json"));
        entries.Should().HaveCount(found.Count);
        for (int i = 0; i < found.Count; i++)
        {
            JsonElement e = entries[i], d = e.GetProperty("detection");
            e.GetProperty("layer").GetProperty("name").GetString().Should().Be("/stage2/stage2.1/stage2.1.2/Mul_output_0");
            d.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).Should().Equal(found[i].Box.X0, found[i].Box.Y0, found[i].Box.X1, found[i].Box.Y1);
            d.GetProperty("index").GetInt32().Should().Be(found[i].ClassIndex);
            d.GetProperty("label").GetString().Should().Be(explainer.Labels![found[i].ClassIndex]);
            d.GetProperty("confidence").GetSingle().Should().Be(found[i].Confidence);
            e.GetProperty("prediction").GetProperty("index").GetInt32().Should().Be(found[i].ClassIndex);
            e.GetProperty("prediction").GetProperty("probability").GetSingle().Should().Be(found[i].Confidence);
            e.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).Distinct().Should().HaveCountGreaterThan(1);
        }
    }

    [Test]
    public void A_given_box_gets_the_confidence_of_the_proposal_overlapping_it_most()
    {
        using var folder = new TempFolder();
        var (code, _, error) = CliRunner.Run("explain", "--model", Model, "--image", Picture, "--method", "gradcam", "--box", "27,48,76,74",
            "--target", "Bag", "--out-dir", folder.Path, "--quiet");
        code.Should().Be(0, error);
        JsonElement d = Explanations(folder.File("results.json")).Single().GetProperty("detection");

        // Straightforward: the raw [14, 180] output (cx, cy, w, h, 10 class scores per column); the column whose box overlaps most.
        using var explainer = CamExplainer.Open(Model);
        float[] v = Output(explainer);
        int bag = explainer.Labels!.ToList().IndexOf("Bag");
        double bestIou = 0, expected = 0;
        for (int j = 0; j < 180; j++)
        {
            double x0 = v[j] - v[2 * 180 + j] / 2, x1 = v[j] + v[2 * 180 + j] / 2, y0 = v[180 + j] - v[3 * 180 + j] / 2, y1 = v[180 + j] + v[3 * 180 + j] / 2;
            double inter = Math.Max(0, Math.Min(x1, 76) - Math.Max(x0, 27)) * Math.Max(0, Math.Min(y1, 74) - Math.Max(y0, 48));
            double iou = inter / ((x1 - x0) * (y1 - y0) + 49 * 26 - inter);
            if (iou > bestIou) (bestIou, expected) = (iou, v[(4 + bag) * 180 + j]);
        }
        bestIou.Should().BeGreaterThan(0.5, "a proposal boxes the sample's bag");
        d.GetProperty("box").EnumerateArray().Select(x => x.GetSingle()).Should().Equal(27f, 48f, 76f, 74f);
        d.GetProperty("index").GetInt32().Should().Be(bag);
        d.GetProperty("confidence").GetDouble().Should().BeApproximately(expected, 1e-6);
    }

    [Test]
    public void A_map_that_shows_nothing_carries_a_warning_with_its_likely_cause_and_what_to_try()
    {
        using var explainer = CamExplainer.Open(Model, new ExplainerOptions
        {
            Method = new GradCamMethod(),
            Preparation = new ModelPreparationOptions { Layer = HeadLayer },
        });
        using var picture = explainer.LoadImage(Picture);
        var image = explainer.Preprocess(picture);
        Detection best = DetectionHead.For(explainer.Model).Detect(explainer.Embed(image), 0.25f)[0];
        Explanation e = explainer.Explain(image, DetectionTarget.Of(best));
        e.Map.Values.Should().OnlyContain(x => x == 0, "the best detection comes from the stride-8 head, which does not read the stride-16 head's layer");
        e.Warnings.Should().ContainSingle().Which.Should().Match($"*is 0 everywhere*'{HeadLayer}' is off the path to the target's score*dead ReLUs*another target layer*");

        using var folder = new TempFolder();
        var (code, _, error) = CliRunner.Run("explain", "--model", Model, "--image", Picture, "--layer", HeadLayer, "--method", "gradcam",
            "--detection", "0", "--out-dir", folder.Path, "--quiet");
        code.Should().Be(0, error);
        error.Should().Contain($"warning: The gradcam map of '{e.Target.Name}' is 0 everywhere");
        Explanations(folder.File("results.json")).Single().GetProperty("warnings").EnumerateArray().Single().GetString().Should().Be(e.Warnings[0]);
    }

    private static float[] Output(CamExplainer explainer)
    {
        using var picture = explainer.LoadImage(Picture);
        return explainer.Embed(explainer.Preprocess(picture));
    }

    private static List<JsonElement> Explanations(string results) =>
        JsonDocument.Parse(File.ReadAllText(results)).RootElement.GetProperty("explanations").EnumerateArray().ToList();
}
