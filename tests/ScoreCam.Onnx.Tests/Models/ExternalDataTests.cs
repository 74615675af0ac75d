using Microsoft.ML.OnnxRuntime;
using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Models;

/// <summary>Models whose weights live in a data file beside them, loaded from a working directory elsewhere.</summary>
public class ExternalDataTests
{
    private static readonly string[] Weights = { "conv.w", "fc.w" };

    [Test]
    public void Weights_beside_the_model_are_found_and_give_the_same_forward_pass_as_inline_weights()
    {
        using var folder = new TempFolder();
        string path = TestModels.ColouredSquares().SaveWithExternalData(folder.File("m.onnx"), "m.onnx.data", Weights);
        Directory.GetCurrentDirectory().Should().NotBe(folder.Path, "the data must resolve beside the model, not in the working directory");

        PreparedModel external = ModelPreparer.Prepare(path);
        external.ExternalDataFolder.Should().Be(folder.Path);
        ForwardPass.ShouldEqual(external, ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "inline"), TestModels.TwoSquares());
    }

    [Test]
    public void A_prepared_model_is_saved_beside_its_data_and_loads_again()
    {
        using var folder = new TempFolder();
        string path = TestModels.ColouredSquares().SaveWithExternalData(folder.File("m.onnx"), "weights/m.bin", Weights);
        PreparedModel prepared = ModelPreparer.Prepare(path);
        prepared.Save(folder.File("m.cam.onnx"));
        PreparedModel loaded = ModelPreparer.Prepare(folder.File("m.cam.onnx"));
        using var session = new ModelSession(loaded);
        session.Forward(TestModels.TwoSquares()).Scores.Should().HaveCount(TestModels.Classes);

        Directory.CreateDirectory(folder.File("elsewhere"));
        FluentActions.Invoking(() => prepared.Save(folder.File("elsewhere/m.cam.onnx")))
            .Should().Throw<ScoreCamException>().WithMessage("*external data*save the prepared model in that folder*");
    }

    [Test]
    public void Missing_short_absolute_and_escaping_data_files_are_refused_naming_the_tensor()
    {
        using var folder = new TempFolder();
        string missing = TestModels.ColouredSquares().SaveWithExternalData(folder.File("a/m.onnx"), "m.onnx.data", Weights);
        File.Delete(folder.File("a/m.onnx.data"));
        Prepare(missing).Should().Throw<ScoreCamException>().WithMessage("*'conv.w'*'m.onnx.data'*missing*Copy the model's external data*");

        string shortData = TestModels.ColouredSquares().SaveWithExternalData(folder.File("b/m.onnx"), "m.onnx.data", Weights);
        File.WriteAllBytes(folder.File("b/m.onnx.data"), new byte[16]);
        Prepare(shortData).Should().Throw<ScoreCamException>().WithMessage("*'conv.w'*holds 16 bytes*truncated*");

        string absolute = TestModels.ColouredSquares().SaveWithExternalData(folder.File("c/m.onnx"), folder.File("c/abs.data"), Weights);
        Prepare(absolute).Should().Throw<ScoreCamException>().WithMessage("*'conv.w'*absolute path*relative to the model's folder*");

        string escaping = TestModels.ColouredSquares().SaveWithExternalData(folder.File("d/m.onnx"), "../outside.data", Weights);
        File.Exists(folder.File("outside.data")).Should().BeTrue();
        Prepare(escaping).Should().Throw<ScoreCamException>().WithMessage("*'conv.w'*'../outside.data'*outside the model's folder*");

        byte[] bytes = File.ReadAllBytes(folder.File("d/m.onnx"));
        FluentActions.Invoking(() => ModelPreparer.Prepare(bytes, "in memory"))
            .Should().Throw<ScoreCamException>().WithMessage("*external data*load it from its file path*");
    }

    [Test]
    public void Onnx_runtime_itself_still_refuses_an_escaping_path_with_the_folder_it_is_given()
    {
        using var folder = new TempFolder();
        string escaping = TestModels.ColouredSquares().SaveWithExternalData(folder.File("d/m.onnx"), "../outside.data", Weights);
        using SessionOptions options = OrtRuntime.Options(folder.File("d"));
        FluentActions.Invoking(() => new InferenceSession(File.ReadAllBytes(escaping), options).Dispose())
            .Should().Throw<OnnxRuntimeException>();
    }

    private static Action Prepare(string path) => () => ModelPreparer.Prepare(path);
}
