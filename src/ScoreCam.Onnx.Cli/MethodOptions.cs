using System.CommandLine;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Cli;

/// <summary>The flags that choose and shape methods, shared by explain, evaluate and bench; they build the library's <see cref="MethodSettings"/>.</summary>
internal sealed class MethodOptions
{
    public Option<int?> Batch { get; } = new("--batch") { Description = $"Inputs per ONNX Runtime call (masked images, gradient passes). Default: {InferenceOptions.DefaultBatchSize}." };
    public Option<string> Variant { get; } = new("--variant") { Description = "paper (default), pytorch-grad-cam or torch-cam: reproduce that implementation's numbers.", DefaultValueFactory = _ => "paper" };
    public Option<string> Masks { get; } = new("--masks") { Description = "Score-CAM masks: normalized (eq. 1, default) or binarized (section 4.2).", DefaultValueFactory = _ => "normalized" };
    public Option<string> Scores { get; } = new("--scores") { Description = "Score-CAM weights: probability (softmax, eq. 3, default) or raw (section 4.3).", DefaultValueFactory = _ => "probability" };
    public Option<int?> Channels { get; } = new("--channels") { Description = "Score-CAM: keep only the top K channels (ranked by --channel-ranking); a speed-up, not the paper's algorithm." };
    public Option<string> Ranking { get; } = new("--channel-ranking") { Description = "variance (default) or mean.", DefaultValueFactory = _ => "variance" };
    public Option<int> RiseMasks { get; } = new("--rise-masks") { Description = "RISE: number of random masks N.", DefaultValueFactory = _ => new RiseOptions().Masks };
    public Option<int> Seed { get; } = new("--seed") { Description = "Random seed (RISE's masks).", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Batch, Variant, Masks, Scores, Channels, Ranking, RiseMasks, Seed }) command.Options.Add(o);
    }

    /// <summary>The batch size given, validated; null when none was given.</summary>
    public int? BatchSize(ParseResult r) => r.GetValue(Batch) is { } b && b < 1 ? throw new UsageException($"--batch must be at least 1; got {b}.") : r.GetValue(Batch);

    public MethodSettings Settings(ParseResult r)
    {
        int? channels = r.GetValue(Channels);
        if (channels is < 1) throw new UsageException($"--channels must be at least 1; got {channels}.");
        if (r.GetValue(RiseMasks) < 1) throw new UsageException($"--rise-masks must be at least 1; got {r.GetValue(RiseMasks)}.");
        return new MethodSettings
        {
            Variant = r.GetValue(Variant)!.ToLowerInvariant() switch
            {
                "paper" => CompatibilityVariant.Paper,
                "pytorch-grad-cam" => CompatibilityVariant.PytorchGradCam,
                "torch-cam" => CompatibilityVariant.TorchCam,
                var v => throw new UsageException($"--variant must be paper, pytorch-grad-cam or torch-cam; got '{v}'."),
            },
            ScoreCam = new ScoreCamOptions
            {
                MaxChannels = channels,
                ChannelRanking = r.GetValue(Ranking)!.ToLowerInvariant() switch
                {
                    "variance" => ChannelRanking.Variance,
                    "mean" => ChannelRanking.Mean,
                    var v => throw new UsageException($"--channel-ranking must be variance or mean; got '{v}'."),
                },
                Masks = r.GetValue(Masks)!.ToLowerInvariant() switch
                {
                    "normalized" => MaskMode.Normalized,
                    "binarized" => MaskMode.Binarized,
                    var v => throw new UsageException($"--masks must be normalized or binarized; got '{v}'."),
                },
                Scores = r.GetValue(Scores)!.ToLowerInvariant() switch
                {
                    "probability" => ScoreMode.Probability,
                    "raw" => ScoreMode.RawScore,
                    var v => throw new UsageException($"--scores must be probability or raw; got '{v}'."),
                },
            },
            Rise = new RiseOptions { Masks = r.GetValue(RiseMasks), Seed = r.GetValue(Seed) },
        };
    }

    /// <summary>The method named <paramref name="name"/> from the library's catalogue; an unknown name is a usage error.</summary>
    public static IExplanationMethod Create(string name, MethodSettings settings) =>
        MethodCatalog.TryFind(name, out MethodEntry entry) ? entry.Create(settings)
            : throw new UsageException($"unknown method '{name}'; the methods are {string.Join(", ", MethodCatalog.Names)}.");

    /// <summary>Several methods, comma-separated.</summary>
    public static List<IExplanationMethod> CreateAll(string names, MethodSettings settings)
    {
        var methods = names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => Create(n, settings)).ToList();
        return methods.Count > 0 ? methods : throw new UsageException("name at least one method.");
    }
}
