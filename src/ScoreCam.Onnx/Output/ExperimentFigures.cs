using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Metrics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ScoreCam.Onnx.Output;

/// <summary>An experiment's figure twice: the PNG (pictures and lines, no text) and the same figure as SVG with its title, axes, legend and numbers.</summary>
internal sealed record ExperimentFigure(Image<Rgb24> Picture, string Svg) : IDisposable
{
    public void Dispose() => Picture.Dispose();
}

/// <summary>
/// The experiments' figures: grids of overlays (one row per image) and the weight-stability line plot, drawn pixel by
/// pixel into a PNG (ImageSharp 2.1 has no fonts here) and, with their titles, headers, axes, legends and the
/// numbers they show, as SVG (<see cref="SvgFigure"/>).
/// </summary>
internal static class ExperimentFigures
{
    public const int Tile = 192, Gap = 6;
    public static readonly OverlayOptions Style = new() { MinShortSide = Tile };

    /// <summary>The method colours of <see cref="Stability"/>, in the order the methods were named.</summary>
    public static readonly (string Name, Rgb24 Color)[] Palette =
    {
        ("blue", new Rgb24(31, 119, 180)), ("orange", new Rgb24(255, 127, 14)), ("green", new Rgb24(44, 160, 44)),
        ("red", new Rgb24(214, 39, 40)), ("purple", new Rgb24(148, 103, 189)),
    };

    /// <summary>Per image: the clean picture, the picture at the largest ε, then each method's clean and largest-ε overlays.</summary>
    public static ExperimentFigure? Robustness(IReadOnlyList<SweepPoint> points, PreprocessOptions preprocessing, int figures)
    {
        if (figures == 0) return null;
        float largest = points.Max(p => p.Epsilon);
        string eps = EpsilonText.Format(largest);
        var rows = new List<GridRow>();
        List<string>? columns = null;
        foreach (var image in points.GroupBy(p => p.Item.Image.File).Take(figures))
        {
            var clean = image.Where(p => p.Epsilon == 0).ToList();
            var attacked = image.Where(p => p.Epsilon == largest).ToList();
            columns ??= new[] { "clean", $"ε = {eps}" }.Concat(clean.SelectMany(p => new[] { $"{p.Method}, clean", $"{p.Method}, ε = {eps}" })).ToList();
            using Image<Rgb24> cleanPicture = TensorPicture.ToPicture(clean[0].Input, preprocessing);
            using Image<Rgb24> attackedPicture = TensorPicture.ToPicture(attacked[0].Input, preprocessing);
            var tiles = new List<Image<Rgb24>> { HeatmapRenderer.Enlarge(cleanPicture, Tile), HeatmapRenderer.Enlarge(attackedPicture, Tile) };
            var captions = new List<string[]>
            {
                new[] { Invariant($"predicted {clean[0].Predicted}"), Invariant($"p(true) {clean[0].TrueClassProbability:0.000}") },
                new[] { Invariant($"predicted {attacked[0].Predicted}"), Invariant($"p(true) {attacked[0].TrueClassProbability:0.000}") },
            };
            for (int m = 0; m < clean.Count; m++)
            {
                tiles.Add(HeatmapRenderer.Render(cleanPicture, clean[m].Explanation.Heatmap, options: Style));
                tiles.Add(HeatmapRenderer.Render(attackedPicture, attacked[m].Explanation.Heatmap, options: Style));
                captions.Add(new[] { Invariant($"EPG {clean[m].EnergyInBox:0.000}") });
                captions.Add(new[] { Invariant($"EPG {attacked[m].EnergyInBox:0.000}"), Invariant($"peak shift {attacked[m].PeakShift:0.0} px") });
            }
            rows.Add(new GridRow(new[] { Path.GetFileName(image.Key), $"true class {clean[0].Item.TrueClass}" }, tiles, captions));
        }
        return Grid($"Explanations of the true class under FGSM (section 5.4.1), clean and at ε = {eps}", columns!, rows,
            "EPG: energy-based pointing game on the true box; peak shift: input pixels between the heatmap's maximum and the clean one's.");
    }

    /// <summary>Per image: the picture, the early checkpoint's overlay, the final model's.</summary>
    public static ExperimentFigure? Convergence(CamExplainer explainer, AnnotatedSet set, IReadOnlyList<ConvergencePoint> points, int figures, string method)
    {
        if (figures == 0) return null;
        var rows = new List<GridRow>();
        foreach (ConvergencePoint p in points.Take(figures))
        {
            using Image<Rgb24> picture = explainer.LoadImage(Path.Combine(set.Folder, p.Item.Image.File));
            SourceRegion? region = p.Item.Input.SourceRegion;
            rows.Add(new GridRow(new[] { Path.GetFileName(p.Item.Image.File), $"true class {p.Item.TrueClass}" },
                new List<Image<Rgb24>>
                {
                    HeatmapRenderer.Enlarge(picture, Tile),
                    HeatmapRenderer.Render(picture, p.Early.Heatmap, region, Style),
                    HeatmapRenderer.Render(picture, p.Final.Heatmap, region, Style),
                },
                new List<string[]>
                {
                    Array.Empty<string>(),
                    new[] { Invariant($"predicted {p.Early.Prediction.Index}, EPG {p.EarlyEnergy:0.000}"), Invariant($"heat outside {p.EarlyOutside:0.000}") },
                    new[] { Invariant($"predicted {p.Final.Prediction.Index}, EPG {p.FinalEnergy:0.000}"), Invariant($"heat outside {p.FinalOutside:0.000}") },
                }));
        }
        return Grid($"{method} of the true class: early checkpoint against the final model (section 5.5.1)",
            new[] { "picture", "early checkpoint", "final model" }, rows,
            "EPG: energy-based pointing game on the true box; heat outside: mean display heat outside the box.");
    }

