using System.Diagnostics;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Kernels;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx;

/// <summary>
/// Explains one classifier's predictions. Owns the ONNX Runtime session; create one per model and share it:
/// every public member is thread-safe, and concurrent <see cref="Explain(ImageTensor, ExplanationTarget?, CamMethod?, IProgress{ExplanationProgress}?, CancellationToken)"/>
/// calls give the same results as sequential ones.
/// </summary>
public sealed class CamExplainer : IDisposable
{
    private readonly CamMethod _defaultMethod;
    private readonly long _maxPixels;

    public CamExplainer(PreparedModel model, ExplainerOptions? options = null)
    {
        options ??= new ExplainerOptions();
        Model = model;
        Preprocessing = options.Preprocess ?? new PreprocessOptions { Height = model.Input.Height ?? 224, Width = model.Input.Width ?? 224 };
        Preprocessing.Validate(model.Input.Channels);
        Labels = options.Labels ?? (Preprocessing.Labels is { } labels ? LabelsFile.Read(labels) : null);
        _defaultMethod = options.Method;
        _maxPixels = options.MaxImagePixels;
        Session = new ModelSession(model, options.Inference);
    }

    /// <summary>Prepares (or loads an already prepared) model file and reads its preprocessing sidecar.</summary>
    public static CamExplainer Open(string modelPath, ExplainerOptions? options = null)
    {
        options ??= new ExplainerOptions();
        PreparedModel model = ModelPreparer.Prepare(modelPath, options.Preparation);
        return new CamExplainer(model, options with { Preprocess = options.Preprocess ?? PreprocessOptions.FromSidecar(modelPath) });
    }

    public PreparedModel Model { get; }
    public ModelSession Session { get; }
    public PreprocessOptions Preprocessing { get; }
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>Warnings from preparation and session creation (batching impossible, CUDA fallback), to show once.</summary>
    public IEnumerable<string> Warnings => Model.Warnings.Concat(Session.Warnings);

    public Image<Rgb24> LoadImage(string path) => ImageLoader.Load(path, _maxPixels);

    public ImageTensor Preprocess(Image<Rgb24> image) => Preprocessor.ToTensor(image, Preprocessing, Model.Input.Channels);

    /// <summary>The model's output row for one input: its embedding, for a model without a class head.</summary>
    public float[] Embed(ImageTensor image)
    {
        CheckInput(image);
        return Session.Forward(image).Scores;
    }

    public Explanation Explain(string imagePath, ExplanationTarget? target = null, CamMethod? method = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using Image<Rgb24> image = LoadImage(imagePath);
        return Explain(Preprocess(image), target, method, progress, cancellationToken);
    }

    public Explanation Explain(ImageTensor image, ExplanationTarget? target = null, CamMethod? method = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ExplainTargets(image, new[] { target ?? ExplanationTarget.TopPrediction }, method, progress, cancellationToken)[0];

    /// <summary>Explains several targets from the same forward passes (Score-CAM runs its masked passes once).</summary>
    public IReadOnlyList<Explanation> ExplainTargets(ImageTensor image, IReadOnlyList<ExplanationTarget> targets, CamMethod? method = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (targets.Count == 0) throw new ArgumentException("Name at least one target.", nameof(targets));
        CheckInput(image);
        method ??= _defaultMethod;
        var clock = Stopwatch.StartNew();

        var (scores, activations, k, h, w) = Session.Forward(image);
        TimeSpan firstPass = clock.Elapsed;
        var probabilities = new float[scores.Length];
        ResolvedTarget.Probabilities(scores, Model.OutputKind, probabilities);
        int top = Model.OutputKind == ModelOutputKind.SingleLogit ? 0 : ResolvedTarget.ArgMax(scores);
        var prediction = new Prediction(top, Label(top), probabilities[top]);
        var resolved = targets.Select(t => ResolvedTarget.Resolve(t, Model, Labels, scores)).ToList();

        var context = new CamContext(Session, image, scores, activations, k, h, w, resolved, progress, cancellationToken);
        float[][] weights = method.ChannelWeights(context);
        var unmasked = new float[resolved.Count];
        context.Scorer.Score(scores, ScoreMode.Probability, unmasked);

        var heatmapUpsampler = new BilinearUpsampler(h, w, image.Height, image.Width);
        var scratch = new float[heatmapUpsampler.ScratchLength];
        var results = new Explanation[resolved.Count];
        for (int t = 0; t < resolved.Count; t++)
        {
            var map = new float[h * w];
            method.CombineMaps(context, t, weights[t], map);
            MapKernels.Relu(map); // eq. 5
            var heat = new float[image.Height * image.Width];
            heatmapUpsampler.Upsample(map, heat, scratch);
            if (!MapKernels.TryMinMaxNormalize(heat)) Array.Clear(heat);
            ResolvedTarget r = resolved[t];
            results[t] = new Explanation(method.Name, new TargetInfo(r.Name, r.ClassIndex, r.Label, unmasked[t]), prediction,
                new SaliencyMap(w, h, map), new SaliencyMap(image.Width, image.Height, heat), weights[t], Model.Layer,
                context.ForwardPasses + 1, context.SkippedChannels, clock.Elapsed, firstPass + context.InferenceTime);
        }
        return results;
    }

    private string? Label(int index) => Labels is not null && index < Labels.Count ? Labels[index] : null;

    private void CheckInput(ImageTensor image)
    {
        ImageInputSpec spec = Model.Input;
        if (image.Channels != spec.Channels)
            throw new ScoreCamException($"The model takes {spec.Channels}-channel images; the tensor has {image.Channels} channels.");
        if ((spec.Height is { } mh && mh != image.Height) || (spec.Width is { } mw && mw != image.Width))
            throw new ScoreCamException(
                $"The model takes {spec.Width}x{spec.Height} images; the input is {image.Width}x{image.Height}. Use --size {spec.Width}x{spec.Height}.");
    }

    public void Dispose() => Session.Dispose();
}
