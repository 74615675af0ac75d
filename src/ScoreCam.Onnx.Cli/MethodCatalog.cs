using ScoreCam.Onnx.Methods;

namespace ScoreCam.Onnx.Cli;

/// <summary>The flags that shape a method, as given on the command line.</summary>
internal sealed record MethodSettings(int Batch, string Variant, string Masks, string Scores, int? Channels = null, string Ranking = "variance");

/// <summary>The methods `--method` accepts, by name. A new method is one entry here.</summary>
internal static class MethodCatalog
{
    public static IReadOnlyList<string> Names => new[] { "scorecam", "gradcam", "gradcam++", "xgradcam", "layercam" };

    /// <summary>RISE: its saliency is not a channel-weighted map, so it is no <see cref="CamMethod"/> and is built here apart.</summary>
    public const string Rise = "rise";

    public static bool IsRise(string name) => name.Equals(Rise, StringComparison.OrdinalIgnoreCase);

    public static RiseMethod CreateRise(MethodSettings s, int masks, int seed) =>
        s.Batch < 1 ? throw new UsageException($"--batch must be at least 1; got {s.Batch}.")
        : new RiseMethod(new RiseOptions { Masks = masks, Seed = seed, BatchSize = s.Batch });

    public static CamMethod Create(string name, MethodSettings s)
    {
        if (s.Batch < 1) throw new UsageException($"--batch must be at least 1; got {s.Batch}.");
        return name.ToLowerInvariant() switch
        {
            "scorecam" or "score-cam" => new ScoreCamMethod(new ScoreCamOptions
            {
                BatchSize = s.Batch,
                MaxChannels = s.Channels is null or > 0 ? s.Channels : throw new UsageException($"--channels must be at least 1; got {s.Channels}."),
                ChannelRanking = s.Ranking.ToLowerInvariant() switch
                {
                    "variance" => ChannelRanking.Variance,
                    "mean" => ChannelRanking.Mean,
                    _ => throw new UsageException($"--channel-ranking must be variance or mean; got '{s.Ranking}'."),
                },
                Variant = s.Variant.ToLowerInvariant() switch
                {
                    "paper" => ScoreCamVariant.Paper,
                    "pytorch-grad-cam" => ScoreCamVariant.PytorchGradCam,
                    "torch-cam" => ScoreCamVariant.TorchCam,
                    _ => throw new UsageException($"--variant must be paper, pytorch-grad-cam or torch-cam; got '{s.Variant}'."),
                },
                Masks = s.Masks.ToLowerInvariant() switch
                {
                    "normalized" => MaskMode.Normalized,
                    "binarized" => MaskMode.Binarized,
                    _ => throw new UsageException($"--masks must be normalized or binarized; got '{s.Masks}'."),
                },
                Scores = s.Scores.ToLowerInvariant() switch
                {
                    "probability" => ScoreMode.Probability,
                    "raw" => ScoreMode.RawScore,
                    _ => throw new UsageException($"--scores must be probability or raw; got '{s.Scores}'."),
                },
            }),
            "gradcam" or "grad-cam" => new GradCamMethod(),
            "gradcam++" or "grad-cam++" or "gradcampp" => new GradCamPlusPlusMethod(),
            "xgradcam" or "xgrad-cam" => new XGradCamMethod(),
            "layercam" => new LayerCamMethod(),
            Rise => throw new UsageException("rise is not a class-activation-map method; `scorecam explain --method rise` and `scorecam evaluate --methods rise` run it."),
            _ => throw new UsageException($"--method must be one of {string.Join(", ", Names)}; got '{name}'."),
        };
    }
}
