using System.CommandLine;
using System.Globalization;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Cli;

/// <summary>The model, layer, device and preprocessing flags shared by every command that reads a model or images.</summary>
internal sealed class ModelOptions
{
    public Option<string?> Model { get; } = new("--model") { Description = "ONNX classifier (.onnx, or a prepared .cam.onnx). Default: the embedded fashion-clutter model." };
    public Option<string?> Layer { get; } = new("--layer") { Description = "Target layer: an ONNX tensor or node name (see `scorecam layers`). Default: the last convolutional block." };
    public Option<string?> InputName { get; } = new("--input") { Description = "Name of the image input, when the model has several." };
    public Option<string?> OutputName { get; } = new("--output") { Description = "Name of the class-score output, when the model has several." };
    public Option<string> Device { get; } = new("--device") { Description = "cpu or cuda[:ID].", DefaultValueFactory = _ => "cpu" };
    public Option<string> Precision { get; } = new("--precision")
    {
        Description = "tf32: float32, with TF32 tensor cores on CUDA GPUs that have them (default); fp32: float32 throughout; " +
            "fp16: a float16 copy of the model (for GPUs; gradient methods keep float32); " +
            "int8: masked passes on an int8 copy of the model, on CPU (the unmasked pass and gradient methods keep float32).",
        DefaultValueFactory = _ => "tf32",
    };
    public Option<string?> Calibration { get; } = new("--calibration")
    {
        Description = "With --precision int8: a folder of pictures that calibrates one int8 copy for every input, kept next to the model file " +
            "(NAME.int8-HASH.onnx) and reused while the model, the pictures and the settings are the same. Default: each input calibrates its own, from itself and its masked images.",
    };
    public Option<bool> IoBinding { get; } = new("--io-binding") { Description = "Keep full batches' inputs and outputs in the device's memory, bound once (ONNX Runtime IOBinding)." };
    public Option<bool> CudaGraphs { get; } = new("--cuda-graphs") { Description = "With --device cuda: record full batches as a CUDA graph and replay it (implies --io-binding)." };
    public Option<string?> Size { get; } = new("--size") { Description = "Input size: N or WxH. Default: the model's, else the sidecar's, else 224." };
    public Option<string?> Resize { get; } = new("--resize") { Description = "stretch or crop (scale the shorter side, cut the centre)." };
    public Option<string?> Mean { get; } = new("--mean") { Description = "Per-channel mean, a,b,c (after scaling). Default 0.485,0.456,0.406." };
    public Option<string?> Std { get; } = new("--std") { Description = "Per-channel std, a,b,c. Default 0.229,0.224,0.225." };
    public Option<string?> Scale { get; } = new("--scale") { Description = "1: pixels in [0,1] (default); 255: pixels in [0,255]." };
    public Option<bool> Bgr { get; } = new("--bgr") { Description = "Feed channels in B,G,R order." };
    public Option<string?> Labels { get; } = new("--labels") { Description = "Labels file, one class per line." };
    public Option<string[]> Feed { get; } = new("--feed")
    {
        Description = "NAME=FILE.npy: a fixed float32 value for model input NAME besides the image (e.g. a caption model's previous words), " +
            "one row: the input's shape with batch dimension 1, or without it; repeated for every image of a batch. Repeatable.",
    };
    public Option<int?> Batch { get; } = new("--batch") { Description = $"Inputs per ONNX Runtime call (masked images, gradient passes). Default: chosen for the model, as many as fit --max-memory, at most {BatchSizePolicy.MaxBatchSize}." };
    public Option<int?> MaxMemory { get; } = new("--max-memory") { Description = $"Memory budget in MiB for one batch's intermediate tensors when the batch size is chosen (weights come on top). Default: {BatchSizePolicy.DefaultBudgetBytes >> 20}." };
    public Option<double> MaxMegapixels { get; } = new("--max-megapixels") { Description = "Refuse larger images before decoding.", DefaultValueFactory = _ => 50 };
    public Option<bool> KeepOrientation { get; } = new("--keep-orientation")
    {
        Description = "Explain pictures as their files store the pixels, ignoring the EXIF orientation (by default pictures are turned upright as viewers show them).",
    };

