using System.Diagnostics;
using System.Text.Json;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ScoreCam.Onnx.Tests.Reliability;

/// <summary>
/// Seeded fuzzing: valid PNG, JPEG, GIF, BMP, TIFF, .npy and ONNX files, mutated (truncated, bytes flipped, runs
/// overwritten, lengths set to extremes), through the library's entry points and the `scorecam explain` command.
/// Every case must end in a result or a <see cref="ScoreCamException"/> (the CLI: exit 0, or one line and exit 1 with
/// no output file); never another exception, a stack trace or a hang. The suite runs a small budget;
/// tools/fuzz/run.sh a long one (SCORECAM_FUZZ_CASES, SCORECAM_FUZZ_SEED, SCORECAM_FUZZ_REPORT).
/// </summary>
[Category("Fuzz")]
public class FuzzTests
{
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(30);

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int v) ? v : fallback;

    [Test]
    public void Corrupt_files_give_a_result_or_a_clean_refusal()
    {
        int cases = Setting("SCORECAM_FUZZ_CASES", 140), seed = Setting("SCORECAM_FUZZ_SEED", 11);
        using var folder = new TempFolder();
        string model = TestModels.ColouredSquares().Save(folder.File("m.onnx"));
        string tensor = folder.File("x.npy");
        NpyFile.Write(tensor, TestModels.TwoSquares().Data, 1, 3, TestModels.Size, TestModels.Size);
        var seeds = SeedFiles(folder, model, tensor);
        using var explainer = CamExplainer.Open(model);

        var random = new Random(seed);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < cases; i++)
        {
            var (kind, original) = seeds[i % seeds.Count];
            string mutation;
            byte[] bytes = kind.EndsWith(".onnx") && random.Next(2) == 0 ? MutateGraph(original, random, out mutation) : Mutate(original, random, out mutation);
            string path = folder.File($"case{i}{Path.GetExtension(kind)}");
            File.WriteAllBytes(path, bytes);

            string outcome = RunWithTimeout(() => Library(kind, path, explainer), out string? failure);
            // The whole command on a quarter of the cases: exit codes, one line, no output file on failure.
            if (failure is null && i % 4 == 0) outcome = RunWithTimeout(() => Command(kind, path, model, tensor, folder), out failure) + " (cli)";
            string key = $"{kind}: {outcome}";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            if (failure is not null) failures.Add($"case {i} ({kind}, {mutation}): {failure}");
            File.Delete(path);
        }

        string report = $"fuzz: {cases} cases, seed {seed}, {clock.Elapsed.TotalSeconds:0.0} s, {failures.Count} failures\n" +
                        string.Join("\n", outcomes.Select(o => $"  {o.Value,5}  {o.Key}")) +
                        (failures.Count > 0 ? "\nfailures:\n  " + string.Join("\n  ", failures) : "");
        TestContext.Out.WriteLine(report);
        if (Environment.GetEnvironmentVariable("SCORECAM_FUZZ_REPORT") is { Length: > 0 } reportPath) File.WriteAllText(reportPath, report + "\n");
        failures.Should().BeEmpty(report);
    }

    [Test]
    public void Random_option_values_give_a_result_or_a_usage_error()
    {
        using var folder = new TempFolder();
        string model = TestModels.ColouredSquares().Save(folder.File("m.onnx"));
        string tensor = folder.File("x.npy");
        NpyFile.Write(tensor, TestModels.TwoSquares().Data, 1, 3, TestModels.Size, TestModels.Size);
        string[] options = { "--batch", "--channels", "--rise-masks", "--seed", "--size", "--mean", "--std", "--scale", "--max-megapixels", "--target" };
        string[] values = { "0", "-1", "1", "3", "2147483647", "-2147483648", "99999999999", "1e40", "NaN", "-Infinity", "0.5", "", " ", "abc", "1,2", "1,2,3", "0,0,0", "32x32", "0x0", "32x99999", "1e-45,1,1" };
        var random = new Random(5);
        var failures = new List<string>();
        for (int i = 0; i < 60; i++)
        {
            string option = options[random.Next(options.Length)], value = values[random.Next(values.Length)];
            string json = folder.File($"o{i}.json");
            string[] args = { "explain", "--model", model, "--tensor", tensor, "--method", random.Next(2) == 0 ? "scorecam" : "rise", "--rise-masks", "8", option, value, "--json", json };
            var error = new StringWriter();
            int code = -1;
            RunWithTimeout(() => { code = CliApp.Run(args, new StringWriter(), error); return ""; }, out string? hang);
            string stderr = error.ToString();
            bool clean = hang is null && code is 0 or 1 or 2 && !stderr.Contains("   at ")
                         && (code == 0 ? File.Exists(json) : !File.Exists(json) && stderr.TrimEnd().Split('\n').Length == 1);
            if (!clean) failures.Add($"{option} '{value}': exit {code} {hang} {stderr.Trim()}");
        }
        failures.Should().BeEmpty();
    }

    /// <summary>The library's entry points: a result, or a ScoreCamException with a message; anything else is a failure.</summary>
    private static string Library(string kind, string path, CamExplainer explainer)
    {
        try
        {
            if (kind.EndsWith(".onnx"))
            {
                PreparedModel prepared = ModelPreparer.Prepare(path);
                using var fuzzed = new CamExplainer(prepared);
                var input = new ImageTensor(new float[prepared.Input.Channels * TestModels.Size * TestModels.Size], prepared.Input.Channels, TestModels.Size, TestModels.Size);
                fuzzed.Explain(input, method: new ScoreCam.Onnx.Methods.ScoreCamMethod());
            }
            else
            {
                ImageTensor input = kind.EndsWith(".npy") ? NpyFile.ReadImageTensor(path) : LoadAndPreprocess(explainer, path);
                explainer.Explain(input);
            }
            return "explained";
        }
        catch (ScoreCamException e) when (e.Message.Length > 0)
        {
            return "refused: " + Kind(e.Message);
        }
    }

    private static ImageTensor LoadAndPreprocess(CamExplainer explainer, string path)
    {
        using Image<Rgb24> image = explainer.LoadImage(path);
        return explainer.Preprocess(image);
    }

    /// <summary>`scorecam explain` on the case; throws (a failure) when its answer breaks the promise.</summary>
    private static string Command(string kind, string path, string model, string tensor, TempFolder folder)
    {
        string json = folder.File("out/r.json");
        string[] args = kind.EndsWith(".onnx") ? new[] { "--model", path, "--tensor", tensor }
            : kind.EndsWith(".npy") ? new[] { "--model", model, "--tensor", path }
            : new[] { "--model", model, "--image", path };
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(new[] { "explain" }.Concat(args).Concat(new[] { "--json", json }).ToArray(), output, error);
        string stderr = error.ToString();
        if ((stderr + output).Contains("   at ")) throw new InvalidOperationException($"stack trace printed: {stderr}");
        if (code == 0)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            File.Delete(json);
            return "exit 0";
        }
        if (code != 1) throw new InvalidOperationException($"exit {code}: {stderr.Trim()}");
        if (File.Exists(json)) throw new InvalidOperationException("an output file was written by a failed command");
        if (stderr.TrimEnd().Split('\n').Length != 1) throw new InvalidOperationException($"more than one line on stderr: {stderr}");
        return "exit 1";
    }

    /// <summary>Runs one case on its own thread with a timeout; any exception or a timeout is reported as the failure.</summary>
    private static string RunWithTimeout(Func<string> run, out string? failure)
    {
        var task = Task.Run(run);
        try
        {
            if (!task.Wait(CaseTimeout))
            {
                failure = $"hang: no answer within {CaseTimeout.TotalSeconds} s";
                return "hang";
            }
            failure = null;
            return task.Result;
        }
        catch (AggregateException e)
        {
            Exception inner = e.InnerException!;
            failure = $"{inner.GetType().Name}: {inner.Message} {inner.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}";
            return "crash: " + inner.GetType().Name;
        }
    }

    /// <summary>The first words of a refusal, to count refusals by kind.</summary>
    private static string Kind(string message)
    {
        string m = System.Text.RegularExpressions.Regex.Replace(message, @"'[^']*'", "'…'");
        m = System.Text.RegularExpressions.Regex.Replace(m, @"\d+", "N");
        return m.Length > 70 ? m[..70] + "…" : m;
    }

    private static List<(string Kind, byte[] Bytes)> SeedFiles(TempFolder folder, string model, string tensor)
    {
        using var image = new Image<Rgb24>(40, 40);
        for (int y = 4; y < 16; y++) for (int x = 4; x < 16; x++) image[x, y] = new Rgb24(255, 0, 0);
        for (int y = 22; y < 36; y++) for (int x = 20; x < 34; x++) image[x, y] = new Rgb24(0, 255, 0);
        byte[] Encode(Action<Stream> save)
        {
            using var stream = new MemoryStream();
            save(stream);
            return stream.ToArray();
        }
        return new List<(string, byte[])>
        {
            ("image.png", Encode(s => image.SaveAsPng(s))),
            ("image.jpg", Encode(s => image.SaveAsJpeg(s))),
            ("image.gif", Encode(s => image.SaveAsGif(s))),
            ("image.bmp", Encode(s => image.SaveAsBmp(s))),
            ("image.tiff", Encode(s => image.SaveAsTiff(s))),
            ("tensor.npy", File.ReadAllBytes(tensor)),
            ("model.onnx", File.ReadAllBytes(model)),
        };
    }

    /// <summary>A model that still parses but is wrong: the mistakes of a bad export or a hand-edited graph.</summary>
    private static byte[] MutateGraph(byte[] original, Random random, out string mutation)
    {
        var model = global::Onnx.ModelProto.Parser.ParseFrom(original);
        var graph = model.Graph;
        var node = graph.Node[random.Next(graph.Node.Count)];
        var tensor = graph.Initializer[random.Next(graph.Initializer.Count)];
        var input = graph.Input[0].Type.TensorType;
        string[] ops = { "Relu", "Conv", "Gemm", "Reshape", "Transpose", "Softmax", "Div", "Log", "MaxPool", "NoSuchOp" };
        long[] dims = { 0, 1, 2, 3, 7, -1, 1L << 40 };
        switch (random.Next(9))
        {
            case 0:
                string op = ops[random.Next(ops.Length)];
                mutation = $"node {node.Name} made {op}";
                node.OpType = op;
                break;
            case 1:
                mutation = $"node {node.Name} reads a missing tensor";
                node.Input[random.Next(node.Input.Count)] = "missing";
                break;
            case 2:
                long d = dims[random.Next(dims.Length)];
                mutation = $"initializer {tensor.Name} dimension set to {d}";
                if (tensor.Dims.Count > 0) tensor.Dims[random.Next(tensor.Dims.Count)] = d; else tensor.Dims.Add(d);
                break;
            case 3:
                mutation = $"initializer {tensor.Name} filled with NaN";
                for (int i = 0; i < tensor.FloatData.Count; i++) tensor.FloatData[i] = float.NaN;
                break;
            case 4:
                long dim = dims[random.Next(dims.Length)];
                int at = random.Next(input.Shape.Dim.Count);
                mutation = $"input dimension {at} set to {dim}";
                input.Shape.Dim[at] = new global::Onnx.TensorShapeProto.Types.Dimension { DimValue = dim };
                break;
            case 5:
                int type = random.Next(1, 17);
                mutation = $"input element type {type}";
                input.ElemType = type;
                break;
            case 6:
                mutation = $"node {node.Name} removed";
                graph.Node.Remove(node);
                break;
            case 7:
                long opset = new long[] { 1, 6, 7, 99 }[random.Next(4)];
                mutation = $"opset {opset}";
                model.OpsetImport[0].Version = opset;
                break;
            default:
                mutation = $"node {node.Name} in domain com.example";
                node.Domain = "com.example";
                break;
        }
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }

    /// <summary>One of the mutations a damaged download, a bad export or a hostile upload produces.</summary>
    private static byte[] Mutate(byte[] original, Random random, out string mutation)
    {
        byte[] b = (byte[])original.Clone();
        switch (random.Next(6))
        {
            case 0:
                int keep = random.Next(b.Length);
                mutation = $"truncated to {keep} bytes";
                return b[..keep];
            case 1:
                int flips = 1 + random.Next(16);
                for (int i = 0; i < flips; i++) b[random.Next(b.Length)] ^= (byte)(1 << random.Next(8));
                mutation = $"{flips} bits flipped";
                return b;
            case 2:
                int start = random.Next(b.Length), length = Math.Min(b.Length - start, 1 + random.Next(64));
                random.NextBytes(b.AsSpan(start, length));
                mutation = $"{length} bytes at {start} overwritten";
                return b;
            case 3:
                // A length or size field made extreme: where headers keep them (the first bytes) or anywhere.
                int at = random.Next(2) == 0 ? random.Next(Math.Min(b.Length - 4, 64)) : random.Next(b.Length - 4);
                uint[] extremes = { 0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFF, 0x10000 };
                uint value = extremes[random.Next(extremes.Length)];
                BitConverter.GetBytes(random.Next(2) == 0 ? value : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value)).CopyTo(b, at);
                mutation = $"0x{value:X8} written at {at}";
                return b;
            case 4:
                int from = random.Next(b.Length), count = Math.Min(b.Length - from, 1 + random.Next(256));
                mutation = $"{count} bytes at {from} duplicated";
                return b[..from].Concat(b.AsSpan(from, count).ToArray()).Concat(b[from..]).ToArray();
            default:
                mutation = "random bytes with the original's first 16";
                byte[] noise = new byte[b.Length];
                random.NextBytes(noise);
                b.AsSpan(0, Math.Min(16, b.Length)).CopyTo(noise);
                return noise;
        }
    }
}
