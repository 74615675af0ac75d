using System.CommandLine;
using System.Globalization;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Cli;

/// <summary>
/// The flags that choose what of a detector to explain: every detection at or above --confidence (the default), the
/// detections --detection names, or a --box with a --target class; each explained with the detection target. serve
/// takes the same settings as query keys (the flags' names without the dashes).
/// </summary>
internal sealed class DetectionOptions
{
    public const float DefaultConfidence = 0.25f, DefaultIou = 0.7f, DefaultBoxIou = 0.5f;
    public const string DefaultScoring = "d-rise";

    public Option<int[]> Detection { get; } = new("--detection")
    {
        Description = "Detector: explain detection N (0: the most confident after suppression; see the listing explain prints). Repeatable. Default: every detection at or above --confidence.",
        AllowMultipleArgumentsPerToken = true,
    };
    public Option<string?> Box { get; } = new("--box") { Description = "Detector: explain this box x0,y0,x1,y1 (input pixels) with the class --target names (D-RISE's reference detection)." };
    public Option<float> Confidence { get; } = new("--confidence") { Description = $"Detector: the confidence a detection needs. Default: {DefaultConfidence}.", DefaultValueFactory = _ => DefaultConfidence };
    public Option<float> Iou { get; } = new("--iou") { Description = $"Detector: suppression drops a box overlapping a more confident one of its class by more than this IoU. Default: {DefaultIou}.", DefaultValueFactory = _ => DefaultIou };
    public Option<string?> Layout { get; } = new("--layout")
    {
        Description = "Detector output layout: yolov8 (4+C × N, also v11), yolov5 (N × 5+C) end-to-end (N × 6: x0,y0,x1,y1,score,class) or boxes-scores-labels (a graph with suppression inside: outputs boxes K×4, scores K, labels K). Default: told by the outputs.",
    };
    public Option<string> Scoring { get; } = new("--detection-score")
    {
        Description = "Detector: d-rise (max over proposals of IoU × objectness × class cosine, Petsiuk et al. 2021) or box-score (pytorch-grad-cam's: IoU + confidence of the best-overlapping proposal of the class, above --box-iou).",
        DefaultValueFactory = _ => DefaultScoring,
    };
    public Option<float> BoxIou { get; } = new("--box-iou") { Description = $"With --detection-score box-score: the IoU a proposal must exceed. Default: {DefaultBoxIou}.", DefaultValueFactory = _ => DefaultBoxIou };

    private Option[] All => new Option[] { Detection, Box, Confidence, Iou, Layout, Scoring, BoxIou };

    /// <summary>serve's query keys for the same settings.</summary>
    public static IReadOnlyList<string> QueryKeys { get; } = new DetectionOptions().All.Select(o => o.Name.TrimStart('-')).ToArray();

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

    /// <summary>The settings the command line gives.</summary>
    public DetectionSettings Settings(ParseResult r) => new(
        r.CommandResult.Command.Options.Contains(Detection) ? r.GetValue(Detection) ?? Array.Empty<int>() : Array.Empty<int>(),
        r.CommandResult.Command.Options.Contains(Box) ? r.GetValue(Box) : null,
        r.GetValue(Confidence), r.GetValue(Iou), r.GetValue(Layout), r.GetValue(Scoring)!, r.GetValue(BoxIou),
        All.Any(o => r.GetResult(o) is { Implicit: false }), "--");