    private bool _feeds;

    /// <summary>Adds <see cref="Feed"/>: for commands that run models with inputs besides the image.</summary>
    public void AddFeeds(Command command)
    {
        command.Options.Add(Feed);
        _feeds = true;
    }

    /// <summary>Adds the flags; a command that takes a list of batch sizes (bench) defines its own --batch.</summary>
    public void AddTo(Command command, bool preprocessing = true, bool batch = true)
    {
        command.Options.Add(Model);
        command.Options.Add(Layer);
        command.Options.Add(InputName);
        command.Options.Add(OutputName);
        if (!preprocessing) return;
        if (batch) command.Options.Add(Batch);
        foreach (Option o in new Option[] { MaxMemory, Device, Precision, Calibration, IoBinding, CudaGraphs, Size, Resize, Mean, Std, Scale, Bgr, Labels, MaxMegapixels, KeepOrientation }) command.Options.Add(o);
    }

    public ModelPreparationOptions Preparation(ParseResult r)
    {
        var size = ParseSize(r.GetValue(Size));
        return new ModelPreparationOptions
        {
            Layer = r.GetValue(Layer),
            InputName = r.GetValue(InputName),
            OutputName = r.GetValue(OutputName),
            Feeds = _feeds ? Feeds(r.GetValue(Feed) ?? Array.Empty<string>()) : null,
            ProbeSize = size is { } s ? (s.Height, s.Width) : (224, 224),
        };
    }

