namespace ScoreCam.Onnx.Gradients.Rules;

/// <summary>The differentiation rules by ONNX op type. A new op is one rule file and one line here.</summary>
internal static class GradientRules
{
    private static readonly Dictionary<string, IGradientRule> ByOp = new IGradientRule[]
    {
        new IdentityRule(), new DropoutRule(), new CastRule(),
        new ReshapeLikeRule("Flatten"), new ReshapeLikeRule("Reshape"), new ReshapeLikeRule("Squeeze"), new ReshapeLikeRule("Unsqueeze"),
        new TransposeRule(), new ConcatRule(),
        new AddSubRule("Add"), new AddSubRule("Sub"), new MulRule(), new DivRule(), new PowRule(),
        new ReluRule(), new LeakyReluRule(), new ClipRule(), new SigmoidRule(), new HardSigmoidRule(), new HardSwishRule(),
        new TanhRule(), new ExpRule(), new LogRule(), new SqrtRule(), new NegRule(), new ReciprocalRule(), new ErfRule(),
        new GlobalAveragePoolRule(), new GlobalMaxPoolRule(), new AveragePoolRule(), new MaxPoolRule(),
        new ConvRule(), new GemmRule(), new MatMulRule(), new BatchNormalizationRule(),
        new ReduceRule("ReduceMean"), new ReduceRule("ReduceSum"), new SoftmaxRule(), new LogSoftmaxRule(),
        new LayerNormalizationRule(), new SumRule("Sum"), new SumRule("Mean"), new SplitRule(), new SliceRule(), new GatherRule(), new GatherNDRule(), new TopKRule(),
        new ExpandRule(), new WhereRule(), new PReluRule(), new EluRule(), new SoftplusRule(), new GeluRule(),
        new PadRule(), new MaxMinRule("Max"), new MaxMinRule("Min"),
        new ResizeRule(),
    }.ToDictionary(r => r.OpType, StringComparer.Ordinal);

    /// <summary>Op types that can be differentiated.</summary>
    public static IReadOnlyCollection<string> OpTypes => ByOp.Keys;

    public static IGradientRule? For(string domain, string opType) =>
        domain is "" or "ai.onnx" && ByOp.TryGetValue(opType, out var rule) ? rule : null;
}
