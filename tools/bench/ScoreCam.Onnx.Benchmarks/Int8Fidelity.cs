using System.Globalization;
using System.Text.Json;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Metrics;

namespace ScoreCam.Onnx.Benchmarks;

/// <summary>
/// Fidelity of int8 masked passes against float32: full Score-CAM (every channel) of each picture of an annotated set
/// in float32 and with <see cref="InferenceOptions.Int8"/> calibrated min-max and percentile (each picture calibrates
/// its own copy, the library's default). Per picture: the Spearman correlation of the display heatmaps, the largest
/// difference of the h×w maps after each is divided by its maximum, the masked passes' target score error (the
/// channel weights: softmax probabilities, or similarities with --similar-to), and the pointing game and energy in
/// the box of each map. Usage: int8-fidelity MODEL.onnx SET_DIR [LIMIT=100] [--top] [--similar-to self]
/// [--preprocess FILE.json] [--json OUT.json]. --top explains the top prediction instead of the set's class (for
/// models whose classes are not the set's).
/// </summary>
internal static class Int8Fidelity
{
    public static int Run(string[] args)
    {
        string? similarTo = ToolArgs.Option(ref args, "--similar-to"), preprocess = ToolArgs.Option(ref args, "--preprocess"),
            json = ToolArgs.Option(ref args, "--json");
        bool top = args.Contains("--top");
        args = args.Where(a => a != "--top").ToArray();
        if (args.Length < 2 || similarTo is not (null or "self"))
        {
            Console.Error.WriteLine("usage: int8-fidelity MODEL.onnx SET_DIR [LIMIT=100] [--top] [--similar-to self] [--preprocess FILE.json] [--json OUT.json]");
            return 2;
        }
        int limit = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 100;
        PreprocessOptions? pre = preprocess is null ? null
            : JsonSerializer.Deserialize<PreprocessOptions>(File.ReadAllText(preprocess), PreprocessOptions.JsonOptions);
        CamExplainer Open(Int8Options? int8) => CamExplainer.Open(args[0], new ExplainerOptions
        {
            Preprocess = pre,
            Inference = new InferenceOptions { Int8 = int8 },
            Method = new ScoreCamMethod(),
        });
        using var full = Open(null);
        var variants = new (string Name, CamExplainer Explainer)[]
        {
            ("min-max", Open(new Int8Options { Method = CalibrationMethod.MinMax })),
            ("percentile", Open(new Int8Options { Method = CalibrationMethod.Percentile })),
        };
        AnnotatedSet set = AnnotatedSet.Read(args[1]);
        var images = set.Images.Take(limit).ToList();
        Console.WriteLine($"model {args[0]}, layer {full.Model.Layer}, {images.Count} pictures of {args[1]}, target " +
            (similarTo is not null ? "cosine similarity to the picture's own embedding" : top ? "the top prediction" : "the annotated class"));
        var rows = new List<Dictionary<string, object>>();
        var hitsFull = new List<bool>();
        var energyFull = new List<double>();
        var stats = variants.ToDictionary(v => v.Name, _ => new List<(double Rho, double MaxDiff, double MeanError, double MaxError, bool Hit, double Energy)>());
        foreach (AnnotatedImage image in images)
        {
            using var picture = full.LoadImage(Path.Combine(set.Folder, image.File));
            ImageTensor input = full.Preprocess(picture);
            AnnotatedItem item = image.Items[0];
            ExplanationTarget target = similarTo is not null ? SimilarityTarget.Cosine(full.Embed(input), "self")
                : top ? ExplanationTarget.TopPrediction : ExplanationTarget.Class(item.ClassIndex);
            var box = item.Box.ToInput(picture.Width, picture.Height, input.Width, input.Height);
            Explanation a = full.Explain(input, target);
            bool hitA = PointingGame.Hit(a.Heatmap, box);
            double energyA = EnergyPointingGame.Score(a.Heatmap, box);
            hitsFull.Add(hitA);
            energyFull.Add(energyA);
            foreach (var (name, explainer) in variants)
            {
                Explanation b = explainer.Explain(input, target);
                double rho = RankCorrelation.Spearman(a.Heatmap.Values, b.Heatmap.Values);
                float maxA = a.Map.Values.Max(), maxB = b.Map.Values.Max();
                double maxDiff = maxA > 0 && maxB > 0 ? a.Map.Values.Zip(b.Map.Values).Max(p => Math.Abs(p.First / maxA - p.Second / maxB)) : double.NaN;
                var errors = a.ChannelWeights.Zip(b.ChannelWeights).Where(p => !float.IsNaN(p.First) && !float.IsNaN(p.Second))
                    .Select(p => (double)Math.Abs(p.First - p.Second)).ToList();
                bool hitB = PointingGame.Hit(b.Heatmap, box);
                double energyB = EnergyPointingGame.Score(b.Heatmap, box);
                stats[name].Add((rho, maxDiff, errors.Average(), errors.Max(), hitB, energyB));
                rows.Add(new Dictionary<string, object>
                {
                    ["picture"] = image.File, ["calibration"] = name, ["passes"] = a.ForwardPasses, ["spearman"] = Math.Round(rho, 5),
                    ["max_difference_after_max"] = Math.Round(maxDiff, 5), ["score_error_mean"] = Math.Round(errors.Average(), 6),
                    ["score_error_max"] = Math.Round(errors.Max(), 6), ["pointing_hit_fp32"] = hitA, ["pointing_hit_int8"] = hitB,
                    ["energy_fp32"] = Math.Round(energyA, 4), ["energy_int8"] = Math.Round(energyB, 4),
                    ["unmasked_probability"] = Math.Round(a.Target.Score, 5),
                });
                Console.WriteLine($"  {image.File,-24} {name,-10} rho {rho:0.0000}  max diff {maxDiff:0.0000}  score error mean {errors.Average():0.00000} max {errors.Max():0.00000}  hit {hitA}/{hitB}  energy {energyA:0.000}/{energyB:0.000}");
            }
        }
        Console.WriteLine("calibration  spearman(median, min)  max_diff(median, max)  score_error(mean of means, max)  pointing_game fp32 -> int8  energy fp32 -> int8");
        foreach (var (name, s) in stats)
            Console.WriteLine($"{name,-11}  {ToolArgs.Median(s.Select(x => x.Rho).ToList()),8:0.0000} {s.Min(x => x.Rho),8:0.0000}  " +
                $"{ToolArgs.Median(s.Select(x => x.MaxDiff).ToList()),10:0.0000} {s.Max(x => x.MaxDiff),8:0.0000}  " +
                $"{s.Average(x => x.MeanError),14:0.00000} {s.Max(x => x.MaxError),10:0.00000}  " +
                $"{hitsFull.Count(h => h) / (double)hitsFull.Count,6:0.000} -> {s.Count(x => x.Hit) / (double)s.Count:0.000}  " +
                $"{energyFull.Average(),6:0.0000} -> {s.Average(x => x.Energy):0.0000}");
        if (json is not null) File.WriteAllText(json, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
        foreach (var (_, explainer) in variants) explainer.Dispose();
        return 0;
    }
}
