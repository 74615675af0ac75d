using System.Text.Json;
using ScoreCam.Onnx.Experiments;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using static ScoreCam.Onnx.Tests.Support.CliRunner;

namespace ScoreCam.Onnx.Tests.Experiments;

/// <summary>The experiments through `scorecam explain`, on the hand-built coloured-squares model.</summary>
public class ExperimentCliTests
{
    private TempFolder _folder = null!;
    private string _model = null!, _tensor = null!;

    [SetUp]
    public void SetUp()
    {
        _folder = new TempFolder();
        _model = TestModels.ColouredSquares().Save(_folder.File("squares.onnx"));
        _tensor = _folder.File("squares.npy");
        var image = TestModels.TwoSquares(x0: 8, y0: 8, x1: 16, y1: 8, side: 8);
        NpyFile.Write(_tensor, image.Data, 1, 3, TestModels.Size, TestModels.Size);
    }

    [TearDown]
    public void TearDown() => _folder.Dispose();

    private float[] MapOf(string json) =>
        JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("map").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Test]
    public void Explain_versus_writes_the_counterfactual_map_and_its_check()
    {
        var (code, output, error) = Run("explain", "--model", _model, "--tensor", _tensor, "--target", "0", "--versus", "1", "--json", _folder.File("cf.json"));
        (code, error).Should().Be((0, ""));
        output.Should().Contain("versus:     class 1").And.Contain("masked by 1 - L_CE");
        Run("explain", "--model", _model, "--tensor", _tensor, "--target", "0", "--json", _folder.File("t.json")).Code.Should().Be(0);
        Run("explain", "--model", _model, "--tensor", _tensor, "--target", "1", "--json", _folder.File("r.json")).Code.Should().Be(0);

        float[] map = MapOf(_folder.File("cf.json")), target = MapOf(_folder.File("t.json")), reference = MapOf(_folder.File("r.json"));
        for (int i = 0; i < map.Length; i++) map[i].Should().BeApproximately(Math.Max(0f, target[i] - reference[i]), 1e-6f);
        JsonElement cf = JsonDocument.Parse(File.ReadAllText(_folder.File("cf.json"))).RootElement.GetProperty("counterfactual");
        cf.GetProperty("reference").GetProperty("index").GetInt32().Should().Be(1);
        foreach (string part in new[] { "input", "masked" })
            foreach (string cls in new[] { "target", "reference" })
                cf.GetProperty(part).GetProperty(cls).GetDouble().Should().BeInRange(0, 1);
    }

    [Test]
    public void Explain_versus_without_a_class_takes_the_most_probable_other_one_and_refuses_similar_to()
    {
        var (code, output, _) = Run("explain", "--model", _model, "--tensor", _tensor, "--versus", "--json", _folder.File("cf.json"));
        code.Should().Be(0);
        output.Should().Contain("versus:");
        var refused = Run("explain", "--model", _model, "--tensor", _tensor, "--versus", "--similar-to", _tensor, "--json", _folder.File("x.json"));
        refused.Code.Should().Be(2);
        refused.Err.Should().Contain("--versus").And.Contain("--similar-to");
        File.Exists(_folder.File("x.json")).Should().BeFalse();
    }

    [Test]
    public void Explain_attack_explains_the_saved_adversarial_tensor_of_the_library()
    {
        var (code, output, error) = Run("explain", "--model", _model, "--tensor", _tensor, "--target", "1", "--attack", "fgsm", "--epsilon", "8/255",
            "--mean", "0,0,0", "--std", "1,1,1", "--save-tensor", _folder.File("adv.npy"), "--json", _folder.File("a.json"));
        (code, error).Should().Be((0, ""));
        output.Should().Contain("attack:     fgsm, epsilon=0.03137");

        using var explainer = new CamExplainer(ModelPreparer.Prepare(_model), new ExplainerOptions
        {
            Preprocess = new PreprocessOptions { Width = TestModels.Size, Height = TestModels.Size, Mean = new[] { 0f, 0f, 0f }, Std = new[] { 1f, 1f, 1f } },
        });
        AdversarialExample expected = Fgsm.Attack(explainer, NpyFile.ReadImageTensor(_tensor), 8f / 255f, ExplanationTarget.Class(1));
        NpyFile.ReadImageTensor(_folder.File("adv.npy")).Data.Should().Equal(expected.Input.Data);
        JsonElement root = JsonDocument.Parse(File.ReadAllText(_folder.File("a.json"))).RootElement;
        JsonElement a = root.GetProperty("attack");
        a.GetProperty("epsilon").GetDouble().Should().BeApproximately(8.0 / 255, 1e-7);
        a.GetProperty("targetClass").GetInt32().Should().Be(1);
        a.GetProperty("after").GetProperty("index").GetInt32().Should().Be(expected.After.Index);
        a.GetProperty("targetProbabilityAfter").GetDouble().Should().BeApproximately(expected.TargetAfter, 1e-6);
        root.GetProperty("target").GetProperty("index").GetInt32().Should().Be(1, "the attacked class stays the explained one");
        MapOf(_folder.File("a.json")).Should().Equal(explainer.Explain(expected.Input, ExplanationTarget.Class(1)).Map.Values,
            (x, y) => Math.Abs(x - y) < 1e-6f);
    }

    [TestCase("--epsilon", "0.1")]
    [TestCase("--attack", "fgsm")]
    [TestCase("--attack", "pgd", "--epsilon", "0.1")]
    [TestCase("--attack", "fgsm", "--epsilon", "1/0")]
    [TestCase("--attack", "fgsm", "--epsilon", "-0.1")]
    [TestCase("--save-tensor", "x.npy")]
    public void Attack_flags_out_of_place_are_usage_errors(params string[] flags)
    {
        var (code, _, error) = Run(new[] { "explain", "--model", _model, "--tensor", _tensor, "--json", _folder.File("x.json") }.Concat(flags).ToArray());
        code.Should().Be(2);
        error.Trim().Split('\n').Should().HaveCount(1);
        File.Exists(_folder.File("x.json")).Should().BeFalse();
    }
}
