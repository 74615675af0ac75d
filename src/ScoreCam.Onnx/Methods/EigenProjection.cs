using ScoreCam.Onnx.Kernels;

namespace ScoreCam.Onnx.Methods;

/// <summary>
/// Eigen-CAM's map: K maps (h×w each) projected on their first principal direction v, Σ_k v_k (X_k − c_k) with c_k the
/// map's mean when centered (pytorch-grad-cam's get_2d_projection) or 0 (Muhammad and Yeasin's O·V_1). The sign of v
/// is arbitrary; it is fixed as pytorch-grad-cam's sign correction fixes it: flipped where the projection's |min|
/// exceeds its |max|, so that the salient part is positive.
/// </summary>
internal static class EigenProjection
{
    /// <summary>v, sign fixed, for the K planes of <paramref name="maps"/>.</summary>
    public static float[] Direction(ReadOnlySpan<float> maps, int channels, int plane, bool centered)
    {
        double[] v = PrincipalComponent.FirstDirection(maps, channels, plane, centered);
        var direction = Array.ConvertAll(v, e => (float)e);
        var map = new float[plane];
        Project(maps, direction, centered, map);
        if (Math.Abs(System.Numerics.Tensors.TensorPrimitives.Min(map)) > Math.Abs(System.Numerics.Tensors.TensorPrimitives.Max(map)))
            System.Numerics.Tensors.TensorPrimitives.Negate(direction, direction);
        return direction;
    }

    /// <summary>Σ_k v_k (X_k − c_k) into <paramref name="map"/>.</summary>
    public static void Project(ReadOnlySpan<float> maps, ReadOnlySpan<float> direction, bool centered, Span<float> map)
    {
        int plane = map.Length;
        MapKernels.WeightedSum(maps, direction, map);
        if (!centered) return;
        double offset = 0;
        for (int k = 0; k < direction.Length; k++) offset += direction[k] * (double)System.Numerics.Tensors.TensorPrimitives.Average(maps.Slice(k * plane, plane));
        System.Numerics.Tensors.TensorPrimitives.Subtract(map, (float)offset, map);
    }
}
