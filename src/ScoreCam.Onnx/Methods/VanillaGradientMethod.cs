namespace ScoreCam.Onnx.Methods;

/// <summary>Vanilla gradient (Simonyan et al., "Deep Inside Convolutional Networks"): a = dY^c/dx at the input.</summary>
public sealed class VanillaGradientMethod(ChannelReduction reduction = ChannelReduction.MaxAbs) : InputGradientMethod(reduction)
{
    public override string Name => "gradient";

    protected override (float[], IReadOnlyDictionary<string, double>?) Attribute(ExplanationContext context, int target) =>
        (InputGradient(context, target, guided: false), null);
}
