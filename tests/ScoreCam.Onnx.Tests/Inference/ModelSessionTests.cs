using ScoreCam.Onnx.Inference;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Tests.Support;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Tests;

public class ModelSessionTests
{
    [Test]
    public void Cuda_without_a_gpu_falls_back_to_cpu_with_one_warning_and_the_same_answer()
    {
        if (File.Exists("/dev/nvidia0")) Assert.Ignore("A GPU is present; the fallback cannot be exercised here.");
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        using var cpu = new ModelSession(model);
        using var cuda = new ModelSession(model, new InferenceOptions { Device = ExecutionDevice.Cuda });

        cuda.Device.Should().Be(ExecutionDevice.Cpu);
        cuda.Warnings.Should().ContainSingle().Which.Should().StartWith("CUDA is not available").And.EndWith("running on CPU instead.");
        cuda.Forward(TestModels.TwoSquares()).Scores.Should().Equal(cpu.Forward(TestModels.TwoSquares()).Scores);
    }

    [Test]
    public void Without_fallback_a_missing_cuda_is_an_error()
    {
        if (File.Exists("/dev/nvidia0")) Assert.Ignore("A GPU is present.");
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        FluentActions.Invoking(() => new ModelSession(model, new InferenceOptions { Device = ExecutionDevice.Cuda, FallBackToCpu = false }))
            .Should().Throw<Exception>();
    }

    [Test]
    public void Batch_scorer_matches_single_forward_passes_for_full_and_partial_batches()
    {
        PreparedModel model = ModelPreparer.Prepare(TestModels.ColouredSquares().Build(), "squares");
        using var session = new ModelSession(model);
        ImageTensor a = TestModels.TwoSquares(), b = TestModels.TwoSquares(8, 8, 16, 20);
        using var scorer = new BatchScorer(session, a, 2);
        a.Data.CopyTo(scorer.Input(0));
        b.Data.CopyTo(scorer.Input(1));
        scorer.Run(2);
        scorer.Scores(0).ToArray().Should().Equal(session.Forward(a).Scores);
        scorer.Scores(1).ToArray().Should().Equal(session.Forward(b).Scores);
        b.Data.CopyTo(scorer.Input(0));
        scorer.Run(1);
        scorer.Scores(0).ToArray().Should().Equal(session.Forward(b).Scores);
    }
}
