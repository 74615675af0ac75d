using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Cli.Serve;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Detectors;

/// <summary>serve on a detector: one detection a request, chosen by the query, the map the library gives for it.</summary>
public class DetectorServeTests
{
    private static readonly string Model = Repository.Path("onnx-models", "detection-test", "random-yolov8.onnx");
    private static readonly string Picture = Repository.Path("onnx-models", "eval", "two-classes", "0001.png");
    private static readonly ExplainerOptions Options = new() { Preparation = new ModelPreparationOptions { Layer = "/p3/p3.1/Relu_output_0" } };

    private static async Task<(HttpStatusCode Status, JsonElement Json)> Post(HttpClient http, string query)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(Picture));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using HttpResponseMessage response = await http.PostAsync("/explain?" + query, content);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static float[] Map(JsonElement e) => e.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Test]
    public async Task A_request_explains_the_detection_its_query_names_as_the_library_does()
    {
        await using ExplainServer server = await ExplainServer.StartAsync(new ServerOptions { Port = 0 },
            logger => (CamExplainer.Open(Model, Options with { Logger = logger }), "random-yolov8.onnx"), new MethodSettings(),
            logging: l => l.ClearProviders());
        using var http = new HttpClient { BaseAddress = server.Address };
        using var explainer = CamExplainer.Open(Model, Options);
        using var picture = explainer.LoadImage(Picture);
        var input = explainer.Preprocess(picture);
        IReadOnlyList<Detection> found = DetectionHead.For(explainer.Model).Detect(explainer.Embed(input), confidence: 0.5f);
        found.Count.Should().BeGreaterThan(1);

        foreach (var (query, detection) in new[] { ("method=gradcam&confidence=0.5", found[0]), ("method=gradcam&confidence=0.5&detection=1", found[1]) })
        {
            var (status, json) = await Post(http, query);
            status.Should().Be(HttpStatusCode.OK, json.ToString());
            Explanation expected = explainer.Explain(input, DetectionTarget.Of(detection), new GradCamMethod());
            json.GetProperty("target").GetProperty("label").GetString().Should().Be(expected.Target.Name);
            Map(json).Should().Equal(expected.Map.Values, (a, b) => Math.Abs(a - b) <= 1e-6f, query);
            (!json.TryGetProperty("topPredictions", out JsonElement top) || top.ValueKind == JsonValueKind.Null).Should().BeTrue("a detector has no most probable classes");
        }

        var (boxStatus, boxJson) = await Post(http, "method=gradcam&box=8,12,40,44&target=1&detection-score=box-score&box-iou=0.1&confidence=0.3");
        boxStatus.Should().Be(HttpStatusCode.OK, boxJson.ToString());
        boxJson.GetProperty("target").GetProperty("label").GetString().Should().Be("class 1 at 8,12,40,44");

        var (bad, error) = await Post(http, "method=gradcam&detection=99");
        bad.Should().Be(HttpStatusCode.BadRequest);
        error.GetProperty("error").GetString().Should().Contain("detection 99:");
        (bad, error) = await Post(http, "method=gradcam&versus");
        bad.Should().Be(HttpStatusCode.BadRequest);
        error.GetProperty("error").GetString().Should().Contain("detector");
    }
}
