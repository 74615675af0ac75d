using System.Globalization;

namespace ScoreCam.Onnx.Experiments;

/// <summary>An FGSM step as the command line writes it: a number or a fraction such as 8/255, in picture units [0, 1].</summary>
internal static class EpsilonText
{
    /// <summary>0, a multiple of 1/255 as N/255, else the number (up to four decimals).</summary>
    public static string Format(float e) =>
        e == 0 ? "0" : Math.Abs(e * 255 - MathF.Round(e * 255)) < 1e-4 ? $"{MathF.Round(e * 255):0}/255" : e.ToString("0.####", CultureInfo.InvariantCulture);

    public static bool TryParse(string text, out float epsilon)
    {
        static bool Number(string s, out double v) => double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out v);
        string[] parts = text.Split('/');
        double value = double.NaN;
        if (parts.Length == 1 && Number(parts[0], out double n)) value = n;
        else if (parts.Length == 2 && Number(parts[0], out double a) && Number(parts[1], out double b) && b != 0) value = a / b;
        epsilon = (float)value;
        return double.IsFinite(value) && value is >= 0 and <= 1;
    }
}
