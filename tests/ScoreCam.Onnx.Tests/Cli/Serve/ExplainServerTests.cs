using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Cli.Serve;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Tests.Models;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Cli.Serve;

/// <summary>`scorecam serve` over real HTTP on 127.0.0.1: a Kestrel instance on a free port per test.</summary>
public class ExplainServerTests
{
    private TempFolder _folder = null!;
    private string _model = null!;
    private string _picture = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
        _picture = _folder.File("squares.png");
        using var image = new Image<Rgb24>(48, 40);
        for (int y = 4; y < 16; y++) for (int x = 6; x < 18; x++) image[x, y] = new Rgb24(255, 0, 0);
        for (int y = 22; y < 36; y++) for (int x = 28; x < 42; x++) image[x, y] = new Rgb24(0, 255, 0);
        image.SaveAsPng(_picture);
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private Task<ExplainServer> Start(ServerOptions? options = null, MethodSettings? settings = null, RecordingLogger? log = null) =>
        ExplainServer.StartAsync((options ?? new ServerOptions()) with { Port = 0 },
            logger => (CamExplainer.Open(_model, new ExplainerOptions { Logger = logger }), "squares.onnx"), settings ?? new MethodSettings(),
            logging: l =>
            {
                l.ClearProviders();
                if (log is not null) l.AddProvider(new RecordingProvider(log));
            });

    private static HttpContent Png(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return content;
    }

    private static float[] Map(JsonElement e) => e.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    /// <summary>The map `scorecam explain --json` writes for the same picture.</summary>
    private float[] CommandLineMap(params string[] extra)
    {
        string json = _folder.File($"{Guid.NewGuid():N}.json");
        CliApp.Run(new[] { "explain", "--model", _model, "--image", _picture, "--json", json }.Concat(extra).ToArray(), new StringWriter(), new StringWriter())
            .Should().Be(CliApp.Ok);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        return Map(document.RootElement);
    }

