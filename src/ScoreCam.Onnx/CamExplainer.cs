using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Gradients;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx;

/// <summary>
/// Explains one classifier's predictions with any <see cref="IExplanationMethod"/>. Owns the model's ONNX Runtime
/// session, the batch runner every method and metric runs its passes on, and the gradient sessions; create one per
/// model and share it: every public member is thread-safe, and concurrent calls give the same results as
/// sequential ones. It does the work every method shares once: the unmasked forward pass (scores and the target
/// layer's activations), probabilities, targets, the display heatmap and the result.
/// </summary>
public sealed class CamExplainer : IDisposable
{
    private readonly long _maxPixels;
    private readonly bool _keepStoredOrientation;
    private readonly ILogger _logger;
    private readonly bool _ownsSessions = true, _pipelined;
    private readonly Int8Options? _int8;
    private readonly IReadOnlyList<ImageTensor>? _calibrationPictures;

    public CamExplainer(PreparedModel model, ExplainerOptions? options = null)
    {
        options ??= new ExplainerOptions();
        Model = model;
        Preprocessing = options.Preprocess ?? new PreprocessOptions { Height = model.Input.Height ?? 224, Width = model.Input.Width ?? 224 };
        Preprocessing.Validate(model.Input.Channels);
        Labels = options.Labels ?? (Preprocessing.Labels is { } labels ? LabelsFile.Read(labels) : null);
        if (Labels is not null) LabelsFile.CheckCount(Labels, ClassCount(model, Labels.Count), options.Labels is null ? $"Labels file '{Preprocessing.Labels}'" : "The labels");
        DefaultMethod = options.Method;
        _maxPixels = options.MaxImagePixels;
        _keepStoredOrientation = options.KeepStoredOrientation;
        _logger = options.Logger;
        Session = new ModelSession(model, options.Inference);
        try
        {
            BatchSizeChoice = BatchSizePolicy.Choose(model, options.Inference.MaxBatchMemoryBytes ?? BatchSizePolicy.DefaultBudgetBytes, options.Inference.BatchSize);
            _pipelined = options.Inference.Pipelined;
            if ((_int8 = options.Inference.Int8) is { } int8)
            {
                if (options.Inference.Float16) throw new ScoreCamException("Float16 and int8 are two precisions for the model's passes; choose one.");
                _calibrationPictures = int8.CalibrationFolder is { } folder ? CalibrationPictures(folder, int8.MaxCalibrationPictures) : null;
            }
            Runner = NewRunner(BatchSizeChoice.BatchSize);
            // Gradient graphs run float32 through plain runs: no float16 or int8 copy, no bound buffers, no CUDA graphs.
            Gradients = new GradientSessions(model, options.Inference with
            {
                Device = Session.Device, Float16 = false, Int8 = null, DeviceResidentBuffers = false, CudaGraphs = false,
            }, _logger);
        }
        catch
        {
            Session.Dispose();
            throw;
        }
        foreach (string warning in model.Warnings) ExplainerLog.ModelWarning(_logger, warning);
        foreach (string warning in Session.Warnings) ExplainerLog.SessionWarning(_logger, warning);
    }

    private CamExplainer(CamExplainer owner, BatchSizeChoice choice)
    {
        (Model, Session, Gradients, Preprocessing, Labels, DefaultMethod, _maxPixels, _keepStoredOrientation, _pipelined, _logger) =
            (owner.Model, owner.Session, owner.Gradients, owner.Preprocessing, owner.Labels, owner.DefaultMethod, owner._maxPixels, owner._keepStoredOrientation,
                owner._pipelined, owner._logger);
        (_int8, _calibrationPictures) = (owner._int8, owner._calibrationPictures);
        BatchSizeChoice = choice;
        Runner = NewRunner(choice.BatchSize);
        _ownsSessions = false;
    }

    /// <summary>
    /// This explainer with its batched passes run <paramref name="batchSize"/> inputs a call (null: the choice for
    /// <paramref name="maxBatchMemoryBytes"/>), on the same sessions, to compare batch sizes in one process. The view
    /// owns nothing (disposing it does nothing) and works while this explainer is not disposed.
    /// </summary>
    public CamExplainer WithBatchSize(int? batchSize, long? maxBatchMemoryBytes = null) =>
        new(this, BatchSizePolicy.Choose(Model, maxBatchMemoryBytes ?? BatchSizeChoice.BudgetBytes, batchSize));

