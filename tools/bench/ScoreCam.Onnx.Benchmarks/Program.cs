using BenchmarkDotNet.Running;

// `soak MODEL IMAGE [COUNT] [WARMUP] [SIZE]` checks memory over many explanations; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "soak") return ScoreCam.Onnx.Benchmarks.Soak.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(ScoreCam.Onnx.Benchmarks.KernelBenchmarks).Assembly).Run(args);
return 0;
