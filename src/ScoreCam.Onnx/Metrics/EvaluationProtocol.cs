using System.Diagnostics;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// The evaluation over an annotated set: each image is explained for each of its annotated classes by each method,
/// and the metrics use that class's boxes mapped to input pixels (through the preprocessing's crop when there is
/// one). A row is correctly classified when its class is among the model's top-m predictions, m the number of
/// distinct classes annotated in the image (top-1 for single-object images); misclassified rows are kept and
/// marked, and <see cref="Summarize"/> leaves them out of the means. Rows already known (an earlier run's
/// <see cref="EvaluationCsv"/>) with every requested metric are reused, not recomputed.
/// </summary>
public sealed class EvaluationProtocol
{
    public EvaluationProtocol(IReadOnlyList<IExplanationMethod> methods, IReadOnlyList<string> metrics, CausalMetricOptions? causal = null)
    {
        if (methods.Count == 0) throw new ArgumentException("Name at least one method.", nameof(methods));
        foreach (string m in metrics)
            if (!EvaluationMetric.Known.Contains(m))
                throw new ArgumentException($"Unknown metric '{m}'; the metrics are {string.Join(", ", EvaluationMetric.Known)}.", nameof(metrics));
        (Methods, Metrics, Causal) = (methods, metrics, causal ?? new CausalMetricOptions());
    }

    public IReadOnlyList<IExplanationMethod> Methods { get; }
    public IReadOnlyList<string> Metrics { get; }
    public CausalMetricOptions Causal { get; }

    /// <summary>The default metrics of a set: <see cref="EvaluationMetric.All"/>, plus the multi-object ones where the set has such images.</summary>
    public static IReadOnlyList<string> DefaultMetrics(AnnotatedSet set)
    {
        var names = EvaluationMetric.All.ToList();
        if (set.Images.Any(i => i.Items.Select(item => item.ClassIndex).Distinct().Count() > 1)) names.Add(EvaluationMetric.OtherClassesEnergy);
        if (set.Images.Any(i => i.Items.GroupBy(item => item.ClassIndex).Any(g => g.Count() > 1))) names.Add(EvaluationMetric.WeakestBoxEnergy);
        return names;
    }

    /// <summary>
    /// Evaluates <paramref name="images"/> of <paramref name="set"/>. <paramref name="known"/> holds reusable rows by
    /// <see cref="EvaluationRow.Key"/>; <paramref name="imageDone"/> is called after each image with the rows so far
    /// (to save them), <paramref name="imageStarted"/> before each with its index; <paramref name="progress"/> gets
    /// each explanation's passes.
    /// </summary>
    public List<EvaluationRow> Run(CamExplainer explainer, AnnotatedSet set, IReadOnlyList<AnnotatedImage> images,
        IReadOnlyDictionary<string, EvaluationRow>? known = null, Action<int, AnnotatedImage>? imageStarted = null,
        Action<IReadOnlyList<EvaluationRow>>? imageDone = null, IProgress<ExplanationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        known ??= new Dictionary<string, EvaluationRow>();
        var rows = new List<EvaluationRow>();
        bool Reusable(string image, string method, int c, out EvaluationRow row) =>
            known.TryGetValue(EvaluationRow.KeyOf(image, method, c), out row!) && Metrics.All(row.Metrics.ContainsKey);

        for (int i = 0; i < images.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            AnnotatedImage entry = images[i];
            imageStarted?.Invoke(i, entry);
            var classes = entry.Items.Select(item => item.ClassIndex).Distinct().ToList();
            if (classes.All(c => Methods.All(m => Reusable(entry.File, m.Name, c, out _))))
            {
                rows.AddRange(classes.SelectMany(c => Methods.Select(m => known[EvaluationRow.KeyOf(entry.File, m.Name, c)])));
                continue;
            }

            using Image<Rgb24> picture = explainer.LoadImage(Path.Combine(set.Folder, entry.File));
            ImageTensor input = explainer.Preprocess(picture);
            float[] probabilities = explainer.Probabilities(input);
            int[] ranking = Enumerable.Range(0, probabilities.Length).OrderByDescending(k => probabilities[k]).ThenBy(k => k).ToArray();
            foreach (int c in classes)
            {
                BoundingBox ToInput(AnnotatedItem item) => input.SourceRegion is { } region ? item.Box.ToInput(region, input.Width, input.Height)
                    : item.Box.ToInput(picture.Width, picture.Height, input.Width, input.Height);
                var boxes = entry.Items.Where(item => item.ClassIndex == c).Select(ToInput).ToList();
                var otherBoxes = entry.Items.Where(item => item.ClassIndex != c).Select(ToInput).ToList();
                string? label = entry.Items.First(item => item.ClassIndex == c).Label
                    ?? (explainer.Labels is { } labels && c < labels.Count ? labels[c] : null);
                bool correct = ranking.Take(classes.Count).Contains(c);
                foreach (IExplanationMethod method in Methods)
                {
                    if (Reusable(entry.File, method.Name, c, out EvaluationRow cached))
                    {
                        rows.Add(cached);
                        continue;
                    }
                    var clock = Stopwatch.StartNew();
                    Explanation e = explainer.Explain(input, ExplanationTarget.Class(c), method, progress, cancellationToken);
                    double seconds = clock.Elapsed.TotalSeconds;
                    var values = EvaluationMetric.Compute(explainer.Runner, input, e.Heatmap, c, boxes, Metrics, Causal, otherBoxes, cancellationToken);
                    rows.Add(new EvaluationRow(entry.File, method.Name, c, label ?? "", ranking[0], correct, values, seconds));
                }
            }
            imageDone?.Invoke(rows);
        }
        return rows;
    }

    /// <summary>Mean and 95% interval per method and metric over the correctly classified rows.</summary>
    public static Dictionary<string, Dictionary<string, MeanInterval>> Summarize(IReadOnlyList<EvaluationRow> rows, IEnumerable<string> methods,
        IEnumerable<string> metrics) =>
        methods.ToDictionary(m => m, m => metrics.ToDictionary(metric => metric,
            metric => MeanInterval.Of(rows.Where(r => r.Method == m && r.Correct && r.Metrics.ContainsKey(metric)).Select(r => r.Metrics[metric]))));
}
