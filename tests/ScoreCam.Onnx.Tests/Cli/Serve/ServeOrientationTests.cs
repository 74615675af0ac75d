using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Cli.Serve;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using static ScoreCam.Onnx.Tests.Imaging.OrientedPictures;

namespace ScoreCam.Onnx.Tests.Cli.Serve;

/// <summary>`scorecam serve` on uploads stored as cameras store them: explained and drawn as viewers show them.</summary>
public class ServeOrientationTests
{
    private TempFolder _folder = null!;
    private RecordingLogger _log = null!;

    [SetUp]
    public void SetUp() => (_folder, _log) = (new TempFolder(), new RecordingLogger());

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private Task<ExplainServer> Start() =>
        ExplainServer.StartAsync(new ServerOptions { Port = 0, Method = "gradcam" },
            _ => (CamExplainer.Open(Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx"), new ExplainerOptions { Logger = _log }), "fashion-clutter.onnx"),
            new MethodSettings(), logging: l => l.ClearProviders());

    private static async Task<JsonElement> Explain(HttpClient http, string picture)
    {
        var content = new ByteArrayContent(await File.ReadAllBytesAsync(picture));
        content.Headers.ContentType = new MediaTypeHeaderValue(picture.EndsWith(".jpg") ? "image/jpeg" : "image/png");
        using var form = new MultipartFormDataContent { { content, "image", Path.GetFileName(picture) } };
        using HttpResponseMessage response = await http.PostAsync("/explain", form);
        string body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, body);
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    private static float[] Map(JsonElement e) => e.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static string Prediction(JsonElement e) => e.GetProperty("prediction").GetRawText();

    private static byte[] Overlay(JsonElement e)
    {
        using Image<Rgb24> overlay = Image.Load<Rgb24>(e.GetProperty("overlayPng").GetBytesFromBase64());
        return Pixels(overlay);
    }

    [Test]
    public async Task Each_orientation_is_explained_and_drawn_as_the_upright_sample()
    {
        await using ExplainServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        JsonElement upright = await Explain(http, SamplePath);
        upright.GetProperty("prediction").GetProperty("label").GetString().Should().Be("Ankle boot");
        upright.GetProperty("orientation").GetInt32().Should().Be(1);
        using Image<Rgb24> sample = Sample();
        foreach (string picture in WriteAllEight(sample, _folder.Path))
        {
            JsonElement e = await Explain(http, picture);
            e.GetProperty("orientation").GetInt32().Should().Be(int.Parse(Path.GetFileNameWithoutExtension(picture)[1..]), "the answer states the orientation applied");
            Prediction(e).Should().Be(Prediction(upright), picture);
            Map(e).Should().Equal(Map(upright), picture);
            Overlay(e).Should().Equal(Overlay(upright), "the overlay of {0} shows the upright picture", picture);
        }

        // A phone's JPEG (stored turned, orientation 6) as the upright picture's JPEG.
        using Image<Rgb24> turned = Stored(sample, 6);
        JsonElement phone = await Explain(http, Save(turned, 6, _folder.File("phone.jpg")));
        JsonElement expected = await Explain(http, Save(sample, null, _folder.File("upright.jpg")));
        phone.GetProperty("orientation").GetInt32().Should().Be(6);
        (Prediction(phone), Map(phone)).Should().BeEquivalentTo((Prediction(expected), Map(expected)), o => o.WithStrictOrdering());
        _log.Entries.Where(e => e.Level >= LogLevel.Warning).Should().BeEmpty();
    }

    [Test]
    public async Task An_orientation_value_out_of_range_is_explained_as_stored_with_a_warning_in_the_servers_log()
    {
        await using ExplainServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        using Image<Rgb24> sample = Sample();
        using Image<Rgb24> turned = Stored(sample, 6);
        JsonElement tagged = await Explain(http, Save(turned, 0, _folder.File("tagged.png")));
        JsonElement untagged = await Explain(http, Save(turned, null, _folder.File("untagged.png")));
        Map(tagged).Should().Equal(Map(untagged));
        tagged.GetProperty("orientation").GetInt32().Should().Be(1, "nothing was applied");
        Overlay(tagged).Should().Equal(Overlay(untagged));
        _log.Entries.Where(e => e.Level == LogLevel.Warning).Should().ContainSingle()
            .Which.Message.Should().Be("Image 'tagged.png' has EXIF orientation 0, which is not one of the eight defined values (1-8); it is explained as its pixels are stored.");
    }
}
