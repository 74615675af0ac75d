return ScoreCam.Onnx.Cli.CliApp.Run(args, Console.Out, Console.Error);
