using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>
/// The toy captioner of onnx-models/captions (tools/export/export_captioner.py): Score-CAM of the next word
/// (paper section 5.5.3, eq. 8) against the independent PyTorch Score-CAM the export script ran on the same model.
/// </summary>
public class CaptionModelTests
{
    internal static string File(string name) => Repository.Path("onnx-models", "captions", name);

    internal static JsonElement Case(string name) =>
        JsonDocument.Parse(System.IO.File.ReadAllText(File("reference.json"))).RootElement.GetProperty("cases").GetProperty(name);

    private static CamExplainer Open(string prefix, string output = "logits") => CamExplainer.Open(File("captioner.onnx"), new ExplainerOptions
    {
        Preparation = new ModelPreparationOptions
        {
            OutputName = output,
            Feeds = new Dictionary<string, InputFeed> { ["tokens"] = InputFeed.Read(File($"prefix-{prefix}.npy")) },
        },
    });

    internal static float[] OverMax(IEnumerable<float> values)
    {
        float[] v = values.ToArray();
        float max = v.Max();
        return v.Select(x => x / max).ToArray();
    }

    [TestCase("right")]
    [TestCase("left")]
    public void Score_cam_of_the_next_word_matches_the_pytorch_reference(string name)
    {
        JsonElement c = Case(name);
        int word = c.GetProperty("index").GetInt32();
        using CamExplainer explainer = Open(name);
        explainer.Model.Layer.Channels.Should().Be(32);
        (explainer.Model.Layer.Height, explainer.Model.Layer.Width).Should().Be((16, 16));

        Explanation e = explainer.Explain(NpyFile.ReadImageTensor(File("sample.input.npy")), ExplanationTarget.OutputElement("logits", word), new ScoreCamMethod());
        e.Target.Label.Should().Be(c.GetProperty("word").GetString(), "vocab.txt is the sidecar's labels file");
        e.Target.Score.Should().BeApproximately(c.GetProperty("probability").GetSingle(), 1e-4f);
        float[] expected = OverMax(NpyFile.Read(File($"scorecam-{name}.npy")).Data);
        OverMax(e.Map.Values).Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-4f);
    }

    [Test]
    public void Other_previous_words_through_WithFeeds_explain_the_other_word_from_the_picture()
    {
        // docs/models.md's library example: the left-hand word from the picture, on the model prepared for the right-hand one.
        int word = Case("left").GetProperty("index").GetInt32();
        using CamExplainer captioner = Open("right");
        var left = new Dictionary<string, InputFeed> { ["tokens"] = InputFeed.Read(File("prefix-left.npy")) };
        using var before = new CamExplainer(captioner.Model.WithFeeds(left), new ExplainerOptions { Preprocess = captioner.Preprocessing });
        Explanation e = before.Explain(File("sample.png"), ExplanationTarget.OutputElement("logits", word));
        e.Target.Label.Should().Be("circle");
        e.Target.Score.Should().BeApproximately(Case("left").GetProperty("probability").GetSingle(), 1e-4f);
        OverMax(e.Map.Values).Should().Equal(OverMax(NpyFile.Read(File("scorecam-left.npy")).Data), (a, b) => Math.Abs(a - b) <= 1e-4f);
    }

    [Test]
    public void The_softmax_output_read_raw_gives_the_same_map_as_the_logits_read_as_probabilities()
    {
        int word = Case("right").GetProperty("index").GetInt32();
        ImageTensor input = NpyFile.ReadImageTensor(File("sample.input.npy"));
        using CamExplainer logits = Open("right"), probabilities = Open("right", "probabilities");
        probabilities.Model.OutputKind.Should().Be(ModelOutputKind.Probabilities);
        Explanation fromLogits = logits.Explain(input, ExplanationTarget.OutputElement("logits", word), new ScoreCamMethod());
        Explanation raw = probabilities.Explain(input, ExplanationTarget.OutputElement("probabilities", word),
            new ScoreCamMethod(new ScoreCamOptions { Scores = ScoreMode.RawScore }));
        raw.Map.Values.Should().Equal(fromLogits.Map.Values, (a, b) => Math.Abs(a - b) <= 1e-5f * fromLogits.Map.Values.Max());
    }

    [Test]
    public void The_sample_picture_preprocessed_by_the_sidecar_is_the_fixture_input()
    {
        using CamExplainer explainer = Open("right");
        using var picture = explainer.LoadImage(File("sample.png"));
        ImageTensor fromPicture = explainer.Preprocess(picture), fixture = NpyFile.ReadImageTensor(File("sample.input.npy"));
        fromPicture.Data.Should().Equal(fixture.Data, (a, b) => Math.Abs(a - b) <= 1e-5f);
    }
}
