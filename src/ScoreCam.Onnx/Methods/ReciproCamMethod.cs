using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Recipro-CAM (Byun and Lee 2022, eq. 2-4): for each position (i, j) of the h×w target layer, the activations kept at
/// that position only (all channels; zero elsewhere) run through the model from the layer on, and the target's softmax
/// probability on that copy is the map's value at (i, j): h·w passes of the tail, no gradients. With
/// <see cref="ReciproCamSpread.Gaussian"/> the kept vector is spread over the 3×3 neighbourhood with weights (1 2 1; 2 4 2; 1 2 1)/16,
/// cut at the borders, as the paper's Gaussian variant does.
/// </summary>
public sealed class ReciproCamMethod(ReciproCamSpread spread = ReciproCamSpread.None) : IExplanationMethod
{
    private static readonly float[] Kernel = { 1 / 16f, 1 / 8f, 1 / 16f, 1 / 8f, 1 / 4f, 1 / 8f, 1 / 16f, 1 / 8f, 1 / 16f };

    public ReciproCamSpread Spread { get; } = Enum.IsDefined(spread) ? spread : throw new ArgumentOutOfRangeException(nameof(spread), spread, "Unknown spread.");

    private bool Gaussian => Spread == ReciproCamSpread.Gaussian;

    public string Name => "reciprocam";

    public static readonly MethodOption<ReciproCamSpread> SpreadOption = MethodOption.Choice("reciprocam-spread",
        "Recipro-CAM: keep each position's vector alone (none) or spread it with the 3×3 Gaussian (gaussian).", ReciproCamSpread.None,
        ("none", ReciproCamSpread.None), ("gaussian", ReciproCamSpread.Gaussian));

    public static IReadOnlyList<MethodOption> Declared { get; } = [SpreadOption];

    public static ReciproCamMethod From(MethodSettings s) => new(s.Get(SpreadOption));

    public IReadOnlyDictionary<string, string> Settings => MethodSettings.Describe((SpreadOption, Spread));

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

/// <summary>How Recipro-CAM keeps a position's activation vector.</summary>
public enum ReciproCamSpread
{
    /// <summary>At that position alone.</summary>
    None,
    /// <summary>Spread over the 3×3 neighbourhood with (1 2 1; 2 4 2; 1 2 1)/16.</summary>
    Gaussian,
}
