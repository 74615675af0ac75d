using System.Text.Json;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>The embedded default: the trained fashion-clutter model and its sample canvas (onnx-models/fashion-clutter).</summary>
public class DefaultModelTests
{
    [Test]
    public void Explain_with_no_model_and_no_image_explains_the_sample_and_finds_the_item()
    {
        using var folder = new TempFolder();
        var output = new StringWriter();
        var error = new StringWriter();
        // --quiet: on a loaded machine a run over 5 s prints a progress line, which is not a warning.
        int code = CliApp.Run(new[] { "explain", "--out", folder.File("o.png"), "--json", folder.File("r.json"), "--quiet" }, output, error);
        (code, error.ToString()).Should().Be((0, ""));
        File.Exists(folder.File("o.png")).Should().BeTrue();

        // The model card: the sample is an Ankle boot (class 9) in box [23, 31, 73, 72) of the 96×96 canvas.
        using var json = JsonDocument.Parse(File.ReadAllText(folder.File("r.json")));
        json.RootElement.GetProperty("prediction").GetProperty("index").GetInt32().Should().Be(9);
        json.RootElement.GetProperty("target").GetProperty("label").GetString().Should().Be("Ankle boot");

        using var explainer = CamExplainer.Open(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"));
        Explanation e = explainer.Explain(Repository.Path("onnx-models", "fashion-clutter", "sample.png"));
        EnergyPointingGame.Score(e.Heatmap, new BoundingBox(23, 31, 73, 72)).Should().BeGreaterThan(0.5);
        e.Map.Values.Should().Equal(json.RootElement.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()));
    }

    [Test]
    public void The_model_card_accuracy_holds_on_the_committed_single_item_set()
    {
        using var explainer = CamExplainer.Open(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"));
        AnnotatedSet set = AnnotatedSet.Read(Repository.Path("onnx-models", "eval", "single"));
        int right = 0;
        foreach (AnnotatedImage image in set.Images)
        {
            using var picture = explainer.LoadImage(Path.Combine(set.Folder, image.File));
            float[] scores = explainer.Embed(explainer.Preprocess(picture));
            if (Array.IndexOf(scores, scores.Max()) == image.Items[0].ClassIndex) right++;
        }
        double accuracy = right / (double)set.Images.Count;
        accuracy.Should().BeGreaterThanOrEqualTo(0.80, "the issue's floor");
        accuracy.Should().BeApproximately(0.902, 0.005, "MODEL_CARD.md reports 90.2% on eval/single");
    }
}
