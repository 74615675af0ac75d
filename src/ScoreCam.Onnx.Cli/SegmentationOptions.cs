using System.CommandLine;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Cli;

/// <summary>explain's --region: a segmenter's class summed over a region (<see cref="SegmentationTarget"/>) instead of a class's score.</summary>
internal sealed class SegmentationOptions
{
    public Option<string?> Region { get; } = new("--region")
    {
        Description = "Explain a segmenter (an output of one map per class, [C,H,W] or [H,W,C]): the --target class's scores summed over a region: " +
            "predicted (the pixels the model assigns to the class), x0,y0,x1,y1 (a box in the model input's pixels), or a mask picture FILE " +
            "(its nonzero pixels) or FILE=V (its pixels of value V), stretched as the picture is. Default class: the one with the most pixels, class 0 (background) excepted.",
    };

    public void AddTo(Command command) => command.Options.Add(Region);

    /// <summary>The segmentation target when --region is given, else null.</summary>
    public ExplanationTarget? Target(ParseResult r, string? category) =>
        r.GetValue(Region) is { } region ? new SegmentationTarget(category, Parse(region)) : null;

    private static SegmentationRegion Parse(string text)
    {
        if (text.Equals("predicted", StringComparison.OrdinalIgnoreCase)) return SegmentationRegion.Predicted;
        string[] parts = text.Split(',');
        if (parts.Length == 4)
        {
            double[] v = parts.Select(p => double.TryParse(p, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d)
                ? d : throw new UsageException($"--region box must be four numbers x0,y0,x1,y1; got '{text}'.")).ToArray();
            return SegmentationRegion.Box(v[0], v[1], v[2], v[3]);
        }
        int split = text.LastIndexOf('=');
        string path = split > 0 && !File.Exists(text) ? text[..split] : text;
        byte? value = null;
        if (path != text)
            value = byte.TryParse(text[(split + 1)..], out byte b) ? b : throw new UsageException($"--region FILE=V needs a pixel value V from 0 to 255; got '{text[(split + 1)..]}'.");
        if (!File.Exists(path))
            throw new UsageException($"--region must be predicted, a box x0,y0,x1,y1, or a mask picture; '{path}' does not exist.");
        using var mask = Image.Load<L8>(path);
        var pixels = new byte[mask.Width * mask.Height];
        mask.CopyPixelDataTo(pixels);
        if (value is { } v2) pixels = pixels.Select(p => (byte)(p == v2 ? 1 : 0)).ToArray();
        return SegmentationRegion.Mask(pixels, mask.Width, mask.Height);
    }
}
