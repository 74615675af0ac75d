using ScoreCam.Onnx.Cli.Terminal;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Tests.Cli.Terminal;

/// <summary>The progress display on a hand-driven clock: what it shows, when, and the rate and time left it computes.</summary>
public class ProgressDisplayTests
{
    private TimeSpan _now;

    [SetUp]
    public void SetUp() => _now = TimeSpan.Zero;

    private ProgressDisplay Display(StringWriter writer, ProgressStyle style) => new(writer, style, () => _now, () => 200);

    [Test]
    public void Redirected_output_gets_a_plain_line_every_five_seconds_with_rate_and_time_left()
    {
        var writer = new StringWriter();
        using var display = Display(writer, ProgressStyle.Lines);
        display.Begin(4, "images");
        display.Next("a.png");
        display.Report(new ExplanationProgress(50, 100));
        _now = TimeSpan.FromSeconds(4.9);
        display.Report(new ExplanationProgress(60, 100));
        writer.ToString().Should().BeEmpty("a run shorter than the interval prints nothing");

        _now = TimeSpan.FromSeconds(6);
        display.Report(new ExplanationProgress(75, 100));
        // 0.75 of 4 images after 6 s: 6 · (1 − 0.1875) / 0.1875 = 26 s left; 75 passes in 6 s.
        writer.ToString().Should().Be($"progress: 0/4 images  19% [####----------------]  12.5 passes/s  ETA 26 s  a.png 75/100 passes{Environment.NewLine}");

        display.Completed();
        display.Completed();
        _now = TimeSpan.FromSeconds(12);
        display.Next("c.png");
        // 2 of 4 after 12 s: 1/6 images per second, 12 s left.
        writer.ToString().Split(Environment.NewLine)[1].Should().Be("progress: 2/4 images  50% [##########----------]  0.17 images/s  ETA 12 s  c.png");
    }

    [Test]
    public void A_terminal_gets_one_line_redrawn_in_place_that_moves_out_of_the_way_of_other_output()
    {
        var writer = new StringWriter();
        var output = new StringWriter();
        using var display = Display(writer, ProgressStyle.Bar);
        display.Begin(2, "explanations");
        _now = TimeSpan.FromSeconds(1);
        display.Next("a scorecam");
        _now = TimeSpan.FromSeconds(1.05);
        display.Report(new ExplanationProgress(1, 10));
        writer.ToString().Should().NotContain("1/10", "redraws are at most ten a second");
        _now = TimeSpan.FromSeconds(2);
        display.Report(new ExplanationProgress(5, 10));
        string shown = writer.ToString();
        shown.Should().StartWith("\r0/2 explanations   0%").And.EndWith("\r0/2 explanations  25% [#####---------------]  5 passes/s  ETA 6 s  a scorecam 5/10 passes");
        shown.Should().NotContain("\n");

        writer.GetStringBuilder().Clear();
        display.WriteLine(output, "a scorecam: done");
        output.ToString().Should().Be("a scorecam: done" + Environment.NewLine);
        writer.ToString().Should().MatchRegex(@"^\r +\r$", "the bar is blanked before the line is written");
    }

    [Test]
    public void Passes_of_one_of_several_explanations_of_an_item_are_shown_but_not_counted_as_its_share()
    {
        var writer = new StringWriter();
        using var display = Display(writer, ProgressStyle.Lines);
        display.Begin(2, "images", passesSpanItem: false);
        display.Next("a.png");
        _now = TimeSpan.FromSeconds(8);
        display.Report(new ExplanationProgress(60, 120));
        writer.ToString().Should().Be($"progress: 0/2 images   0% [--------------------]  7.5 passes/s  a.png 60/120 passes{Environment.NewLine}");
    }

    [Test]
    public void Quiet_shows_nothing_and_durations_read_naturally()
    {
        var writer = new StringWriter();
        using (var display = Display(writer, ProgressStyle.None))
        {
            display.Begin(1, "images");
            _now = TimeSpan.FromMinutes(5);
            display.Next("a.png");
            display.Report(new ExplanationProgress(1, 2));
        }
        writer.ToString().Should().BeEmpty();
        ProgressDisplay.Duration(TimeSpan.FromSeconds(0.6)).Should().Be("1 s");
        ProgressDisplay.Duration(TimeSpan.FromSeconds(125)).Should().Be("2 min 05 s");
        ProgressDisplay.Duration(TimeSpan.FromMinutes(185)).Should().Be("3 h 05 min");
    }
}
