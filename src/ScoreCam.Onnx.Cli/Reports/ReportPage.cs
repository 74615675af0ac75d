namespace ScoreCam.Onnx.Cli.Reports;

/// <summary>What an HTML report shows: one entry per explained image and, for an evaluation, its summary table.</summary>
internal sealed record ReportPage(string Title, IReadOnlyList<ReportEntry> Entries)
{
    /// <summary>A line under the title (the model, the set).</summary>
    public string? Subtitle { get; init; }

    public ReportTable? Summary { get; init; }

    /// <summary>Pictures that could not be explained, with the reason.</summary>
    public IReadOnlyList<ReportFailure> Failures { get; init; } = Array.Empty<ReportFailure>();
}

internal sealed record ReportFailure(string Name, string Error);

/// <summary>
/// One explained image: the input, one map per method (overlays, or pixel-space pictures), the top predictions with
/// their probabilities, the explained target and its score; optionally counterfactual maps (one per method) with the
/// paper's check, the annotated boxes (drawn over the input and the maps) and the image's metrics.
/// </summary>
internal sealed record ReportEntry(string Name, ReportPicture Input, IReadOnlyList<ReportPicture> Maps,
    IReadOnlyList<ReportScore> TopPredictions, ReportScore Target)
{
    /// <summary>Counterfactual maps L_CE (paper eq. 7), one per method.</summary>
    public IReadOnlyList<ReportPicture> Counterfactuals { get; init; } = Array.Empty<ReportPicture>();

    /// <summary>The counterfactual check: target and reference probabilities on the input and on the input masked by 1 − L_CE, one row per method.</summary>
    public ReportTable? CounterfactualCheck { get; init; }

    public IReadOnlyList<ReportBox> Boxes { get; init; } = Array.Empty<ReportBox>();

    public ReportTable? Metrics { get; init; }
}

/// <summary>A PNG (embedded in the page as a data: URI) with its caption and, when it has a colour bar, the bar's scale.</summary>
internal sealed record ReportPicture(string Caption, byte[] Png, ColorScale? Scale = null);

/// <summary>A class (its index, and its label when the model has labels) or a custom target (a label, no index) with its probability or score.</summary>
internal sealed record ReportScore(string? Label, int? Index, double Value)
{
    /// <summary>"label [index]", "class index" without labels, the label alone for a custom target.</summary>
    public string Name => (Label, Index) switch
    {
        ({ } label, { } index) => $"{label} [{index}]",
        (null, { } index) => $"class {index}",
        ({ } label, null) => label,
        _ => throw new InvalidOperationException("A report score needs a label or a class index."),
    };
}

/// <summary>
/// A rectangle as fractions of the input picture's width and height, drawn over the input and over every map (over the
/// part left of a map's colour bar), so the maps must show the same frame.
/// </summary>
internal sealed record ReportBox(double Left, double Top, double Width, double Height);

/// <summary>A table of numbers: one row per name; a cell is a value, a value with the half-width of its interval, or empty.</summary>
internal sealed record ReportTable(string Caption, string RowHeader, IReadOnlyList<string> Columns, IReadOnlyList<ReportRow> Rows);

internal sealed record ReportRow(string Name, IReadOnlyList<ReportCell?> Cells);

internal sealed record ReportCell(double Value, double? Interval = null);
