using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(ScoreCam.Onnx.Benchmarks.KernelBenchmarks).Assembly).Run(args);