    /// <summary>
    /// Relative weight change against ε, one polyline per method (<see cref="Palette"/>), x from 0 to the largest ε,
    /// y from 0 to the largest change (or 1 when nothing changes); grey grid lines at the ε steps and at quarters of y.
    /// The SVG adds the title, both axes with their ticks, the legend and each point's value.
    /// </summary>
    public static ExperimentFigure Stability(IReadOnlyList<WeightStabilityRow> rows)
    {
        const int width = 480, height = 300, left = 30, right = 10, top = 10, bottom = 30;
        var image = new Image<Rgb24>(width, height, new Rgb24(255, 255, 255));
        var epsilons = rows.Select(r => r.Epsilon).Distinct().Order().ToList();
        double xMax = Math.Max(epsilons[^1], 1e-12), yMax = rows.Where(r => double.IsFinite(r.RelativeChange)).Select(r => r.RelativeChange).DefaultIfEmpty(0).Max();
        if (yMax <= 0) yMax = 1;
        int X(double e) => left + (int)Math.Round(e / xMax * (width - left - right - 1));
        int Y(double v) => height - bottom - (int)Math.Round(v / yMax * (height - top - bottom - 1));
        var grey = new Rgb24(220, 220, 220);
        foreach (float e in epsilons) Line(image, X(e), Y(0), X(e), Y(yMax), grey, 1);
        for (int q = 1; q <= 4; q++) Line(image, X(0), Y(yMax * q / 4), X(xMax), Y(yMax * q / 4), grey, 1);
        Line(image, X(0), Y(0), X(xMax), Y(0), new Rgb24(0, 0, 0), 1);
        Line(image, X(0), Y(0), X(0), Y(yMax), new Rgb24(0, 0, 0), 1);
        var methods = rows.Select(r => r.Method).Distinct().ToList();
        var lines = methods.Select(m => rows.Where(r => r.Method == m && double.IsFinite(r.RelativeChange)).OrderBy(r => r.Epsilon).ToList()).ToList();
        for (int m = 0; m < methods.Count; m++)
        {
            Rgb24 color = Palette[m % Palette.Length].Color;
            var line = lines[m];
            for (int i = 0; i < line.Count; i++)
            {
                if (i > 0) Line(image, X(line[i - 1].Epsilon), Y(line[i - 1].RelativeChange), X(line[i].Epsilon), Y(line[i].RelativeChange), color, 2);
                Line(image, X(line[i].Epsilon) - 3, Y(line[i].RelativeChange), X(line[i].Epsilon) + 3, Y(line[i].RelativeChange), color, 3);
            }
        }

        // The SVG plot: the same axes, with text.
        const int sw = 720, sh = 440, sl = 80, sr = 170, st = 50, sb = 70;
        var svg = new SvgFigure(sw, sh);
        double SX(double e) => sl + e / xMax * (sw - sl - sr);
        double SY(double v) => sh - sb - v / yMax * (sh - st - sb);
        svg.Text(sw / 2.0, 26, "Channel-weight stability under FGSM (section 5.4.2)", 16, "middle", bold: true);
        foreach (float e in epsilons)
        {
            svg.Line(SX(e), SY(0), SX(e), SY(yMax), "#ddd");
            svg.Text(SX(e), SY(0) + 18, EpsilonText.Format(e), 11, "middle");
        }
        for (int q = 0; q <= 4; q++)
        {
            if (q > 0) svg.Line(SX(0), SY(yMax * q / 4), SX(xMax), SY(yMax * q / 4), "#ddd");
            svg.Text(SX(0) - 6, SY(yMax * q / 4) + 4, Invariant($"{yMax * q / 4:0.###}"), 11, "end");
        }
        svg.Line(SX(0), SY(0), SX(xMax), SY(0), "#000").Line(SX(0), SY(0), SX(0), SY(yMax), "#000");
        svg.Text((SX(0) + SX(xMax)) / 2, sh - 24, "FGSM step ε (picture units, 0 to 1)", 13, "middle");
        svg.Text(22, (SY(0) + SY(yMax)) / 2, "relative change ‖w(ε) − w(0)‖ / ‖w(0)‖", 13, "middle", rotate: -90);
        for (int m = 0; m < methods.Count; m++)
        {
            string color = Hex(Palette[m % Palette.Length].Color);
            svg.Polyline(lines[m].Select(r => (SX(r.Epsilon), SY(r.RelativeChange))), color);
            foreach (WeightStabilityRow r in lines[m])
            {
                svg.Circle(SX(r.Epsilon), SY(r.RelativeChange), 3.5, color);
                svg.Text(SX(r.Epsilon) + 4, SY(r.RelativeChange) - 6, Invariant($"{r.RelativeChange:0.000}"), 9, color: color);
            }
            double ly = st + 10 + 22 * m;
            svg.Line(sw - sr + 20, ly, sw - sr + 44, ly, color, 3).Text(sw - sr + 50, ly + 4, methods[m], 12);
        }
        return new ExperimentFigure(image, svg.ToString());
    }

