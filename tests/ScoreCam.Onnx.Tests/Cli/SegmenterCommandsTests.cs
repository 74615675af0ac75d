using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Cli.Serve;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>
/// --region beyond explain, on the shipped tiny segmenter: serve (the query key region: predicted or a box, the map the
/// library gives, the region's class as the prediction), report (one entry over the region) and bench (the classes the
/// segmenter finds, most pixels first).
/// </summary>
public class SegmenterCommandsTests
{
    private static readonly string Model = Repository.Path("onnx-models", "tiny-segmenter", "tiny-segmenter.onnx");
    private static readonly string Picture = Repository.Path("onnx-models", "tiny-segmenter", "sample.png");
    private static readonly ExplainerOptions Options = new() { Preparation = new ModelPreparationOptions { OutputName = "out" } };

    private static async Task<(HttpStatusCode Status, JsonElement Json)> Post(HttpClient http, string query)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(Picture));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using HttpResponseMessage response = await http.PostAsync("/explain?" + query, content);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Test]
    public async Task Serve_explains_the_region_its_query_names_as_the_library_does()
    {
        await using ExplainServer server = await ExplainServer.StartAsync(new ServerOptions { Port = 0 },
            logger => (CamExplainer.Open(Model, Options with { Logger = logger }), "tiny-segmenter.onnx"), new MethodSettings(), logging: l => l.ClearProviders());
        using var http = new HttpClient { BaseAddress = server.Address };
        using var explainer = CamExplainer.Open(Model, Options);
        using var picture = explainer.LoadImage(Picture);
        var input = explainer.Preprocess(picture);
        int bag = explainer.Labels!.ToList().IndexOf("Bag");

        var (status, json) = await Post(http, "method=gradcam&region=predicted&target=Bag");
        status.Should().Be(HttpStatusCode.OK, json.ToString());
        Explanation expected = explainer.Explain(input, new SegmentationTarget("Bag", SegmentationRegion.Predicted), new GradCamMethod());
        json.GetProperty("target").GetProperty("label").GetString().Should().Be(expected.Target.Name).And.StartWith("Bag over its predicted pixels");
        json.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle())
            .Should().Equal(expected.Map.Values, (a, b) => Math.Abs(a - b) <= 1e-6f);
        json.TryGetProperty("topPredictions", out _).Should().BeFalse("a segmenter's output row is maps, not classes");

        // The prediction is the region's class with its mean per-pixel softmax over the predicted pixels, recomputed here.
        float[] o = explainer.Embed(input);
        int classes = 11, pixels = 96 * 96;
        double sum = 0;
        int count = 0;
        for (int p = 0; p < pixels; p++)
        {
            int best = Enumerable.Range(0, classes).MaxBy(c => o[c * pixels + p]);
            if (best != bag) continue;
            double max = Enumerable.Range(0, classes).Max(c => o[c * pixels + p]);
            sum += Math.Exp(o[bag * pixels + p] - max) / Enumerable.Range(0, classes).Sum(c => Math.Exp(o[c * pixels + p] - max));
            count++;
        }
        count.Should().BeGreaterThan(0);
        JsonElement prediction = json.GetProperty("prediction");
        (prediction.GetProperty("index").GetInt32(), prediction.GetProperty("label").GetString()).Should().Be((bag, "Bag"));
        prediction.GetProperty("probability").GetDouble().Should().BeApproximately(sum / count, 1e-5);

        (status, json) = await Post(http, "method=gradcam&region=20,40,80,80&target=Bag");
        status.Should().Be(HttpStatusCode.OK, json.ToString());
        json.GetProperty("target").GetProperty("label").GetString().Should().StartWith("Bag over box 20,40,80,80");

        (status, json) = await Post(http, "method=gradcam&region=" + Uri.EscapeDataString(Repository.Path("onnx-models", "tiny-segmenter", "sample.items.png")));
        status.Should().Be(HttpStatusCode.BadRequest);
        json.GetProperty("error").GetString().Should().Contain("region must be predicted or a box").And.Contain("cannot name a mask file");
        (status, json) = await Post(http, "method=gradcam&region=predicted&versus");
        status.Should().Be(HttpStatusCode.BadRequest);
        json.GetProperty("error").GetString().Should().Contain("region explains a segmenter's class over a region");
    }

    [TestCase("--versus", "Dress")]
    [TestCase("--attack", "fgsm")]
    public void Explain_refuses_a_region_with_what_compares_class_probabilities(string flag, string value)
    {
        using var folder = new TempFolder();
        var (code, _, error) = CliRunner.Run("explain", "--model", Model, "--output", "out", "--image", Picture, "--region", "predicted", "--target", "Bag",
            flag, value, "--epsilon", "0.01", "--method", "gradcam", "--out", folder.File("x.png"), "--quiet");
        code.Should().Be(2);
        error.Should().Contain("--region explains a segmenter's class over a region; it does not combine with").And.NotContain("internal error");
    }

    [Test]
    public void Report_explains_the_region_and_bench_times_the_classes_found_most_pixels_first()
    {
        using var folder = new TempFolder();
        string html = folder.File("r.html");
        var (code, output, error) = CliRunner.Run("report", "--model", Model, "--output", "out", "--image", Picture, "--method", "gradcam",
            "--region", "predicted", "--target", "Bag", "--out", html, "--quiet");
        code.Should().Be(0, error);
        output.Should().Contain("1 picture");
        File.ReadAllText(html).Should().Contain("Bag over its predicted pixels");

        (code, output, error) = CliRunner.Run("bench", "--model", Model, "--output", "out", "--image", Picture, "--method", "gradcam",
            "--region", "predicted", "--targets", "1,2", "--runs", "1");
        code.Should().Be(0, error);
        output.Split('\n').Count(l => l.StartsWith("gradcam ")).Should().Be(2, output);

        (code, _, error) = CliRunner.Run("bench", "--model", Model, "--output", "out", "--image", Picture, "--method", "gradcam",
            "--region", "predicted", "--targets", "12", "--runs", "1");
        code.Should().NotBe(0);
        error.Should().Contain("--targets 12: the segmenter assigns pixels to");

        (code, _, error) = CliRunner.Run("report", "--output", "out", "--model", Model, "--set", Repository.Path("onnx-models", "eval", "two-classes"),
            "--region", "predicted", "--out", html, "--quiet");
        code.Should().NotBe(0);
        error.Should().Contain("--region explains a segmenter's --target over a region of --image pictures");

        (code, _, error) = CliRunner.Run("report", "--output", "out", "--model", Model, "--image", Picture, "--region", "predicted", "--versus", "--out", html, "--quiet");
        code.Should().Be(2);
        error.Should().Contain("--versus compares class probabilities, which a region's scores are not");
    }
}
