using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Detectors;

/// <summary>
/// Reads a detector's output (one item's values, C order) in its <see cref="DetectionLayout"/>: each proposal's box,
/// objectness and class scores, and the detections after confidence filtering and non-maximum suppression.
/// </summary>
public sealed class DetectionHead
{
    private DetectionHead(DetectionLayout layout, int proposals, int classes) => (Layout, Proposals, Classes) = (layout, proposals, classes);

    public DetectionLayout Layout { get; }
    /// <summary>N, the proposals the output holds.</summary>
    public int Proposals { get; }
    /// <summary>C, the classes each proposal scores (1 for the end-to-end layout, whose class is a number: see <see cref="ClassScore"/>).</summary>
    public int Classes { get; }

    /// <summary>The head of <paramref name="model"/>'s scored output, in <paramref name="layout"/> or the one its shape shows.</summary>
    public static DetectionHead For(PreparedModel model, DetectionLayout? layout = null, int? classes = null)
    {
        if (model.OutputName == SuppressedDetections.OutputName)
        {
            if (layout is { } named && named != DetectionLayout.BoxesScoresLabels)
                throw new ScoreCamException(
                    $"Model '{model.Source}' runs non-maximum suppression inside its graph and outputs boxes, scores and labels, not the {named} layout; leave the layout unnamed.");
            return Suppressed;
        }
        if (SuppressedDetections.Suppression(model.Proto.Graph) is { } nms)
            throw new ScoreCamException(
                $"Model '{model.Source}' runs non-maximum suppression inside its graph (node '{nms.Name}'), and its scored output '{model.OutputName}' is not " +
                "its detections: this library reads such a graph's outputs boxes K×4 (x0, y0, x1, y1), scores K and labels K (torchvision's), which it " +
                "did not find. Prepare the model without naming another output, or export the raw head instead (ultralytics: export(format='onnx', " +
                "nms=False); torchvision: the model's head outputs before postprocess_detections), which this library decodes and suppresses itself.");
        return For(model.OutputShape, layout, model.OutputName, classes);
    }

    /// <summary>The head of the detections preparation gathers from a graph with suppression inside (<see cref="SuppressedDetections"/>).</summary>
    internal static DetectionHead Suppressed { get; } = new(DetectionLayout.BoxesScoresLabels, SuppressedDetections.Rows, 1);

    /// <summary>The head of an output of shape <paramref name="shape"/> (after the batch dimension).</summary>
    public static DetectionHead For(IReadOnlyList<int> shape, DetectionLayout? layout, string outputName, int? classes = null)
    {
        string dims = string.Join("×", shape);
        ScoreCamException Refuse(string why) => new(
            $"Output '{outputName}' ({dims} per image) {why}. A detector's output is 4+C × N (YOLOv8/v11), N × 5+C (YOLOv5) or N × 6 " +
            "(end-to-end: x0, y0, x1, y1, score, class); name the layout where the shape is ambiguous, or prepare the model with its detection output.");
        if (shape.Count != 2) throw Refuse("is not a matrix of proposals");
        int a = shape[0], b = shape[1];
        DetectionLayout chosen = layout ?? (a < b ? DetectionLayout.YoloV8
            : b == 6 ? throw Refuse("is ambiguous: it could be YOLOv5 with one class or an end-to-end output")
            : DetectionLayout.YoloV5);
        var head = chosen switch
        {
            DetectionLayout.YoloV8 when a >= 5 => new DetectionHead(chosen, b, a - 4),
            DetectionLayout.YoloV5 when b >= 6 => new DetectionHead(chosen, a, b - 5),
            DetectionLayout.EndToEnd when b == 6 => new DetectionHead(chosen, a, 1),
            DetectionLayout.BoxesScoresLabels => throw Refuse("is not the detections of a graph with suppression inside, which preparation gathers from its outputs boxes, scores and labels"),
            _ => throw Refuse($"does not have the {chosen} layout's shape"),
        };
        if (classes is { } c && chosen != DetectionLayout.EndToEnd && c != head.Classes)
            throw Refuse($"scores {head.Classes} classes in the {chosen} layout, but the labels name {c}");
        return head;
    }

    /// <summary>True where each row is one detection (x0, y0, x1, y1, score, class): the end-to-end layout and a graph's suppressed detections.</summary>
    internal bool OneClassPerRow => Layout is DetectionLayout.EndToEnd or DetectionLayout.BoxesScoresLabels;

