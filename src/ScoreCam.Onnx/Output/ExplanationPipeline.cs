using System.Globalization;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Detectors;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Output;

/// <summary>
/// The one way from an input to an explanation's pictures and JSON, used alike by the command line (explain, report),
/// the HTTP service and the job worker: load, explain (optionally after an FGSM attack, or as a counterfactual, eq. 7),
/// draw with a <see cref="PictureStyle"/>, and describe in an <see cref="ExplanationDocument"/>. Thread-safe as
/// the explainer is; each <see cref="PictureInput"/> belongs to one caller.
/// </summary>
public sealed class ExplanationPipeline(CamExplainer explainer, string modelName)
{
    public CamExplainer Explainer { get; } = explainer;
    /// <summary>The model as the JSON names it (a path, or the embedded model's name).</summary>
    public string ModelName { get; } = modelName;
    public PictureStyle Style { get; init; } = PictureStyle.Default;
    /// <summary>Put the display heatmap's values (H×W) into the JSON, not only its size.</summary>
    public bool HeatmapValues { get; init; }
    /// <summary>How many of the most probable classes the JSON lists.</summary>
    public int TopPredictions { get; init; } = 5;

    /// <summary>A picture file, turned upright by its EXIF orientation as the explainer's options say.</summary>
    public PictureInput Load(string path) => Load(Explainer.LoadImage(path, out ExifOrientation orientation), path, orientation);

    /// <summary>A picture from a seekable stream such as an upload; <paramref name="name"/> names it in messages and the JSON.</summary>
    public PictureInput Load(Stream stream, string name) => Load(Explainer.LoadImage(stream, name, out ExifOrientation orientation), name, orientation);

    /// <summary>A picture already decoded (<paramref name="orientation"/>: what was applied to it, if anything); the input takes ownership of it.</summary>
    public PictureInput Load(Image<Rgb24> picture, string name, ExifOrientation orientation = ExifOrientation.TopLeft)
    {
        try
        {
            return new PictureInput(Explainer, name, picture, Explainer.Preprocess(picture), orientation);
        }
        catch
        {
            picture.Dispose();
            throw;
        }
    }

    /// <summary>An already preprocessed tensor; overlays show it turned back into a picture.</summary>
    public PictureInput Load(ImageTensor tensor, string name) => new(Explainer, name, null, tensor);

    /// <summary>Explains <paramref name="input"/> with <paramref name="method"/> as <paramref name="request"/> says, and draws and describes the result.</summary>
    public ExplainedPicture Explain(PictureInput input, IExplanationMethod method, ExplanationRequest? request = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        request ??= new ExplanationRequest();
        ImageTensor tensor = input.Tensor;
        ExplanationTarget target = request.Target;
        AdversarialExample? attack = null;
        if (request.FgsmEpsilon is { } epsilon)
        {
            attack = Fgsm.Attack(Explainer, tensor, epsilon, target);
            tensor = attack.Input;
            target = ExplanationTarget.Class(attack.TargetClass); // the attacked class, whatever the model now predicts
        }
        CounterfactualExplanation? counterfactual = request.Counterfactual
            ? Counterfactual.Explain(Explainer, tensor, target, request.Versus, method, progress, cancellationToken) : null;
        Explanation e = counterfactual?.Explanation
            ?? Explainer.Explain(attack is null ? input.Pass : Explainer.Forward(tensor), target, method, progress, cancellationToken);

        // An attacked input is drawn as the model saw it: the adversarial picture at the input's resolution.
        RenderedPictures pictures = Render(attack is null ? input.Picture : null, tensor, e, target);
        float[] probabilities = attack is null && counterfactual is null ? input.Pass.Probabilities : Explainer.Probabilities(tensor);
        return Describe(input, method, e, pictures, probabilities, counterfactual, attack, target);
    }

    /// <summary>
    /// Explains several inputs (of one tensor size) with one method for one target, a batched method's masked passes
    /// in shared batches (<see cref="CamExplainer.ExplainMany"/>); result i is what <see cref="Explain"/> gives for
    /// input i with that target, up to the time each explanation reports (its share of the shared run's).
    /// </summary>
    public IReadOnlyList<ExplainedPicture> ExplainMany(IReadOnlyList<PictureInput> inputs, IExplanationMethod method, ExplanationTarget target,
        CancellationToken cancellationToken = default)
    {
        IReadOnlyList<IReadOnlyList<Explanation>> explanations =
            Explainer.ExplainMany(inputs.Select(i => i.Tensor).ToList(), new[] { target }, method, null, cancellationToken);
        return inputs.Select((input, i) => Describe(input, method, explanations[i][0], Render(input, explanations[i][0]), input.Pass.Probabilities)).ToList();
    }

    /// <summary>
    /// Explains several targets of <paramref name="input"/> (the detections of a detector) with one method from the same
    /// passes (<see cref="CamExplainer.ExplainTargets(UnmaskedPass, IReadOnlyList{ExplanationTarget}, IExplanationMethod?, IProgress{ExplanationProgress}?, CancellationToken)"/>):
    /// one picture and document per target, a detection's box outlined on its picture.
    /// </summary>
    public IReadOnlyList<ExplainedPicture> ExplainTargets(PictureInput input, IExplanationMethod method, IReadOnlyList<ExplanationTarget> targets,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<Explanation> explanations = Explainer.ExplainTargets(input.Pass, targets, method, progress, cancellationToken);
        return explanations.Select((e, i) => Describe(input, method, e, Render(input.Picture, input.Tensor, e, targets[i]), input.Pass.Probabilities, target: targets[i])).ToList();
    }

