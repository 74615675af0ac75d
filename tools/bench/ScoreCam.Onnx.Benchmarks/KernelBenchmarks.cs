using BenchmarkDotNet.Attributes;
using ScoreCam.Onnx.Kernels;

namespace ScoreCam.Onnx.Benchmarks;

/// <summary>
/// The per-channel work of Score-CAM at ResNet-18 / VGG16 sizes: upsample one map to 224×224, normalize it,
/// mask a 3×224×224 image, and the final weighted sum of K maps. The Throughput column is bytes read and
/// written per second.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputConfig))]
public class KernelBenchmarks
{
    private const int Size = 224, Plane = Size * Size;
    private BilinearUpsampler _up7 = null!, _up14 = null!;
    private float[] _map7 = null!, _map14 = null!, _mask = null!, _scratch = null!, _image = null!, _masked = null!;
    private float[] _maps = null!, _weights = null!, _sum = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)random.NextDouble()).ToArray();
        _up7 = new BilinearUpsampler(7, 7, Size, Size);
        _up14 = new BilinearUpsampler(14, 14, Size, Size);
        (_map7, _map14, _mask, _image) = (Random(49), Random(196), Random(Plane), Random(3 * Plane));
        (_scratch, _masked) = (new float[14 * Size], new float[3 * Plane]);
        (_maps, _weights, _sum) = (Random(512 * 49), Random(512), new float[49]);
        ThroughputConfig.Bytes[nameof(Upsample7To224)] = (49 + Plane) * 4L;
        ThroughputConfig.Bytes[nameof(Upsample14To224)] = (196 + Plane) * 4L;
        ThroughputConfig.Bytes[nameof(MinMaxNormalize224)] = 3L * Plane * 4;
        ThroughputConfig.Bytes[nameof(Mask3x224)] = 7L * Plane * 4;
        ThroughputConfig.Bytes[nameof(WeightedSum512x7x7)] = (512 * 49 + 512 + 49) * 4L;
    }

    [Benchmark] public void Upsample7To224() => _up7.Upsample(_map7, _mask, _scratch);

    [Benchmark] public void Upsample14To224() => _up14.Upsample(_map14, _mask, _scratch);

    [Benchmark] public bool MinMaxNormalize224() => MapKernels.TryMinMaxNormalize(_mask);

    [Benchmark] public void Mask3x224() => MapKernels.ApplyMask(_image, _mask, _masked);

    [Benchmark] public void WeightedSum512x7x7() => MapKernels.WeightedSum(_maps, _weights, _sum);
}