    /// <summary>A straight line of the given thickness (a square brush moved along the longer axis).</summary>
    private static void Line(Image<Rgb24> image, int x0, int y0, int x1, int y1, Rgb24 color, int thickness)
    {
        int steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        for (int s = 0; s <= steps; s++)
        {
            int x = steps == 0 ? x0 : x0 + (int)Math.Round((double)(x1 - x0) * s / steps);
            int y = steps == 0 ? y0 : y0 + (int)Math.Round((double)(y1 - y0) * s / steps);
            for (int dy = -(thickness / 2); dy <= (thickness - 1) / 2; dy++)
                for (int dx = -(thickness / 2); dx <= (thickness - 1) / 2; dx++)
                    if (x + dx >= 0 && x + dx < image.Width && y + dy >= 0 && y + dy < image.Height) image[x + dx, y + dy] = color;
        }
    }

    /// <summary>One row of a grid: its label lines, its pictures (disposed by <c>Grid</c>) and the caption lines under each.</summary>
    private sealed record GridRow(string[] Label, List<Image<Rgb24>> Tiles, List<string[]> Captions);

    /// <summary>
    /// The rows' pictures on white, left-aligned, <see cref="Gap"/> pixels apart, as a PNG; and as SVG with the title, a
    /// header per column, the rows' labels, each picture's caption, the heatmaps' colour scale and a note.
    /// </summary>
    private static ExperimentFigure Grid(string title, IReadOnlyList<string> columns, List<GridRow> rows, string note)
    {
        const int labelWidth = 150, top = 64, captionHeight = 34, barSpace = 70;
        var tiles = rows.Select(r => r.Tiles).ToList();
        int width = tiles.Max(r => r.Sum(p => p.Width) + Gap * (r.Count - 1));
        var svg = new SvgFigure(labelWidth + width + barSpace, top + rows.Sum(r => r.Tiles.Max(p => p.Height) + captionHeight) + 30);
        svg.Text(svg.Width / 2.0, 24, title, 16, "middle", bold: true);
        double y = top;
        foreach (GridRow row in rows)
        {
            int rowHeight = row.Tiles.Max(p => p.Height);
            for (int i = 0; i < row.Label.Length; i++) svg.Text(8, y + rowHeight / 2.0 + 16 * i, row.Label[i], 12, bold: i == 0);
            double x = labelWidth;
            for (int t = 0; t < row.Tiles.Count; t++)
            {
                if (y == top) svg.Text(x + row.Tiles[t].Width / 2.0, top - 10, columns[t], 12, "middle", bold: true);
                svg.Picture(x, y, row.Tiles[t]);
                for (int c = 0; c < row.Captions[t].Length; c++)
                    svg.Text(x + row.Tiles[t].Width / 2.0, y + rowHeight + 14 + 13 * c, row.Captions[t][c], 11, "middle");
                x += row.Tiles[t].Width + Gap;
            }
            y += rowHeight + captionHeight;
        }
        svg.ColorScale(labelWidth + width + 20, top + 12, Math.Min(Tile, rows[0].Tiles.Max(p => p.Height) - 12), Style.Colormap, "heat");
        svg.Text(8, svg.Height - 10, note, 11, color: "#555");
        return new ExperimentFigure(Grid(tiles), svg.ToString());
    }

    private static string Invariant(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Hex(Rgb24 c) => $"#{c.R:x2}{c.G:x2}{c.B:x2}";

    /// <summary>Rows of pictures (disposed here) on white, left-aligned, <see cref="Gap"/> pixels apart.</summary>
    public static Image<Rgb24> Grid(List<List<Image<Rgb24>>> rows)
    {
        try
        {
            int width = rows.Max(r => r.Sum(p => p.Width) + Gap * (r.Count - 1));
            int height = rows.Sum(r => r.Max(p => p.Height)) + Gap * (rows.Count - 1);
            var grid = new Image<Rgb24>(width, height, new Rgb24(255, 255, 255));
            grid.Mutate(c =>
            {
                int y = 0;
                foreach (var row in rows)
                {
                    int x = 0;
                    foreach (Image<Rgb24> p in row)
                    {
                        c.DrawImage(p, new Point(x, y), 1f);
                        x += p.Width + Gap;
                    }
                    y += row.Max(p => p.Height) + Gap;
                }
            });
            return grid;
        }
        finally
        {
            foreach (Image<Rgb24> p in rows.SelectMany(r => r)) p.Dispose();
        }
    }
}
