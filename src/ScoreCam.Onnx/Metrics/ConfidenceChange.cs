using System.Buffers;

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
    /// <summary>max(0, Y − O) / Y × 100: this image's term of <see cref="AverageDrop"/>.</summary>
    public double Drop => Y > 0 ? Math.Max(0, Y - O) / Y * 100 : 0;

    /// <summary>O &gt; Y: this image's term of <see cref="IncreaseInConfidence"/>.</summary>
    public bool Increased => O > Y;

    /// <summary>
    /// Measures Y and O for one image: two forward passes in one batch. <paramref name="heatmap"/> must be the input's
    /// size and in [0, 1]; <paramref name="classIndex"/> is the class explained.
    /// </summary>
    public static ConfidenceChange Measure(Inference.ModelSession session, ImageTensor image, SaliencyMap heatmap, int classIndex, double keep = 0.5)
    {
        if (heatmap.Width != image.Width || heatmap.Height != image.Height)
            throw new ArgumentException($"The heatmap is {heatmap.Width}x{heatmap.Height}; the input is {image.Width}x{image.Height}.", nameof(heatmap));
        int length = image.Data.Length, plane = image.Width * image.Height;
        var pool = ArrayPool<float>.Shared;
        float[] batch = pool.Rent(2 * length), region = pool.Rent(plane);
        try
        {
            image.Data.CopyTo(batch, 0);
            TopSaliencyRegion.Restrict(heatmap.Values, region.AsSpan(0, plane), keep);
            Kernels.MapKernels.ApplyMask(image.Data, region.AsSpan(0, plane), batch.AsSpan(length, length));
            var p = new float[2];
            ClassProbability.Compute(session, batch.AsMemory(0, 2 * length), 2, image, classIndex, p);
            return new ConfidenceChange(p[0], p[1]);
        }
        finally
        {
            pool.Return(batch);
            pool.Return(region);
        }
    }
}
