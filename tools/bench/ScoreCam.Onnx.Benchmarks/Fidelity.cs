using System.Diagnostics;
using System.Text.Json;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Benchmarks;

/// <summary>
/// Speed against fidelity of Score-CAM's channel selection (top-k channels by variance): for k = K, K/2, K/4, K/8,
/// K/16, the Spearman correlation of each map with full Score-CAM's, the energy-based pointing game on the set's
/// boxes, and the median time per explanation. Usage: fidelity MODEL.onnx SET_DIR [LIMIT=100] [RANKING=variance]
/// [--similar-to self|PICTURE] [--preprocess FILE.json]. With --similar-to the target is the cosine similarity of the
/// model's output to the picture's own embedding (self) or to PICTURE's, for a model without a class head; the
/// set's classes are then unused. --preprocess reads the preprocessing in the sidecar format.
/// </summary>
internal static class Fidelity
{
    public static int Run(string[] args)
    {
        string? similarTo = ToolArgs.Option(ref args, "--similar-to"), preprocess = ToolArgs.Option(ref args, "--preprocess");
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: fidelity MODEL.onnx SET_DIR [LIMIT=100] [RANKING=variance|mean] [--similar-to self|PICTURE] [--preprocess FILE.json]");
            return 2;
        }
        int limit = args.Length > 2 ? int.Parse(args[2]) : 100;
        var ranking = args.Length > 3 && args[3] == "mean" ? ChannelRanking.Mean : ChannelRanking.Variance;
        using var explainer = CamExplainer.Open(args[0], new ExplainerOptions
        {
            Preprocess = preprocess is null ? null : JsonSerializer.Deserialize<PreprocessOptions>(File.ReadAllText(preprocess), PreprocessOptions.JsonOptions),
        });
        ExplanationTarget? reference = similarTo is null or "self" ? null
            : SimilarityTarget.Cosine(explainer.Embed(explainer.Preprocess(explainer.LoadImage(similarTo))), Path.GetFileName(similarTo));
        AnnotatedSet set = AnnotatedSet.Read(args[1]);
        var images = set.Images.Take(limit).ToList();
        int channels = explainer.Model.Layer.Channels;
        int[] ks = { channels, channels / 2, channels / 4, channels / 8, channels / 16 };

        var full = new Dictionary<string, Explanation>();
        Console.WriteLine($"model {args[0]}, layer {explainer.Model.Layer}, {images.Count} images of {args[1]}, ranking {ranking}, " +
            $"target {(similarTo is null ? "the annotated class" : $"cosine similarity to {similarTo}")}");
        Console.WriteLine("     k  spearman_vs_full  energy_pointing_game  median_ms  forward_passes");
        foreach (int k in ks)
        {
            var method = new ScoreCamMethod(new ScoreCamOptions { MaxChannels = k, ChannelRanking = ranking });
            var rho = new List<double>(); var energy = new List<double>(); var ms = new List<double>(); var passes = new List<double>();
            var perImage = new List<string>();
            foreach (AnnotatedImage image in images)
            {
                using var picture = explainer.LoadImage(Path.Combine(set.Folder, image.File));
                ImageTensor input = explainer.Preprocess(picture);
                AnnotatedItem item = image.Items[0];
                ExplanationTarget target = similarTo is null ? ExplanationTarget.Class(item.ClassIndex)
                    : reference ?? SimilarityTarget.Cosine(explainer.Embed(input), "self");
                var clock = Stopwatch.StartNew();
                Explanation e = explainer.Explain(input, target, method);
                ms.Add(clock.Elapsed.TotalMilliseconds);
                passes.Add(e.ForwardPasses);
                if (k == channels) full[image.File] = e;
                rho.Add(RankCorrelation.Spearman(e.Heatmap.Values, full[image.File].Heatmap.Values));
                var box = item.Box.ToInput(picture.Width, picture.Height, input.Width, input.Height);
                energy.Add(EnergyPointingGame.Score(e.Heatmap, box));
                if (images.Count <= 10) perImage.Add($"{image.File}: rho {rho[^1]:0.000}, energy {energy[^1]:0.000} (box {box.Width * box.Height / (double)(input.Width * input.Height):0.00} of the picture)");
            }
            Console.WriteLine($"{k,6}  {rho.Average(),16:0.0000}  {energy.Average(),20:0.0000}  {ToolArgs.Median(ms),9:0.0}  {passes.Average(),14:0.0}");
            foreach (string line in perImage) Console.WriteLine($"        {line}");
        }
        return 0;
    }
}