    /// <summary>Index in the output of feature <paramref name="feature"/> of proposal <paramref name="j"/> (the layout's column or row order).</summary>
    internal int IndexOf(int j, int feature) => Layout switch
    {
        DetectionLayout.YoloV8 => feature * Proposals + j,
        DetectionLayout.YoloV5 => j * (5 + Classes) + feature,
        _ => j * 6 + feature,
    };

    /// <summary>Where proposal j's first class score is (feature index), and its objectness (-1: none).</summary>
    internal int ClassFeature => Layout == DetectionLayout.YoloV5 ? 5 : 4;
    internal int ObjectnessFeature => Layout == DetectionLayout.YoloV5 || OneClassPerRow ? 4 : -1;

    public DetectionBox Box(ReadOnlySpan<float> v, int j)
    {
        float a = v[IndexOf(j, 0)], b = v[IndexOf(j, 1)], c = v[IndexOf(j, 2)], d = v[IndexOf(j, 3)];
        return OneClassPerRow ? new DetectionBox(a, b, c, d) : DetectionBox.FromCenter(a, b, c, d);
    }

    /// <summary>Objectness of proposal <paramref name="j"/>: YOLOv5's, the end-to-end score, 1 where the layout has none (YOLOv8).</summary>
    public float Objectness(ReadOnlySpan<float> v, int j) => ObjectnessFeature < 0 ? 1f : v[IndexOf(j, ObjectnessFeature)];

    /// <summary>
    /// Class <paramref name="c"/>'s score of proposal <paramref name="j"/>; in the end-to-end layout, whose proposals carry one class
    /// (its score is the objectness), 1 for that class and 0 for the others.
    /// </summary>
    public float ClassScore(ReadOnlySpan<float> v, int j, int c) =>
        OneClassPerRow ? ((int)MathF.Round(v[IndexOf(j, 5)]) == c ? 1f : 0f) : v[IndexOf(j, ClassFeature + c)];

    /// <summary>The proposal's class and confidence: the best class score, times the objectness for YOLOv5, the score end-to-end.</summary>
    public (int Class, float Confidence) Best(ReadOnlySpan<float> v, int j)
    {
        if (OneClassPerRow) return ((int)MathF.Round(v[IndexOf(j, 5)]), v[IndexOf(j, 4)]);
        int best = 0;
        for (int c = 1; c < Classes; c++)
            if (ClassScore(v, j, c) > ClassScore(v, j, best)) best = c;
        return (best, ClassScore(v, j, best) * Objectness(v, j));
    }

    /// <summary>
    /// The detections of one output: proposals whose confidence is at least <paramref name="confidence"/>, then greedy
    /// non-maximum suppression per class (a proposal is dropped when it overlaps a kept one of its class by IoU above
    /// <paramref name="iou"/>; not for <see cref="DetectionLayout.BoxesScoresLabels"/>, suppressed by the graph), by
    /// decreasing confidence, at most <paramref name="max"/>.
    /// </summary>
    public IReadOnlyList<Detection> Detect(ReadOnlySpan<float> v, float confidence = 0.25f, float iou = 0.7f, int max = 300)
    {
        if (v.Length != Proposals * (Layout switch { DetectionLayout.YoloV8 => 4 + Classes, DetectionLayout.YoloV5 => 5 + Classes, _ => 6 }))
            throw new ArgumentException($"Expected one item's output ({Proposals} proposals in the {Layout} layout); got {v.Length} values.", nameof(v));
        if (Layout == DetectionLayout.BoxesScoresLabels && v[IndexOf(Proposals - 1, 4)] != SuppressedDetections.Empty)
            throw new ScoreCamException(
                $"The model returned more detections than the {Proposals} this library gathers from its outputs boxes, scores and labels; " +
                "export it with fewer detections per image (torchvision: detections_per_img).");
        var candidates = new List<Detection>();
        for (int j = 0; j < Proposals; j++)
        {
            var (c, score) = Best(v, j);
            if (score >= confidence) candidates.Add(new Detection(j, Box(v, j), c, score));
        }
        // Stable order on ties: the lower proposal index first.
        candidates.Sort((x, y) => y.Confidence != x.Confidence ? y.Confidence.CompareTo(x.Confidence) : x.Proposal.CompareTo(y.Proposal));
        var kept = new List<Detection>();
        foreach (Detection d in candidates)
        {
            if (kept.Count == max) break;
            // The graph's own suppression has run on its detections already.
            if (Layout == DetectionLayout.BoxesScoresLabels || !kept.Any(k => k.ClassIndex == d.ClassIndex && k.Box.IoU(d.Box) > iou)) kept.Add(d);
        }
        return kept;
    }
}
