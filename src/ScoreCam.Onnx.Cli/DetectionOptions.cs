using System.CommandLine;
using System.Globalization;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// The flags that choose what of a detector to explain: every detection at or above --confidence (the default), the
/// detections --detection names, or a --box with a --target class; each explained with the detection target.
/// </summary>
internal sealed class DetectionOptions
{
    public Option<int[]> Detection { get; } = new("--detection")
    {
        Description = "Detector: explain detection N (0: the most confident after suppression; see the listing explain prints). Repeatable. Default: every detection at or above --confidence.",
        AllowMultipleArgumentsPerToken = true,
    };
    public Option<string?> Box { get; } = new("--box") { Description = "Detector: explain this box x0,y0,x1,y1 (input pixels) with the class --target names (D-RISE's reference detection)." };
    public Option<float> Confidence { get; } = new("--confidence") { Description = "Detector: the confidence a detection needs. Default: 0.25.", DefaultValueFactory = _ => 0.25f };
    public Option<float> Iou { get; } = new("--iou") { Description = "Detector: suppression drops a box overlapping a more confident one of its class by more than this IoU. Default: 0.7.", DefaultValueFactory = _ => 0.7f };
    public Option<string?> Layout { get; } = new("--layout")
    {
        Description = "Detector output layout: yolov8 (4+C × N, also v11), yolov5 (N × 5+C) or end-to-end (N × 6: x0,y0,x1,y1,score,class). Default: told by the output's shape.",
    };
    public Option<string> Scoring { get; } = new("--detection-score")
    {
        Description = "Detector: d-rise (max over proposals of IoU × objectness × class cosine, Petsiuk et al. 2021) or box-score (pytorch-grad-cam's: IoU + confidence of the best-overlapping proposal of the class, above --box-iou).",
        DefaultValueFactory = _ => "d-rise",
    };
    public Option<float> BoxIou { get; } = new("--box-iou") { Description = "With --detection-score box-score: the IoU a proposal must exceed. Default: 0.5.", DefaultValueFactory = _ => 0.5f };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Detection, Box }) command.Options.Add(o);
        AddScoringTo(command);
    }

    /// <summary>The flags of how detections are found and scored, without those that choose them (evaluate explains the annotated items).</summary>
    public void AddScoringTo(Command command)
    {
        foreach (Option o in new Option[] { Confidence, Iou, Layout, Scoring, BoxIou }) command.Options.Add(o);
    }

    /// <summary>
    /// The detector's head for <paramref name="explainer"/>'s model and the settings of its detection targets, or null
    /// when the model is no detector and no detector flag was given.
    /// </summary>
    public (DetectionHead Head, DetectionTarget Template, float Confidence, float Iou)? Detector(ParseResult r, CamExplainer explainer)
    {
        DetectionLayout? layout = ParseLayout(r.GetValue(Layout));
        DetectionHead head;
        try
        {
            head = DetectionHead.For(explainer.Model, layout);
        }
        catch (ScoreCamException) when (!Given(r) && explainer.Model.OutputShape.Count != 2)
        {
            return null; // a classifier
        }
        float confidence = r.GetValue(Confidence), iou = r.GetValue(Iou), boxIou = r.GetValue(BoxIou);
        if (!(confidence is >= 0 and <= 1)) throw new UsageException($"--confidence must be between 0 and 1; got {confidence}.");
        if (!(iou is >= 0 and <= 1)) throw new UsageException($"--iou must be between 0 and 1; got {iou}.");
        if (!(boxIou is >= 0 and < 1)) throw new UsageException($"--box-iou must be from 0 to below 1; got {boxIou}.");
        DetectionScoring scoring = r.GetValue(Scoring)!.ToLowerInvariant() switch
        {
            "d-rise" => DetectionScoring.DRise,
            "box-score" => DetectionScoring.BoxScore,
            var other => throw new UsageException($"--detection-score must be d-rise or box-score; got '{other}'."),
        };
        var template = new DetectionTarget(new DetectionBox(0, 0, 1, 1), 0) { Scoring = scoring, IouThreshold = boxIou, Confidence = confidence, Layout = layout };
        return (head, template, confidence, iou);
    }

    /// <summary>Whether any detector flag was given.</summary>
    public bool Given(ParseResult r) => new Option[] { Detection, Box, Confidence, Iou, Layout, Scoring, BoxIou }.Any(o => r.GetResult(o) is { Implicit: false });

    /// <summary>
    /// The detector's choice for <paramref name="explainer"/>'s model, or null when the model is no detector and no
    /// detector flag was given (a classifier). <paramref name="targetClass"/> is --target's value.
    /// </summary>
    public DetectorChoice? Choose(ParseResult r, CamExplainer explainer, string? targetClass)
    {
        if (Detector(r, explainer) is not var (head, template, confidence, iou)) return null;
        int[] chosen = r.GetValue(Detection) ?? Array.Empty<int>();
        DetectionBox? box = r.GetValue(Box) is { } text ? DetectionBox.Parse(text) : null;
        if (box is not null && chosen.Length > 0) throw new UsageException("--box names the detection to explain; leave out --detection.");
        if (box is not null && targetClass is null) throw new UsageException("--box needs --target CLASS (an index or a label): the class of the reference detection.");
        if (box is null && targetClass is not null) throw new UsageException("For a detector --target names the class of a --box; choose detections with --detection N.");
        int? boxClass = box is null ? null : ClassOf(targetClass!, explainer.Labels);
        return new DetectorChoice(head, chosen, box, boxClass, confidence, iou, template);
    }

    private static int ClassOf(string text, IReadOnlyList<string>? labels)
    {
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index)) return index;
        if (labels is null) throw new UsageException($"--target '{text}' is a label, but the model has no labels file. Pass --labels FILE or a class index.");
        int found = labels.ToList().FindIndex(l => string.Equals(l, text, StringComparison.OrdinalIgnoreCase));
        return found >= 0 ? found : throw new UsageException($"--target '{text}' is not among the labels ({string.Join(", ", labels.Take(5))}, ...).");
    }

    private static DetectionLayout? ParseLayout(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        "yolov8" or "yolov11" => DetectionLayout.YoloV8,
        "yolov5" => DetectionLayout.YoloV5,
        "end-to-end" => DetectionLayout.EndToEnd,
        var other => throw new UsageException($"--layout must be yolov8, yolov5 or end-to-end; got '{other}'."),
    };
}

