namespace ScoreCam.Onnx.Imaging;

/// <summary>How a pixel-space attribution (C×H×W signed values at the model's input size) is drawn.</summary>
public enum AttributionView
{
    /// <summary>
    /// Simonyan et al.'s saliency map (section 3.1): the largest magnitude over the channels at each pixel, divided
    /// by its maximum, in grey (black 0, white the largest).
    /// </summary>
    Magnitude,
    /// <summary>The sum over channels divided by its largest magnitude, in a diverging colormap: negative blue, 0 white, positive red.</summary>
    Signed,
    /// <summary>
    /// The "gradient picture" Guided Backpropagation is shown as (the Score-CAM paper's Figure 1): each channel divided
    /// by its largest magnitude and mapped to [0, 1] with 0 at 0.5 (mid grey), the channels shown as RGB.
    /// </summary>
    Rgb,
}
