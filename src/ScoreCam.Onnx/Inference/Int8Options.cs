using System.Globalization;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>
/// How the int8 copy of a model that runs the masked passes is calibrated (<see cref="InferenceOptions.Int8"/>). The
/// copy's activation ranges come from float32 passes over calibration inputs: by default the input being explained
/// and <see cref="MaskedSamples"/> of its Score-CAM masked images (so the ranges cover what the masked passes see),
/// one copy per input; or, with <see cref="CalibrationFolder"/>, the pictures of a folder (each with its masked
/// samples), one copy for every input.
/// </summary>
public sealed record Int8Options
{
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>The percentile kept by <see cref="CalibrationMethod.Percentile"/> (ONNX Runtime's default, 99.999).</summary>
    public double Percentile { get; init; } = 99.999;

    /// <summary>
    /// Masked images per calibration picture: the picture times the min-max normalized, upsampled maps of evenly
    /// spaced channels of its target-layer activations (eq. 1-2 of Score-CAM).
    /// </summary>
    public int MaskedSamples { get; init; } = 16;

    /// <summary>A folder of pictures (PNG, JPEG, BMP, GIF, WebP, TIFF), read in name order, to calibrate one copy for every input; null: each input calibrates its own.</summary>
    public string? CalibrationFolder { get; init; }

    /// <summary>At most this many pictures of <see cref="CalibrationFolder"/> are used (the first in name order).</summary>
    public int MaxCalibrationPictures { get; init; } = 32;

    /// <summary>
    /// A folder where calibrated copies are kept between explainers and processes, each file named by a content hash
    /// of the prepared model, the quantizer, these settings and the calibration pictures' values, so a run with the
    /// same calibration loads the copy instead of calibrating again, and a changed model, method or picture makes a
    /// new file. Every calibrated copy is written (one per input when each input calibrates its own; use it with
    /// <see cref="CalibrationFolder"/> to keep one per model). Null: copies are kept in memory only.
    /// </summary>
    public string? CacheFolder { get; init; }

    internal void Validate()
    {
        if (!(Percentile > 50 && Percentile <= 100))
            throw new ArgumentOutOfRangeException(nameof(Percentile), $"The calibration percentile must be over 50 and at most 100; got {Percentile}.");
        if (MaskedSamples < 0) throw new ArgumentOutOfRangeException(nameof(MaskedSamples), "The masked samples per calibration picture cannot be negative.");
        if (MaxCalibrationPictures < 1) throw new ArgumentOutOfRangeException(nameof(MaxCalibrationPictures), "At least one calibration picture is needed.");
    }

    /// <summary>What the ranges depend on besides the pictures: part of the key a calibrated copy is cached under.</summary>
    internal string Fingerprint =>
        string.Create(CultureInfo.InvariantCulture, $"{Method}:{(Method == CalibrationMethod.Percentile ? Percentile : 0)}:{MaskedSamples}");
}