    /// <summary>The float32 runner, or with <see cref="InferenceOptions.Int8"/> the int8 one.</summary>
    private IBatchRunner NewRunner(int batchSize) => _int8 is null
        ? new MaskedBatchRunner(Session, batchSize, _pipelined)
        : new Int8BatchRunner(Session, batchSize, _pipelined, _int8, _calibrationPictures, _logger);

    /// <summary>The classes labels name: the output's values, a segmenter's class axis ([C, H, W] or [H, W, C]), or a detector's classes when <paramref name="labels"/> is their count.</summary>
    private static int ClassCount(PreparedModel model, int labels)
    {
        if (labels == model.OutputSize) return model.OutputSize;
        IReadOnlyList<int> shape = model.OutputShape;
        if (shape.Count == 3 && (labels == shape[0] || labels == shape[2])) return labels;   // a segmenter's class axis
        if (shape.Count != 2) return model.OutputSize;
        try
        {
            return Detectors.DetectionHead.For(model).Classes;
        }
        catch (ScoreCamException)
        {
            return model.OutputSize;
        }
    }

    private static readonly string[] PictureExtensions = { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff" };

    /// <summary>The first <paramref name="limit"/> pictures of <paramref name="folder"/> in name order, preprocessed.</summary>
    private List<ImageTensor> CalibrationPictures(string folder, int limit)
    {
        if (!Directory.Exists(folder))
            throw new ScoreCamException($"The int8 calibration folder '{folder}' does not exist. Give a folder of pictures like the ones to explain.");
        var files = Directory.EnumerateFiles(folder).Where(f => PictureExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).Take(limit).ToList();
        if (files.Count == 0)
            throw new ScoreCamException($"The int8 calibration folder '{folder}' holds no pictures ({string.Join(", ", PictureExtensions)}).");
        return files.Select(f =>
        {
            using Image<Rgb24> picture = LoadImage(f);
            return Preprocess(picture);
        }).ToList();
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
    /// <summary>Runs batches of inputs through the model: what methods and metrics run their passes on.</summary>
    public IBatchRunner Runner { get; }
    public GradientSessions Gradients { get; }
    /// <summary>Inputs per ONNX Runtime call of the batched passes (<see cref="BatchSizePolicy"/>).</summary>
    public int BatchSize => BatchSizeChoice.BatchSize;
    /// <summary>The batch size, the memory estimate behind it and why it was taken.</summary>
    public BatchSizeChoice BatchSizeChoice { get; }
    public PreprocessOptions Preprocessing { get; }
    public IReadOnlyList<string>? Labels { get; }
    /// <summary>The method used when a call names none.</summary>
    public IExplanationMethod DefaultMethod { get; }

    /// <summary>Warnings from preparation and session creation (a batch size fixed by the model, CUDA fallback), to show once; those of the model and its session are also logged to <see cref="ExplainerOptions.Logger"/> when the explainer is made.</summary>
    public IEnumerable<string> Warnings => Model.Warnings.Concat(Session.Warnings).Concat(Gradients.Warnings);

    /// <summary>
    /// Loads a picture upright as viewers show it (its EXIF orientation applied, unless
    /// <see cref="ExplainerOptions.KeepStoredOrientation"/>); a tag that cannot be applied is logged as a warning.
    /// </summary>
    public Image<Rgb24> LoadImage(string path) => LoadImage(path, out _);

    /// <summary>Loads a picture as <see cref="LoadImage(string)"/> does and says which EXIF orientation was applied (TopLeft: none).</summary>
    public Image<Rgb24> LoadImage(string path, out ExifOrientation orientation) => Loaded(ImageLoader.Load(path, _maxPixels, _keepStoredOrientation), out orientation);

    /// <summary>Loads a picture from a seekable stream, such as an upload; <paramref name="name"/> names it in error messages.</summary>
    public Image<Rgb24> LoadImage(Stream stream, string name) => LoadImage(stream, name, out _);

    /// <summary>Loads a picture from a seekable stream and says which EXIF orientation was applied (TopLeft: none).</summary>
    public Image<Rgb24> LoadImage(Stream stream, string name, out ExifOrientation orientation) =>
        Loaded(ImageLoader.Load(stream, name, _maxPixels, _keepStoredOrientation), out orientation);

    private Image<Rgb24> Loaded(LoadedImage loaded, out ExifOrientation orientation)
    {
        if (loaded.Warning is { } warning) ExplainerLog.ImageWarning(_logger, warning);
        orientation = loaded.Orientation;
        return loaded.Image;
    }

    public ImageTensor Preprocess(Image<Rgb24> image) => Preprocessor.ToTensor(image, Preprocessing, Model.Input.Channels);

    /// <summary>The model's output row for one input: its embedding, for a model without a class head.</summary>
    public float[] Embed(ImageTensor image)
    {
        CheckInput(image);
        float[] scores = Session.Forward(image).Scores;
        CheckScores(scores);
        return scores;
    }

    /// <summary>Class probabilities for one input (softmax of the logits, or the model's own probabilities).</summary>
    public float[] Probabilities(ImageTensor image)
    {
        float[] scores = Embed(image);
        var probabilities = new float[scores.Length];
        ResolvedTarget.Probabilities(scores, Model.OutputKind, probabilities);
        return probabilities;
    }

    public Explanation Explain(string imagePath, ExplanationTarget? target = null, IExplanationMethod? method = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using Image<Rgb24> image = LoadImage(imagePath);
        return Explain(Preprocess(image), target, method, progress, cancellationToken);
    }

    public Explanation Explain(ImageTensor image, ExplanationTarget? target = null, IExplanationMethod? method = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ExplainTargets(image, new[] { target ?? ExplanationTarget.TopPrediction }, method, progress, cancellationToken)[0];

    /// <summary>Explains one target from an earlier <see cref="Forward"/> of the input, e.g. once per method.</summary>
    public Explanation Explain(UnmaskedPass pass, ExplanationTarget? target = null, IExplanationMethod? method = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ExplainTargets(pass, new[] { target ?? ExplanationTarget.TopPrediction }, method, progress, cancellationToken)[0];

    /// <summary>Explains several targets from the same passes (Score-CAM and RISE run their masked passes once).</summary>
    public IReadOnlyList<Explanation> ExplainTargets(ImageTensor image, IReadOnlyList<ExplanationTarget> targets, IExplanationMethod? method = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (targets.Count == 0) throw new ArgumentException("Name at least one target.", nameof(targets));
        cancellationToken.ThrowIfCancellationRequested();
        return ExplainTargets(Forward(image), targets, method, progress, cancellationToken);
    }

    /// <summary>The unmasked forward pass of <paramref name="image"/>: what explanations of it by any number of methods start from.</summary>
    public UnmaskedPass Forward(ImageTensor image)
    {
        CheckInput(image);
        var clock = Stopwatch.StartNew();
        var (scores, activations, k, h, w) = Session.Forward(image);
        // Refused here, on the unmasked input, before any masked pass is spent on it.
        CheckScores(scores);
        if (FirstNonFinite(activations) is { } a)
            throw new ScoreCamException(
                $"The target layer '{Model.Layer.TensorName}' of model '{Model.Source}' holds {activations[a]} (channel {a / (h * w)}) for this input; " +
                "nothing can be explained. Check the preprocessing (scale, mean, std) and the input's values.");
        var probabilities = new float[scores.Length];
        ResolvedTarget.Probabilities(scores, Model.OutputKind, probabilities);
        int top = Model.OutputKind == ModelOutputKind.SingleLogit ? 0 : ResolvedTarget.ArgMax(scores);
        return new UnmaskedPass(this, image, scores, activations, k, h, w, probabilities, Prediction.Of(top, Labels, probabilities[top]), clock.Elapsed);
    }

    /// <summary>
    /// Explains several targets from an earlier <see cref="Forward"/> of the input; an explanation's time and passes
    /// include that unmasked pass.
    /// </summary>
    public IReadOnlyList<Explanation> ExplainTargets(UnmaskedPass pass, IReadOnlyList<ExplanationTarget> targets, IExplanationMethod? method = null,
        IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        method ??= DefaultMethod;
        var clock = Stopwatch.StartNew();
        ExplanationContext context = Context(pass, targets, progress, cancellationToken);
        IReadOnlyList<MethodResult> results = method.Explain(context);
        return Build(pass, context, method, results, pass.Duration + clock.Elapsed);
    }

    /// <summary>
    /// Explains several inputs (all of one size) for the same targets: result i holds image i's explanations, one per
    /// target. A method whose passes are one batched run per input (<see cref="IBatchedMethod"/>: Score-CAM, RISE)
    /// runs every input's passes in shared batches, so only the run's last batch can be part-empty; the results
    /// equal explaining each input on its own. <paramref name="progress"/> counts the passes of all inputs together
    /// (other methods: each input's own, input after input). An explanation's <see cref="Explanation.Elapsed"/> and
    /// <see cref="Explanation.InferenceTime"/> are its share of the shared run's, in proportion to its passes.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<Explanation>> ExplainMany(IReadOnlyList<ImageTensor> images, IReadOnlyList<ExplanationTarget> targets,
        IExplanationMethod? method = null, IProgress<ExplanationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (images.Count == 0) throw new ArgumentException("Give at least one image.", nameof(images));
        method ??= DefaultMethod;
        if (method is not IBatchedMethod batched || images.Count == 1)
            return images.Select(image => ExplainTargets(image, targets, method, progress, cancellationToken)).ToList();

        if (targets.Count == 0) throw new ArgumentException("Name at least one target.", nameof(targets));
        var clock = Stopwatch.StartNew();
        var contexts = new List<ExplanationContext>(images.Count);
        var unmasked = new List<UnmaskedPass>(images.Count);
        foreach (ImageTensor image in images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            unmasked.Add(Forward(image));
            contexts.Add(Context(unmasked[^1], targets, null, cancellationToken));
        }
        var passes = new List<BatchedPasses>(images.Count);
        try
        {
            foreach (ExplanationContext context in contexts) passes.Add(batched.Begin(context));
            var shared = progress is null ? null : new SharedProgress(progress, passes.Sum(p => p.Count), passes.Count);
            var jobs = passes.Select((p, i) => new BatchJob(images[i], p.Count, p.Write, p.Read, shared?.Job(i))).ToList();
            IReadOnlyList<BatchRunSummary> summaries = Runner.Run(jobs, cancellationToken);
            for (int i = 0; i < jobs.Count; i++) contexts[i].Record(summaries[i]);
            var results = passes.Select(p => p.Finish()).ToList();
            TimeSpan elapsed = clock.Elapsed;
            double totalPasses = contexts.Sum(c => c.ForwardPasses + 1);
            return contexts.Select((c, i) => (IReadOnlyList<Explanation>)Build(unmasked[i], c, method, results[i],
                elapsed * ((c.ForwardPasses + 1) / totalPasses))).ToList();
        }
        finally
        {
            foreach (BatchedPasses p in passes) p.Dispose();
        }
    }

    /// <summary>What a method sees of one input: its unmasked pass and resolved targets.</summary>
    private ExplanationContext Context(UnmaskedPass pass, IReadOnlyList<ExplanationTarget> targets, IProgress<ExplanationProgress>? progress,
        CancellationToken cancellationToken)
    {
        if (targets.Count == 0) throw new ArgumentException("Name at least one target.", nameof(targets));
        if (pass.Owner != this) throw new ArgumentException("The pass was made by another explainer.", nameof(pass));
        cancellationToken.ThrowIfCancellationRequested();
        ImageTensor image = pass.Image;
        var bound = new TargetModel(Model, Labels, pass.Scores, image.SourceRegion);
        var resolved = targets.Select(t => t.Resolve(bound)).ToList();
        return new ExplanationContext(Model, image, pass.Scores, pass.Activations, pass.Channels, pass.Height, pass.Width, resolved, Runner, Gradients,
            () => BlackPicture(image), Forward, progress, cancellationToken);
    }

    /// <summary>The explanations of one input from its method's results; <paramref name="elapsed"/> includes the unmasked pass.</summary>
    private Explanation[] Build(UnmaskedPass pass, ExplanationContext context, IExplanationMethod method, IReadOnlyList<MethodResult> results,
        TimeSpan elapsed)
    {
        IReadOnlyList<ResolvedTarget> resolved = context.Targets;
        if (results.Count != resolved.Count)
            throw new InvalidOperationException($"Method '{method.Name}' returned {results.Count} results for {resolved.Count} targets.");
        var unmasked = new float[resolved.Count];
        context.Scorer.Score(pass.Scores, ScoreMode.Probability, unmasked);
        ImageTensor image = pass.Image;
        var explanations = new Explanation[resolved.Count];
        for (int t = 0; t < resolved.Count; t++)
        {
            MethodResult result = results[t];
            ResolvedTarget r = resolved[t];
            if (result.ChannelWeights is { } weights && FirstNonFinite(weights) is { } c)
                throw new ScoreCamException(
                    $"{method.Name} computed the weight {weights[c]} for channel {c} of target '{r.Name}': the model returned NaN or infinite scores " +
                    "for a masked input. Check the model's head (a division or log of zero).");
            if (result.Attribution is { } attribution && FirstNonFinite(attribution.Values) is { } p)
                throw new ScoreCamException(
                    $"{method.Name} computed {attribution.Values[p]} at input position {p} for target '{r.Name}': the model's outputs or gradients overflowed for this input.");
            explanations[t] = new Explanation(method.Name, new TargetInfo(r.Name, r.ClassIndex, r.Label, unmasked[t]), pass.Prediction,
                result.Map, DisplayHeatmap.From(result.Map, image.Width, image.Height), result.ChannelWeights ?? Array.Empty<float>(), Model.Layer,
                context.ForwardPasses + 1, context.SkippedChannels, elapsed, pass.Duration + context.InferenceTime,
                result.Attribution, result.Extras);
            if (ConstantMapWarning(method.Name, r.Name, result) is { } warning)
            {
                explanations[t] = explanations[t] with { Warnings = new[] { warning } };
                ExplainerLog.MapWarning(_logger, warning);
            }
            ExplainerLog.Explained(_logger, method.Name, r.Name, explanations[t].ForwardPasses, context.SkippedChannels, elapsed.TotalMilliseconds);
        }
        return explanations;
    }

    /// <summary>
    /// The warning for a map that is the same everywhere (all zero, typically): it shows nothing, and says so rather
    /// than passing for an explanation. Null for a map that varies.
    /// </summary>
    private string? ConstantMapWarning(string method, string target, MethodResult result)
    {
        float[] v = result.Map.Values;
        if (v.Length == 0 || v.AsSpan().ContainsAnyExcept(v[0])) return null;
        string value = v[0].ToString("g4", System.Globalization.CultureInfo.InvariantCulture);
        return result.ChannelWeights is not null
            ? $"The {method} map of '{target}' is {value} everywhere: it shows nothing. Likely cause: the target layer '{Model.Layer.TensorName}' is off the " +
              "path to the target's score (a branch the score does not read, such as another detection head) or its units are inactive for this " +
              "input (dead ReLUs). List the model's layers and choose another target layer: one that every path to the output passes through, or an earlier one."
            : $"The {method} map of '{target}' is {value} everywhere: it shows nothing. Likely cause: the target's score does not change with " +
              "the input here (a saturated or constant score). Try another target, or a method that masks the input (Score-CAM, RISE).";
    }

    /// <summary>Progress over several inputs' passes run together.</summary>
    private sealed class SharedProgress(IProgress<ExplanationProgress> progress, int total, int inputs)
    {
        private readonly int[] _done = new int[inputs];
        private int _sum;

        public IProgress<int> Job(int input) => new JobProgress(this, input);

        private void Report(int input, int done)
        {
            _sum += done - _done[input];
            _done[input] = done;
            progress.Report(new ExplanationProgress(_sum, total));
        }

        private sealed class JobProgress(SharedProgress shared, int input) : IProgress<int>
        {
            public void Report(int value) => shared.Report(input, value);
        }
    }

    /// <summary>A black picture of the input's size, preprocessed.</summary>
    private float[] BlackPicture(ImageTensor image)
    {
        using var black = new Image<Rgb24>(image.Width, image.Height);
        return Preprocessor.ToTensor(black, Preprocessing with { Height = image.Height, Width = image.Width }, Model.Input.Channels).Data;
    }

    private string? Label(int index) => Labels is not null && index < Labels.Count ? Labels[index] : null;

    private void CheckScores(float[] scores)
    {
        if (FirstNonFinite(scores) is { } i)
            throw new ScoreCamException(
                $"The model '{Model.Source}' returned {scores[i]} for output {i}{(Label(i) is { } l ? $" ({l})" : "")} on the unmasked input; nothing can be explained. " +
                "Check the preprocessing (scale, mean, std) and the model's head (a division or log of zero).");
    }

    /// <summary>The index of the first NaN or infinity, or null when every value is finite.</summary>
    private static int? FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return null;
    }

    private void CheckInput(ImageTensor image)
    {
        ImageInputSpec spec = Model.Input;
        if (image.Channels != spec.Channels)
            throw new ScoreCamException($"The model takes {spec.Channels}-channel images; the tensor has {image.Channels} channels.");
        if ((spec.Height is { } mh && mh != image.Height) || (spec.Width is { } mw && mw != image.Width))
            throw new ScoreCamException(
                $"The model takes {spec.Width}x{spec.Height} images; the input is {image.Width}x{image.Height}. Preprocess to that size (PreprocessOptions.Width = {spec.Width}, PreprocessOptions.Height = {spec.Height}).");
    }

    public void Dispose()
    {
        (Runner as IDisposable)?.Dispose();
        if (!_ownsSessions) return;
        Gradients.Dispose();
        Session.Dispose();
    }
}
