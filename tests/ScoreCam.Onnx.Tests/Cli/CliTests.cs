using ScoreCam.Onnx.Methods;
using System.Text.Json;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>Runs the real `scorecam` command in process, on hand-built models and files.</summary>
public class CliTests
{
    private TempFolder _folder = null!;
    private string _model = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
        File.WriteAllLines(_folder.File("labels.txt"), new[] { "red", "green", "blue" });
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private string SquaresPng()
    {
        string path = _folder.File("squares.png");
        using var image = new Image<Rgb24>(64, 64);
        for (int y = 8; y < 24; y++) for (int x = 8; x < 24; x++) image[x, y] = new Rgb24(255, 0, 0);
        for (int y = 40; y < 56; y++) for (int x = 40; x < 56; x++) image[x, y] = new Rgb24(0, 255, 0);
        image.SaveAsPng(path);
        return path;
    }

    [Test]
    public void Explain_writes_the_overlay_and_the_json_the_issue_specifies()
    {
        var (code, output, error) = Run("explain", "--model", _model, "--image", SquaresPng(), "--labels", _folder.File("labels.txt"),
            "--target", "green", "--mean", "0,0,0", "--std", "1,1,1", "--out", _folder.File("o.png"), "--json", _folder.File("r.json"));
        (code, error).Should().Be((0, ""));
        output.Should().Contain("target:     green [1]");

        using (var overlay = Image.Load<Rgb24>(_folder.File("o.png"))) (overlay.Width, overlay.Height).Should().Be((3 * 384 + 3 * SideBySide.GapFor(384) + ColorBar.WidthFor(384), 384), "64x64 pictures are scaled up to the default overlay size, in the default panel");
        using var json = JsonDocument.Parse(File.ReadAllText(_folder.File("r.json")));
        JsonElement root = json.RootElement;
        root.GetProperty("method").GetString().Should().Be("scorecam");
        root.GetProperty("target").GetProperty("index").GetInt32().Should().Be(1);
        root.GetProperty("target").GetProperty("label").GetString().Should().Be("green");
        root.GetProperty("target").GetProperty("probability").GetDouble().Should().BeInRange(0, 1);
        JsonElement map = root.GetProperty("map");
        (map.GetProperty("width").GetInt32(), map.GetProperty("height").GetInt32()).Should().Be((8, 8));
        map.GetProperty("values").GetArrayLength().Should().Be(64);
        root.GetProperty("weights").GetArrayLength().Should().Be(TestModels.Channels);
        (root.GetProperty("heatmap").GetProperty("width").GetInt32(), root.GetProperty("heatmap").GetProperty("height").GetInt32()).Should().Be((32, 32));
    }

