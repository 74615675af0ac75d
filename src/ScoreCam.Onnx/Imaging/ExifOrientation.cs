namespace ScoreCam.Onnx.Imaging;

/// <summary>
/// The EXIF (and TIFF) Orientation tag: where the stored pixels' first row and first column are in the picture as
/// viewers show it. Named as the TIFF 6.0 specification names them (row side, then column side).
/// </summary>
public enum ExifOrientation : ushort
{
    /// <summary>1: stored upright; nothing to do.</summary>
    TopLeft = 1,
    /// <summary>2: stored mirrored left to right.</summary>
    TopRight = 2,
    /// <summary>3: stored upside down (rotated 180°).</summary>
    BottomRight = 3,
    /// <summary>4: stored mirrored top to bottom.</summary>
    BottomLeft = 4,
    /// <summary>5: stored transposed (mirrored about the main diagonal).</summary>
    LeftTop = 5,
    /// <summary>6: stored rotated 90° anticlockwise, so viewers turn it 90° clockwise (a phone held upright).</summary>
    RightTop = 6,
    /// <summary>7: stored transversed (mirrored about the anti-diagonal).</summary>
    RightBottom = 7,
    /// <summary>8: stored rotated 90° clockwise, so viewers turn it 90° anticlockwise.</summary>
    LeftBottom = 8,
}
