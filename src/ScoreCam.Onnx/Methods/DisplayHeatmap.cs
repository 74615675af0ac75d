using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Kernels;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// The map a person looks at: a method's map bilinearly upsampled to the input size (align_corners = false, as
/// PyTorch's default) and min-max normalized to [0, 1]; all zeros when the map is constant.
/// </summary>
internal static class DisplayHeatmap
{
    public static SaliencyMap From(SaliencyMap map, int width, int height)
    {
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(map.Values))
            throw new ScoreCamException("The explanation map contains NaN or infinite values: the model's outputs or gradients overflowed for this input.");
        var heat = new float[width * height];
        if (map.Width == width && map.Height == height) map.Values.CopyTo(heat, 0);
        else
        {
            var upsampler = new BilinearUpsampler(map.Height, map.Width, height, width);
            upsampler.Upsample(map.Values, heat, new float[upsampler.ScratchLength]);
        }
        if (!MapKernels.TryMinMaxNormalize(heat)) Array.Clear(heat);
        return new SaliencyMap(width, height, heat);
    }
}
