using System.CommandLine;
using System.Text.Json;
using ScoreCam.Onnx.Cli.Terminal;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary>
/// <c>scorecam explain</c>: one explanation as an overlay PNG and/or JSON; or, for several pictures (files, folders,
/// globs) or several methods or with <c>--out-dir</c>, a run: <c>NAME-METHOD.png</c> per picture and method and one
/// <c>results.json</c> in the output folder. In a run a picture that cannot be read or explained is reported and
/// skipped, and the exit code says so.
/// </summary>
internal static class ExplainCommand
{
    public const string DefaultOutputFolder = "scorecam-out";
    public const string ResultsFile = "results.json";

    public static Command Create(TextWriter output, TextWriter error, CancellationToken cancellation = default)
    {
        var model = new ModelOptions();
        var image = new Option<string[]>("--image")
        {
            Description = "Pictures to explain: files, folders (the pictures in them) or globs such as 'photos/*.jpg' (quoted; * ? ** expanded by scorecam). Repeatable. Default: the embedded sample canvas.",
            AllowMultipleArgumentsPerToken = true,
        };
        var tensor = new Option<string?>("--tensor") { Description = "An already preprocessed float32 .npy tensor (1,C,H,W) or (C,H,W), instead of --image." };
        var target = new Option<string?>("--target") { Description = "Class to explain: an index or a label. Default: the top prediction." };
        var targetOutput = new Option<string?>("--target-output")
        {
            Description = "Explain an element of this model output instead of a class (with --target-index), e.g. a caption model's next-word output (paper eq. 8). " +
                "Scored as --scores says: probability (softmax over the output, the output itself if the graph ends in Softmax) or raw (the output's value).",
        };
        var targetIndex = new Option<int?>("--target-index") { Description = "With --target-output: the element to explain, 0-based in C order after the batch dimension (a word's index in the vocabulary)." };
        var versus = new Option<string?>("--versus")
        {
            Description = "Counterfactual explanation (paper eq. 7): why the target rather than this class (an index or a label; " +
                "no value: the most probable other class). The map is ReLU(L^target − L^versus).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var attack = new Option<string?>("--attack") { Description = "Explain an adversarial copy of the input: fgsm (fast gradient sign method, paper section 5.4) against the target class." };
        var epsilon = new Option<string?>("--epsilon") { Description = "--attack's step in picture units [0, 1]: a number or a fraction such as 8/255." };
        var saveTensor = new Option<string?>("--save-tensor") { Description = "With --attack: write the adversarial input tensor (1,C,H,W) to this .npy file." };
        var similarTo = new Option<string?>("--similar-to") { Description = "Explain the cosine similarity of the model's output (an embedding) to this picture's, instead of a class." };
        var method = new Option<string>("--method") { Description = $"One or several, comma-separated: {string.Join(", ", MethodCatalog.Names)}.", DefaultValueFactory = _ => "scorecam" };
        var methodFlags = new MethodOptions();
        var pictureFlags = new PictureOptions();
        var detectionFlags = new DetectionOptions();
        var segmentation = new SegmentationOptions();
        var outPng = new Option<string?>("--out") { Description = $"Overlay PNG to write (one picture, one method). Default: {DefaultOutputFolder}/NAME-METHOD.png (unless only --json is given)." };
        var json = new Option<string?>("--json") { Description = "Explanation JSON to write (one picture, one method)." };
        var outDir = new Option<string?>("--out-dir") { Description = $"Folder for NAME-METHOD.png per picture and method and one {ResultsFile}. Default with several pictures or methods: {DefaultOutputFolder}." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress display." };
        var heatmapValues = new Option<bool>("--heatmap-values")
        {
            Description = "The JSON also holds heatmap.values: the display map at the input size (H×W, row-major; min-max, bilinear, min-max).",
        };

        var command = new Command("explain", "Explain images: which regions make the model predict the target class.")
        {
            image, tensor, target, targetOutput, targetIndex, versus, attack, epsilon, saveTensor, similarTo, method, outPng, json, outDir, quiet, heatmapValues,
        };
        methodFlags.AddTo(command);
        pictureFlags.AddTo(command);
        detectionFlags.AddTo(command);
        segmentation.AddTo(command);
        model.AddTo(command);
        model.AddFeeds(command);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            string? modelPath = r.GetValue(model.Model), tensorPath = r.GetValue(tensor);
            string[] imageValues = r.GetValue(image) ?? Array.Empty<string>();
            if (imageValues.Length > 0 && tensorPath is not null) throw new UsageException("Pass either --image or --tensor, not both.");
            if (r.GetValue(target) is not null && r.GetValue(similarTo) is not null) throw new UsageException("Pass either --target or --similar-to, not both.");
            // --versus and --attack compare or attack class probabilities, which a region's summed scores are not.
            if (r.GetValue(segmentation.Region) is not null && (r.GetValue(similarTo) is not null || r.GetValue(targetOutput) is not null
                || r.GetResult(versus) is not null || r.GetValue(attack) is not null))
                throw new UsageException("--region explains a segmenter's class over a region; it does not combine with --similar-to, --target-output, --versus or --attack.");
            var request = new ExplanationRequest
            {
                FgsmEpsilon = AttackStep(r.GetValue(attack), r.GetValue(epsilon), r.GetValue(saveTensor)),
                Counterfactual = r.GetResult(versus) is not null,
                Versus = r.GetValue(versus) is { } v ? ExplanationTarget.Parse(v) : null,
            };
            bool experiment = request.FgsmEpsilon is not null || request.Counterfactual;
            if (experiment && r.GetValue(similarTo) is not null) throw new UsageException("--versus and --attack work on classes; they do not combine with --similar-to.");
            string? scoreOutput = OutputElement(r.GetValue(targetOutput), r.GetValue(targetIndex), r.GetValue(model.OutputName),
                r.GetValue(target) is not null || r.GetValue(similarTo) is not null, experiment);
            List<IExplanationMethod> methods = MethodOptions.CreateChosen(r.GetValue(method)!, methodFlags.Settings(r));
            PictureStyle style = pictureFlags.Style(r);
            // A run, not one explanation, whenever the arguments could name several; not when a folder happens to hold one picture.
            bool run = r.GetValue(outDir) is not null || methods.Count > 1 || imageValues.Length > 1 || imageValues.Any(ImageInputs.NamesSeveral);
            if (run && (r.GetValue(outPng) is not null || r.GetValue(json) is not null))
                throw new UsageException($"--out and --json name one file each; with several pictures or methods (or --out-dir) outputs go to --out-dir as NAME-METHOD.png and {ResultsFile}.");
            List<string> pictures = imageValues.Length > 0 ? ImageInputs.Expand(imageValues) : new List<string>();
            if (run && experiment) throw new UsageException("--versus and --attack explain one picture with one method; leave out --out-dir and name one --image and one --method.");
            if (run) CheckDistinctNames(pictures);

            using ProgressDisplay progress = ProgressDisplay.For(error, r.GetValue(quiet));
            using var warnings = new WarningLogger(line => progress.WriteLine(error, line), tally: run);
            using CamExplainer explainer = ExplainerFactory.Create(r, model, methods[0], warnings,
                out string modelName, scoreOutput: scoreOutput);
            DetectorChoice? detector = detectionFlags.Settings(r).Choose(explainer, r.GetValue(target));
            if (detector is not null && request.Counterfactual)
                throw new UsageException("The model is a detector: --versus compares two classes' probabilities (paper eq. 7), and a detector's output holds " +
                    "proposals, not class probabilities. To compare two detections, explain both from one set of passes (--detection A B) and compare their maps.");
            if (detector is not null && (experiment || scoreOutput is not null || r.GetValue(similarTo) is not null))
                throw new UsageException("The model is a detector: its targets are detections (--detection, --box); --versus, --attack, --target-output and --similar-to do not apply.");
            ExplanationTarget explanationTarget = detector is not null ? ExplanationTarget.TopPrediction : scoreOutput is not null ? ExplanationTarget.OutputElement(scoreOutput, r.GetValue(targetIndex)!.Value)
                : segmentation.Target(r, r.GetValue(target)) is { } region ? region
                : r.GetValue(target) is { } t ? ExplanationTarget.Parse(t)
                : r.GetValue(similarTo) is { } reference ? SimilarityTo(explainer, reference)
                : ExplanationTarget.TopPrediction;
            var inputs = tensorPath is not null ? new[] { new Input(tensorPath, IsTensor: true) }
                : pictures.Count > 0 ? pictures.Select(p => new Input(p, IsTensor: false)).ToArray()
                : new[] { new Input(null, IsTensor: false) };
            var pipeline = new ExplanationPipeline(explainer, modelName) { Style = style, HeatmapValues = r.GetValue(heatmapValues) };
            var explain = new Run(pipeline, explanationTarget, methods, progress, cancellation) { Detector = detector };
            return run
                ? explain.Many(inputs, r.GetValue(outDir) ?? DefaultOutputFolder, output, error)
                : explain.One(inputs[0], r.GetValue(outPng), r.GetValue(json), output, request, r.GetValue(saveTensor));
        }));
        return command;
    }

    /// <summary>A picture file, a tensor file, or (no path) the embedded sample.</summary>
    private sealed record Input(string? Path, bool IsTensor)
    {
        public string Name => System.IO.Path.GetFileNameWithoutExtension(Path ?? "sample");
    }

    /// <summary>One invocation's pipeline, target, methods and display.</summary>
    private sealed class Run(ExplanationPipeline pipeline, ExplanationTarget target, List<IExplanationMethod> methods, ProgressDisplay progress,
        CancellationToken cancellation)
    {
        /// <summary>The detector's choice of targets; null for a classifier.</summary>
        public DetectorChoice? Detector { get; init; }

        public int One(Input input, string? pngPath, string? jsonPath, TextWriter output, ExplanationRequest request, string? saveTensor)
        {
            if (Detector is not null) return Detections(input, pngPath, jsonPath, output);
            progress.Begin(1, "explanations");
            using PictureInput loaded = Load(input);
            progress.Next($"{input.Name} {methods[0].Name}{(request.Counterfactual ? " versus" : "")}");
            ExplainedPicture result = pipeline.Explain(loaded, methods[0], request with { Target = target }, progress, cancellation);
            progress.Completed();
            Explanation e = result.Explanation;
            if (pngPath is null && jsonPath is null) pngPath = System.IO.Path.Combine(DefaultOutputFolder, $"{input.Name}-{e.Method}.png");
            string? attributionPath = pngPath is not null ? result.WritePictures(pngPath) : null;
            if (result.Attack is { } attack && saveTensor is { } npy)
                NpyFile.Write(npy, attack.Input.Data, 1, attack.Input.Channels, attack.Input.Height, attack.Input.Width);
            if (jsonPath is not null)
                AtomicFile.Write(jsonPath, ExplanationJson.Serialize(result.Document with { Batch = ExplanationJson.Of(pipeline.Explainer.BatchSizeChoice) }));
            progress.Dispose();

            // For a custom target the output row is an embedding, whose "top class" means nothing.
            if (e.Target.Index is not null)
                output.WriteLine($"prediction: {Describe(e.Prediction)} (p={e.Prediction.Probability:0.####})");
            output.WriteLine($"target:     {DescribeTarget(e)} (score={e.Target.Score:0.####})");
            if (result.Attack is { } a)
                output.WriteLine($"attack:     fgsm, epsilon={a.Epsilon:0.#####}: {Describe(a.Before)} (p={a.Before.Probability:0.####}) -> " +
                    $"{Describe(a.After)} (p={a.After.Probability:0.####}); attacked class p={a.TargetAfter:0.####}");
            if (result.Counterfactual is { } reasoning)
            {
                TargetInfo versusClass = reasoning.ReferenceExplanation.Target;
                CounterfactualCheck check = reasoning.Check;
                output.WriteLine($"versus:     {Describe(versusClass.Label, versusClass.Index!.Value)} (p={check.ReferenceOnInput:0.####})");
                output.WriteLine($"masked by 1 - L_CE: target p={check.TargetOnMasked:0.####}, versus p={check.ReferenceOnMasked:0.####}");
            }
            output.WriteLine($"layer:      {e.Layer}, {e.ForwardPasses} forward passes ({e.SkippedChannels} constant maps skipped), {e.Elapsed.TotalSeconds:0.00} s");
            output.WriteLine($"batch:      {pipeline.Explainer.BatchSize} ({pipeline.Explainer.BatchSizeChoice.Reason})");
            if (pngPath is not null) output.WriteLine($"{(pipeline.Style.Panel ? "panel:  " : "overlay:")}    {pngPath}");
            if (attributionPath is not null) output.WriteLine($"attribution: {attributionPath}");
            if (jsonPath is not null) output.WriteLine($"json:       {jsonPath}");
            return CliApp.Ok;
        }

        /// <summary>A detector's picture: the detections listed, one picture per detection explained (NAME-METHOD-dN.png).</summary>
        private int Detections(Input input, string? pngPath, string? jsonPath, TextWriter output)
        {
            using PictureInput loaded = Load(input);
            IReadOnlyList<(ExplanationTarget Target, string Suffix)> targets = Detector!.Targets(loaded);
            var found = Detector.Detect(loaded);
            progress.Begin(1, "explanations");
            progress.Next($"{input.Name} {methods[0].Name}: {targets.Count} detection{(targets.Count == 1 ? "" : "s")}");
            IReadOnlyList<ExplainedPicture> results = targets.Count == 0 ? Array.Empty<ExplainedPicture>()
                : pipeline.ExplainTargets(loaded, methods[0], targets.Select(t => t.Target).ToList(), progress, cancellation);
            progress.Completed();
            progress.Dispose();
            output.WriteLine($"detections: {found.Count} at confidence {Detector.Confidence:0.##} or more ({Detector.Head.Layout}, {Detector.Head.Proposals} proposals, {Detector.Head.Classes} classes)");
            for (int i = 0; i < found.Count; i++)
                output.WriteLine($"  d{i}: {Describe(Label(found[i].ClassIndex), found[i].ClassIndex)} {found[i].Confidence:0.###} at {found[i].Box}");
            string stem = pngPath is null ? System.IO.Path.Combine(DefaultOutputFolder, $"{input.Name}-{methods[0].Name}")
                : System.IO.Path.Combine(System.IO.Path.GetDirectoryName(pngPath) ?? "", System.IO.Path.GetFileNameWithoutExtension(pngPath));
            var documents = new List<ExplanationDocument>();
            for (int i = 0; i < results.Count; i++)
            {
                string png = $"{stem}-{targets[i].Suffix}.png";
                results[i].WritePictures(png);
                documents.Add(results[i].Document with { Overlay = System.IO.Path.GetFileName(png) });
                Explanation e = results[i].Explanation;
                output.WriteLine($"{targets[i].Suffix}: {e.Target.Name} (score={e.Target.Score:0.####}), {e.ForwardPasses} passes, {e.Elapsed.TotalSeconds:0.00} s -> {png}");
            }
            if (jsonPath is not null)
                AtomicFile.Write(jsonPath, ExplanationJson.Serialize(new ExplanationRunDocument
                {
                    Model = pipeline.ModelName,
                    Batch = ExplanationJson.Of(pipeline.Explainer.BatchSizeChoice),
                    Explanations = documents,
                    Failed = Array.Empty<FailureDocument>(),
                }));
            if (results.Count == 0) output.WriteLine("nothing explained: no detection; lower --confidence or give a --box.");
            return CliApp.Ok;
        }

        private string? Label(int c) => pipeline.Explainer.Labels is { } l && c < l.Count ? l[c] : null;

        public int Many(IReadOnlyList<Input> inputs, string folder, TextWriter output, TextWriter error)
        {
            var explanations = new List<ExplanationDocument>();
            var failures = new List<FailureDocument>();
            // A picture or method that fails is recorded in results.json and reported; the run goes on.
            void Failed(string shown, string? method, ScoreCamException e)
            {
                string message = LibraryTerms.Rephrase(e.Message);
                failures.Add(new FailureDocument(shown, method, message));
                progress.WriteLine(error, method is null ? $"error: {message}" : $"error: {shown} ({method}): {message}");
            }
            progress.Begin(inputs.Count * methods.Count, "explanations");
            foreach (Input input in inputs)
            {
                string shown = input.Path ?? "sample";
                int done = 0;
                try
                {
                    // One unmasked forward pass per picture (the input's), shared by its methods.
                    using PictureInput loaded = Load(input);
                    foreach (IExplanationMethod method in methods)
                    {
                        if (Detector is not null)
                        {
                            progress.Next($"{input.Name} {method.Name}");
                            try
                            {
                                var targets = Detector.Targets(loaded);
                                var pictures = targets.Count == 0 ? Array.Empty<ExplainedPicture>()
                                    : pipeline.ExplainTargets(loaded, method, targets.Select(t => t.Target).ToList(), progress, cancellation);
                                for (int i = 0; i < pictures.Count; i++)
                                {
                                    string file = System.IO.Path.Combine(folder, $"{input.Name}-{method.Name}-{targets[i].Suffix}.png");
                                    pictures[i].WritePictures(file);
                                    explanations.Add(pictures[i].Document with { Image = shown, Overlay = System.IO.Path.GetFileName(file) });
                                    progress.WriteLine(output, $"{shown} {method.Name} {targets[i].Suffix}: {pictures[i].Explanation.Target.Name} " +
                                        $"(score={pictures[i].Explanation.Target.Score:0.####}) -> {file}");
                                }
                                if (pictures.Count == 0) progress.WriteLine(output, $"{shown}: no detection at confidence {Detector.Confidence:0.##} or more");
                            }
                            catch (ScoreCamException e)
                            {
                                Failed(shown, method.Name, e);
                            }
                            progress.Completed();
                            done++;
                            continue;
                        }
                        string png = System.IO.Path.Combine(folder, $"{input.Name}-{method.Name}.png");
                        progress.Next($"{input.Name} {method.Name}");
                        try
                        {
                            ExplainedPicture result = pipeline.Explain(loaded, method, new ExplanationRequest { Target = target }, progress, cancellation);
                            string? attribution = result.WritePictures(png);
                            explanations.Add(result.Document with
                            {
                                Image = shown,
                                Overlay = System.IO.Path.GetFileName(png),
                                AttributionPicture = attribution is null ? null : System.IO.Path.GetFileName(attribution),
                            });
                            progress.WriteLine(output, $"{shown} {method.Name}: {DescribeTarget(result.Explanation)} (score={result.Explanation.Target.Score:0.####}), " +
                                $"{result.Explanation.ForwardPasses} passes, {result.Explanation.Elapsed.TotalSeconds:0.00} s -> {png}");
                        }
                        catch (ScoreCamException e)
                        {
                            Failed(shown, method.Name, e);
                        }
                        progress.Completed();
                        done++;
                    }
                }
                catch (ScoreCamException e)
                {
                    Failed(shown, null, e);
                    for (; done < methods.Count; done++) progress.Completed();
                }
            }
            string results = System.IO.Path.Combine(folder, ResultsFile);
            AtomicFile.Write(results, ExplanationJson.Serialize(new ExplanationRunDocument
            {
                Model = pipeline.ModelName,
                Batch = ExplanationJson.Of(pipeline.Explainer.BatchSizeChoice),
                Explanations = explanations,
                Failed = failures,
            }));
            progress.Dispose();
            output.WriteLine($"results: {results} ({explanations.Count} explanations{(failures.Count > 0 ? $", {failures.Count} failed" : "")})");
            return failures.Count > 0 ? CliApp.InputError : CliApp.Ok;
        }

        private PictureInput Load(Input input) =>
            input.IsTensor ? pipeline.Load(NpyFile.ReadImageTensor(input.Path!), input.Path!)
            : input.Path is { } path ? pipeline.Load(path)
            : pipeline.Load(EmbeddedDefaults.SampleImage(), "sample");
    }

    /// <summary>The output --target-output names (checked with --target-index), or null without them.</summary>
    private static string? OutputElement(string? output, int? index, string? scoreOutput, bool otherTarget, bool experiment)
    {
        if (output is null)
        {
            if (index is not null) throw new UsageException("--target-index needs --target-output NAME: the model output it indexes.");
            return null;
        }
        if (index is null) throw new UsageException($"--target-output {output} needs --target-index I: the element of that output to explain.");
        if (index < 0) throw new UsageException($"--target-index must be 0 or more; got {index}.");
        if (otherTarget) throw new UsageException("--target-output and --target-index name the target; leave out --target and --similar-to.");
        if (experiment) throw new UsageException("--versus and --attack work on a --target class; they do not combine with --target-output.");
        if (scoreOutput is not null && scoreOutput != output)
            throw new UsageException($"--output {scoreOutput} and --target-output {output} name different outputs; --target-output alone chooses the output to score.");
        return output;
    }

    /// <summary>The attack's step, or null without --attack; --epsilon and --save-tensor need --attack.</summary>
    private static float? AttackStep(string? attack, string? epsilon, string? saveTensor)
    {
        if (attack is null)
        {
            if (epsilon is not null || saveTensor is not null) throw new UsageException("--epsilon and --save-tensor belong to an attack: add --attack fgsm.");
            return null;
        }
        if (!attack.Equals("fgsm", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--attack must be fgsm; got '{attack}'.");
        if (epsilon is null) throw new UsageException("--attack fgsm needs --epsilon E (a number or a fraction such as 8/255).");
        if (EpsilonText.TryParse(epsilon, out float value)) return value;
        throw new UsageException($"--epsilon must be a number or fraction such as 8/255 in [0, 1]; got '{epsilon}'.");
    }

    /// <summary>Outputs are named after the pictures, so two pictures with one name would overwrite each other's.</summary>
    private static void CheckDistinctNames(List<string> pictures)
    {
        var clash = pictures.GroupBy(p => Path.GetFileNameWithoutExtension(p), StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
            throw new UsageException($"the pictures {string.Join(" and ", clash.Take(2))} share the name '{clash.Key}', so their outputs (NAME-METHOD.png) would overwrite each other; explain them in separate runs or rename one.");
    }

    private static ExplanationTarget SimilarityTo(CamExplainer explainer, string referencePath)
    {
        using Image<Rgb24> reference = explainer.LoadImage(referencePath);
        return SimilarityTarget.Cosine(explainer.Embed(explainer.Preprocess(reference)), $"cosine similarity to {Path.GetFileName(referencePath)}");
    }

    private static string DescribeTarget(Explanation e) => e.Target.Index is { } ti ? Describe(e.Target.Label, ti) : e.Target.Name;

    private static string Describe(string? label, int index) => label is null ? $"class {index}" : $"{label} [{index}]";

    /// <summary>Like a target: "label [index]", or just "class N" when the model has no labels.</summary>
    private static string Describe(Prediction p) => p.Label == $"class {p.Index}" ? p.Label : Describe(p.Label, p.Index);
}
