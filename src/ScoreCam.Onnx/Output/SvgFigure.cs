using System.Globalization;
using System.Net;
using System.Text;
using ScoreCam.Onnx.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Output;

/// <summary>
/// A figure as SVG: text, lines, markers and embedded PNGs at pixel coordinates. The experiments' PNGs carry no text
/// (ImageSharp 2.1 draws no fonts here), so their titles, axes, legends and numbers are written in this form beside them.
/// </summary>
internal sealed class SvgFigure(int width, int height)
{
    private readonly StringBuilder _body = new();

    public int Width { get; } = width;
    public int Height { get; } = height;

    /// <summary>Text at (x, y), y being its baseline; <paramref name="anchor"/>: start, middle or end; rotated about (x, y) when asked.</summary>
    public SvgFigure Text(double x, double y, string text, double size = 12, string anchor = "start", bool bold = false, double rotate = 0, string color = "#222")
    {
        _body.Append($"<text x=\"{N(x)}\" y=\"{N(y)}\" font-size=\"{N(size)}\" text-anchor=\"{anchor}\" fill=\"{color}\"");
        if (bold) _body.Append(" font-weight=\"bold\"");
        if (rotate != 0) _body.Append($" transform=\"rotate({N(rotate)} {N(x)} {N(y)})\"");
        _body.Append($">{WebUtility.HtmlEncode(text)}</text>\n");
        return this;
    }

    public SvgFigure Line(double x1, double y1, double x2, double y2, string color, double strokeWidth = 1)
    {
        _body.Append($"<line x1=\"{N(x1)}\" y1=\"{N(y1)}\" x2=\"{N(x2)}\" y2=\"{N(y2)}\" stroke=\"{color}\" stroke-width=\"{N(strokeWidth)}\"/>\n");
        return this;
    }

    public SvgFigure Polyline(IEnumerable<(double X, double Y)> points, string color, double strokeWidth = 2)
    {
        _body.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{N(strokeWidth)}\" points=\"")
            .Append(string.Join(' ', points.Select(p => $"{N(p.X)},{N(p.Y)}"))).Append("\"/>\n");
        return this;
    }

    public SvgFigure Circle(double x, double y, double r, string color)
    {
        _body.Append($"<circle cx=\"{N(x)}\" cy=\"{N(y)}\" r=\"{N(r)}\" fill=\"{color}\"/>\n");
        return this;
    }

    public SvgFigure Rect(double x, double y, double w, double h, string fill)
    {
        _body.Append($"<rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(w)}\" height=\"{N(h)}\" fill=\"{fill}\"/>\n");
        return this;
    }

    /// <summary>A picture, embedded as a PNG data: URI, at its own size.</summary>
    public SvgFigure Picture(double x, double y, Image<Rgb24> picture) =>
        Picture(x, y, picture.Width, picture.Height, HeatmapRenderer.EncodePng(picture));

    public SvgFigure Picture(double x, double y, double w, double h, byte[] png)
    {
        _body.Append($"<image x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(w)}\" height=\"{N(h)}\" href=\"data:image/png;base64,{Convert.ToBase64String(png)}\"/>\n");
        return this;
    }

    /// <summary>A vertical colour bar of <paramref name="colormap"/> with its scale: 1 at the top, 0 at the bottom, and a title above.</summary>
    public SvgFigure ColorScale(double x, double y, int barHeight, Colormap colormap, string title)
    {
        using Image<Rgb24> bar = ColorBar.Draw(barHeight, colormap, 14);
        Picture(x, y, bar);
        Text(x + 7, y - 6, title, 11, "middle");
        Text(x + 18, y + 10, "1", 11);
        Text(x + 18, y + barHeight, "0", 11);
        return this;
    }

    public override string ToString() =>
        $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n" +
        $"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{_body}</svg>\n";

    private static string N(double v) => Math.Round(v, 2).ToString(CultureInfo.InvariantCulture);
}