    private ExplainedPicture Describe(PictureInput input, IExplanationMethod method, Explanation e, RenderedPictures pictures, float[] probabilities,
        CounterfactualExplanation? counterfactual = null, AdversarialExample? attack = null, ExplanationTarget? target = null)
    {
        DetectionDocument? detection = target is DetectionTarget d ? Detected(d, input.Pass.Scores) : null;
        ExplanationDocument document = ExplanationJson.Document(e, ModelName, HeatmapValues) with
        {
            // A detector's output row holds its proposals, not classes: its answer is the explained detection; a
            // segmenter's holds a map per class: its answer is the region's class.
            Prediction = detection is not null ? new PredictionDocument(detection.Index, detection.Label, detection.Confidence)
                : target is SegmentationTarget s ? Segmented(s, input.Pass.Scores, input.Tensor.SourceRegion)
                : ExplanationJson.Of(e.Prediction),
            Detection = detection,
            Image = input.Picture is null ? null : input.Name,
            Orientation = input.Picture is null ? null : (int)input.Orientation,
            Settings = method.Settings,
            // Nor has either most probable classes.
            TopPredictions = target is DetectionTarget or SegmentationTarget ? null : Top(probabilities),
            AttributionView = pictures.AttributionView is { } view ? ExplainedPicture.ViewName(view) : null,
            Counterfactual = counterfactual is null ? null : ExplanationJson.Of(counterfactual),
            Attack = attack is null ? null : ExplanationJson.Of(attack),
        };
        return new ExplainedPicture(e, document, pictures, counterfactual, attack);
    }

    /// <summary>
    /// The detection <paramref name="target"/> names on the unmasked <paramref name="scores"/>: its box and class, and the
    /// detector's confidence in the class at the proposal overlapping the box most (0 where none overlaps it).
    /// </summary>
    private DetectionDocument Detected(DetectionTarget target, float[] scores)
    {
        DetectionHead head = DetectionHead.For(Explainer.Model, target.Layout);
        int best = -1;
        float bestIou = 0;
        for (int j = 0; j < head.Proposals; j++)
        {
            float iou = target.Box.IoU(head.Box(scores, j));
            if (iou > bestIou) (best, bestIou) = (j, iou);
        }
        float confidence = best < 0 ? 0 : head.Objectness(scores, best) * head.ClassScore(scores, best, target.ClassIndex);
        DetectionBox b = target.Box;
        return new DetectionDocument([b.X0, b.Y0, b.X1, b.Y1], target.ClassIndex, Prediction.Of(target.ClassIndex, Explainer.Labels, 0).Label, confidence);
    }

    /// <summary>The class a segmentation target sums and its mean per-pixel probability (softmax over the classes) over the region on <paramref name="scores"/>.</summary>
    private PredictionDocument Segmented(SegmentationTarget target, float[] scores, SourceRegion? source)
    {
        var model = new TargetModel(Explainer.Model, Explainer.Labels, scores, source);
        var region = (SegmentationTarget.RegionScore)target.Resolve(model);
        var layout = SegmentationLayout.Of(model, target.ChannelsLast);
        double sum = 0;
        int count = 0;
        for (int p = 0; p < region.Inside.Count; p++)
            if (region.Inside[p])
            {
                sum += layout.Probability(scores, region.Class, p);
                count++;
            }
        return new PredictionDocument(region.Class, Prediction.Of(region.Class, Explainer.Labels, 0).Label, (float)(sum / count));
    }

    /// <summary>Draws an explanation of <paramref name="input"/> (such as a counterfactual's target map) in this pipeline's style.</summary>
    public RenderedPictures Render(PictureInput input, Explanation e) => Render(input.Picture, input.Tensor, e);

    private RenderedPictures Render(Image<Rgb24>? picture, ImageTensor tensor, Explanation e, ExplanationTarget? target = null)
    {
        byte[] overlay;
        LabelledBox[]? boxes = target is DetectionTarget d
            ? [new LabelledBox(d.Box, string.Create(CultureInfo.InvariantCulture, $"{e.Target.Label ?? $"class {d.ClassIndex}"} {e.Target.Score:0.00}"))]
            : null;
        // A segmentation target's region, resolved as the explanation resolved it (from this input's output), is outlined.
        using Image<Rgb24>? outlined = target is SegmentationTarget s
            ? RegionOutline.Drawn(picture, tensor, Explainer.Preprocessing,
                (SegmentationTarget.RegionScore)s.Resolve(new TargetModel(Explainer.Model, Explainer.Labels, Explainer.Embed(tensor), tensor.SourceRegion)))
            : null;
        using (Image<Rgb24> drawn = Style.Draw(outlined ?? picture, tensor, e, Explainer.Preprocessing, boxes)) overlay = HeatmapRenderer.EncodePng(drawn);
        using Image<Rgb24>? attribution = Style.DrawAttribution(e, Explainer.Preprocessing);
        return attribution is null
            ? new RenderedPictures(overlay, null, null)
            : new RenderedPictures(overlay, HeatmapRenderer.EncodePng(attribution), Style.ViewFor(e.Method));
    }

    /// <summary>The <see cref="TopPredictions"/> most probable classes, most probable first (ties: lower index first).</summary>
    public IReadOnlyList<PredictionDocument> Top(float[] probabilities) =>
        Enumerable.Range(0, probabilities.Length).OrderByDescending(i => probabilities[i]).ThenBy(i => i).Take(TopPredictions)
            .Select(i => ExplanationJson.Of(Prediction.Of(i, Explainer.Labels, probabilities[i]))).ToArray();
}
