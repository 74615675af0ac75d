namespace ScoreCam.Onnx.Methods;

/// <summary>
/// The Grad-CAM family: channel weights from the activations A and the gradients dY/dA of the target's score
/// (<see cref="ExplanationContext.HeadGradients"/>: the head's gradient graph, seeded on the class's pre-softmax score
/// or the custom target's scalar). A new method is its <see cref="Weights"/> function.
/// </summary>
public abstract class GradientCamMethod : CamMethod
{
    /// <summary>Weights w_k for one target from the context's activations (K×h×w) and their gradients dY/dA (K×h×w).</summary>
    protected abstract float[] Weights(ExplanationContext context, ReadOnlySpan<float> gradients);

    protected sealed override float[][] ChannelWeights(ExplanationContext context)
    {
        var weights = new float[context.Targets.Count][];
        for (int t = 0; t < weights.Length; t++) weights[t] = Weights(context, context.HeadGradients(t));
        return weights;
    }
}
