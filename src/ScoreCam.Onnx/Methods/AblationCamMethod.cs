namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Ablation-CAM (Desai and Ramaswamy, WACV 2020, eq. 3): w_k = (y_c − y_c^k) / y_c, y_c the target's raw score and
/// y_c^k the score with channel k of the target layer set to zero, run through the model from the layer on
/// (<see cref="ExplanationContext.RunTail"/>: K passes of the tail, in batches). <see cref="CompatibilityVariant.PytorchGradCam"/>
/// ablates with min(A) − 10⁷ instead of 0 where the layer's activations are not all ≥ 0 with a minimum of 0, as its
/// AblationLayer does (the same as the paper after a ReLU).
/// </summary>
public sealed class AblationCamMethod : CamMethod
{
    public AblationCamMethod(CompatibilityVariant variant = CompatibilityVariant.Paper)
    {
        if (variant is not (CompatibilityVariant.Paper or CompatibilityVariant.PytorchGradCam))
            throw new ArgumentOutOfRangeException(nameof(variant), variant, "Ablation-CAM has the paper's form and pytorch-grad-cam's (torch-cam has none).");
        Variant = variant;
    }

    public CompatibilityVariant Variant { get; }

    public override string Name => "ablationcam";

    public static IReadOnlyList<MethodOption> Declared { get; } = [CommonOptions.Variant];

    public static AblationCamMethod From(MethodSettings s) =>
        new(Variants.Only("Ablation-CAM", s.Get(CommonOptions.Variant), CompatibilityVariant.Paper, CompatibilityVariant.PytorchGradCam));

    protected override IReadOnlyDictionary<string, string> DeclaredSettings => MethodSettings.Describe((CommonOptions.Variant, Variant));

    protected override float[][] ChannelWeights(ExplanationContext context)
    {
        float[] a = context.Activations;
        int plane = context.Height * context.Width, targets = context.Targets.Count;
        float min = System.Numerics.Tensors.TensorPrimitives.Min(a);
        float ablated = Variant == CompatibilityVariant.PytorchGradCam && min != 0 ? min - 1e7f : 0f;
        var original = new float[targets];
        context.Scorer.Score(context.UnmaskedScores, ScoreMode.RawScore, original);
        var weights = new float[targets][];
        for (int t = 0; t < targets; t++) weights[t] = new float[context.Channels];
        var scores = new float[targets];
        context.RunTail(context.Channels,
            (k, copy) =>
            {
                a.CopyTo(copy);
                copy.Slice(k * plane, plane).Fill(ablated);
                return true;
            },
            (k, row) =>
            {
                context.Scorer.Score(row, ScoreMode.RawScore, scores);
                for (int t = 0; t < targets; t++) weights[t][k] = (original[t] - scores[t]) / original[t]; // eq. 3
            });
        return weights;
    }
}
