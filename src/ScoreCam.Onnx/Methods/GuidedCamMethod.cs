using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// A combination (Guided Score-CAM, paper eq. 6; Guided Grad-CAM, Selvaraju et al.): the CAM method's display heatmap
/// (input size, min-max normalized to [0, 1]) times Guided Backpropagation's attribution, channel by channel. The
/// result keeps the CAM method's channel weights.
/// </summary>
public sealed class GuidedCamMethod : IExplanationMethod
{
    private readonly GuidedBackpropMethod _guided;

    public GuidedCamMethod(string name, IExplanationMethod cam, ChannelReduction reduction = ChannelReduction.MaxAbs)
    {
        (Name, Cam) = (name, cam);
        _guided = new GuidedBackpropMethod(reduction);
    }

    public string Name { get; }

    /// <summary>The CAM method whose heatmap gates the guided gradients.</summary>
    public IExplanationMethod Cam { get; }

    /// <summary>The CAM method's settings and the guided gradients' channel reduction.</summary>
    public IReadOnlyDictionary<string, string> Settings => Cam.Settings.Concat(_guided.Settings).ToDictionary();

    public IReadOnlyList<MethodResult> Explain(ExplanationContext context)
    {
        ImageTensor image = context.Image;
        IReadOnlyList<MethodResult> cams = Cam.Explain(context), guided = _guided.Explain(context);
        int plane = image.Height * image.Width;
        var results = new MethodResult[cams.Count];
        for (int t = 0; t < results.Length; t++)
        {
            SaliencyMap heat = DisplayHeatmap.From(cams[t].Map, image.Width, image.Height);
            float[] values = (float[])guided[t].Attribution!.Values.Clone();
            for (int c = 0; c < image.Channels; c++)
                System.Numerics.Tensors.TensorPrimitives.Multiply(values.AsSpan(c * plane, plane), heat.Values, values.AsSpan(c * plane, plane)); // eq. 6
            var attribution = new Attribution(image.Channels, image.Height, image.Width, values);
            results[t] = new MethodResult(InputGradientMethod.Reduce(attribution, _guided.Reduction), cams[t].ChannelWeights, attribution);
        }
        return results;
    }
}
