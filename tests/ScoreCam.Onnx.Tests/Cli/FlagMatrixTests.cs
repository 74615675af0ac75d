using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>
/// Every command that builds an explainer × every shared flag: the flag's value reaches the explainer's options
/// (one mapping from flags to options, so that no command drifts). The explainer is watched as it is built and the
/// command stopped there, so nothing runs.
/// </summary>
public class FlagMatrixTests
{
    private sealed class Built : Exception;

    private static readonly string Model = Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter.onnx");
    private static readonly string Set = Repository.Path("onnx-models", "eval", "single");
    private static readonly string Labels = Repository.Path("onnx-models", "fashion-clutter", "labels.txt");

    public static IEnumerable<TestCaseData> Commands()
    {
        string early = Repository.Path("onnx-models", "fashion-clutter", "fashion-clutter-early.onnx");
        string folder = Path.Combine(Path.GetTempPath(), "scorecam-flag-matrix");
        yield return Command("explain");
        yield return Command("report", "--out", Path.Combine(folder, "r.html"));
        yield return Command("serve", "--port", "0");
        yield return Command("evaluate", "--set", Set, "--limit", "1", "--out-dir", Path.Combine(folder, "eval"));
        yield return Command("experiment robustness", "--set", Set, "--limit", "1", "--method", "scorecam", "--out-dir", folder);
        yield return Command("experiment stability", "--set", Set, "--limit", "1", "--method", "scorecam", "--out-dir", folder);
        yield return Command("experiment convergence", "--set", Set, "--limit", "1", "--early", early, "--out-dir", folder);
        yield return Command("bench");
    }

    private static TestCaseData Command(string name, params string[] args) => new TestCaseData(name, args).SetArgDisplayNames(name);

    /// <summary>A flag, its value (null: a switch) and how the built options show it.</summary>
    private static readonly (string Flag, string? Value, Func<ModelPreparationOptions, ExplainerOptions, bool> Reached)[] Flags =
    {
        ("--batch", "3", (_, o) => o.Inference.BatchSize == 3),
        ("--max-memory", "100", (_, o) => o.Inference.MaxBatchMemoryBytes == 100L << 20),
        ("--device", "cuda:1", (_, o) => o.Inference.Device == ExecutionDevice.Cuda && o.Inference.CudaDeviceId == 1),
        ("--precision", "fp16", (_, o) => o.Inference.Float16),
        ("--precision", "fp32", (_, o) => !o.Inference.CudaTf32),
        ("--io-binding", null, (_, o) => o.Inference.DeviceResidentBuffers),
        ("--size", "48x40", (_, o) => o.Preprocess is { Width: 48, Height: 40 }),
        ("--resize", "crop", (_, o) => o.Preprocess!.Resize == ResizeMode.Crop),
        ("--mean", "0.1,0.2,0.3", (_, o) => o.Preprocess!.Mean.SequenceEqual(new[] { 0.1f, 0.2f, 0.3f })),
        ("--std", "0.5,0.25,0.125", (_, o) => o.Preprocess!.Std.SequenceEqual(new[] { 0.5f, 0.25f, 0.125f })),
        ("--scale", "255", (_, o) => o.Preprocess!.Scale == 255f),
        ("--bgr", null, (_, o) => o.Preprocess!.Bgr),
        ("--labels", Labels, (_, o) => o.Labels!.Count == File.ReadAllLines(Labels).Count(l => l.Trim().Length > 0)),
        ("--max-megapixels", "2", (_, o) => o.MaxImagePixels == 2_000_000),
        ("--keep-orientation", null, (_, o) => o.KeepStoredOrientation),
        ("--layer", "/layer3/layer3.0/Relu_1_output_0", (p, _) => p.Layer == "/layer3/layer3.0/Relu_1_output_0"),
        ("--output", "logits", (p, _) => p.OutputName == "logits"),
        ("--variant", "torch-cam", (_, o) => o.Method.Settings.GetValueOrDefault("variant") == "torch-cam"),
        ("--channels", "7", (_, o) => o.Method.Settings.GetValueOrDefault("channels") == "7"),
        ("--eigen-smooth", null, (_, o) => o.Method.Settings.GetValueOrDefault("eigen-smooth") == "true"),
        ("--aug-smooth", null, (_, o) => o.Method.Settings.GetValueOrDefault("aug-smooth") == "true"),
    };

    [TestCaseSource(nameof(Commands))]
    public void Every_shared_flag_reaches_the_explainer(string command, string[] args)
    {
        var missed = new List<string>();
        foreach (var (flag, value, reached) in Flags)
        {
            if (command == "bench" && flag is "--batch" or "--channels") continue; // bench's own lists: it measures each value
            if (command == "experiment stability" && flag == "--aug-smooth") continue; // refused there: the mean of six maps has no channel weights
            var built = new List<(ModelPreparationOptions, ExplainerOptions)>();
            ExplainerFactory.Building.Value = (p, o) =>
            {
                built.Add((p, o));
                throw new Built();
            };
            try
            {
                string[] line = command.Split(' ').Concat(new[] { "--model", Model }).Concat(args)
                    .Concat(value is null ? new[] { flag } : new[] { flag, value }).ToArray();
                var (code, _, error) = CliRunner.Run(line);
                if (built.Count == 0) missed.Add($"{flag} {value}: no explainer was built (exit {code}: {error.Trim()})");
                else if (!built.All(b => reached(b.Item1, b.Item2))) missed.Add($"{flag} {value}: did not reach the explainer");
            }
            finally
            {
                ExplainerFactory.Building.Value = null;
            }
        }
        missed.Should().BeEmpty($"every shared flag of `{command}` reaches the explainer");
    }
}
