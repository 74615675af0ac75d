using BenchmarkDotNet.Attributes;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Benchmarks;

/// <summary>
/// One explanation of the default model's sample picture (onnx-models/fashion-clutter, 3×96×96) by each
/// pixel-space gradient method, Grad-CAM and a 20-step Mask, at the default batch size: time and managed bytes
/// allocated per call (the per-sample buffers these methods must not allocate). Run from the repository, or set
/// SCORECAM_REPO to it.
/// </summary>
[MemoryDiagnoser]
public class GradientMethodBenchmarks
{
    private CamExplainer _explainer = null!;
    private ImageTensor _input = null!;
    private IExplanationMethod _method = null!;

    [Params("gradient", "input-x-gradient", "guided-backprop", "smoothgrad", "integrated-gradients", "gradcam", "mask")]
    public string Name { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        string folder = Path.Combine(Repository(), "onnx-models", "fashion-clutter");
        _explainer = CamExplainer.Open(Path.Combine(folder, "fashion-clutter.onnx"));
        using var picture = _explainer.LoadImage(Path.Combine(folder, "sample.png"));
        _input = _explainer.Preprocess(picture);
        _method = MethodCatalog.Create(Name, new MethodSettings().With(MaskMethod.Iterations, 20));
    }

    [Benchmark]
    public Explanation Explain() => _explainer.Explain(_input, ExplanationTarget.TopPrediction, _method);

    [GlobalCleanup]
    public void Cleanup() => _explainer.Dispose();

    // BenchmarkDotNet runs each benchmark from a generated folder below the benchmark's bin folder.
    private static string Repository()
    {
        if (Environment.GetEnvironmentVariable("SCORECAM_REPO") is { Length: > 0 } set) return set;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "onnx-models", "fashion-clutter"))) return dir.FullName;
        throw new DirectoryNotFoundException("onnx-models/ not found above the benchmark; set SCORECAM_REPO to the repository.");
    }
}
