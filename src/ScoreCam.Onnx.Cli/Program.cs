using var cancellation = new CancellationTokenSource();
// The first Ctrl+C asks the running explanation to stop within one batch (nothing half-written is left behind);
// a second ends the process at once, for the commands that do not watch for it.
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !cancellation.IsCancellationRequested;
    cancellation.Cancel();
};
return ScoreCam.Onnx.Cli.CliApp.Run(args, Console.Out, Console.Error, cancellation.Token);
