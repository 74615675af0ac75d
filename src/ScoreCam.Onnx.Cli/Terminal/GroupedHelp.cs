using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace ScoreCam.Onnx.Cli.Terminal;

/// <summary>
/// `scorecam COMMAND --help`: the options in groups (input, model, method, output, inference, advanced, and the
/// command's own), each default said once, then examples to copy.
/// </summary>
internal static class GroupedHelp
{
    private static readonly (string Title, string[] Names)[] Groups =
    {
        ("Input", new[] { "--image", "--tensor", "--set", "--limit", "--target", "--target-output", "--target-index", "--region", "--versus", "--similar-to", "--attack", "--epsilon", "--early", "--epsilons", "--evaluation" }),
        ("Model", new[] { "--model", "--layer", "--input", "--output", "--labels", "--feed", "--size", "--resize", "--mean", "--std", "--scale", "--bgr" }),
        ("Method", new[] { "--method", "--metrics", "--deletion-steps" }),
        ("Output", new[] { "--out", "--out-dir", "--json", "--save-tensor", "--picture", "--colormap", "--overlay-size", "--alpha", "--colorbar", "--attribution-view", "--heatmap-values", "--figures", "--fresh", "--quiet" }),
        ("Inference", new[] { "--device", "--precision", "--batch", "--max-memory", "--io-binding", "--cuda-graphs", "--threads" }),
        ("Detector", new[] { "--detection", "--box", "--confidence", "--iou", "--layout", "--detection-score", "--box-iou" }),
        ("Advanced", new[] { "--max-megapixels", "--keep-orientation" }),
    };

    /// <summary>Examples per command path ("explain", "experiment robustness"), shown under the options.</summary>
    private static readonly Dictionary<string, string[]> Examples = new()
    {
        ["explain"] = new[]
        {
            "scorecam explain                                          # the embedded model and sample canvas",
            "scorecam explain --model resnet18.onnx --image cat.jpg --labels imagenet.txt",
            "scorecam explain --image 'photos/*.jpg' --method scorecam,gradcam --out-dir out",
            "scorecam explain --image cat.jpg --target 'tabby cat' --versus 'tiger cat' --json why.json",
            "scorecam explain --model onnx-models/tiny-detector/tiny-detector.onnx --image onnx-models/tiny-detector/sample.png --confidence 0.2   # a detector: one map per detection",
            "scorecam explain --model onnx-models/tiny-segmenter/tiny-segmenter.onnx --output out --image onnx-models/tiny-segmenter/sample.png --target Bag --region predicted   # a segmenter: a class over a region",
            "scorecam explain --model onnx-models/tiny-vit/tiny-vit.onnx --image onnx-models/tiny-vit/sample.png --method scorecam,gradcam   # a vision transformer: its last block's normalised tokens",
            "scorecam explain --model yolo11n.onnx --image street.jpg --box 40,60,200,300 --target person --labels coco.txt   # a box and class of your own (D-RISE)",
        },
        ["report"] = new[] { "scorecam report --image 'photos/*.jpg' --method scorecam,gradcam,gradcam++ --out report.html" },
        ["serve"] = new[] { "scorecam serve --port 5000 --model resnet18.onnx", "curl -X POST --data-binary @cat.jpg 'http://127.0.0.1:5000/explain?method=gradcam' -o e.json" },
        ["evaluate"] = new[]
        {
            "scorecam evaluate --set onnx-models/eval/single --limit 8 --method scorecam,gradcam --out-dir eval",
            "scorecam evaluate --model onnx-models/tiny-segmenter/tiny-segmenter.onnx --output out --set onnx-models/eval/two-classes --limit 8 --method scorecam,gradcam --out-dir eval-seg   # a segmenter: energy on each item's pixels",
        },
        ["bench"] = new[] { "scorecam bench --method scorecam,gradcam --batch auto,8,32 --runs 5" },
        ["layers"] = new[] { "scorecam layers --model resnet18.onnx" },
        ["prepare"] = new[] { "scorecam prepare --model resnet18.onnx --layer /layer4/layer4.1/relu_1/Relu_output_0" },
        ["schema"] = new[] { "scorecam schema explanation > explanation.schema.json" },
        ["experiment robustness"] = new[] { "scorecam experiment robustness --set onnx-models/eval/single --limit 4 --out-dir exp" },
        ["experiment stability"] = new[] { "scorecam experiment stability --set onnx-models/eval/single --limit 4 --out-dir exp" },
        ["experiment convergence"] = new[] { "scorecam experiment convergence --set onnx-models/eval/single --early onnx-models/fashion-clutter/fashion-clutter-early.onnx --out-dir exp" },
    };

