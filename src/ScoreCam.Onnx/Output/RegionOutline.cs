using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Output;

/// <summary>
/// Outlines a segmentation target's region (its pixels of the model's output) on the picture the input was made from:
/// a picture pixel is on the outline when it falls in the region and a 4-neighbour does not (the yellow of the
/// detection boxes' outline).
/// </summary>
internal static class RegionOutline
{
    private static readonly Rgb24 Line = new(255, 220, 0);

    /// <summary>A copy of <paramref name="picture"/> (or of the tensor's own picture) with the region outlined.</summary>
    public static Image<Rgb24> Drawn(Image<Rgb24>? picture, ImageTensor input, PreprocessOptions preprocessing, SegmentationTarget.RegionScore region)
    {
        Image<Rgb24> canvas = picture?.Clone() ?? TensorPicture.ToPicture(input, preprocessing);
        SourceRegion? covered = picture is null ? null : input.SourceRegion;
        int ox = covered?.X ?? 0, oy = covered?.Y ?? 0, rw = covered?.Width ?? canvas.Width, rh = covered?.Height ?? canvas.Height;
        bool Inside(int x, int y)
        {
            if (x < ox || y < oy || x >= ox + rw || y >= oy + rh) return false;
            int cx = Math.Min(region.Width - 1, (int)((x - ox + 0.5) * region.Width / rw));
            int cy = Math.Min(region.Height - 1, (int)((y - oy + 0.5) * region.Height / rh));
            return region.Inside[cy * region.Width + cx];
        }
        var outline = new List<(int X, int Y)>();
        for (int y = oy; y < oy + rh && y < canvas.Height; y++)
            for (int x = ox; x < ox + rw && x < canvas.Width; x++)
                if (Inside(x, y) && (!Inside(x - 1, y) || !Inside(x + 1, y) || !Inside(x, y - 1) || !Inside(x, y + 1)))
                    outline.Add((x, y));
        foreach (var (x, y) in outline) canvas[x, y] = Line;
        return canvas;
    }
}
