using System.Text.Json;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.CliRunner;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>`scorecam explain --feed ... --target-output ... --target-index ...` on the toy captioner (paper eq. 8).</summary>
public class CaptionCliTests
{
    private TempFolder _folder = null!;
    private static readonly string Model = CaptionModelTests.File("captioner.onnx"), Sample = CaptionModelTests.File("sample.png");
    private static string Feed(string prefix) => "tokens=" + CaptionModelTests.File($"prefix-{prefix}.npy");

    [SetUp]
    public void SetUp() => _folder = new TempFolder();

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [Test]
    public void Explain_writes_the_next_words_map_that_pytorch_computed()
    {
        JsonElement c = CaptionModelTests.Case("right");
        int word = c.GetProperty("index").GetInt32();
        string json = _folder.File("word.json"), png = _folder.File("word.png");
        var (code, output, error) = Run("explain", "--model", Model, "--image", Sample, "--feed", Feed("right"),
            "--target-output", "logits", "--target-index", word.ToString(), "--json", json, "--out", png, "--quiet");
        (code, error).Should().Be((0, ""));
        output.Should().Contain($"target:     {c.GetProperty("word").GetString()} [{word}]");
        File.Exists(png).Should().BeTrue();
        JsonElement root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        root.GetProperty("target").GetProperty("probability").GetSingle().Should().BeApproximately(c.GetProperty("probability").GetSingle(), 1e-4f);
        float[] map = root.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        CaptionModelTests.OverMax(map).Should().Equal(CaptionModelTests.OverMax(NpyFile.Read(CaptionModelTests.File("scorecam-right.npy")).Data),
            (a, b) => Math.Abs(a - b) <= 1e-4f);
    }

    [Test]
    public void Prepare_keeps_the_fed_input_and_explain_feeds_the_prepared_model()
    {
        string model = _folder.File("captioner.onnx");
        File.Copy(Model, model);
        var (code, output, error) = Run("prepare", "--model", model, "--feed", Feed("left"), "--output", "logits");
        (code, error).Should().Be((0, ""));
        output.Should().Contain("wrote " + _folder.File("captioner.cam.onnx"));

        var layers = Run("layers", "--model", model, "--feed", Feed("left"), "--output", "logits");
        (layers.Code, layers.Out).Should().Match<(int, string)>(r => r.Item1 == 0 && r.Item2.Contains("* /encoder/encoder.6/Relu_output_0"), layers.Out + layers.Err);

        JsonElement c = CaptionModelTests.Case("right");
        int word = c.GetProperty("index").GetInt32();
        string json = _folder.File("prepared.json"), cam = _folder.File("captioner.cam.onnx");
        (code, _, error) = Run("explain", "--model", cam, "--tensor", CaptionModelTests.File("sample.input.npy"), "--feed", Feed("right"),
            "--target-output", "logits", "--target-index", word.ToString(), "--json", json, "--quiet");
        (code, error).Should().Be((0, ""));
        float[] map = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        CaptionModelTests.OverMax(map).Should().Equal(CaptionModelTests.OverMax(NpyFile.Read(CaptionModelTests.File("scorecam-right.npy")).Data),
            (a, b) => Math.Abs(a - b) <= 1e-4f);

        (code, _, error) = Run("explain", "--model", cam, "--tensor", CaptionModelTests.File("sample.input.npy"), "--feed", Feed("right"),
            "--target-output", "probabilities", "--target-index", word.ToString(), "--quiet", "--json", json);
        (code, error).Should().Match<(int, string)>(r => r.Item1 == 1 && r.Item2.Contains("scores output 'logits', not 'probabilities'"), error);
    }

