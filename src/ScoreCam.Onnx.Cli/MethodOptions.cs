using System.CommandLine;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Cli;

/// <summary>The flags that choose and shape methods, shared by explain, evaluate and bench; they build the library's <see cref="MethodSettings"/>.</summary>
internal sealed class MethodOptions
{
    public Option<int?> Batch { get; } = new("--batch") { Description = $"Inputs per ONNX Runtime call (masked images, gradient passes). Default: chosen for the model, as many as fit --max-memory, at most {BatchSizePolicy.MaxBatchSize}." };
    public Option<int?> MaxMemory { get; } = new("--max-memory") { Description = $"Memory budget in MiB for one batch's intermediate tensors when the batch size is chosen (weights come on top). Default: {BatchSizePolicy.DefaultBudgetBytes >> 20}." };
    public Option<string> Variant { get; } = new("--variant") { Description = "paper (default), pytorch-grad-cam or torch-cam: reproduce that implementation's numbers.", DefaultValueFactory = _ => "paper" };
    public Option<string> Masks { get; } = new("--masks") { Description = "Score-CAM masks: normalized (eq. 1, default) or binarized (section 4.2).", DefaultValueFactory = _ => "normalized" };
    public Option<string> Scores { get; } = new("--scores") { Description = "Score-CAM weights: probability (softmax, eq. 3, default) or raw (section 4.3).", DefaultValueFactory = _ => "probability" };
    public Option<int?> Channels { get; } = new("--channels") { Description = "Score-CAM: keep only the top K channels (ranked by --channel-ranking); a speed-up, not the paper's algorithm." };
    public Option<string> Ranking { get; } = new("--channel-ranking") { Description = "variance (default) or mean.", DefaultValueFactory = _ => "variance" };
    public Option<int> RiseMasks { get; } = new("--rise-masks") { Description = "RISE: number of random masks N.", DefaultValueFactory = _ => new RiseOptions().Masks };
    public Option<int> Seed { get; } = new("--seed") { Description = "Random seed (RISE's masks, SmoothGrad's noise).", DefaultValueFactory = _ => 0 };
    public Option<int> Samples { get; } = new("--samples") { Description = "SmoothGrad: noisy copies N.", DefaultValueFactory = _ => new SmoothGradOptions().Samples };
    public Option<double> Noise { get; } = new("--noise") { Description = "SmoothGrad: noise level (σ = noise × (max x − min x)).", DefaultValueFactory = _ => new SmoothGradOptions().Noise };
    public Option<int> IgSteps { get; } = new("--ig-steps") { Description = "Integrated Gradients: Riemann steps m.", DefaultValueFactory = _ => new IntegratedGradientsOptions().Steps };
    public Option<string> Baseline { get; } = new("--baseline") { Description = "Integrated Gradients' baseline: zeros (default), black or blur.", DefaultValueFactory = _ => "zeros" };
    public Option<int> MaskIterations { get; } = new("--mask-iterations") { Description = "Mask: Adam steps.", DefaultValueFactory = _ => new MaskOptions().Iterations };
    public Option<string> Reduction { get; } = new("--reduction") { Description = "Pixel-space methods' channel reduction for the map: max-abs (default, Simonyan et al.), sum-abs, sum or l2.", DefaultValueFactory = _ => "max-abs" };

    /// <summary>explain's spelling of <see cref="IgSteps"/>, as the issue and the paper's readers know it (evaluate's --steps are the deletion steps).</summary>
    public MethodOptions(bool stepsAlias = false)
    {
        if (stepsAlias) IgSteps.Aliases.Add("--steps");
    }

    /// <summary>Adds the flags; a command that takes several batch sizes or channel counts (bench) defines its own --batch and --channels.</summary>
    public void AddTo(Command command, bool batch = true, bool channels = true)
    {
        if (batch) command.Options.Add(Batch);
        if (channels) command.Options.Add(Channels);
        foreach (Option o in new Option[] { MaxMemory, Variant, Masks, Scores, Ranking, RiseMasks, Seed, Samples, Noise, IgSteps, Baseline, MaskIterations, Reduction })
            command.Options.Add(o);
    }