    /// <summary>Replaces the help of <paramref name="root"/> and its subcommands.</summary>
    public static void Install(RootCommand root) => root.Options.OfType<HelpOption>().Single().Action = new Action();

    /// <summary>Whether the command line asks for help.</summary>
    public static bool Asked(ParseResult parsed) => parsed.Action is Action;

    private sealed class Action : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            Write(parseResult.CommandResult.Command, parseResult.InvocationConfiguration.Output);
            return 0;
        }
    }

    public static void Write(Command command, TextWriter output)
    {
        string path = Path(command);
        if (command.Description is { Length: > 0 } description) output.WriteLine($"{description}\n");
        output.WriteLine("Usage:");
        var subcommands = command.Subcommands.Where(c => !c.Hidden).ToList();
        string arguments = string.Concat(command.Arguments.Where(a => !a.Hidden).Select(a => $" [{a.Name}]"));
        output.WriteLine($"  scorecam{(path.Length > 0 ? " " + path : "")}{(subcommands.Count > 0 ? " COMMAND" : "")}{arguments} [options]");
        if (subcommands.Count > 0)
        {
            output.WriteLine("\nCommands:");
            Columns(output, subcommands.Select(c => (c.Name, c.Description ?? "")));
        }
        foreach (Argument argument in command.Arguments.Where(a => !a.Hidden))
        {
            output.WriteLine("\nArguments:");
            Columns(output, new[] { (argument.Name, argument.Description ?? "") });
        }
        var options = command.Options.Concat(command.Parents.OfType<Command>().SelectMany(p => p.Options.Where(o => o.Recursive)))
            .Where(o => !o.Hidden).Distinct().ToList();
        var methodFlags = Methods.MethodCatalog.Options.Select(o => "--" + o.Name).ToHashSet();
        string Group(Option o) => methodFlags.Contains(o.Name) ? "Method" : Groups.FirstOrDefault(g => g.Names.Contains(o.Name)).Title ?? "Options";
        foreach (string title in Groups.Select(g => g.Title).Prepend("Options").Where(t => options.Any(o => Group(o) == t)))
        {
            output.WriteLine($"\n{title}:");
            Columns(output, options.Where(o => Group(o) == title).Select(o => (Label(o), Describe(o))));
        }
        if (Examples.TryGetValue(path, out string[]? lines))
        {
            output.WriteLine("\nExamples:");
            foreach (string line in lines) output.WriteLine($"  {line}");
        }
    }

    private static string Path(Command command) =>
        string.Join(' ', command.Parents.OfType<Command>().Where(c => c is not RootCommand).Select(c => c.Name).Reverse().Append(command.Name).Where(_ => command is not RootCommand));

    private static string Label(Option o)
    {
        string names = string.Join(", ", o.Aliases.Append(o.Name).Where(a => !a.StartsWith('/')).Distinct().OrderBy(a => a.StartsWith("--") ? 1 : 0));
        bool isSwitch = o is HelpOption or VersionOption || o.ValueType == typeof(bool) && !(o.HasDefaultValue && o.GetDefaultValue() is true);
        return isSwitch ? names : $"{names} {o.HelpName ?? "value"}";
    }

    /// <summary>The description with its default said once: descriptions that state it are left alone.</summary>
    private static string Describe(Option o)
    {
        string description = o.Description ?? "";
        if (description.Contains("default", StringComparison.OrdinalIgnoreCase) || !o.HasDefaultValue || o.ValueType == typeof(bool)) return description;
        return o.GetDefaultValue() is { } value ? $"{description} Default: {value}." : description;
    }

    private static void Columns(TextWriter output, IEnumerable<(string Left, string Right)> rows)
    {
        var list = rows.ToList();
        int width = Math.Min(32, list.Max(r => r.Left.Length) + 2);
        foreach (var (left, right) in list)
        {
            var words = right.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var lines = new List<string>();
            string current = "";
            foreach (string word in words)
            {
                if (current.Length > 0 && current.Length + word.Length + 1 > 120 - width - 2) { lines.Add(current); current = word; }
                else current = current.Length == 0 ? word : current + " " + word;
            }
            lines.Add(current);
            output.Write($"  {left}");
            if (left.Length + 2 > width) { output.WriteLine(); output.Write(new string(' ', width + 2)); }
            else output.Write(new string(' ', width - left.Length));
            output.WriteLine(string.Join("\n" + new string(' ', width + 2), lines));
        }
    }
}