    [Test]
    public void Prepare_writes_gradient_graphs_that_take_the_fed_input_and_explain_uses_them()
    {
        string model = _folder.File("captioner.onnx"), cam = _folder.File("captioner.cam.onnx");
        File.Copy(Model, model);
        var (code, output, error) = Run("prepare", "--model", model, "--feed", Feed("left"), "--output", "logits");
        (code, error).Should().Be((0, ""));
        string[] graphs = { "captioner.grad.onnx", "captioner.input-grad.onnx", "captioner.guided-grad.onnx" };
        foreach (string graph in graphs)
        {
            output.Should().Contain("wrote " + _folder.File(graph));
            global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(_folder.File(graph))).Graph.Input.Select(i => i.Name).Should().Contain("tokens",
                "the fed input stays an input: the saved graph does not depend on the values prepare was given");
        }

        // Loaded for other previous words than prepare was given, the saved graphs are used as they are.
        var feeds = new Dictionary<string, InputFeed> { ["tokens"] = InputFeed.Read(CaptionModelTests.File("prefix-right.npy")) };
        PreparedModel prepared = ModelPreparer.Prepare(cam, new ModelPreparationOptions { Feeds = feeds });
        GradientGraph.Load(prepared).Should().Equal(File.ReadAllBytes(_folder.File(graphs[0])));
        InputGradientGraph.Load(prepared, 64, 64, guided: false).Should().Equal(File.ReadAllBytes(_folder.File(graphs[1])));

