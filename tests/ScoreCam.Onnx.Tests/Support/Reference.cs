using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Support;

/// <summary>Straightforward scalar implementations, written from the definitions, that the library is checked against.</summary>
internal static class Reference
{
    /// <summary>PyTorch's F.interpolate(mode="bilinear") written as plain loops over output pixels.</summary>
    public static float[] Bilinear(float[] src, int h, int w, int outH, int outW, bool alignCorners)
    {
        var dst = new float[outH * outW];
        for (int oy = 0; oy < outH; oy++)
            for (int ox = 0; ox < outW; ox++)
            {
                double sy = Source(oy, h, outH, alignCorners), sx = Source(ox, w, outW, alignCorners);
                int y0 = (int)Math.Floor(sy), x0 = (int)Math.Floor(sx);
                int y1 = Math.Min(y0 + 1, h - 1), x1 = Math.Min(x0 + 1, w - 1);
                double ly = sy - y0, lx = sx - x0;
                dst[oy * outW + ox] = (float)(
                    (1 - ly) * ((1 - lx) * src[y0 * w + x0] + lx * src[y0 * w + x1]) +
                    ly * ((1 - lx) * src[y1 * w + x0] + lx * src[y1 * w + x1]));
            }
        return dst;
    }

    private static double Source(int o, int inSize, int outSize, bool alignCorners) =>
        alignCorners ? (outSize > 1 ? o * (inSize - 1.0) / (outSize - 1.0) : 0) : Math.Max((o + 0.5) * inSize / outSize - 0.5, 0);

    /// <summary>The PyTorch reference scripts' input: x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i) over the flat 1×3×size×size index.</summary>
    public static ImageTensor SineInput(int size = 224)
    {
        var data = new float[3 * size * size];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(2 * Math.Sin(0.001 * i) + 0.5 * Math.Cos(0.0173 * i));
        return new ImageTensor(data, 3, size, size);
    }

    /// <summary>(v − min) / (max − min): maps compared up to their scale and offset.</summary>
    public static double[] MinMax(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        double min = v.Min(), max = v.Max();
        return v.Select(x => (x - min) / (max - min)).ToArray();
    }

    public static float[] Softmax(float[] v)
    {
        double max = v.Max();
        double[] e = v.Select(x => Math.Exp(x - max)).ToArray();
        double sum = e.Sum();
        return e.Select(x => (float)(x / sum)).ToArray();
    }

    /// <summary>Runs a model file on one image with the plain (NamedOnnxValue) API and returns all outputs by name.</summary>
    public static Dictionary<string, float[]> Run(byte[] model, ImageTensor image, string inputName = "input")
    {
        using var session = new InferenceSession(model);
        var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>((float[])image.Data.Clone(), new[] { 1, image.Channels, image.Height, image.Width });
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(inputName, tensor) });
        return results.ToDictionary(r => r.Name, r => r.AsEnumerable<float>().ToArray());
    }

    /// <summary>
    /// Score-CAM weights from the paper's definitions (eq. 1-4), one masked image at a time: upsample A_k, skip it
    /// when constant, min-max normalize, multiply the input, softmax the model's output, read class c.
    /// </summary>
    public static float[] ScoreCamWeights(byte[] model, ImageTensor image, float[] activations, int k, int h, int w, int c,
        Func<float[], float[]>? toProbabilities = null)
    {
        toProbabilities ??= Softmax;
        int plane = image.Height * image.Width;
        var weights = new float[k];
        for (int ch = 0; ch < k; ch++)
        {
            float[] up = Bilinear(activations.Skip(ch * h * w).Take(h * w).ToArray(), h, w, image.Height, image.Width, false);
            float min = up.Min(), max = up.Max();
            if (max == min) continue;
            var masked = new float[image.Data.Length];
            for (int i = 0; i < masked.Length; i++) masked[i] = image.Data[i] * (up[i % plane] - min) / (max - min);
            float[] output = Run(model, new ImageTensor(masked, image.Channels, image.Height, image.Width))["output"];
            weights[ch] = toProbabilities(output)[c];
        }
        return weights;
    }
}