    private static Dictionary<string, InputFeed> Feeds(string[] values)
    {
        var feeds = new Dictionary<string, InputFeed>(StringComparer.Ordinal);
        foreach (string value in values)
        {
            int eq = value.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == value.Length - 1)
                throw new UsageException($"--feed must be NAME=FILE.npy (an input name and a float32 .npy file); got '{value}'.");
            string name = value[..eq];
            if (feeds.ContainsKey(name)) throw new UsageException($"--feed gives input '{name}' twice; give each input once.");
            feeds[name] = InputFeed.Read(value[(eq + 1)..]);
        }
        return feeds;
    }

    /// <param name="precision">One --precision value, instead of the flag's (bench measures a list).</param>
    public InferenceOptions Inference(ParseResult r, string? precision = null)
    {
        string device = r.GetValue(Device)!.Trim().ToLowerInvariant();
        InferenceOptions options = device switch
        {
            "cpu" => new InferenceOptions(),
            "cuda" => new InferenceOptions { Device = ExecutionDevice.Cuda },
            _ when device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device[5..], NumberStyles.None, CultureInfo.InvariantCulture, out int id)
                => new InferenceOptions { Device = ExecutionDevice.Cuda, CudaDeviceId = id },
            _ => throw new UsageException($"--device must be cpu, cuda or cuda:ID; got '{device}'."),
        };
        options = (precision ?? r.GetValue(Precision)!).Trim().ToLowerInvariant() switch
        {
            "tf32" => options with { CudaTf32 = true },
            "fp32" => options with { CudaTf32 = false },
            "fp16" => options with { Float16 = true },
            "int8" when options.Device != ExecutionDevice.Cpu => throw new UsageException("--precision int8 runs on the CPU; use --device cpu (fp16 or tf32 on CUDA)."),
            "int8" => options with { Int8 = new Int8Options
            {
                CalibrationFolder = r.GetValue(Calibration),
                CacheFolder = r.GetValue(Calibration) is not null && r.GetValue(Model) is { } path ? Path.GetDirectoryName(Path.GetFullPath(path)) : null,
            } },
            var other => throw new UsageException($"--precision must be tf32, fp32, fp16 or int8; got '{other}'."),
        };
        if (r.GetValue(Calibration) is not null && options.Int8 is null) throw new UsageException("--calibration goes with --precision int8.");
        bool graphs = r.GetValue(CudaGraphs);
        if (graphs && options.Device != ExecutionDevice.Cuda) throw new UsageException("--cuda-graphs needs --device cuda (CUDA graphs are a GPU feature).");
        return options with { DeviceResidentBuffers = graphs || r.GetValue(IoBinding), CudaGraphs = graphs };
    }

    /// <summary>Flags over the sidecar over the model's own input size over the paper's defaults.</summary>
    public PreprocessOptions Preprocess(ParseResult r, PreprocessOptions? sidecar, PreparedModel model)
    {
        var p = sidecar ?? new PreprocessOptions { Height = model.Input.Height ?? 224, Width = model.Input.Width ?? 224 };
        if (ParseSize(r.GetValue(Size)) is { } size) p = p with { Width = size.Width, Height = size.Height };
        if (r.GetValue(Resize) is { } resize)
            p = p with { Resize = resize.ToLowerInvariant() switch
            {
                "stretch" => ResizeMode.Stretch,
                "crop" => ResizeMode.Crop,
                _ => throw new UsageException($"--resize must be stretch or crop; got '{resize}'."),
            } };
        if (r.GetValue(Mean) is { } mean) p = p with { Mean = ParseTriple("--mean", mean) };
        if (r.GetValue(Std) is { } std) p = p with { Std = ParseTriple("--std", std, positive: true) };
        if (r.GetValue(Scale) is { } scale)
            p = p with { Scale = scale switch { "1" => 1f, "255" => 255f, _ => throw new UsageException($"--scale must be 1 or 255; got '{scale}'.") } };
        if (r.GetValue(Bgr)) p = p with { Bgr = true };
        if (r.GetValue(Labels) is { } labels) p = p with { Labels = labels };
        if ((long)p.Width * p.Height > MaxPixels(r))
            throw new UsageException($"--size {p.Width}x{p.Height} is over the --max-megapixels limit ({r.GetValue(MaxMegapixels)}); the model input would not fit in memory sensibly.");
        return p;
    }

    // Far beyond any useful batch, so that a typo is a usage error rather than an allocation failure.
    internal const int MaxBatch = 4096;

    /// <summary>The batch size given, validated; null when none was given (or the command has no --batch).</summary>
    public int? BatchSize(ParseResult r) => r.GetValue(Batch) is { } b && b is < 1 or > MaxBatch
        ? throw new UsageException($"--batch must be between 1 and {MaxBatch}; got {b}.") : r.GetValue(Batch);

    /// <summary>The memory budget given, in bytes, validated; null when none was given.</summary>
    public long? MaxBatchMemory(ParseResult r) => r.GetValue(MaxMemory) switch
    {
        null => null,
        < 1 and var m => throw new UsageException($"--max-memory must be at least 1 (MiB); got {m}."),
        var m => (long)m << 20,
    };

    public long MaxPixels(ParseResult r)
    {
        double mp = r.GetValue(MaxMegapixels);
        if (!(mp > 0) || !double.IsFinite(mp) || mp > 1e6) throw new UsageException($"--max-megapixels must be a positive number up to 1000000; got {mp}.");
        return (long)(mp * 1_000_000);
    }

    private static (int Width, int Height)? ParseSize(string? text)
    {
        if (text is null) return null;
        string[] parts = text.ToLowerInvariant().Split('x');
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0))
        {
            int w = int.Parse(parts[0], CultureInfo.InvariantCulture);
            return (w, parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : w);
        }
        throw new UsageException($"--size must be N or WxH with positive integers; got '{text}'.");
    }

    private static float[] ParseTriple(string name, string text, bool positive = false)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                throw new UsageException($"{name} must be three finite numbers a,b,c; got '{text}'.");
        if (values.Length != 3) throw new UsageException($"{name} must be three numbers a,b,c; got '{text}'.");
        if (positive && values.Any(v => v <= 0)) throw new UsageException($"{name} values must be positive (they divide the pixels); got '{text}'.");
        return values;
    }
}