/// <summary>What of a detector's output to explain, for each input: its targets, each with a name for its files.</summary>
internal sealed record DetectorChoice(DetectionHead Head, int[] Chosen, DetectionBox? Box, int? BoxClass, float Confidence, float Iou, DetectionTarget Template)
{
    /// <summary>The detections of <paramref name="input"/> after suppression, most confident first.</summary>
    public IReadOnlyList<Detection> Detect(PictureInput input) => Head.Detect(input.Pass.Scores, Confidence, Iou);

    /// <summary>The targets for <paramref name="input"/>, each with its file suffix ("d0", "box").</summary>
    public IReadOnlyList<(ExplanationTarget Target, string Suffix)> Targets(PictureInput input)
    {
        ExplanationTarget With(DetectionBox box, int c) => Template with { Box = box, ClassIndex = c };
        if (Box is { } box) return new[] { (With(box, BoxClass!.Value), "box") };
        IReadOnlyList<Detection> found = Detect(input);
        if (Chosen.Length == 0) return found.Select((d, i) => (With(d.Box, d.ClassIndex), $"d{i}")).ToList();
        foreach (int n in Chosen)
            if (n < 0 || n >= found.Count)
                throw new ScoreCamException(
                    $"--detection {n}: {input.Name} has {found.Count} detection{(found.Count == 1 ? "" : "s")} at confidence {Confidence.ToString(CultureInfo.InvariantCulture)} or more" +
                    (found.Count > 0 ? $" (0..{found.Count - 1})." : "; lower --confidence or give a --box."));
        return Chosen.Select(n => (With(found[n].Box, found[n].ClassIndex), $"d{n}")).ToList();
    }
}
