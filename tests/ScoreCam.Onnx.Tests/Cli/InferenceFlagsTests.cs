using System.CommandLine;
using System.Text.Json;
using ScoreCam.Onnx.Cli;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Cli;

/// <summary>--device, --precision, --io-binding and --cuda-graphs reach the explainer's InferenceOptions, and the float16 path runs end to end.</summary>
public class InferenceFlagsTests
{
    private static InferenceOptions Parse(params string[] args)
    {
        var flags = new ModelOptions();
        var command = new RootCommand();
        flags.AddTo(command);
        return flags.Inference(command.Parse(args));
    }

    [Test]
    public void The_flags_set_the_options_they_name()
    {
        Parse().Should().Be(new InferenceOptions(), "the defaults are the library's");
        Parse("--precision", "fp32").CudaTf32.Should().BeFalse();
        Parse("--precision", "TF32").CudaTf32.Should().BeTrue();
        Parse("--precision", "fp16").Float16.Should().BeTrue();
        Parse("--precision", "int8").Int8.Should().Be(new Int8Options());
        Parse("--precision", "int8", "--calibration", "pictures").Int8!.CalibrationFolder.Should().Be("pictures");
        Parse("--precision", "int8", "--calibration", "pictures").Int8!.CacheFolder.Should().BeNull("the embedded model has no folder to keep its copy in");
        Parse("--model", Path.Combine("models", "m.onnx"), "--precision", "int8", "--calibration", "pictures").Int8!.CacheFolder
            .Should().Be(Path.GetFullPath("models"), "the folder's copy is kept next to the model");
        Parse("--model", Path.Combine("models", "m.onnx"), "--precision", "int8").Int8!.CacheFolder.Should().BeNull("copies made per input are not written");
        Parse("--io-binding").Should().Match<InferenceOptions>(o => o.DeviceResidentBuffers && !o.CudaGraphs);
        Parse("--device", "cuda:1", "--cuda-graphs").Should().Match<InferenceOptions>(
            o => o.Device == ExecutionDevice.Cuda && o.CudaDeviceId == 1 && o.CudaGraphs && o.DeviceResidentBuffers, "CUDA graphs need bound buffers");
    }

    [TestCase(new[] { "--precision", "int4" }, "--precision must be tf32, fp32, fp16 or int8")]
    [TestCase(new[] { "--precision", "int8", "--device", "cuda" }, "--precision int8 runs on the CPU")]
    [TestCase(new[] { "--calibration", "pictures" }, "--calibration goes with --precision int8")]
    [TestCase(new[] { "--cuda-graphs" }, "--cuda-graphs needs --device cuda")]
    [TestCase(new[] { "--device", "gpu" }, "--device must be cpu, cuda or cuda:ID")]
    public void Wrong_values_are_usage_errors(string[] args, string message) =>
        FluentActions.Invoking(() => Parse(args)).Should().Throw<UsageException>().WithMessage($"{message}*");

    [Test]
    public void Explain_with_fp16_and_io_binding_gives_the_float32_map_to_float16_precision()
    {
        using var folder = new TempFolder();
        JsonElement Map(string name, params string[] flags)
        {
            string json = folder.File(name);
            var error = new StringWriter();
            CliApp.Run(new[] { "explain", "--json", json }.Concat(flags).ToArray(), new StringWriter(), error).Should().Be(CliApp.Ok, error.ToString());
            return JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("map").GetProperty("values").Clone();
        }
        float[] full = Map("fp32.json", "--precision", "fp32").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        float[] half = Map("fp16.json", "--precision", "fp16", "--io-binding").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        float[] bound = Map("bound.json", "--io-binding").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        bound.Should().Equal(full, (a, b) => Math.Abs(a - b) <= 1e-5f * full.Max(), "bound buffers change where tensors live, not the arithmetic");
        float max = full.Max(), maxHalf = half.Max();
        half.Zip(full, (h, f) => Math.Abs(h / maxHalf - f / max)).Max().Should().BeLessThan(0.05f, "float16 keeps the map's shape");
        half.Should().NotEqual(full, "the float16 copy really ran");
    }
}