    /// <summary>The batch size given, validated; null when none was given.</summary>
    public int? BatchSize(ParseResult r) => r.GetValue(Batch) is { } b && b is < 1 or > MaxBatch
        ? throw new UsageException($"--batch must be between 1 and {MaxBatch}; got {b}.") : r.GetValue(Batch);

    // Upper bounds far beyond any useful value, so that a typo is a usage error rather than an allocation failure.
    internal const int MaxBatch = 4096, MaxPasses = 100_000;

    /// <summary>The memory budget given, in bytes, validated; null when none was given.</summary>
    public long? MaxBatchMemory(ParseResult r) => r.GetValue(MaxMemory) switch
    {
        null => null,
        < 1 and var m => throw new UsageException($"--max-memory must be at least 1 (MiB); got {m}."),
        var m => (long)m << 20,
    };

    public MethodSettings Settings(ParseResult r)
    {
        int? channels = r.GetValue(Channels);
        if (channels is < 1) throw new UsageException($"--channels must be at least 1; got {channels}.");
        if (r.GetValue(RiseMasks) is < 1 or > MaxPasses) throw new UsageException($"--rise-masks must be between 1 and {MaxPasses}; got {r.GetValue(RiseMasks)}.");
        if (r.GetValue(Samples) is < 1 or > MaxPasses) throw new UsageException($"--samples must be between 1 and {MaxPasses}; got {r.GetValue(Samples)}.");
        if (!(r.GetValue(Noise) >= 0) || double.IsInfinity(r.GetValue(Noise))) throw new UsageException($"--noise must be 0 or a positive number; got {r.GetValue(Noise)}.");
        if (r.GetValue(MaskIterations) is < 1 or > MaxPasses) throw new UsageException($"--mask-iterations must be between 1 and {MaxPasses}; got {r.GetValue(MaskIterations)}.");
        if (r.GetValue(IgSteps) is < 1 or > MaxPasses) throw new UsageException($"--ig-steps must be between 1 and {MaxPasses}; got {r.GetValue(IgSteps)}.");
        return new MethodSettings
        {
            Variant = ParseVariant(r.GetValue(Variant)!),
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
            SmoothGrad = new SmoothGradOptions { Samples = r.GetValue(Samples), Noise = r.GetValue(Noise), Seed = r.GetValue(Seed) },
            IntegratedGradients = new IntegratedGradientsOptions
            {
                Steps = r.GetValue(IgSteps),
                Baseline = r.GetValue(Baseline)!.ToLowerInvariant() switch
                {
                    "zeros" => IntegratedGradientsBaseline.Zeros,
                    "black" => IntegratedGradientsBaseline.Black,
                    "blur" => IntegratedGradientsBaseline.Blur,
                    var v => throw new UsageException($"--baseline must be zeros, black or blur; got '{v}'."),
                },
            },
            Mask = new MaskOptions { Iterations = r.GetValue(MaskIterations), Seed = r.GetValue(Seed) },
            Reduction = r.GetValue(Reduction)!.ToLowerInvariant() switch
            {
                "max-abs" => ChannelReduction.MaxAbs,
                "sum-abs" => ChannelReduction.SumAbs,
                "sum" => ChannelReduction.Sum,
                "l2" => ChannelReduction.L2,
                var v => throw new UsageException($"--reduction must be max-abs, sum-abs, sum or l2; got '{v}'."),
            },
        };
    }

    /// <summary>A compatibility variant by name; <paramref name="option"/> names where it came from in the error.</summary>
    public static CompatibilityVariant ParseVariant(string text, string option = "--variant") => text.ToLowerInvariant() switch
    {
        "paper" => CompatibilityVariant.Paper,
        "pytorch-grad-cam" => CompatibilityVariant.PytorchGradCam,
        "torch-cam" => CompatibilityVariant.TorchCam,
        var v => throw new UsageException($"{option} must be paper, pytorch-grad-cam or torch-cam; got '{v}'."),
    };

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
