using ScoreCam.Onnx.Core;
namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// An axis-aligned box in pixels: columns <see cref="X0"/>..<see cref="X1"/> and rows <see cref="Y0"/>..<see cref="Y1"/>,
/// the far edges exclusive (the annotation format of the evaluation sets: <c>[x0, y0, x1, y1]</c>).
/// </summary>
public readonly record struct BoundingBox(int X0, int Y0, int X1, int Y1)
{
    public int Width => X1 - X0;
    public int Height => Y1 - Y0;
    public bool IsEmpty => X1 <= X0 || Y1 <= Y0;

    public bool Contains(int x, int y) => x >= X0 && x < X1 && y >= Y0 && y < Y1;

    /// <summary>The box grown by <paramref name="pixels"/> on every side (the pointing game's tolerance).</summary>
    public BoundingBox Enlarge(int pixels) => new(X0 - pixels, Y0 - pixels, X1 + pixels, Y1 + pixels);

    /// <summary>The part of the box inside a <paramref name="width"/> × <paramref name="height"/> map (possibly empty).</summary>
    public BoundingBox ClipTo(int width, int height) =>
        new(Math.Clamp(X0, 0, width), Math.Clamp(Y0, 0, height), Math.Clamp(X1, 0, width), Math.Clamp(Y1, 0, height));

    /// <summary>
    /// Maps a box given in the original picture's pixels to the input tensor's pixels when preprocessing stretched the
    /// picture to <paramref name="inputWidth"/> × <paramref name="inputHeight"/> (x and y scaled independently).
    /// Edges are rounded to the nearest pixel; the result is clipped to the input and never empty for a non-empty box.
    /// </summary>
    public BoundingBox ToInput(int originalWidth, int originalHeight, int inputWidth, int inputHeight)
    {
        if (originalWidth <= 0 || originalHeight <= 0 || inputWidth <= 0 || inputHeight <= 0)
            throw new ArgumentOutOfRangeException(nameof(originalWidth), "Image sizes must be positive.");
        double sx = (double)inputWidth / originalWidth, sy = (double)inputHeight / originalHeight;
        int x0 = (int)Math.Round(X0 * sx, MidpointRounding.AwayFromZero), y0 = (int)Math.Round(Y0 * sy, MidpointRounding.AwayFromZero);
        int x1 = (int)Math.Round(X1 * sx, MidpointRounding.AwayFromZero), y1 = (int)Math.Round(Y1 * sy, MidpointRounding.AwayFromZero);
        if (!IsEmpty)
        {
            x1 = Math.Max(x1, x0 + 1);
            y1 = Math.Max(y1, y0 + 1);
        }
        return new BoundingBox(x0, y0, x1, y1).ClipTo(inputWidth, inputHeight);
    }

    /// <summary>
    /// Maps a box in the original picture's pixels to the input tensor's pixels through the region the tensor shows
    /// (<see cref="SourceRegion"/>: a crop or the whole picture, stretched to the tensor's size).
    /// </summary>
    public BoundingBox ToInput(SourceRegion region, int inputWidth, int inputHeight) =>
        new BoundingBox(X0 - region.X, Y0 - region.Y, X1 - region.X, Y1 - region.Y).ToInput(region.Width, region.Height, inputWidth, inputHeight);

    /// <summary>Reads <c>[x0, y0, x1, y1]</c>.</summary>
    public static BoundingBox FromArray(IReadOnlyList<int> xyxy) =>
        xyxy.Count == 4 ? new BoundingBox(xyxy[0], xyxy[1], xyxy[2], xyxy[3])
        : throw new ScoreCamException($"A box is [x0, y0, x1, y1]; got {xyxy.Count} numbers.");
}
