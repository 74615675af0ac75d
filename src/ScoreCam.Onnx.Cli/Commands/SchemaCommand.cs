using System.CommandLine;
using System.Text.Json;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary><c>scorecam schema</c>: the JSON Schema of what explain, serve and the run's results.json write (docs/json.md).</summary>
internal static class SchemaCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var kind = new Argument<string>("document")
        {
            Description = "explanation (one explanation: --json, serve's answer, a run's entries) or run (a run's results.json).",
            DefaultValueFactory = _ => "explanation",
        };
        var command = new Command("schema", "Print the JSON Schema of the explanation JSON.") { kind };
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            var schema = r.GetValue(kind) switch
            {
                "explanation" => ExplanationJson.Schema<ExplanationDocument>(),
                "run" => ExplanationJson.Schema<ExplanationRunDocument>(),
                var other => throw new UsageException($"schema takes explanation or run; got '{other}'."),
            };
            output.WriteLine(schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return CliApp.Ok;
        }));
        return command;
    }
}
