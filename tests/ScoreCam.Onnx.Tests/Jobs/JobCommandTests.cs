using ScoreCam.Onnx.Tests.Support;

namespace ScoreCam.Onnx.Tests.Jobs;

/// <summary>worker and submit refuse bad usage before they connect, and an unreachable server is one line and exit code 1.</summary>
public class JobCommandTests
{
    [TestCase("submit --nats nats://127.0.0.1:1 --image x.png --device cuda", "--device is the workers' choice")]
    [TestCase("submit --nats nats://127.0.0.1:1 --image x.png --max-memory 10", "--max-memory is the workers' choice")]
    [TestCase("submit --nats nats://127.0.0.1:1 --image x.png --timeout 0", "--timeout must be a positive number")]
    [TestCase("worker --nats nats://127.0.0.1:1 --prefetch 0", "--prefetch must be between 1 and 256")]
    [TestCase("worker --nats nats://127.0.0.1:1 --max-deliveries 1", "--max-deliveries must be between 2 and 100")]
    [TestCase("worker --nats nats://127.0.0.1:1 --nats-user u", "--nats-user and --nats-password go together")]
    [TestCase("worker --nats nats://127.0.0.1:1 --nats-creds missing.creds", "the file 'missing.creds' does not exist")]
    [TestCase("worker --prefetch 2", "--nats")]
    public void Bad_usage_is_exit_code_2_with_a_line_that_says_what_to_fix(string command, string message)
    {
        var (code, _, error) = CliRunner.Run(command.Split(' '));
        code.Should().Be(2, error);
        error.Should().StartWith("error: ").And.Contain(message);
    }

    [Test]
    public void A_server_that_cannot_be_reached_is_exit_code_1()
    {
        var (code, _, error) = CliRunner.Run("worker", "--nats", "nats://127.0.0.1:1");
        code.Should().Be(1, error);
        error.Should().StartWith("error: Cannot use the NATS server at nats://127.0.0.1:1").And.Contain("nats-server -js");
        error.TrimEnd().Split('\n').Should().HaveCount(1);
    }
}
