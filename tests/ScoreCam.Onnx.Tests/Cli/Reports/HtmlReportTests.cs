using ScoreCam.Onnx.Core;
using System.Globalization;
using System.Text.Json.Nodes;
using ScoreCam.Onnx.Cli.Reports;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Cli.Reports;

public class HtmlReportTests
{
    private const string Tricky = "<b>\"sample\" & co</b>.png";

    [Test]
    public async Task Report_renders_in_headless_chromium_with_every_image_decoded_and_the_numbers_it_was_given()
    {
        ReportPage page = SamplePage();
        using var folder = new TempFolder();
        string path = folder.File("report.html");
        HtmlReport.Write(path, page);

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)); // a guard against a hung browser, not a timing
        await using HeadlessChromium browser = await HeadlessChromium.StartAsync(timeout.Token);
        await browser.OpenAsync(path);
        JsonNode shown = (await browser.EvaluateAsync(ReportPageScript.Read))!;

        int[] expectedWidths = page.Entries.SelectMany(e => new[] { e.Input }.Concat(e.Maps).Concat(e.Counterfactuals))
            .Select(p => Image.Identify(p.Png).Width).ToArray();
        shown["widths"]!.AsArray().Select(w => (int)w!).Should().Equal(expectedWidths, "every embedded PNG decodes at its own width");
        ((int)shown["resources"]!).Should().Be(0, "the page loads nothing from elsewhere");

        JsonArray entries = shown["entries"]!.AsArray();
        entries.Should().HaveCount(page.Entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            ReportEntry expected = page.Entries[i];
            JsonNode entry = entries[i]!;
            ((string)entry["name"]!).Should().Be(expected.Name);
            entry["captions"]!.AsArray().Select(c => (string)c!).Should().Equal(
                new[] { expected.Input }.Concat(expected.Maps).Concat(expected.Counterfactuals).Select(p => p.Caption));
            JsonArray predictions = entry["predictions"]!.AsArray();
            predictions.Select(p => (string)p![0]!).Should().Equal(expected.TopPredictions.Select(p => p.Name));
            predictions.Select(p => Parse(p![1]!)).Should().Equal(expected.TopPredictions.Select(p => p.Value), (a, b) => Math.Abs(a - b) <= 5e-5);
            ((string)entry["target"]![0]!).Should().Be(expected.Target.Name);
            Parse(entry["target"]![1]!).Should().BeApproximately(expected.Target.Value, 5e-5);
            ((int)entry["boxes"]!).Should().Be(expected.Boxes.Count * (1 + expected.Maps.Count + expected.Counterfactuals.Count));
            entry["counterfactual"]!.AsArray().Select(r => r!.AsArray().Select(c => (string)c!).ToArray()).Should().BeEquivalentTo(
                expected.CounterfactualCheck?.Rows.Select(r => new[] { r.Name }.Concat(r.Cells.Select(CellText)).ToArray()) ?? Enumerable.Empty<string[]>(), o => o.WithStrictOrdering());
            entry["metrics"]!.AsArray().Select(r => r!.AsArray().Select(c => (string)c!).ToArray()).Should().BeEquivalentTo(
                expected.Metrics?.Rows.Select(r => new[] { r.Name }.Concat(r.Cells.Select(CellText)).ToArray()) ?? Enumerable.Empty<string[]>(), o => o.WithStrictOrdering());
        }

        // The box over the first entry's input sits at the fractions it was given.
        JsonArray box = entries[0]!["firstBox"]!.AsArray();
        ReportBox given = page.Entries[0].Boxes[0];
        box.Select(v => (double)v!).Should().Equal(new[] { given.Left, given.Top, given.Width, given.Height }, (a, b) => Math.Abs(a - b) < 0.02);

        // The colour bars carry their scale beside them (1 at the top, 0 at the bottom; the signed view's ±m and 0), and
        // a map's box covers the picture, not the bar: its fractions shrink by the bar's share of the width.
        JsonArray figures = entries[0]!["figures"]!.AsArray();
        figures.Should().HaveCount(5, "input, three maps, one counterfactual");
        string[] Ticks(int figure) => figures[figure]!["ticks"]!.AsArray().Select(t => (string)t!["text"]!).ToArray();
        Ticks(0).Should().BeEmpty("the input has no colour bar");
        Ticks(1).Should().Equal("1", "0");
        Ticks(2).Should().BeEmpty("this overlay was drawn without a bar");
        Ticks(3).Should().Equal("+1", "0", "−1");
        foreach (JsonNode? tick in figures[1]!["ticks"]!.AsArray().Concat(figures[3]!["ticks"]!.AsArray()))
            ((double)tick!["gap"]!).Should().BeInRange(0, 12, "the label sits just right of the bar");
        void Heights(int figure, params double[] expected) => figures[figure]!["ticks"]!.AsArray().Select(t => (double)t!["height"]!)
            .Should().Equal(expected, (a, b) => Math.Abs(a - b) < 0.07, "each label is at its end (or the middle) of the bar");
        Heights(1, 0, 1);
        Heights(3, 0, 0.5, 1);
        double bar = page.Entries[0].Maps[0].Scale!.BarFraction;
        var info = Image.Identify(page.Entries[0].Maps[0].Png);
        bar.Should().BeApproximately((double)(ColorBar.WidthFor(info.Height) + Math.Max(4, info.Height / 48)) / info.Width, 1e-9);
        figures[1]!["box"]!.AsArray().Select(v => (double)v!).Should().Equal(
            new[] { given.Left * (1 - bar), given.Top, given.Width * (1 - bar), given.Height }, (a, b) => Math.Abs(a - b) < 0.02);

        shown["summary"]!.AsArray().Select(r => r!.AsArray().Select(c => (string)c!).ToArray()).Should().BeEquivalentTo(
            page.Summary!.Rows.Select(r => new[] { r.Name }.Concat(r.Cells.Select(CellText)).ToArray()), o => o.WithStrictOrdering());

        shown["failures"]!.AsArray().Select(f => (string)f!).Should().Equal(page.Failures.Select(f => $"{f.Name}: {f.Error}"));

        (await browser.EvaluateAsync(FilterBy("Dress [3]")))!.AsArray().Select(n => (string)n!).Should().Equal("coffee.png");
        (await browser.EvaluateAsync(FilterBy("")))!.AsArray().Should().HaveCount(2);

        byte[] screenshot = await browser.ScreenshotAsync();
        Image.Identify(screenshot).Width.Should().Be(1280);
        string shot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "html-report.png");
        await File.WriteAllBytesAsync(shot, screenshot);
        TestContext.AddTestAttachment(shot, "the report as headless chromium renders it");
    }

    [Test]
    public void A_table_row_with_the_wrong_number_of_cells_is_refused()
    {
        var table = new ReportTable("t", "method", new[] { "a", "b" }, new[] { new ReportRow("x", new ReportCell?[] { new(1) }) });
        FluentActions.Invoking(() => HtmlReport.Render(new ReportPage("r", Array.Empty<ReportEntry>()) { Summary = table }))
            .Should().Throw<ArgumentException>().WithMessage("*1 cells for 2 columns*");
    }

    private static string CellText(ReportCell? c) => c is null || double.IsNaN(c.Value) ? "–"
        : c.Interval is { } ci ? string.Create(CultureInfo.InvariantCulture, $"{c.Value:0.0000} ± {ci:0.0000}") : c.Value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static double Parse(JsonNode text) => double.Parse((string)text!, CultureInfo.InvariantCulture);

    private static ReportPage SamplePage()
    {
        using var picture = new Image<Rgb24>(60, 30, new Rgb24(90, 120, 150));
        var heat = new SaliencyMap(3, 2, new[] { 0f, 0.5f, 1f, 0.2f, 0.4f, 0.9f });
        byte[] Png(Image<Rgb24> image) { using (image) return HeatmapRenderer.EncodePng(image); }
        ReportPicture input = new("input", HeatmapRenderer.EncodePng(picture));
        byte[] barred = Png(HeatmapRenderer.Render(picture, heat, options: new OverlayOptions { MinShortSide = 90, ColorBar = true }));
        var attribution = new Attribution(2, 1, 2, new[] { 0.5f, -2f, 0.25f, 1f });   // channel sums 0.75 and −1: m = 1
        byte[] signed = Png(AttributionRenderer.Render(attribution.Values, 2, 1, 2, AttributionView.Signed, minShortSide: 30, colorBar: true));
        var first = new ReportEntry(Tricky, input,
            new[]
            {
                new ReportPicture("scorecam", barred, ColorScale.ForHeatmap(barred)),
                new ReportPicture("gradcam", Png(HeatmapRenderer.Render(picture, heat, options: new OverlayOptions { MinShortSide = 0, Colormap = Colormap.Viridis }))),
                new ReportPicture("gradient (signed)", signed, ColorScale.ForAttribution(signed, attribution, AttributionView.Signed)),
            },
            new[] { new ReportScore("Ankle boot", 9, 0.957612), new ReportScore("Sneaker", 7, 0.031249), new ReportScore(null, 5, 0.000051) },
            new ReportScore("Ankle boot", 9, 0.957612))
        {
            Counterfactuals = new[] { new ReportPicture("scorecam: versus Sneaker [7] (eq. 7)", Png(HeatmapRenderer.Render(picture, heat))) },
            CounterfactualCheck = new ReportTable("Counterfactual check", "method", new[] { "target on input", "reference on input", "target on masked input", "reference on masked input" },
                new[] { new ReportRow("scorecam", new ReportCell?[] { new(0.957612), new(0.031249), new(0.412345), new(0.287654) }) }),
            Boxes = new[] { new ReportBox(0.25, 0.5, 0.5, 0.25) },
            Metrics = new ReportTable("Metrics", "method", new[] { "energy_pointing_game", "average_drop" },
                new[] { new ReportRow("scorecam", new ReportCell?[] { new(0.712345), new(12.5) }), new ReportRow("gradcam", new ReportCell?[] { new(0.5), null }) }),
        };
        var second = new ReportEntry("coffee.png", input, new[] { new ReportPicture("scorecam", input.Png) },
            new[] { new ReportScore("Dress", 3, 0.6), new ReportScore("Coat", 4, 0.4) }, new ReportScore("Dress", 3, 0.6));
        return new ReportPage("Explanations", new[] { first, second })
        {
            Subtitle = "model fashion-clutter.onnx",
            Failures = new[] { new ReportFailure("broken.png", "'broken.png' is not an image in a supported format <PNG>.") },
            Summary = new ReportTable("Summary", "method", new[] { "energy_pointing_game", "deletion_auc" },
                new[]
                {
                    new ReportRow("scorecam", new ReportCell?[] { new(0.61234, 0.03121), new(0.1, 0.02) }),
                    new ReportRow("gradcam", new ReportCell?[] { new(0.5, 0), new(double.NaN) }),
                }),
        };
    }

    private static string FilterBy(string value) => $$"""
        (() => {
          const select = document.getElementById('class-filter');
          select.value = {{System.Text.Json.JsonSerializer.Serialize(value)}};
          select.dispatchEvent(new Event('change'));
          return [...document.querySelectorAll('.entry')].filter(e => !e.hidden).map(e => e.querySelector('h2').textContent);
        })()
        """;

}
