using System.Buffers;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// One image's recognition change (Score-CAM paper, section 5.3, after Chattopadhay et al., Grad-CAM++):
/// <see cref="Y"/> is the model's softmax probability of the target class on the input, <see cref="O"/> its softmax
/// probability on the input multiplied by the explanation map restricted to its top 50% of pixels
/// (<see cref="TopSaliencyRegion"/>; the map is the [0, 1] heatmap at input size, multiplied into the normalized
/// input tensor on every channel, so muted pixels become 0, the dataset's mean colour).
/// </summary>
public readonly record struct ConfidenceChange(double Y, double O)
{
    /// <summary>max(0, Y − O) / Y × 100: this image's term of Average Drop, the mean over images (<see cref="EvaluationMetric.AverageDrop"/>).</summary>
    public double Drop => Y > 0 ? Math.Max(0, Y - O) / Y * 100 : 0;

    /// <summary>O &gt; Y: this image's term of Increase in Confidence, the share of images in percent (<see cref="EvaluationMetric.IncreaseInConfidence"/>).</summary>
    public bool Increased => O > Y;

    /// <summary>
    /// Measures Y and O for one image: two forward passes in one batch. <paramref name="heatmap"/> must be the input's
    /// size and in [0, 1]; <paramref name="classIndex"/> is the class explained.
    /// </summary>
    public static ConfidenceChange Measure(IBatchRunner runner, ImageTensor image, SaliencyMap heatmap, int classIndex, double keep = 0.5)
    {
        if (heatmap.Width != image.Width || heatmap.Height != image.Height)
            throw new ArgumentException($"The heatmap is {heatmap.Width}x{heatmap.Height}; the input is {image.Width}x{image.Height}.", nameof(heatmap));
        int plane = image.Width * image.Height;
        float[] region = ArrayPool<float>.Shared.Rent(plane);
        try
        {
            TopSaliencyRegion.Restrict(heatmap.Values, region.AsSpan(0, plane), keep);
            var p = new float[2];
            ClassProbability.Compute(runner, image, 2, (item, input) =>
            {
                if (item == 0) image.Data.CopyTo(input);
                else Kernels.MapKernels.ApplyMask(image.Data, region.AsSpan(0, plane), input);
                return true;
            }, classIndex, p);
            return new ConfidenceChange(p[0], p[1]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(region);
        }
    }
}
