using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// The pixels a <see cref="SegmentationTarget"/> sums its class over: those the unmasked output assigns to the class,
/// a box, or a mask. A box is given in a frame (the picture's size, or by default the model input's) and a mask has its
/// own size (the picture's); either is sampled at the centre of each output pixel, so they hold whatever size the
/// model resizes the picture to and whatever size its output has. A frame or mask covers the whole picture, and reaches
/// the output through the part of the picture the input shows (<see cref="TargetModel.Source"/>: all of it when
/// stretched, its centre when cropped).
/// </summary>
public abstract record SegmentationRegion
{
    private SegmentationRegion() { }

    /// <summary>The pixels the unmasked input's output assigns to the class (argmax over the classes), fixed once.</summary>
    public static SegmentationRegion Predicted { get; } = new PredictedRegion();

    /// <summary>
    /// The box [x0, x1) × [y0, y1) in a frame of <paramref name="frameWidth"/> × <paramref name="frameHeight"/> pixels
    /// (null: the model input's size, the picture as the model sees it).
    /// </summary>
    public static SegmentationRegion Box(double x0, double y0, double x1, double y1, int? frameWidth = null, int? frameHeight = null)
    {
        if (frameWidth <= 0 || frameHeight <= 0 || frameWidth is null != frameHeight is null)
            throw new ScoreCamException($"The box's frame must have a positive width and height, not {frameWidth}x{frameHeight}.");
        if (!(x1 > x0 && y1 > y0)) throw new ScoreCamException($"The box {x0},{y0},{x1},{y1} is empty: give x0,y0,x1,y1 with x1 > x0 and y1 > y0.");
        return new BoxRegion(x0, y0, x1, y1, frameWidth, frameHeight);
    }

    /// <summary>The nonzero pixels of a <paramref name="width"/> × <paramref name="height"/> mask, row by row.</summary>
    public static SegmentationRegion Mask(byte[] pixels, int width, int height)
    {
        if (width <= 0 || height <= 0 || pixels.Length != (long)width * height)
            throw new ScoreCamException($"A mask of {width}x{height} pixels needs {(long)Math.Max(0, width) * Math.Max(0, height)} values, not {pixels.Length}.");
        return new MaskRegion(pixels, width, height);
    }

    /// <summary>Which of the output's pixels (row by row) the region holds, for class <paramref name="c"/>.</summary>
    internal abstract bool[] Pixels(SegmentationLayout layout, TargetModel model, int c);

    internal abstract string Describe();

    /// <summary>Output pixel (x, y)'s centre in a frame of fw × fh.</summary>
    private static (double X, double Y) Centre(SegmentationLayout layout, int p, int fw, int fh) =>
        ((p % layout.Width + 0.5) * fw / layout.Width, (p / layout.Width + 0.5) * fh / layout.Height);

    /// <summary>Output pixel p's centre in a frame of fw × fh over the whole picture, through the part of it the input shows.</summary>
    private static (double X, double Y) PictureCentre(SegmentationLayout layout, TargetModel model, int p, int fw, int fh)
    {
        if (model.Source is not { } s) return Centre(layout, p, fw, fh);
        var (x, y) = Centre(layout, p, s.Width, s.Height);
        return ((s.X + x) * fw / s.OriginalWidth, (s.Y + y) * fh / s.OriginalHeight);
    }

    internal sealed record PredictedRegion : SegmentationRegion
    {
        internal override bool[] Pixels(SegmentationLayout layout, TargetModel model, int c)
        {
            var inside = new bool[layout.Pixels];
            for (int p = 0; p < inside.Length; p++) inside[p] = layout.ArgMax(model.UnmaskedOutput, p) == c;
            return inside;
        }

        internal override string Describe() => "its predicted pixels";
    }

    internal sealed record BoxRegion(double X0, double Y0, double X1, double Y1, int? FrameWidth, int? FrameHeight) : SegmentationRegion
    {
        internal override bool[] Pixels(SegmentationLayout layout, TargetModel model, int c)
        {
            // A box in the picture's frame goes through the input's part of the picture; one in the input's frame is where it is.
            int fw = FrameWidth ?? model.Model.Input.Width ?? throw Unsized(), fh = FrameHeight ?? model.Model.Input.Height ?? throw Unsized();
            var inside = new bool[layout.Pixels];
            for (int p = 0; p < inside.Length; p++)
            {
                var (x, y) = FrameWidth is null ? Centre(layout, p, fw, fh) : PictureCentre(layout, model, p, fw, fh);
                inside[p] = x >= X0 && x < X1 && y >= Y0 && y < Y1;
            }
            return inside;
        }

        internal override string Describe() => FormattableString.Invariant($"box {X0},{Y0},{X1},{Y1}");

        private static ScoreCamException Unsized() =>
            new("The model's input has no fixed size, so a box cannot be placed in it: give the box's frame (the picture's width and height).");
    }

    internal sealed record MaskRegion(byte[] Values, int Width, int Height) : SegmentationRegion
    {
        internal override bool[] Pixels(SegmentationLayout layout, TargetModel model, int c)
        {
            var inside = new bool[layout.Pixels];
            for (int p = 0; p < inside.Length; p++)
            {
                var (x, y) = PictureCentre(layout, model, p, Width, Height);
                inside[p] = Values[Math.Min(Height - 1, (int)y) * Width + Math.Min(Width - 1, (int)x)] != 0;
            }
            return inside;
        }

        internal override string Describe() => $"a {Width}x{Height} mask";
    }
}
