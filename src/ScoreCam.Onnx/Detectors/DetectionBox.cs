using System.Globalization;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Detectors;

/// <summary>A box in input pixels (the preprocessed input's coordinates): corners (X0, Y0) top left and (X1, Y1) bottom right.</summary>
public readonly record struct DetectionBox(float X0, float Y0, float X1, float Y1)
{
    public float Width => X1 - X0;
    public float Height => Y1 - Y0;
    public float Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>The box of centre (<paramref name="cx"/>, <paramref name="cy"/>) and size <paramref name="w"/>×<paramref name="h"/> (YOLO's raw boxes).</summary>
    public static DetectionBox FromCenter(float cx, float cy, float w, float h) => new(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);

    /// <summary>Intersection over union; 0 when the union is empty.</summary>
    public float IoU(DetectionBox other)
    {
        float inter = Intersection(other), union = Area + other.Area - inter;
        return union > 0 ? inter / union : 0;
    }

    public float Intersection(DetectionBox other) =>
        Math.Max(0, Math.Min(X1, other.X1) - Math.Max(X0, other.X0)) * Math.Max(0, Math.Min(Y1, other.Y1) - Math.Max(Y0, other.Y0));

    /// <summary>Parses "x0,y0,x1,y1" (input pixels).</summary>
    public static DetectionBox Parse(string text)
    {
        string[] parts = text.Split(',');
        var v = new float[4];
        if (parts.Length != 4 || parts.Select((p, i) => float.TryParse(p.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out v[i])).Any(ok => !ok)
            || v.Any(x => !float.IsFinite(x)))
            throw new ScoreCamException($"The box '{text}' is not four numbers x0,y0,x1,y1 (input pixels, top left and bottom right).");
        var box = new DetectionBox(v[0], v[1], v[2], v[3]);
        if (box.Width <= 0 || box.Height <= 0)
            throw new ScoreCamException($"The box '{text}' is empty: x1 must exceed x0 and y1 exceed y0.");
        return box;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{X0:0.#},{Y0:0.#},{X1:0.#},{Y1:0.#}");
}
