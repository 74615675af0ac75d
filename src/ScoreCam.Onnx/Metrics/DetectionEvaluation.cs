using System.Diagnostics;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Metrics;

/// <summary>
/// A detector over an annotated set, one row per annotated item and method: the item's detection (its ground-truth box
/// and class, as D-RISE's reference detection) is explained, and the paper's energy-based pointing game (section 5.1.2)
/// is measured inside the item's own box, with the share of the energy that falls on the other items' boxes. The row
/// also says how well the model found the item: the best IoU of its detections of that class.
/// </summary>
public sealed class DetectionEvaluation(IReadOnlyList<IExplanationMethod> methods, DetectionTarget template)
{
    public IReadOnlyList<IExplanationMethod> Methods { get; } = methods;
    /// <summary>The scoring, layout and thresholds of every item's target (its box and class are the item's).</summary>
    public DetectionTarget Template { get; } = template;
    /// <summary>Detections the model must reach to count as found (with <see cref="DetectionRow.DetectedIou"/>).</summary>
    public float Confidence { get; init; } = 0.25f;
    public float SuppressionIou { get; init; } = 0.7f;

    /// <summary>The rows of one picture of <paramref name="set"/>: every item with every method, the methods' passes shared across its items.</summary>
    public IReadOnlyList<DetectionRow> Evaluate(CamExplainer explainer, AnnotatedSet set, AnnotatedImage image, CancellationToken cancellationToken = default)
    {
        if (image.Items.Count == 0) return Array.Empty<DetectionRow>();
        using Image<Rgb24> picture = explainer.LoadImage(Path.Combine(set.Folder, image.File));
        ImageTensor input = explainer.Preprocess(picture);
        BoundingBox ToInput(AnnotatedItem item) => input.SourceRegion is { } region ? item.Box.ToInput(region, input.Width, input.Height)
            : item.Box.ToInput(picture.Width, picture.Height, input.Width, input.Height);
        var boxes = image.Items.Select(ToInput).ToList();
        UnmaskedPass pass = explainer.Forward(input);
        DetectionHead head = DetectionHead.For(explainer.Model, Template.Layout);
        IReadOnlyList<Detection> found = head.Detect(pass.Scores, Confidence, SuppressionIou);
        var targets = image.Items.Select((item, i) => (ExplanationTarget)(Template with
        {
            Box = new DetectionBox(boxes[i].X0, boxes[i].Y0, boxes[i].X1, boxes[i].Y1),
            ClassIndex = item.ClassIndex,
        })).ToList();
        var rows = new List<DetectionRow>();
        foreach (IExplanationMethod method in Methods)
        {
            var clock = Stopwatch.StartNew();
            IReadOnlyList<Explanation> explanations = explainer.ExplainTargets(pass, targets, method, null, cancellationToken);
            double seconds = clock.Elapsed.TotalSeconds / targets.Count;
            for (int i = 0; i < targets.Count; i++)
            {
                SaliencyMap map = explanations[i].Heatmap;
                var others = boxes.Where((_, j) => j != i).ToList();
                var own = new DetectionBox(boxes[i].X0, boxes[i].Y0, boxes[i].X1, boxes[i].Y1);
                float detected = found.Where(d => d.ClassIndex == image.Items[i].ClassIndex).Select(d => d.Box.IoU(own)).DefaultIfEmpty(0).Max();
                rows.Add(new DetectionRow(image.File, i, image.Items[i].ClassIndex, method.Name, explanations[i].Target.Score,
                    EnergyPointingGame.Score(map, boxes[i]), others.Count == 0 ? null : EnergyPointingGame.Score(map, others), detected,
                    explanations[i].ForwardPasses, seconds));
            }
        }
        return rows;
    }
}
