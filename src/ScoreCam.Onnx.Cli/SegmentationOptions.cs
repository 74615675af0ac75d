using System.CommandLine;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// --region: a segmenter's class summed over a region (<see cref="SegmentationTarget"/>) instead of a class's score.
/// explain, report and bench take the flag; serve takes the same setting as the query key <see cref="QueryKey"/>
/// (predicted or a box: a server reads no mask files).
/// </summary>
internal sealed class SegmentationOptions
{
    public const string QueryKey = "region";

    public Option<string?> Region { get; } = new("--region")
    {
        Description = "Explain a segmenter (an output of one map per class, [C,H,W] or [H,W,C]): the --target class's scores summed over a region: " +
            "predicted (the pixels the model assigns to the class), x0,y0,x1,y1 (a box in the model input's pixels), or a mask picture FILE " +
            "(its nonzero pixels) or FILE=V (its pixels of value V), of the picture's size, resized as the picture is (--resize). Default class: the one with the most pixels, class 0 (background) excepted.",
    };

    public void AddTo(Command command) => command.Options.Add(Region);

    /// <summary>The region --region gives, or null without it.</summary>
    public SegmentationRegion? RegionOf(ParseResult r) => r.GetValue(Region) is { } text ? Parse(text, "--", files: true) : null;

    /// <summary>The segmentation target when --region is given, else null.</summary>
    public ExplanationTarget? Target(ParseResult r, string? category) => RegionOf(r) is { } region ? new SegmentationTarget(category, region) : null;

    /// <summary>The segmentation target a request's query gives (<see cref="QueryKey"/> and the class <paramref name="category"/>), or null without the key.</summary>
    public static ExplanationTarget? FromQuery(string? region, string? category) =>
        region is null ? null : new SegmentationTarget(category, Parse(region, "", files: false));

    /// <summary>
    /// bench's targets for a segmenter: the classes the unmasked output of <paramref name="input"/> assigns pixels to,
    /// most pixels first (ties: lower index first), each summed over <paramref name="region"/>.
    /// </summary>
    public static ExplanationTarget[] Ranking(CamExplainer explainer, ImageTensor input, SegmentationRegion region)
    {
        var model = new TargetModel(explainer.Model, explainer.Labels, explainer.Embed(input), input.SourceRegion);
        var layout = SegmentationLayout.Of(model, null);
        var counts = new int[layout.Classes];
        for (int p = 0; p < layout.Pixels; p++) counts[layout.ArgMax(model.UnmaskedOutput, p)]++;
        return Enumerable.Range(0, layout.Classes).Where(c => counts[c] > 0).OrderByDescending(c => counts[c]).ThenBy(c => c)
            .Select(c => (ExplanationTarget)new SegmentationTarget(c.ToString(System.Globalization.CultureInfo.InvariantCulture), region)).ToArray();
    }

    private static SegmentationRegion Parse(string text, string prefix, bool files)
    {
        if (text.Equals("predicted", StringComparison.OrdinalIgnoreCase)) return SegmentationRegion.Predicted;
        string[] parts = text.Split(',');
        if (parts.Length == 4)
        {
            double[] v = parts.Select(p => double.TryParse(p, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d)
                ? d : throw new UsageException($"{prefix}region box must be four numbers x0,y0,x1,y1; got '{text}'.")).ToArray();
            return SegmentationRegion.Box(v[0], v[1], v[2], v[3]);
        }
        if (!files)
            throw new UsageException($"{prefix}region must be predicted or a box x0,y0,x1,y1 (input pixels); got '{text}'. A request cannot name a mask file.");
        int split = text.LastIndexOf('=');
        string path = split > 0 && !File.Exists(text) ? text[..split] : text;
        byte? value = null;
        if (path != text)
            value = byte.TryParse(text[(split + 1)..], out byte b) ? b : throw new UsageException($"{prefix}region FILE=V needs a pixel value V from 0 to 255; got '{text[(split + 1)..]}'.");
        if (!File.Exists(path))
            throw new UsageException($"{prefix}region must be predicted, a box x0,y0,x1,y1, or a mask picture; '{path}' does not exist.");
        using var mask = Image.Load<L8>(path);
        var pixels = new byte[mask.Width * mask.Height];
        mask.CopyPixelDataTo(pixels);
        if (value is { } v2) pixels = pixels.Select(p => (byte)(p == v2 ? 1 : 0)).ToArray();
        return SegmentationRegion.Mask(pixels, mask.Width, mask.Height);
    }
}
