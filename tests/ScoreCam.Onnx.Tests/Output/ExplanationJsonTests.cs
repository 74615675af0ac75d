using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Output;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Output;

/// <summary>
/// The explanation JSON is a documented, versioned schema: the committed schema files are the ones the library
/// exports, and real outputs of every method (single, run, HTTP) conform to them and read back strictly.
/// </summary>
public class ExplanationJsonTests
{
    private TempFolder _folder = null!;
    private string _model = null!, _picture = null!;
    // Few passes: the shape of the output is under test, not the methods.
    private static readonly (string Option, string Value)[] FewPasses = { ("rise-masks", "40"), ("samples", "3"), ("ig-steps", "3"), ("mask-iterations", "3") };

    /// <summary>The few-passes flags that <paramref name="methods"/> declare (the others would be refused), and --quiet.</summary>
    private static string[] Quick(params string[] methods) => FewPasses
        .Where(o => methods.Any(m => MethodCatalog.TryFind(m, out MethodEntry entry) && entry.Options.Any(d => d.Name == o.Option)))
        .SelectMany(o => new[] { "--" + o.Option, o.Value }).Append("--quiet").ToArray();

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
        _picture = _folder.File("squares.png");
        using var image = new Image<Rgb24>(64, 64);
        for (int y = 8; y < 24; y++) for (int x = 8; x < 24; x++) image[x, y] = new Rgb24(255, 0, 0);
        image.SaveAsPng(_picture);
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    [TestCase("explanation.schema.json", typeof(ExplanationDocument))]
    [TestCase("explanation-run.schema.json", typeof(ExplanationRunDocument))]
    public void The_committed_schema_is_the_one_the_library_exports(string file, Type document)
    {
        JsonNode exported = document == typeof(ExplanationDocument) ? ExplanationJson.Schema<ExplanationDocument>() : ExplanationJson.Schema<ExplanationRunDocument>();
        string committed = Repository.Path("docs", file);
        File.Exists(committed).Should().BeTrue($"docs/{file} documents the JSON");
        JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(committed)), exported).Should().BeTrue(
            $"docs/{file} must be regenerated after a change to the documents:\n{exported.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}");
    }

    [Test]
    public void Every_methods_explanation_conforms_to_the_schema_and_reads_back_strictly()
    {
        JsonNode schema = ExplanationJson.Schema<ExplanationDocument>();
        foreach (string method in MethodCatalog.Names)
        {
            string json = _folder.File($"{method}.json");
            var (code, _, error) = CliRunner.Run(new[] { "explain", "--model", _model, "--image", _picture, "--method", method, "--json", json }.Concat(Quick(method)).ToArray());
            (code, error).Should().Be((0, ""), method);
            byte[] bytes = File.ReadAllBytes(json);
            using var document = JsonDocument.Parse(bytes);
            JsonSchemaCheck.Problems(schema, document.RootElement).Should().BeEmpty(method);
            ExplanationDocument read = ExplanationJson.Deserialize<ExplanationDocument>(bytes, json);
            read.SchemaVersion.Should().Be(ExplanationJson.SchemaVersion);
            read.Method.Should().Be(method);
            read.Map.Values!.Length.Should().Be(read.Map.Width * read.Map.Height);
            read.TopPredictions.Should().NotBeEmpty().And.BeInDescendingOrder(p => p.Probability);
        }
    }

    [Test]
    public void A_runs_results_conform_to_the_run_schema()
    {
        string folder = _folder.File("run");
        File.WriteAllText(_folder.File("broken.png"), "not a picture");
        var (code, _, _) = CliRunner.Run(new[] { "explain", "--model", _model, "--image", _picture, _folder.File("broken.png"), "--method", "scorecam,gradient",
            "--out-dir", folder }.Concat(Quick("scorecam", "gradient")).ToArray());
        code.Should().Be(CliApp.InputError, "one picture is broken");
        byte[] bytes = File.ReadAllBytes(Path.Combine(folder, "results.json"));
        using var document = JsonDocument.Parse(bytes);
        JsonSchemaCheck.Problems(ExplanationJson.Schema<ExplanationRunDocument>(), document.RootElement).Should().BeEmpty();
        ExplanationRunDocument run = ExplanationJson.Deserialize<ExplanationRunDocument>(bytes, "results.json");
        run.Explanations.Select(e => (e.Method, e.Overlay, e.AttributionPicture)).Should().Equal(
            ("scorecam", "squares-scorecam.png", null), ("gradient", "squares-gradient.png", "squares-gradient-magnitude.png"));
        run.Failed.Should().ContainSingle().Which.Image.Should().EndWith("broken.png");
    }

    [Test]
    public void An_unknown_field_or_another_schema_version_is_refused_when_read()
    {
        string json = _folder.File("e.json");
        CliRunner.Run(new[] { "explain", "--model", _model, "--image", _picture, "--json", json }.Concat(Quick("scorecam")).ToArray()).Code.Should().Be(0);
        JsonObject node = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        node["surprise"] = 1;
        FluentActions.Invoking(() => ExplanationJson.Deserialize<ExplanationDocument>(JsonSerializer.SerializeToUtf8Bytes(node), "e.json"))
            .Should().Throw<ScoreCam.Onnx.Core.ScoreCamException>().WithMessage("*surprise*");
        node.Remove("surprise");
        node.Remove("method");
        FluentActions.Invoking(() => ExplanationJson.Deserialize<ExplanationDocument>(JsonSerializer.SerializeToUtf8Bytes(node), "e.json"))
            .Should().Throw<ScoreCam.Onnx.Core.ScoreCamException>().WithMessage("*method*");
    }
}
