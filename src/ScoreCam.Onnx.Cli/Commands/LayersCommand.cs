using System.CommandLine;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary><c>scorecam layers</c>: the spatial layers (and transformers' token layers with their grid) that could be explained, with shapes, the automatic choice marked.</summary>
internal static class LayersCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var command = new Command("layers", "List candidate target layers (tensor, op, shape); * marks the automatic choice.");
        model.AddTo(command, preprocessing: false);
        model.AddFeeds(command);
        command.Options.Add(model.Size);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            string? path = r.GetValue(model.Model);
            var candidates = path is null ? ModelPreparer.ListLayers(EmbeddedDefaults.Model(), EmbeddedDefaults.ModelName, model.Preparation(r))
                : File.Exists(path) ? ModelPreparer.ListLayers(path, model.Preparation(r))
                : throw new ScoreCamException($"The model file '{path}' does not exist; check the path (leave out --model for the embedded default model).");
            path ??= EmbeddedDefaults.ModelName;
            if (candidates.Count == 0)
                throw new ScoreCamException($"Model '{path}' has no spatial layer (N×K×h×w with h·w > 1) and no normalised tokens on a patch grid before its output.");
            int width = candidates.Max(c => c.TensorName.Length);
            foreach (LayerCandidate c in candidates)
                output.WriteLine($"{(c.IsAutomaticChoice ? "*" : " ")} {c.TensorName.PadRight(width)}  {c.OpType,-20} {string.Join('x', c.Shape)}{Maps(c)}");
            return CliApp.Ok;
        }));
        return command;
    }

    /// <summary>How a transformer layer's tensor is read as maps: its patch grid.</summary>
    private static string Maps(LayerCandidate c) => c.Layout switch
    {
        LayerLayout.Tokens => $"  (tokens: {c.PrefixTokens} prefix + {c.MapShape[1]}x{c.MapShape[2]} grid, {c.MapShape[0]} channels)",
        LayerLayout.ChannelsLast => $"  (channels last: {c.MapShape[1]}x{c.MapShape[2]} grid, {c.MapShape[0]} channels)",
        _ => "",
    };
}
