using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Output;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Detectors;

/// <summary>A detection's box and caption on the picture the input was made from.</summary>
public class BoxPictureTests
{
    private static readonly Rgb24 Yellow = new(255, 220, 0), Black = new(0, 0, 0), Grey = new(128, 128, 128);

    [Test]
    public void The_box_is_outlined_at_the_pictures_scale_of_the_input_and_the_caption_sits_above_it()
    {
        // A 64×64 input made from a 256×128 picture's region x 64..192 (a centre crop): one input pixel is two picture pixels.
        using var picture = new Image<Rgb24>(256, 128, Grey);
        var input = new ImageTensor(new float[3 * 64 * 64], 3, 64, 64, new SourceRegion(256, 128, 64, 0, 128, 128));
        BoxOutline.Draw(picture, new LabelledBox(new DetectionBox(10, 30, 20, 50), "1"), input, input.SourceRegion);
        // Input x 10..20 → picture 64 + 20..64 + 40 (last pixel 103); y 30..50 → 60..100 (last 99). Edges at −1 (inside) and +1 (outside).
        picture[84, 80].Should().Be(Yellow);
        picture[103, 80].Should().Be(Yellow);
        picture[94, 60].Should().Be(Yellow);
        picture[94, 99].Should().Be(Yellow);
        picture[85, 80].Should().Be(Black, "the inner edge");
        picture[83, 80].Should().Be(Black, "the outer edge");
        picture[94, 80].Should().Be(Grey, "inside the box");
        picture[82, 80].Should().Be(Grey, "outside the edge");

        // The caption "1" (5×7 glyph, one pixel of padding) in black on yellow, its bottom on the line above the box: top = 60 − 1 − 9.
        string[] one = { "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###." };
        int left = 84 - 1 + 1, top = 60 - 1 - 9 + 1;
        for (int row = 0; row < 7; row++)
            for (int col = 0; col < 5; col++)
                picture[left + col, top + row].Should().Be(one[row][col] == '#' ? Black : Yellow, $"glyph row {row} column {col}");
    }
}
