using System.Globalization;

namespace ScoreCam.Onnx.Cli;

/// <summary>An FGSM step as the command line writes it: a number or a fraction such as 8/255, in picture units [0, 1].</summary>
internal static class EpsilonText
{
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