    /// <summary>The settings a request's query gives (keys <see cref="QueryKeys"/>; --detection takes one number there).</summary>
    public static DetectionSettings FromQuery(Func<string, string?> query)
    {
        float Number(string key, float fallback) => query(key) is { } text
            ? float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : throw new UsageException($"{key} must be a number; got '{text}'.")
            : fallback;
        int[] chosen = query("detection") is { } d
            ? new[] { int.TryParse(d, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : throw new UsageException($"detection must be a whole number; got '{d}'.") }
            : Array.Empty<int>();
        return new DetectionSettings(chosen, query("box"), Number("confidence", DefaultConfidence), Number("iou", DefaultIou), query("layout"),
            query("detection-score") ?? DefaultScoring, Number("box-iou", DefaultBoxIou), QueryKeys.Any(k => query(k) is not null), "");
    }
}

/// <summary>
/// A detector's settings as given (flags or query keys, named with <see cref="Prefix"/> in messages): the detections
/// to explain and how they are found and scored.
/// </summary>
internal sealed record DetectionSettings(int[] Chosen, string? Box, float Confidence, float Iou, string? Layout, string Scoring, float BoxIou,
    bool Given, string Prefix)
{
    /// <summary>
    /// The detector's head for <paramref name="explainer"/>'s model and the settings of its detection targets, or null
    /// when the model is no detector and no detector setting was given.
    /// </summary>
    public (DetectionHead Head, DetectionTarget Template)? Detector(CamExplainer explainer)
    {
        DetectionLayout? layout = Layout?.ToLowerInvariant() switch
        {
            null => null,
            "yolov8" or "yolov11" => DetectionLayout.YoloV8,
            "yolov5" => DetectionLayout.YoloV5,
            "end-to-end" => DetectionLayout.EndToEnd,
            "boxes-scores-labels" => DetectionLayout.BoxesScoresLabels,
            var other => throw new UsageException($"{Prefix}layout must be yolov8, yolov5, end-to-end or boxes-scores-labels; got '{other}'."),
        };
        DetectionHead head;
        try
        {
            head = DetectionHead.For(explainer.Model, layout);
        }
        catch (ScoreCamException) when (!Given && explainer.Model.OutputShape.Count != 2)
        {
            return null; // a classifier
        }
        if (!(Confidence is >= 0 and <= 1)) throw new UsageException($"{Prefix}confidence must be between 0 and 1; got {Confidence}.");
        if (!(Iou is >= 0 and <= 1)) throw new UsageException($"{Prefix}iou must be between 0 and 1; got {Iou}.");
        if (!(BoxIou is >= 0 and < 1)) throw new UsageException($"{Prefix}box-iou must be from 0 to below 1; got {BoxIou}.");
        DetectionScoring scoring = Scoring.ToLowerInvariant() switch
        {
            "d-rise" => DetectionScoring.DRise,
            "box-score" => DetectionScoring.BoxScore,
            var other => throw new UsageException($"{Prefix}detection-score must be d-rise or box-score; got '{other}'."),
        };
        return (head, new DetectionTarget(new DetectionBox(0, 0, 1, 1), 0) { Scoring = scoring, IouThreshold = BoxIou, Confidence = Confidence, Layout = layout });
    }

    /// <summary>What to explain of each input, or null for a classifier. <paramref name="targetClass"/> is the target's value (the class of a box).</summary>
    public DetectorChoice? Choose(CamExplainer explainer, string? targetClass)
    {
        if (Detector(explainer) is not var (head, template)) return null;
        DetectionBox? box = Box is { } text ? DetectionBox.Parse(text) : null;
        if (box is not null && Chosen.Length > 0) throw new UsageException($"{Prefix}box names the detection to explain; leave out {Prefix}detection.");
        if (box is not null && targetClass is null) throw new UsageException($"{Prefix}box needs {Prefix}target CLASS (an index or a label): the class of the reference detection.");
        if (box is null && targetClass is not null) throw new UsageException($"For a detector {Prefix}target names the class of a {Prefix}box; choose detections with {Prefix}detection N.");
        int? boxClass = box is null ? null : ClassOf(targetClass!, explainer.Labels);
        return new DetectorChoice(head, Chosen, box, boxClass, Confidence, Iou, template, Prefix);
    }

    private int ClassOf(string text, IReadOnlyList<string>? labels)
    {
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index)) return index;
        if (labels is null) throw new UsageException($"{Prefix}target '{text}' is a label, but the model has no labels file. Pass {Prefix}labels FILE or a class index.");
        int found = labels.ToList().FindIndex(l => string.Equals(l, text, StringComparison.OrdinalIgnoreCase));
        return found >= 0 ? found : throw new UsageException($"{Prefix}target '{text}' is not among the labels ({string.Join(", ", labels.Take(5))}, ...).");
    }
}

/// <summary>What of a detector's output to explain, for each input: its targets, each with a name for its files.</summary>
internal sealed record DetectorChoice(DetectionHead Head, int[] Chosen, DetectionBox? Box, int? BoxClass, float Confidence, float Iou, DetectionTarget Template,
    string Prefix)
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
                    $"{Prefix}detection {n}: {input.Name} has {found.Count} detection{(found.Count == 1 ? "" : "s")} at confidence {Confidence.ToString(CultureInfo.InvariantCulture)} or more" +
                    (found.Count > 0 ? $" (0..{found.Count - 1})." : $"; lower {Prefix}confidence or give a {Prefix}box."));
        return Chosen.Select(n => (With(found[n].Box, found[n].ClassIndex), $"d{n}")).ToList();
    }
}
