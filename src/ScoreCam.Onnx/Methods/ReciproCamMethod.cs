using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Recipro-CAM (Byun and Lee 2022, eq. 2-4): for each position (i, j) of the h×w target layer, the activations kept at
/// that position only (all channels; zero elsewhere) run through the model from the layer on, and the target's softmax
/// probability on that copy is the map's value at (i, j): h·w passes of the tail, no gradients. With
/// <see cref="Gaussian"/> the kept vector is spread over the 3×3 neighbourhood with weights (1 2 1; 2 4 2; 1 2 1)/16,
/// cut at the borders, as the paper's Gaussian variant does.
/// </summary>
public sealed class ReciproCamMethod(bool gaussian = false) : IExplanationMethod
{
    private static readonly float[] Kernel = { 1 / 16f, 1 / 8f, 1 / 16f, 1 / 8f, 1 / 4f, 1 / 8f, 1 / 16f, 1 / 8f, 1 / 16f };

    /// <summary>Spread each position's vector with the 3×3 Gaussian (the paper's variant) instead of keeping it alone.</summary>
    public bool Gaussian { get; } = gaussian;

    public string Name => "reciprocam";

    public IReadOnlyList<MethodResult> Explain(ExplanationContext context)
    {
        int h = context.Height, w = context.Width, plane = h * w, targets = context.Targets.Count;
        float[] a = context.Activations;
        var maps = new float[targets][];
        for (int t = 0; t < targets; t++) maps[t] = new float[plane];
        var scores = new float[targets];
        context.RunTail(plane,
            (p, copy) =>
            {
                copy.Clear();
                int y = p / w, x = p % w;
                for (int k = 0; k < context.Channels; k++)
                {
                    float value = a[k * plane + p];
                    if (!Gaussian)
                    {
                        copy[k * plane + p] = value;
                        continue;
                    }
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++)
                            if (y + dy >= 0 && y + dy < h && x + dx >= 0 && x + dx < w)
                                copy[k * plane + (y + dy) * w + x + dx] = value * Kernel[(dy + 1) * 3 + dx + 1];
                }
                return true;
            },
            (p, row) =>
            {
                context.Scorer.Score(row, ScoreMode.Probability, scores);
                for (int t = 0; t < targets; t++) maps[t][p] = scores[t];
            });
        return maps.Select(m => new MethodResult(new SaliencyMap(w, h, m))).ToArray();
    }
}
