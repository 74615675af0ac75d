using System.CommandLine;
using System.Text.Json;
using ScoreCam.Onnx.Imaging;
using ScoreCam.Onnx.Models;
using ScoreCam.Onnx.Core;

namespace ScoreCam.Onnx.Cli.Commands;

/// <summary><c>scorecam prepare</c>: write NAME.cam.onnx (activations as an extra output), NAME.grad.onnx (the gradient graph) and NAME.cam.json, so a service prepares once.</summary>
internal static class PrepareCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions();
        var outPath = new Option<string?>("--out") { Description = "Prepared model path. Default: NAME.cam.onnx next to the model (the embedded model: embedded.cam.onnx in the current folder)." };
        var command = new Command("prepare", "Find the target layer, expose its activations and save the prepared model.") { outPath };
        model.AddTo(command, preprocessing: false);
        model.AddFeeds(command);
        command.Options.Add(model.Size);
        command.SetAction(r => CliApp.Guard(error, () =>
        {
            string? given = r.GetValue(model.Model);
            if (given is not null && !File.Exists(given))
                throw new ScoreCamException($"The model file '{given}' does not exist; check the path (leave out --model for the embedded default model).");
            string path = given ?? Path.GetFullPath("embedded.onnx");
            PreparedModel prepared = given is null ? ModelPreparer.Prepare(EmbeddedDefaults.Model(), EmbeddedDefaults.ModelName, model.Preparation(r))
                : ModelPreparer.Prepare(path, model.Preparation(r));
            foreach (string warning in prepared.Warnings) error.WriteLine($"warning: {warning}");
            string camPath = r.GetValue(outPath) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + ".cam.onnx");
            string jsonPath = Path.ChangeExtension(camPath, ".json");
            BatchSizeChoice choice = BatchSizePolicy.Choose(prepared);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(new
            {
                source = path,
                input = prepared.Input,
                output = new { name = prepared.OutputName, size = prepared.OutputSize, kind = prepared.OutputKind.ToString() },
                layer = prepared.Layer,
                supportsBatching = prepared.SupportsBatching,
                intermediateBytesPerImage = prepared.IntermediateBytesPerImage,
                batchSize = new { size = choice.BatchSize, reason = choice.Reason, budgetBytes = choice.BudgetBytes },
                preprocessing = given is null ? EmbeddedDefaults.Preprocess() : PreprocessOptions.FromSidecar(path),
            }, PreprocessOptions.JsonOptions);
            prepared.Save(camPath);
            AtomicFile.Write(jsonPath, json);
            output.WriteLine($"target layer: {prepared.Layer}");
            output.WriteLine($"batch size:   {choice.BatchSize} ({choice.Reason})");
            output.WriteLine($"wrote {camPath}");
            output.WriteLine($"wrote {jsonPath}");
            // The gradient graphs keep the fed inputs as inputs: they do not depend on the values given here.
            string gradPath = Gradients.GradientGraph.DefaultPath(camPath);
            try
            {
                Gradients.GradientGraph.Save(prepared, gradPath); // for the gradient methods (Grad-CAM family)
                output.WriteLine($"wrote {gradPath}");
            }
            catch (ScoreCamException e)
            {
                error.WriteLine($"warning: no gradient graph ({LibraryTerms.Rephrase(e.Message)}); the gradient methods will not work with this model.");
            }
            // The input-gradient graphs (pixel-space methods) are made for one input size: the model's, else --size's.
            var probe = model.Preparation(r).ProbeSize;
            int height = prepared.Input.Height ?? probe.Height, width = prepared.Input.Width ?? probe.Width;
            foreach (bool guided in new[] { false, true })
            {
                string inputGradPath = Gradients.InputGradientGraph.DefaultPath(camPath, guided);
                try
                {
                    Gradients.InputGradientGraph.Save(prepared, height, width, guided, inputGradPath);
                    output.WriteLine($"wrote {inputGradPath} ({width}x{height})");
                }
                catch (ScoreCamException e)
                {
                    error.WriteLine($"warning: no input-gradient graph ({LibraryTerms.Rephrase(e.Message)}); the pixel-space gradient methods will not work with this model.");
                    break;
                }
            }
            return CliApp.Ok;
        }));
        return command;
    }
}