    [Test]
    public async Task Explain_over_http_gives_the_command_lines_map_and_an_overlay_for_a_raw_body_and_a_multipart_form()
    {
        await using ExplainServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        byte[] png = File.ReadAllBytes(_picture);

        using HttpResponseMessage raw = await http.PostAsync("/explain", Png(png));
        raw.StatusCode.Should().Be(HttpStatusCode.OK, await raw.Content.ReadAsStringAsync());
        using var rawJson = JsonDocument.Parse(await raw.Content.ReadAsStringAsync());
        rawJson.RootElement.GetProperty("method").GetString().Should().Be("scorecam");
        Map(rawJson.RootElement).Should().Equal(CommandLineMap(), (a, b) => Math.Abs(a - b) <= 1e-6);
        using (var overlay = Image.Load<Rgb24>(rawJson.RootElement.GetProperty("overlayPng").GetBytesFromBase64()))
            (overlay.Width, overlay.Height).Should().Be(DefaultPictureSize(), "the picture is explain's default one (the panel, scaled up)");

        using var form = new MultipartFormDataContent { { Png(png), "image", "squares.png" } };
        using HttpResponseMessage multipart = await http.PostAsync("/explain?method=gradcam&target=1&eigen-smooth=false", form);
        multipart.StatusCode.Should().Be(HttpStatusCode.OK, await multipart.Content.ReadAsStringAsync());
        using var formJson = JsonDocument.Parse(await multipart.Content.ReadAsStringAsync());
        formJson.RootElement.GetProperty("image").GetString().Should().Be("squares.png");
        formJson.RootElement.GetProperty("target").GetProperty("index").GetInt32().Should().Be(1);
        Map(formJson.RootElement).Should().Equal(CommandLineMap("--method", "gradcam", "--target", "1"), (a, b) => Math.Abs(a - b) <= 1e-6);

        using HttpResponseMessage versus = await http.PostAsync("/explain?target=1&versus=0", Png(png));
        versus.StatusCode.Should().Be(HttpStatusCode.OK, await versus.Content.ReadAsStringAsync());
        using var versusJson = JsonDocument.Parse(await versus.Content.ReadAsStringAsync());
        versusJson.RootElement.GetProperty("counterfactual").GetProperty("reference").GetProperty("index").GetInt32().Should().Be(0);
        Map(versusJson.RootElement).Should().Equal(CommandLineMap("--target", "1", "--versus", "0"), (a, b) => Math.Abs(a - b) <= 1e-6);

        using var health = JsonDocument.Parse(await http.GetStringAsync("/health"));
        health.RootElement.GetProperty("status").GetString().Should().Be("ok");
        health.RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetString()).Should().Equal(MethodCatalog.Names);
    }

    /// <summary>The size of the picture `explain` writes by default for the test picture.</summary>
    private (int, int) DefaultPictureSize()
    {
        string png = _folder.File($"{Guid.NewGuid():N}.png");
        CliApp.Run(new[] { "explain", "--model", _model, "--image", _picture, "--out", png, "--quiet" }, new StringWriter(), new StringWriter()).Should().Be(CliApp.Ok);
        var written = Image.Identify(png);
        return (written.Width, written.Height);
    }

    [TestCase("", "")]
    [TestCase("?overlay-size=96&alpha=0.25&colormap=viridis&colorbar=false&picture=panel", "--overlay-size 96 --alpha 0.25 --colormap viridis --colorbar false --picture panel")]
    [TestCase("?method=gradient&attribution-view=signed&overlay-size=0&colorbar=true", "--method gradient --attribution-view signed --overlay-size 0 --colorbar")]
    [TestCase("?method=guided-backprop&picture=overlay&alpha=1", "--method guided-backprop --picture overlay --alpha 1")]
    public async Task Picture_options_in_the_query_draw_the_pictures_explains_flags_draw(string query, string flags)
    {
        await using ExplainServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        using HttpResponseMessage response = await http.PostAsync("/explain" + query, Png(File.ReadAllBytes(_picture)));
        string text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        using var answer = JsonDocument.Parse(text);

        string png = _folder.File($"{Guid.NewGuid():N}.png");
        var error = new StringWriter();
        CliApp.Run(new[] { "explain", "--model", _model, "--image", _picture, "--out", png, "--quiet" }.Concat(flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray(),
            new StringWriter(), error).Should().Be(CliApp.Ok, error.ToString());
        Pixels(answer.RootElement.GetProperty("overlayPng").GetBytesFromBase64()).Should().Equal(Pixels(File.ReadAllBytes(png)), "the overlay explain writes with the same flags");
        string[] attribution = Directory.GetFiles(_folder.Path, Path.GetFileNameWithoutExtension(png) + "-*.png");
        if (attribution.Length == 0) answer.RootElement.TryGetProperty("attributionPng", out _).Should().BeFalse("a CAM method has no pixel-space picture");
        else
        {
            string view = answer.RootElement.GetProperty("attributionView").GetString()!;
            attribution.Should().ContainSingle().Which.Should().EndWith($"-{view}.png");
            Pixels(answer.RootElement.GetProperty("attributionPng").GetBytesFromBase64()).Should().Equal(Pixels(File.ReadAllBytes(attribution[0])), "explain's attribution picture");
        }
    }

    [TestCase("overlay-size=-1", "--overlay-size", "-1")]
    [TestCase("overlay-size=5000", "--overlay-size", "5000")]
    [TestCase("alpha=1.5", "--alpha", "1.5")]
    [TestCase("colormap=hot", "--colormap", "hot")]
    [TestCase("attribution-view=sepia", "--attribution-view", "sepia")]
    public async Task A_picture_option_out_of_range_gets_400_with_the_message_explain_gives_for_its_flag(string query, string flag, string value)
    {
        var error = new StringWriter();
        CliApp.Run(new[] { "explain", "--model", _model, "--image", _picture, flag, value }, new StringWriter(), error).Should().Be(CliApp.UsageError);
        string expected = error.ToString().Trim().Replace("error: --", "", StringComparison.Ordinal);

        await using ExplainServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        using HttpResponseMessage response = await http.PostAsync("/explain?" + query, Png(File.ReadAllBytes(_picture)));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().Should().Be(expected);
    }

    [TestCase("overlay-size=big", "overlay-size must be a number; got 'big'.")]
    [TestCase("alpha=half", "alpha must be a number; got 'half'.")]
    [TestCase("picture=maybe", "picture must be panel or overlay; got 'maybe'.")]
    [TestCase("colorbar=maybe", "colorbar must be true or false (or given without a value); got 'maybe'.")]
    public async Task A_picture_option_that_is_not_a_value_gets_400_naming_it(string query, string message)
    {
        await using ExplainServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        using HttpResponseMessage response = await http.PostAsync("/explain?" + query, Png(File.ReadAllBytes(_picture)));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().Should().Be(message);
    }

    [TestCase("samplez=3", "Unknown query key 'samplez' (did you mean 'samples'?)")]
    [TestCase("rise-maskes=3", "Unknown query key 'rise-maskes' (did you mean 'rise-masks'?)")]
    [TestCase("channels=-5", "channels must be all or an integer from 1 to 100000; got '-5'.")]
    [TestCase("method=rise&rise-masks=20000", "rise-masks 20000 is over this server's limit of 10000 passes per request.")]
    [TestCase("method=gradcam&rise-masks=100", "rise-masks is not an option of gradcam; it is an option of rise.")]
    [TestCase("method=guided-scorecam&aug-smooth", "aug-smooth is not an option of guided-scorecam; it is an option of scorecam, gradcam")]
    public async Task An_unknown_query_key_or_a_method_option_out_of_range_gets_400_naming_it(string query, string message)
    {
        await using ExplainServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        using HttpResponseMessage response = await http.PostAsync("/explain?" + query, Png(File.ReadAllBytes(_picture)));
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().Should().StartWith(message);
    }

    [Test]
    public async Task Method_options_in_the_query_reach_the_method_and_the_answers_settings()
    {
        await using ExplainServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        using HttpResponseMessage response = await http.PostAsync("/explain?method=rise&rise-masks=20&seed=4", Png(File.ReadAllBytes(_picture)));
        string text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        using var answer = JsonDocument.Parse(text);
        answer.RootElement.GetProperty("settings").GetProperty("rise-masks").GetString().Should().Be("20");
        answer.RootElement.GetProperty("settings").GetProperty("seed").GetString().Should().Be("4");
        answer.RootElement.GetProperty("forwardPasses").GetInt32().Should().Be(21, "the unmasked pass and 20 masks");
        Map(answer.RootElement).Should().Equal(CommandLineMap("--method", "rise", "--rise-masks", "20", "--seed", "4"), (a, b) => Math.Abs(a - b) <= 1e-6);
    }

    private static Rgb24[] Pixels(byte[] png)
    {
        using var image = Image.Load<Rgb24>(png);
        var pixels = new Rgb24[image.Width * image.Height];
        image.CopyPixelDataTo(pixels);
        return pixels;
    }

    [Test]
    public async Task Bad_input_gets_400_or_413_with_a_one_line_message()
    {
        await using ExplainServer server = await Start(new ServerOptions { MaxRequestBytes = 64 << 10 });
        using var http = new HttpClient { BaseAddress = server.Address };
        byte[] png = File.ReadAllBytes(_picture);

        async Task Expect(string query, HttpContent body, HttpStatusCode status, string message)
        {
            using HttpResponseMessage response = await http.PostAsync("/explain" + query, body);
            string text = await response.Content.ReadAsStringAsync();
            response.StatusCode.Should().Be(status, $"{query}: {text}");
            string error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!;
            error.Should().Contain(message).And.NotContain("\n");
            text.Should().NotContain("\\u00").And.NotContain("\n", "the body is one line of readable JSON");
        }

        await Expect("", Png(png[..(png.Length / 2)]), HttpStatusCode.BadRequest, "cannot be decoded");
        await Expect("", Png(System.Text.Encoding.UTF8.GetBytes("not a picture")), HttpStatusCode.BadRequest, "not an image");
        await Expect("", new ByteArrayContent(Array.Empty<byte>()), HttpStatusCode.BadRequest, "no picture");
        await Expect("?method=nosuch", Png(png), HttpStatusCode.BadRequest, "unknown method 'nosuch'");
        using (var notes = new MultipartFormDataContent { { new ByteArrayContent("not a picture"u8.ToArray()), "image", "notes.txt" } })
            await Expect("", notes, HttpStatusCode.BadRequest, "'notes.txt' is not an image");
        await Expect("?variant=keras", Png(png), HttpStatusCode.BadRequest, "variant must be");
        await Expect("?target=5000", Png(png), HttpStatusCode.BadRequest, "out of range");
        await Expect("?versus=0&target=0", Png(png), HttpStatusCode.BadRequest, "same class");
        await Expect("", Png(new byte[100 << 10]), HttpStatusCode.RequestEntityTooLarge, "larger than the server's limit of 65536 bytes");
        (await http.GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK, "the server survives bad requests");
    }

    [Test]
    public async Task A_bounded_load_of_200_requests_from_8_clients_gets_only_answers_or_the_documented_503()
    {
        await using ExplainServer server = await Start(new ServerOptions { Concurrency = 2, Queue = 2 });
        using var http = new HttpClient { BaseAddress = server.Address };
        byte[] png = File.ReadAllBytes(_picture);
        float[] expected = CommandLineMap("--method", "gradcam");

        var statuses = new List<HttpStatusCode>();
        var maps = new List<float[]>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 25; i++)
            {
                using HttpResponseMessage response = await http.PostAsync("/explain?method=gradcam", Png(png));
                string text = await response.Content.ReadAsStringAsync();
                lock (statuses)
                {
                    statuses.Add(response.StatusCode);
                    if (response.StatusCode == HttpStatusCode.OK) maps.Add(Map(JsonDocument.Parse(text).RootElement));
                }
            }
        })));

        statuses.Should().HaveCount(200).And.OnlyContain(s => s == HttpStatusCode.OK || s == HttpStatusCode.ServiceUnavailable);
        maps.Should().NotBeEmpty().And.OnlyContain(m => m.Zip(expected).All(p => Math.Abs(p.First - p.Second) <= 1e-6));
    }

    [Test]
    public async Task A_full_server_answers_503_and_a_client_that_leaves_frees_its_slot()
    {
        // Mask with this many optimisation steps runs for minutes unless it is cancelled.
        var slow = new MethodSettings().With(MaskMethod.Iterations, CommonOptions.MaxPasses);
        await using ExplainServer server = await Start(new ServerOptions { Concurrency = 1, Queue = 0 }, slow);
        using var http = new HttpClient { BaseAddress = server.Address };
        byte[] png = File.ReadAllBytes(_picture);

        using var leave = new CancellationTokenSource();
        Task<HttpResponseMessage> occupying = http.PostAsync("/explain?method=mask", Png(png), leave.Token);
        HttpStatusCode busy = default;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (busy != HttpStatusCode.ServiceUnavailable && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            // A quick request that came first took the one slot and the slow one was refused: send that again.
            if (occupying.IsCompleted) occupying = http.PostAsync("/explain?method=mask", Png(png), leave.Token);
            using HttpResponseMessage response = await http.PostAsync("/explain?method=gradcam", Png(png));
            busy = response.StatusCode;
        }
        busy.Should().Be(HttpStatusCode.ServiceUnavailable);
        occupying.IsCompleted.Should().BeFalse("the slow explanation holds the slot");

        leave.Cancel();
        await FluentActions.Awaiting(() => occupying).Should().ThrowAsync<OperationCanceledException>();
        (await Poll(http, png, HttpStatusCode.OK)).Should().Be(HttpStatusCode.OK, "the cancelled explanation gave its slot back");
    }

    [Test]
    public async Task An_explanation_over_the_time_limit_is_cancelled_and_gets_503()
    {
        var slow = new MethodSettings().With(MaskMethod.Iterations, CommonOptions.MaxPasses);
        await using ExplainServer server = await Start(new ServerOptions { Timeout = TimeSpan.FromSeconds(0.5) }, slow);
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };

        using HttpResponseMessage response = await http.PostAsync("/explain?method=mask", Png(File.ReadAllBytes(_picture)));
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()
            .Should().Contain("longer than the server's limit of 0.5 s");
    }

    [Test]
    public async Task The_explainers_warnings_go_to_the_servers_log()
    {
        if (File.Exists("/dev/nvidia0")) Assert.Ignore("A GPU is present; the fallback cannot be exercised here.");
        var log = new RecordingLogger();
        await using ExplainServer server = await ExplainServer.StartAsync(new ServerOptions { Port = 0 },
            logger => (CamExplainer.Open(_model, new ExplainerOptions { Logger = logger, Inference = new InferenceOptions { Device = ExecutionDevice.Cuda } }), "squares.onnx"),
            new MethodSettings(), logging: l =>
            {
                l.ClearProviders();
                l.AddProvider(new RecordingProvider(log));
            });
        log.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning).Which.Message.Should().StartWith("CUDA is not available");
    }

    [Test]
    public async Task The_upload_page_shows_the_panel_within_the_window_and_the_top_predictions_in_headless_chromium()
    {
        await using ExplainServer server = await Start();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(cancel.Token);
        await browser.NavigateAsync(server.Address);
        JsonNode before = (await browser.EvaluateAsync(
            "({ overlay: getComputedStyle(document.getElementById('overlay')).display, table: getComputedStyle(document.getElementById('predictions')).display })"))!;
        ((string)before["overlay"]!).Should().Be("none", "no empty (broken) picture before an upload");
        ((string)before["table"]!).Should().Be("none");

        await browser.SetFileInputAsync("#file", _picture);
        await browser.EvaluateAsync("document.getElementById('method').value = 'gradcam'; document.getElementById('colormap').value = 'viridis'; " +
            "document.getElementById('panel').checked = true; document.getElementById('submit').click(); true");
        JsonNode shown = (await browser.EvaluateAsync(WaitForAnswer))!;

        ((string)shown["error"]!).Should().BeEmpty();
        string panel = _folder.File("panel.png");
        string json = _folder.File("panel.json");
        CliApp.Run(new[] { "explain", "--model", _model, "--image", _picture, "--method", "gradcam", "--colormap", "viridis", "--out", panel, "--json", json, "--quiet" },
            new StringWriter(), new StringWriter()).Should().Be(CliApp.Ok);
        var expected = Image.Identify(panel);
        ((int)shown["width"]!, (int)shown["height"]!).Should().Be((expected.Width, expected.Height), "the page asked for the panel explain writes");
        expected.Width.Should().BeGreaterThan((int)shown["windowWidth"]!, "the panel is wider than the window, so fitting it is tested");
        ((double)shown["right"]!).Should().BeLessThanOrEqualTo((int)shown["windowWidth"]!, "the panel is scaled to fit the window");
        ((string)shown["result"]!).Should().StartWith("squares.png, gradcam: target");

        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var top = document.RootElement.GetProperty("topPredictions").EnumerateArray()
            .Select(c => new[] { c.GetProperty("label").GetString() ?? $"class {c.GetProperty("index").GetInt32()}", c.GetProperty("probability").GetSingle().ToString("F4", System.Globalization.CultureInfo.InvariantCulture) })
            .ToArray();
        top.Should().NotBeEmpty();
        shown["predictions"]!.AsArray().Select(r => r!.AsArray().Select(c => (string)c!).ToArray()).Should().BeEquivalentTo(top, o => o.WithStrictOrdering(),
            "the page lists the top predictions explain writes, most probable first");
        browser.PageErrors.Should().BeEmpty();
        string shot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "serve-page.png");
        await File.WriteAllBytesAsync(shot, await browser.ScreenshotAsync());
        TestContext.AddTestAttachment(shot, "the upload page after an explanation, as headless chromium renders it");
    }

    [Test]
    public async Task The_upload_page_names_the_file_in_an_error_and_shows_no_picture_in_headless_chromium()
    {
        await using ExplainServer server = await Start();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(cancel.Token);
        await browser.NavigateAsync(server.Address);
        string notes = _folder.File("notes.txt");
        await File.WriteAllTextAsync(notes, "not a picture");
        await browser.SetFileInputAsync("#file", notes);
        await browser.EvaluateAsync("document.getElementById('submit').click(); true");
        JsonNode shown = (await browser.EvaluateAsync(WaitForAnswer))!;

        ((string)shown["error"]!).Should().Contain("notes.txt").And.Contain("not an image").And.NotContain("\\u0027");
        ((string)shown["overlayDisplay"]!).Should().Be("none");
        browser.PageErrors.Should().ContainSingle().Which.Should().Contain("status of 400", "the refused upload is the browser's only complaint");
    }

    /// <summary>Waits until the page shows a picture or an error, and says what it shows.</summary>
    private const string WaitForAnswer = """
        new Promise(resolve => {
          const check = () => {
            const overlay = document.getElementById('overlay'), error = document.getElementById('error').textContent;
            if ((!overlay.hidden && overlay.complete && overlay.naturalWidth > 0) || error)
              resolve({
                width: overlay.naturalWidth, height: overlay.naturalHeight, right: overlay.getBoundingClientRect().right,
                windowWidth: document.documentElement.clientWidth, overlayDisplay: getComputedStyle(overlay).display,
                error, result: document.getElementById('result').textContent,
                predictions: [...document.querySelectorAll('#predictions tbody tr')].map(r => [...r.cells].map(c => c.textContent)),
              });
            else setTimeout(check, 50);
          };
          check();
        })
        """;

    [TestCase("--port", "99999", "--port must be between 0 and 65535")]
    [TestCase("--host", "localhost", "--host must be an IP address")]
    [TestCase("--concurrency", "0", "--concurrency must be at least 1")]
    [TestCase("--queue", "-1", "--queue must not be negative")]
    [TestCase("--timeout", "0", "--timeout must be a positive number")]
    [TestCase("--method", "nosuch", "unknown method 'nosuch'")]
    public void Serve_refuses_bad_options_before_it_listens(string option, string value, string message)
    {
        var error = new StringWriter();
        CliApp.Run(new[] { "serve", "--model", _model, option, value }, new StringWriter(), error).Should().Be(CliApp.UsageError);
        error.ToString().Trim().Split('\n').Should().ContainSingle().Which.Should().StartWith("error: ").And.Contain(message);
    }

    [Test]
    public async Task A_model_with_inputs_besides_the_image_is_served_with_fixed_feeds()
    {
        string captioner = CaptionModelTests.File("captioner.onnx");
        var error = new StringWriter();
        CliApp.Run(new[] { "serve", "--model", captioner, "--output", "logits", "--port", "0" }, new StringWriter(), error).Should().Be(CliApp.InputError);
        error.ToString().Should().Contain("'tokens'").And.Contain("--feed tokens=FILE.npy");
        error = new StringWriter();
        CliApp.Run(new[] { "serve", "--model", captioner, "--output", "logits", "--feed", "tokens=" + _folder.File("none.npy"), "--port", "0" },
            new StringWriter(), error).Should().Be(CliApp.InputError);
        error.ToString().Should().Contain("none.npy' does not exist");

        // What serve --feed builds: the explainer with the feeds; a request names the word as the target class of `logits`.
        JsonElement c = CaptionModelTests.Case("right");
        var options = new ExplainerOptions
        {
            Preparation = new ScoreCam.Onnx.Models.ModelPreparationOptions
            {
                OutputName = "logits",
                Feeds = new Dictionary<string, ScoreCam.Onnx.Models.InputFeed> { ["tokens"] = ScoreCam.Onnx.Models.InputFeed.Read(CaptionModelTests.File("prefix-right.npy")) },
            },
        };
        await using ExplainServer server = await ExplainServer.StartAsync(new ServerOptions { Port = 0 },
            logger => (CamExplainer.Open(captioner, options with { Logger = logger }), "captioner.onnx"), new MethodSettings(),
            logging: l => l.ClearProviders());
        using var http = new HttpClient { BaseAddress = server.Address };
        using HttpResponseMessage response = await http.PostAsync($"/explain?target={c.GetProperty("index").GetInt32()}",
            Png(File.ReadAllBytes(CaptionModelTests.File("sample.png"))));
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("target").GetProperty("label").GetString().Should().Be(c.GetProperty("word").GetString());
        CaptionModelTests.OverMax(Map(json.RootElement)).Should().Equal(
            CaptionModelTests.OverMax(ScoreCam.Onnx.Imaging.NpyFile.Read(CaptionModelTests.File("scorecam-right.npy")).Data), (a, b) => Math.Abs(a - b) <= 1e-4f);
    }

    /// <summary>Sends quick gradcam requests until one gets <paramref name="wanted"/> (at most 10 s); the last status.</summary>
    private static async Task<HttpStatusCode> Poll(HttpClient http, byte[] png, HttpStatusCode wanted)
    {
        HttpStatusCode last = default;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            using HttpResponseMessage response = await http.PostAsync("/explain?method=gradcam", Png(png));
            if ((last = response.StatusCode) == wanted) break;
            await Task.Delay(20);
        }
        return last;
    }

    private sealed class RecordingProvider(RecordingLogger logger) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose() { }
    }
}
