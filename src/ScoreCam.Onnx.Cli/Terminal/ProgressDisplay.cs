using System.Diagnostics;
using System.Globalization;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Cli.Terminal;

/// <summary>
/// Progress of long work on stderr: items done of a known total (explanations, images), the forward passes of the
/// current item, the rate and the time left. As a bar redrawn in place at most every <see cref="RedrawInterval"/> on a
/// terminal; as a plain line every <see cref="LineInterval"/> when stderr is redirected (a short run prints nothing);
/// not at all when quiet. Lines the command prints while it runs go through <see cref="WriteLine"/>, which moves the
/// bar out of their way. Thread-safe.
/// </summary>
internal sealed class ProgressDisplay : IProgress<ExplanationProgress>, IDisposable
{
    public static readonly TimeSpan RedrawInterval = TimeSpan.FromSeconds(0.1);
    public static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(5);
    private const int BarWidth = 20;

    private readonly TextWriter _writer;
    private readonly Func<TimeSpan> _clock;
    private readonly Func<int> _width;
    private readonly Lock _lock = new();
    private string _unit = "items", _item = "";
    private int _total, _done, _passesDone, _passesTotal, _drawnLength;
    private bool _passesSpanItem = true;
    private TimeSpan _start, _itemStart, _lastShown;

    /// <param name="clock">Time since some start; a stopwatch by default.</param>
    /// <param name="width">Columns of the terminal; the console's by default.</param>
    public ProgressDisplay(TextWriter writer, ProgressStyle style, Func<TimeSpan>? clock = null, Func<int>? width = null)
    {
        (_writer, Style) = (writer, style);
        var stopwatch = Stopwatch.StartNew();
        _clock = clock ?? (() => stopwatch.Elapsed);
        _width = width ?? TerminalWidth;
    }

    /// <summary>A bar when <paramref name="error"/> is the process's stderr on a terminal, lines otherwise, nothing when quiet.</summary>
    public static ProgressDisplay For(TextWriter error, bool quiet) => new(error,
        quiet ? ProgressStyle.None : ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected ? ProgressStyle.Bar : ProgressStyle.Lines);

    public ProgressStyle Style { get; }

    /// <summary>
    /// Starts counting <paramref name="total"/> items called <paramref name="unit"/> (plural). When an item runs
    /// several explanations (<paramref name="passesSpanItem"/> false), its passes are shown but not counted as a share of it.
    /// </summary>
    public void Begin(int total, string unit, bool passesSpanItem = true)
    {
        lock (_lock)
        {
            (_total, _unit, _done, _item, _passesDone, _passesTotal, _passesSpanItem) = (total, unit, 0, "", 0, 0, passesSpanItem);
            _start = _itemStart = _lastShown = _clock();
        }
    }

    /// <summary>Work on the next item, named <paramref name="name"/>, begins.</summary>
    public void Next(string name)
    {
        lock (_lock)
        {
            (_item, _passesDone, _passesTotal, _itemStart) = (name, 0, 0, _clock());
            Show();
        }
    }

    /// <summary>The current item is done.</summary>
    public void Completed()
    {
        lock (_lock)
        {
            _done = Math.Min(_done + 1, _total);
            (_passesDone, _passesTotal) = (0, 0);
            Show();
        }
    }

    /// <summary>Forward passes of the current item, as the library reports them.</summary>
    public void Report(ExplanationProgress value)
    {
        lock (_lock)
        {
            (_passesDone, _passesTotal) = (value.Done, value.Total);
            Show();
        }
    }

    /// <summary>Writes a line of the command's own output, clearing the bar first (it comes back on the next update).</summary>
    public void WriteLine(TextWriter writer, string line)
    {
        lock (_lock)
        {
            Clear();
            writer.WriteLine(line);
        }
    }

    /// <summary>The progress line as it is shown at time <paramref name="now"/>.</summary>
    internal string Render(TimeSpan now)
    {
        var inv = CultureInfo.InvariantCulture;
        double inner = _passesSpanItem && _passesTotal > 0 ? Math.Clamp((double)_passesDone / _passesTotal, 0, 1) : 0;
        double fraction = _total > 0 ? Math.Min(1, (_done + inner) / _total) : 0;
        int filled = (int)Math.Round(fraction * BarWidth);
        TimeSpan elapsed = now - _start;
        var line = new System.Text.StringBuilder()
            .Append(inv, $"{_done}/{_total} {_unit} {fraction * 100,3:0}% [{new string('#', filled)}{new string('-', BarWidth - filled)}]");
        TimeSpan itemElapsed = now - _itemStart;
        if (_done > 0 && elapsed > TimeSpan.Zero) line.Append(inv, $"  {_done / elapsed.TotalSeconds:0.##} {_unit}/s");
        else if (_passesDone > 0 && itemElapsed > TimeSpan.Zero) line.Append(inv, $"  {_passesDone / itemElapsed.TotalSeconds:0.#} passes/s");
        if (fraction > 0 && fraction < 1) line.Append("  ETA ").Append(Duration(elapsed * ((1 - fraction) / fraction)));
        // The item last: on a narrow terminal it is what gets cut.
        if (_item.Length > 0 && _done < _total) line.Append("  ").Append(_item);
        if (_passesTotal > 0) line.Append(inv, $" {_passesDone}/{_passesTotal} passes");
        return line.ToString();
    }

    private void Show()
    {
        if (Style == ProgressStyle.None) return;
        TimeSpan now = _clock();
        if (now - _lastShown < (Style == ProgressStyle.Bar ? RedrawInterval : LineInterval)) return;
        _lastShown = now;
        string line = Render(now);
        if (Style == ProgressStyle.Lines)
        {
            _writer.WriteLine($"progress: {line}");
            return;
        }
        int width = _width() - 1;
        if (line.Length > width) line = line[..width];
        _writer.Write('\r' + line.PadRight(_drawnLength));
        _writer.Flush();
        _drawnLength = line.Length;
    }

    private void Clear()
    {
        if (_drawnLength == 0) return;
        _writer.Write('\r' + new string(' ', _drawnLength) + '\r');
        _writer.Flush();
        _drawnLength = 0;
    }

    private static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth > 20 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    internal static string Duration(TimeSpan t) => t.TotalSeconds switch
    {
        < 59.5 => $"{Math.Round(t.TotalSeconds, MidpointRounding.AwayFromZero):0} s",
        < 3600 => $"{(int)t.TotalMinutes} min {t.Seconds:00} s",
        _ => $"{(int)t.TotalHours} h {t.Minutes:00} min",
    };

    /// <summary>Takes the bar off the screen; the command's own lines say what was done.</summary>
    public void Dispose()
    {
        lock (_lock) Clear();
    }
}
