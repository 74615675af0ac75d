using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>
/// The trained tiny models of onnx-models/tiny-detector, tiny-segmenter and tiny-vit (tools/export/train_tiny_*.py):
/// ONNX Runtime reproduces PyTorch's outputs on each committed sample (the ViT's token activations too), and the
/// outputs have the layouts the model cards state.
/// </summary>
public class TinyModelTests
{
    internal static string File(string model, string name) => Repository.Path("onnx-models", model, name);

    internal static JsonElement Facts(string model) =>
        JsonDocument.Parse(System.IO.File.ReadAllText(File(model, $"{model}.json"))).RootElement;

    /// <summary>Runs the model on its sample.input.npy and returns the named outputs (extra graph tensors added as outputs).</summary>
    internal static Dictionary<string, (float[] Data, int[] Shape)> Run(string model, string input, params string[] outputs)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(System.IO.File.ReadAllBytes(File(model, $"{model}.onnx")));
        foreach (string name in outputs.Where(n => proto.Graph.Output.All(o => o.Name != n)))
            proto.Graph.Output.Add(new ValueInfoProto { Name = name });
        var (data, shape) = NpyFile.Read(File(model, "sample.input.npy"));
        using var session = new InferenceSession(proto.ToByteArray());
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(data, shape)) }, outputs);
        return results.ToDictionary(r => r.Name, r =>
        {
            var t = r.AsTensor<float>();
            return (t.ToArray(), t.Dimensions.ToArray());
        });
    }

    private static void ShouldMatch(float[] actual, string model, string npy)
    {
        var (expected, _) = NpyFile.Read(File(model, npy));
        actual.Length.Should().Be(expected.Length);
        float scale = expected.Max(Math.Abs);
        for (int i = 0; i < actual.Length; i++)
            Math.Abs(actual[i] - expected[i]).Should().BeLessThanOrEqualTo(1e-4f * Math.Max(1f, scale), $"{npy}[{i}]");
    }

    [Test]
    public void The_detector_has_the_ultralytics_v8_raw_layout_and_matches_pytorch()
    {
        var output = Run("tiny-detector", "images", "output0")["output0"];
        output.Shape.Should().Equal(1, 4 + 10, 12 * 12 + 6 * 6);
        ShouldMatch(output.Data, "tiny-detector", "sample.output0.npy");
        // class scores are sigmoids; widths and heights positive and in input pixels
        int n = output.Shape[2];
        output.Data.Skip(4 * n).Should().OnlyContain(v => v >= 0 && v <= 1);
        output.Data.Skip(2 * n).Take(2 * n).Should().OnlyContain(v => v > 0 && v < 4 * 96);
        new FileInfo(File("tiny-detector", "tiny-detector.onnx")).Length.Should().BeLessThan(1 << 20);
    }

    [Test]
    public void The_detectors_most_confident_proposal_boxes_an_item_of_the_sample()
    {
        var output = Run("tiny-detector", "images", "output0")["output0"].Data;
        const int n = 180;
        int best = Enumerable.Range(0, n).MaxBy(j => Enumerable.Range(0, 10).Max(c => output[(4 + c) * n + j]));
        float cx = output[best], cy = output[n + best], w = output[2 * n + best], h = output[3 * n + best];
        double bestIou = Facts("tiny-detector").GetProperty("sample").GetProperty("items").EnumerateArray().Max(item =>
        {
            float[] b = item.GetProperty("box").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            double iw = Math.Max(0, Math.Min(cx + w / 2, b[2]) - Math.Max(cx - w / 2, b[0]));
            double ih = Math.Max(0, Math.Min(cy + h / 2, b[3]) - Math.Max(cy - h / 2, b[1]));
            return iw * ih / (w * h + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih);
        });
        bestIou.Should().BeGreaterThan(0.7, "the cx, cy, w, h rows are input pixels around an item");
    }

    [Test]
    public void The_segmenter_outputs_background_and_class_logits_at_the_input_size_and_matches_pytorch()
    {
        var output = Run("tiny-segmenter", "input", "out")["out"];
        output.Shape.Should().Equal(1, 11, 96, 96);
        var every4th = new List<float>();
        for (int c = 0; c < 11; c++)
            for (int y = 0; y < 96; y += 4)
                for (int x = 0; x < 96; x += 4)
                    every4th.Add(output.Data[(c * 96 + y) * 96 + x]);
        ShouldMatch(every4th.ToArray(), "tiny-segmenter", "sample.out-every4th.npy");
        new FileInfo(File("tiny-segmenter", "tiny-segmenter.onnx")).Length.Should().BeLessThan(1 << 20);
    }

    [Test]
    public void The_vit_outputs_class_logits_and_its_tokens_match_pytorch()
    {
        JsonElement facts = Facts("tiny-vit");
        string tokens = facts.GetProperty("sample").GetProperty("tokens_layer").GetString()!;
        var outputs = Run("tiny-vit", "input", "logits", tokens);
        outputs["logits"].Shape.Should().Equal(1, 10);
        ShouldMatch(outputs["logits"].Data, "tiny-vit", "sample.logits.npy");
        int[] tokenShape = facts.GetProperty("token_shape").EnumerateArray().Skip(1).Select(e => e.GetInt32()).ToArray();
        outputs[tokens].Shape.Should().Equal(new[] { 1 }.Concat(tokenShape));
        ShouldMatch(outputs[tokens].Data, "tiny-vit", "sample.tokens.npy");
        new FileInfo(File("tiny-vit", "tiny-vit.onnx")).Length.Should().BeLessThan(1 << 20);
    }

    [Test]
    public void The_vit_beats_chance_on_the_eval_single_set_as_in_pytorch()
    {
        // ONNX Runtime on the 500 committed eval/single canvases (one item each, 10 classes), preprocessed as the
        // model's sidecar says (96×96, /255, ImageNet mean/std); train_tiny_vit.py recorded PyTorch's accuracy there
        string folder = Repository.Path("onnx-models", "eval", "single");
        var images = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(folder, "annotations.json"))).RootElement.GetProperty("images");
        float[] mean = { 0.485f, 0.456f, 0.406f }, std = { 0.229f, 0.224f, 0.225f };
        using var session = new InferenceSession(File("tiny-vit", "tiny-vit.onnx"));
        int right = 0, count = 0;
        foreach (JsonElement e in images.EnumerateArray())
        {
            using var picture = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(Path.Combine(folder, e.GetProperty("file").GetString()!));
            picture.Width.Should().Be(96);
            var x = new DenseTensor<float>(new[] { 1, 3, 96, 96 });
            for (int y = 0; y < 96; y++)
                for (int px = 0; px < 96; px++)
                {
                    var p = picture[px, y];
                    x[0, 0, y, px] = (p.R / 255f - mean[0]) / std[0];
                    x[0, 1, y, px] = (p.G / 255f - mean[1]) / std[1];
                    x[0, 2, y, px] = (p.B / 255f - mean[2]) / std[2];
                }
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", x) });
            float[] logits = results[0].AsTensor<float>().ToArray();
            right += Array.IndexOf(logits, logits.Max()) == e.GetProperty("items")[0].GetProperty("class").GetInt32() ? 1 : 0;
            count++;
        }
        double accuracy = (double)right / count;
        accuracy.Should().BeGreaterThan(0.2, "chance is 0.1");
        double recorded = Facts("tiny-vit").GetProperty("test").GetProperty("eval_accuracy").GetProperty("single").GetDouble();
        accuracy.Should().BeApproximately(recorded, 0.01, "PyTorch's accuracy on the same canvases");
    }

    [Test]
    public void The_segmenter_finds_the_sample_items_pixels()
    {
        var output = Run("tiny-segmenter", "input", "out")["out"];
        using var items = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.L8>(File("tiny-segmenter", "sample.items.png"));
        var owner = new byte[96 * 96];
        items.CopyPixelDataTo(owner);
        int both = 0, either = 0;
        for (int p = 0; p < owner.Length; p++)
        {
            int best = 0;
            for (int c = 1; c < 11; c++)
                if (output.Data[c * owner.Length + p] > output.Data[best * owner.Length + p]) best = c;
            bool foreground = best != 0, item = owner[p] != 0;
            both += foreground && item ? 1 : 0;
            either += foreground || item ? 1 : 0;
        }
        ((double)both / either).Should().BeGreaterThan(0.6, "the items' pixels against the background (PyTorch: 0.666)");
    }
}
