namespace ScoreCam.Onnx.Methods;

/// <summary>Gradient × input (Shrikumar et al., "Not Just a Black Box"): a = x ⊙ dY^c/dx.</summary>
public sealed class InputTimesGradientMethod(ChannelReduction reduction = ChannelReduction.MaxAbs) : InputGradientMethod(reduction)
{
    public override string Name => "input-x-gradient";

    protected override (float[], IReadOnlyDictionary<string, double>?) Attribute(ExplanationContext context, int target)
    {
        float[] gradient = InputGradient(context, target, guided: false);
        System.Numerics.Tensors.TensorPrimitives.Multiply(gradient, context.Image.Data, gradient);
        return (gradient, null);
    }
}
