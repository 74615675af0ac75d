using BenchmarkDotNet.Running;

// `soak ...` checks memory over many explanations, `fidelity ...` channel selection, `int8-fidelity ...` int8 against float32, `int8-kernels ...` the kernels each runs, `session-settings ...` ONNX Runtime settings against the floor, `gpu ...` the GPU settings side by
// side (tools/bench/gpu); anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "soak") return ScoreCam.Onnx.Benchmarks.Soak.Run(args[1..]);
if (args.Length > 0 && args[0] == "fidelity") return ScoreCam.Onnx.Benchmarks.Fidelity.Run(args[1..]);
if (args.Length > 0 && args[0] == "int8-fidelity") return ScoreCam.Onnx.Benchmarks.Int8Fidelity.Run(args[1..]);
if (args.Length > 0 && args[0] == "int8-kernels") return ScoreCam.Onnx.Benchmarks.Int8Kernels.Run(args[1..]);
if (args.Length > 0 && args[0] == "session-settings") return ScoreCam.Onnx.Benchmarks.SessionSettings.Run(args[1..]);
if (args.Length > 0 && args[0] == "gpu") return ScoreCam.Onnx.Benchmarks.GpuCheck.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(ScoreCam.Onnx.Benchmarks.KernelBenchmarks).Assembly).Run(args);
return 0;
