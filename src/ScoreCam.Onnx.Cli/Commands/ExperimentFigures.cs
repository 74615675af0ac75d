using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Metrics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// The experiments' pictures: grids of overlays (one row per image) and the weight-stability line plot, drawn
/// pixel by pixel (no fonts: the Markdown under each figure says what the rows, columns and colours are).
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
    public static Image<Rgb24>? Robustness(IReadOnlyList<SweepPoint> points, PreprocessOptions preprocessing, int figures)
    {
        if (figures == 0) return null;
        float largest = points.Max(p => p.Epsilon);
        var rows = new List<List<Image<Rgb24>>>();
        foreach (var image in points.GroupBy(p => p.Item.Image.File).Take(figures))
        {
            var clean = image.Where(p => p.Epsilon == 0).ToList();
            var attacked = image.Where(p => p.Epsilon == largest).ToList();
            using Image<Rgb24> cleanPicture = TensorPicture.ToPicture(clean[0].Input, preprocessing);
            using Image<Rgb24> attackedPicture = TensorPicture.ToPicture(attacked[0].Input, preprocessing);
            var row = new List<Image<Rgb24>> { HeatmapRenderer.Enlarge(cleanPicture, Tile), HeatmapRenderer.Enlarge(attackedPicture, Tile) };
            for (int m = 0; m < clean.Count; m++)
            {
                row.Add(HeatmapRenderer.Render(cleanPicture, clean[m].Explanation.Heatmap, options: Style));
                row.Add(HeatmapRenderer.Render(attackedPicture, attacked[m].Explanation.Heatmap, options: Style));
            }
            rows.Add(row);
        }
        return Grid(rows);
    }

    /// <summary>Per image: the picture, the early checkpoint's overlay, the final model's.</summary>
    public static Image<Rgb24>? Convergence(CamExplainer explainer, AnnotatedSet set, IReadOnlyList<ConvergencePoint> points, int figures)
    {
        if (figures == 0) return null;
        var rows = new List<List<Image<Rgb24>>>();
        foreach (ConvergencePoint p in points.Take(figures))
        {
            using Image<Rgb24> picture = explainer.LoadImage(Path.Combine(set.Folder, p.Item.Image.File));
            SourceRegion? region = p.Item.Input.SourceRegion;
            rows.Add(new List<Image<Rgb24>>
            {
                HeatmapRenderer.Enlarge(picture, Tile),
                HeatmapRenderer.Render(picture, p.Early.Heatmap, region, Style),
                HeatmapRenderer.Render(picture, p.Final.Heatmap, region, Style),
            });
        }
        return Grid(rows);
    }

    /// <summary>
    /// Relative weight change against ε, one polyline per method (<see cref="Palette"/>), x from 0 to the largest ε,
    /// y from 0 to the largest change (or 1 when nothing changes); grey grid lines at the ε steps and at quarters of y.
    /// </summary>
    public static Image<Rgb24> Stability(IReadOnlyList<WeightStabilityRow> rows)
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
        for (int m = 0; m < methods.Count; m++)
        {
            Rgb24 color = Palette[m % Palette.Length].Color;
            var line = rows.Where(r => r.Method == methods[m] && double.IsFinite(r.RelativeChange)).OrderBy(r => r.Epsilon).ToList();
            for (int i = 0; i < line.Count; i++)
            {
                if (i > 0) Line(image, X(line[i - 1].Epsilon), Y(line[i - 1].RelativeChange), X(line[i].Epsilon), Y(line[i].RelativeChange), color, 2);
                Line(image, X(line[i].Epsilon) - 3, Y(line[i].RelativeChange), X(line[i].Epsilon) + 3, Y(line[i].RelativeChange), color, 3);
            }
        }
        return image;
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