        JsonElement c = CaptionModelTests.Case("right");
        string word = c.GetProperty("index").GetInt32().ToString(), saved = _folder.File("saved.json"), fresh = _folder.File("fresh.json");
        (code, _, error) = Run("explain", "--model", cam, "--tensor", CaptionModelTests.File("sample.input.npy"), "--feed", Feed("right"),
            "--target-output", "logits", "--target-index", word, "--method", "gradcam", "--json", saved, "--quiet");
        (code, error).Should().Be((0, ""));
        (code, _, error) = Run("explain", "--model", Model, "--tensor", CaptionModelTests.File("sample.input.npy"), "--feed", Feed("right"),
            "--target-output", "logits", "--target-index", word, "--method", "gradcam", "--json", fresh, "--quiet");
        (code, error).Should().Be((0, ""));
        float[] Weights(string json) => JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("weights").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Weights(saved).Should().Equal(Weights(fresh), (a, b) => Math.Abs(a - b) <= 1e-6f * Weights(fresh).Max(Math.Abs));
        Weights(saved).Should().Contain(w => w != 0);
    }

    [Test]
    public void A_saved_gradient_graph_made_without_the_fed_input_is_refused_with_what_to_do()
    {
        string model = _folder.File("captioner.onnx"), cam = _folder.File("captioner.cam.onnx"), grad = _folder.File("captioner.grad.onnx");
        File.Copy(Model, model);
        Run("prepare", "--model", model, "--feed", Feed("left"), "--output", "logits").Code.Should().Be(0);
        // As one written for the same layer and output by a model that took no input besides the image.
        var stale = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(grad));
        stale.MetadataProps.Remove(stale.MetadataProps.Single(p => p.Key == "scorecam.grad.fed_inputs"));
        File.WriteAllBytes(grad, Google.Protobuf.MessageExtensions.ToByteArray(stale));

        var (code, _, error) = Run("explain", "--model", cam, "--tensor", CaptionModelTests.File("sample.input.npy"), "--feed", Feed("right"),
            "--target-output", "logits", "--target-index", "7", "--method", "gradcam", "--quiet", "--out", _folder.File("x.png"));
        code.Should().Be(1);
        error.Should().Contain($"saved gradient graph '{grad}' was made for a model whose inputs besides the image are none")
            .And.Contain("takes (tokens)").And.Contain("prepare the model again");
    }

    [Test]
    public void A_model_input_without_a_feed_is_named_with_the_flag()
    {
        var (code, _, error) = Run("explain", "--model", Model, "--image", Sample, "--target-output", "logits", "--target-index", "7");
        code.Should().Be(1);
        error.Should().Contain("needs input 'tokens' [batch×7×10] float besides its image 'image'").And.Contain("--feed tokens=FILE.npy");
    }

    [Test]
    public void A_feed_of_the_wrong_shape_or_form_is_refused()
    {
        string wrong = _folder.File("six.npy");
        NpyFile.Write(wrong, new float[60], 1, 6, 10);
        var (code, _, error) = Run("explain", "--model", Model, "--image", Sample, "--feed", $"tokens={wrong}", "--target-output", "logits", "--target-index", "7");
        code.Should().Be(1);
        error.Should().Contain("shape [1×6×10]").And.Contain("takes [batch×7×10]").And.Contain("[1×7×10] or [7×10]");

        Run("explain", "--model", Model, "--image", Sample, "--feed", "tokens", "--target-output", "logits", "--target-index", "7")
            .Should().Match<(int Code, string Out, string Err)>(r => r.Code == 2 && r.Err.Contains("--feed must be NAME=FILE.npy"));
        Run("explain", "--model", Model, "--image", Sample, "--feed", Feed("right"), "--feed", Feed("left"), "--target-output", "logits", "--target-index", "7")
            .Should().Match<(int Code, string Out, string Err)>(r => r.Code == 2 && r.Err.Contains("gives input 'tokens' twice"));
    }

    [TestCase("--target-index 7", 2, "--target-index needs --target-output NAME")]
    [TestCase("--target-output logits", 2, "--target-output logits needs --target-index I")]
    [TestCase("--target-output logits --target-index -1", 2, "--target-index must be 0 or more")]
    [TestCase("--target-output logits --target-index 7 --target 3", 2, "leave out --target")]
    [TestCase("--target-output logits --target-index 7 --output probabilities", 2, "name different outputs")]
    [TestCase("--target-output logits --target-index 10", 1, "Index 10 is out of range for output 'logits', which holds 10 values per image (valid indices 0..9)")]
    [TestCase("--target-output scores --target-index 1", 1, "has no output named 'scores'")]
    public void Target_output_and_index_are_checked(string flags, int exit, string message)
    {
        var (code, _, error) = Run(new[] { "explain", "--model", Model, "--image", Sample, "--feed", Feed("right"), "--quiet", "--out", _folder.File("x.png") }
            .Concat(flags.Split(' ')).ToArray());
        (code, error).Should().Match<(int, string)>(r => r.Item1 == exit && r.Item2.Contains(message), $"stderr was: {error}");
    }

    [Test]
    public void Bench_and_report_feed_the_other_input_as_explain_does()
    {
        string json = _folder.File("e.json"), bench = _folder.File("b.json"), page = _folder.File("r.html");
        var (code, _, error) = Run("explain", "--model", Model, "--image", Sample, "--feed", Feed("right"), "--output", "logits", "--json", json, "--quiet");
        code.Should().Be(0, error);
        int passes = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("forwardPasses").GetInt32();

        (code, _, error) = Run("bench", "--model", Model, "--image", Sample, "--feed", Feed("right"), "--output", "logits", "--runs", "1", "--json", bench);
        code.Should().Be(0, error);
        JsonDocument.Parse(File.ReadAllText(bench)).RootElement.EnumerateArray().Single().GetProperty("forward_passes").GetInt32()
            .Should().Be(passes, "the same fed model and picture need the same passes");

        (code, _, error) = Run("report", "--model", Model, "--image", Sample, "--feed", Feed("right"), "--output", "logits", "--method", "scorecam", "--out", page, "--quiet");
        code.Should().Be(0, error);
        File.ReadAllText(page).Should().Contain("data:image/png;base64,");

        (code, _, error) = Run("bench", "--model", Model, "--image", Sample, "--output", "logits", "--runs", "1");
        (code, error).Should().Match<(int, string)>(r => r.Item1 != 0 && r.Item2.Contains("--feed tokens=FILE.npy"), "an input nothing feeds is refused by name");
    }
}