    [Test]
    public void Explain_accepts_a_preprocessed_npy_tensor_and_matches_the_library()
    {
        ImageTensor tensor = TestModels.TwoSquares();
        NpyFile.Write(_folder.File("x.npy"), tensor.Data, 1, 3, 32, 32);
        var (code, _, error) = Run("explain", "--model", _model, "--tensor", _folder.File("x.npy"), "--target", "0", "--json", _folder.File("r.json"));
        (code, error).Should().Be((0, ""));

        using var explainer = CamExplainer.Open(_model);
        float[] expected = explainer.Explain(tensor, ScoreCam.Onnx.Methods.ExplanationTarget.Class(0)).Map.Values;
        using var json = JsonDocument.Parse(File.ReadAllText(_folder.File("r.json")));
        json.RootElement.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).Should().Equal(expected);
        _folder.Files().Should().NotContain(f => f.EndsWith(".png"), "only --json was asked for");
    }

    [TestCase("scorecam", "--channels", "2")]
    [TestCase("gradcam++")]
    [TestCase("rise", "--rise-masks", "64")]
    [TestCase("gradient")]
    [TestCase("guided-backprop", "--reduction", "sum-abs")]
    [TestCase("smoothgrad", "--samples", "4", "--noise", "0.1")]
    [TestCase("integrated-gradients", "--ig-steps", "8", "--baseline", "black")]
    [TestCase("mask", "--mask-iterations", "5")]
    [TestCase("guided-scorecam")]
    [TestCase("guided-gradcam")]
    public void Every_method_runs_from_the_command_line(string method, params string[] extra)
    {
        NpyFile.Write(_folder.File("x.npy"), TestModels.TwoSquares().Data, 1, 3, 32, 32);
        var (code, _, error) = Run(new[] { "explain", "--model", _model, "--tensor", _folder.File("x.npy"), "--method", method, "--json", _folder.File("r.json") }.Concat(extra).ToArray());
        (code, error).Should().Be((0, ""));
        using var json = JsonDocument.Parse(File.ReadAllText(_folder.File("r.json")));
        json.RootElement.GetProperty("method").GetString().Should().Be(method);
        json.RootElement.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).Should().Contain(v => v > 0);
        bool pixelSpace = MethodCatalog.TryFind(method, out MethodEntry entry) && entry.Kind != MethodKind.Cam && method is not ("rise" or "mask");
        json.RootElement.TryGetProperty("attribution", out JsonElement attribution).Should().Be(pixelSpace);
        if (pixelSpace) attribution.GetProperty("values").GetArrayLength().Should().Be(3 * 32 * 32);
    }

    [Test]
    public void A_run_over_several_pictures_shows_each_distinct_warning_once_with_its_count()
    {
        // Four identical channels: every picture's class-0 map is 0 everywhere, so each explanation warns alike.
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, 16, 16);
        string relu = g.Node("Relu", new[] { g.Node("Conv", new[] { x, g.Weights("w", Enumerable.Repeat(0.1f, 4 * 3 * 9).ToArray(), 4, 3, 3, 3) }, "conv", OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1)) }, "relu");
        g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { relu }, "pooled") }, "output");
        g.Output("output", null, 4);
        string model = g.Save(_folder.File("constant.onnx"));
        string folder = _folder.File("three");
        Directory.CreateDirectory(folder);
        foreach (string name in new[] { "a.png", "b.png", "c.png" }) File.Copy(SquaresPng(), Path.Combine(folder, name));

        var run = Run("explain", "--model", model, "--image", folder, "--target", "0", "--out-dir", _folder.File("out"), "--quiet");
        run.Code.Should().Be(0, run.Err);
        string[] lines = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle().Which.Should().StartWith("warning (3 of 3 explanations): The scorecam map of 'class 0' is 0 everywhere");

        // Two methods: the count is out of all six explanations.
        run = Run("explain", "--model", model, "--image", folder, "--target", "0", "--method", "scorecam,gradcam", "--out-dir", _folder.File("out2"), "--quiet");
        run.Code.Should().Be(0, run.Err);
        run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().OnlyContain(l => l.StartsWith("warning (3 of 6 explanations): The "))
            .And.ContainSingle(l => l.Contains("The scorecam map of 'class 0' is 0 everywhere"));
    }

    [Test]
    public void The_batch_size_is_chosen_within_max_memory_unless_given_and_explain_and_bench_state_it()
    {
        // input 3×128×128 → conv → ReLU → pool: 196,608 B of input and two 262,144 B maps live at once per image.
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", null, 3, 128, 128);
        string relu = g.Node("Relu", new[] { g.Node("Conv", new[] { x, g.Weights("w", Enumerable.Repeat(0.1f, 4 * 3 * 9).ToArray(), 4, 3, 3, 3) }, "conv", OnnxGraphBuilder.Ints("pads", 1, 1, 1, 1)) }, "relu");
        g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { relu }, "pooled") }, "output");
        g.Output("output", null, 4);
        string model = g.Save(_folder.File("wide.onnx"));
        string png = SquaresPng();
        int Batch(params string[] flags)
        {
            var (code, output, error) = Run(new[] { "explain", "--model", model, "--image", png, "--json", _folder.File("b.json") }.Concat(flags).ToArray());
            // The four identical channels give class 0 a map that is 0 everywhere, which the command warns of.
            (code, error).Should().Match<(int, string)>(e => e.Item1 == 0 && e.Item2.StartsWith("warning: The scorecam map of 'class 0' is 0 everywhere") && e.Item2.Trim().Split('\n').Length == 1);
            using var json = JsonDocument.Parse(File.ReadAllText(_folder.File("b.json")));
            JsonElement batch = json.RootElement.GetProperty("batch");
            output.Should().Contain($"batch:      {batch.GetProperty("size").GetInt32()} ({batch.GetProperty("reason").GetString()})");
            return batch.GetProperty("size").GetInt32();
        }

        Batch().Should().Be(32, "the default budget holds far more than 32 such images");
        Batch("--max-memory", "4").Should().Be((int)((4L << 20) / (196_608 + 2 * 262_144)));
        Batch("--max-memory", "4", "--batch", "3").Should().Be(3);
        Run("explain", "--model", model, "--image", png, "--max-memory", "0").Code.Should().Be(2);

        var bench = Run("bench", "--model", model, "--image", png, "--batch", "auto,2", "--runs", "1", "--max-memory", "4");
        bench.Code.Should().Be(0, bench.Err);
        bench.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().OnlyContain(l => l.StartsWith("warning: The scorecam map of 'class 0' is 0 everywhere"));
        bench.Out.Should().Contain("auto: batch 5 (").And.MatchRegex(@"\nscorecam\s+fp32\s+all\s+5\*\s").And.MatchRegex(@"\nscorecam\s+fp32\s+all\s+2\s");
    }

    [Test]
    public void Bench_measures_each_listed_precision_on_the_same_passes()
    {
        var (code, output, error) = Run("bench", "--model", _model, "--image", SquaresPng(), "--precision", "fp32,int8", "--runs", "1",
            "--json", _folder.File("bench.json"));
        (code, error).Should().Be((0, ""));
        output.Should().MatchRegex(@"\nscorecam\s+fp32\s").And.MatchRegex(@"\nscorecam\s+int8\s");
        using var json = JsonDocument.Parse(File.ReadAllText(_folder.File("bench.json")));
        var rows = json.RootElement.EnumerateArray().ToList();
        rows.Select(r => r.GetProperty("precision").GetString()).Should().Equal("fp32", "int8");
        rows[1].GetProperty("forward_passes").GetInt32().Should().Be(rows[0].GetProperty("forward_passes").GetInt32());
    }

    [Test]
    public void Bench_on_the_cpu_reports_the_default_tf32_as_fp32_and_refuses_both_listed()
    {
        // TF32 is a mode of CUDA tensor cores; on the CPU the default precision is plain float32.
        var (code, output, error) = Run("bench", "--model", _model, "--image", SquaresPng(), "--runs", "1", "--json", _folder.File("bench-cpu.json"));
        (code, error).Should().Be((0, ""));
        output.Should().MatchRegex(@"\nscorecam\s+fp32\s").And.NotContain("tf32");
        using (var json = JsonDocument.Parse(File.ReadAllText(_folder.File("bench-cpu.json"))))
            json.RootElement.EnumerateArray().Select(r => (r.GetProperty("device").GetString(), r.GetProperty("precision").GetString()))
                .Should().Equal(("Cpu", "fp32"));

        var both = Run("bench", "--model", _model, "--image", SquaresPng(), "--runs", "1", "--precision", "tf32,fp32");
        both.Code.Should().Be(2);
        both.Err.Should().Contain("--precision tf32,fp32").And.Contain("same on the CPU");
    }

    [Test]
    public void An_int8_copy_calibrated_from_a_folder_is_kept_next_to_the_model_and_reused()
    {
        string pictures = Directory.CreateDirectory(_folder.File("calibration")).FullName;
        File.Copy(SquaresPng(), Path.Combine(pictures, "a.png"));
        string[] Copies() => Directory.GetFiles(_folder.Path, "squares.int8-*.onnx");
        DateTime? written = null;
        foreach (int run in new[] { 1, 2 })
        {
            var (code, _, error) = Run("explain", "--model", _model, "--image", SquaresPng(), "--precision", "int8", "--calibration", pictures,
                "--out", _folder.File($"int8-{run}.png"));
            (code, error).Should().Be((0, ""));
            DateTime time = File.GetLastWriteTimeUtc(Copies().Should().ContainSingle().Which);
            if (written is { } first) time.Should().Be(first, "the second run reads the copy, it does not write it again");
            written = time;
        }
    }

    [Test]
    public void Bench_measures_every_configuration_and_shared_batches_fill_where_one_image_alone_does_not()
    {
        var (code, output, error) = Run("bench", "--model", _model, "--image", SquaresPng(), "--batch", "3", "--images", "1,3",
            "--targets", "1,2", "--channels", "all,2", "--runs", "1", "--json", _folder.File("bench.json"));
        (code, error).Should().Be((0, ""));
        output.Should().Contain("fill");
        using var json = JsonDocument.Parse(File.ReadAllText(_folder.File("bench.json")));
        var rows = json.RootElement.EnumerateArray().ToList();
        rows.Select(r => (r.GetProperty("channels").ValueKind == JsonValueKind.Null ? 0 : r.GetProperty("channels").GetInt32(),
                r.GetProperty("images").GetInt32(), r.GetProperty("targets").GetInt32()))
            .Should().Equal((0, 1, 1), (0, 1, 2), (0, 3, 1), (0, 3, 2), (2, 1, 1), (2, 1, 2), (2, 3, 1), (2, 3, 2));
        foreach (var r in rows)
        {
            int k = r.GetProperty("channels").ValueKind == JsonValueKind.Null ? TestModels.Channels : 2;
            int n = r.GetProperty("images").GetInt32();
            int masked = n * (k - r.GetProperty("skipped_channels").GetInt32() / n);
            r.GetProperty("forward_passes").GetInt32().Should().Be(masked + n, "one unmasked and one masked pass per kept channel and image, whatever the targets");
            // Shared batches: only the run's last batch can be part-empty; 3 images of 4 masked passes fill four batches of 3.
            r.GetProperty("batch_fill").GetDouble().Should().BeApproximately(masked / (Math.Ceiling(masked / 3.0) * 3), 1e-4);
        }
        rows[2].GetProperty("batch_fill").GetDouble().Should().Be(1.0);
        rows[0].GetProperty("batch_fill").GetDouble().Should().BeApproximately(4 / 6.0, 1e-4, "one image's 4 masked passes take two calls of 3");
    }

    [Test]
    public void Prepare_writes_the_prepared_model_and_its_description_and_layers_lists_candidates()
    {
        var (code, output, _) = Run("prepare", "--model", _model);
        code.Should().Be(0);
        File.Exists(_folder.File("squares.cam.onnx")).Should().BeTrue();
        using (var json = JsonDocument.Parse(File.ReadAllText(_folder.File("squares.cam.json"))))
            json.RootElement.GetProperty("layer").GetProperty("tensorName").GetString().Should().Be(TestModels.TargetLayer);
        output.Should().Contain("features [4x8x8]");

        var layers = Run("layers", "--model", _model);
        layers.Code.Should().Be(0);
        layers.Out.Should().MatchRegex(@"\* features\s+Relu\s+1x4x8x8");
    }

    [Test]
    public void Bad_input_gives_one_line_exit_code_1_and_no_output_file()
    {
        string png = SquaresPng();
        File.WriteAllText(_folder.File("text.onnx"), "not a model");
        byte[] bytes = File.ReadAllBytes(png);
        File.WriteAllBytes(_folder.File("half.png"), bytes[..(bytes.Length / 2)]);
        using (var big = new Image<Rgb24>(8000, 7000)) big.SaveAsPng(_folder.File("big.png"));
        string[] outputs = { "--out", _folder.File("out/o.png"), "--json", _folder.File("out/o.json") };

        var cases = new[]
        {
            (new[] { "--model", _folder.File("missing.onnx"), "--image", png }, "does not exist"),
            (new[] { "--model", _folder.File("text.onnx"), "--image", png }, "not an ONNX model"),
            (new[] { "--model", _model, "--image", _folder.File("half.png") }, "cannot be decoded"),
            (new[] { "--model", _model, "--image", _folder.File("big.png"), "--max-megapixels", "50" }, "56 megapixels), over the limit"),
            (new[] { "--model", _model, "--image", png, "--target", "5000" }, "out of range"),
            (new[] { "--model", _model, "--image", png, "--layer", "nonexistent" }, "no layer"),
        };
        foreach (var (args, message) in cases)
        {
            var (code, _, error) = Run(new[] { "explain" }.Concat(args).Concat(outputs).ToArray());
            code.Should().Be(1, string.Join(' ', args));
            error.Trim().Split('\n').Should().ContainSingle(string.Join(' ', args)).Which.Should().StartWith("error:").And.Contain(message);
            Directory.Exists(_folder.File("out")).Should().BeFalse("nothing is written when the command fails");
        }
    }

    [Test]
    public void Usage_errors_exit_with_2()
    {
        string png = SquaresPng();
        Run("explain", "--model", _model, "--image", png, "--tensor", "x.npy").Code.Should().Be(2);
        Run("explain", "--model", _model, "--image", png, "--size", "abc").Code.Should().Be(2);
        Run("explain", "--model", _model, "--image", png, "--method", "magic").Code.Should().Be(2);
        var (code, _, error) = Run("explain", "--no-such-flag");
        code.Should().Be(2);
        error.Should().Contain("--no-such-flag");
    }

    [Test]
    public void The_default_picture_works_with_any_model_and_a_missing_model_is_named()
    {
        var (code, output, error) = Run("explain", "--model", _model, "--out", _folder.File("o.png"));
        (code, error).Should().Be((0, ""), "the embedded sample canvas is resized to any model's input");
        output.Should().Contain("prediction:");
        (code, _, error) = Run("explain", "--model", _folder.File("nope.onnx"));
        code.Should().Be(CliApp.InputError);
        error.Should().Contain($"The model file '{_folder.File("nope.onnx")}' does not exist");
    }

    [Test]
    public void Layers_and_prepare_default_to_the_embedded_model()
    {
        var (code, output, error) = Run("layers");
        (code, error).Should().Be((0, ""));
        output.Split('\n').Should().ContainSingle(l => l.StartsWith('*'), "the automatic choice is marked");
        (code, output, error) = Run("prepare", "--out", _folder.File("embedded.cam.onnx"));
        (code, error).Should().Be((0, ""));
        File.Exists(_folder.File("embedded.cam.onnx")).Should().BeTrue();
        Run("explain", "--model", _folder.File("embedded.cam.onnx"), "--out", _folder.File("p.png")).Code.Should().Be(0, "the prepared embedded model explains");
    }
}
