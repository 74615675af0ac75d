namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Guided Backpropagation (Springenberg et al., "Striving for Simplicity"): the input gradient with ReLU's backward
/// rule replaced by one that passes a gradient only where both the forward input and the incoming gradient are
/// positive (also for Clip used as ReLU6); other operations keep their true derivative (docs/gradients.md).
/// </summary>
public sealed class GuidedBackpropMethod(ChannelReduction reduction = ChannelReduction.MaxAbs) : InputGradientMethod(reduction)
{
    public override string Name => "guided-backprop";

    protected override (float[], IReadOnlyDictionary<string, double>?) Attribute(ExplanationContext context, int target) =>
        (InputGradient(context, target, guided: true), null);
}
