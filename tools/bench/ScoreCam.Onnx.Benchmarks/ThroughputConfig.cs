using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ScoreCam.Onnx.Benchmarks;

/// <summary>Adds a Throughput column: bytes a benchmark reads and writes, over its median time.</summary>
public sealed class ThroughputConfig : ManualConfig
{
    public static readonly Dictionary<string, long> Bytes = new();

    public ThroughputConfig() => AddColumn(new ThroughputColumn());

    private sealed class ThroughputColumn : IColumn
    {
        public string Id => "Throughput";
        public string ColumnName => "Throughput";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Bytes read and written per second (median time)";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats is null) return "-";
            // The dictionary is filled in the benchmark process; recompute the sizes here from the method name.
            long bytes = KnownBytes(benchmarkCase.Descriptor.WorkloadMethod.Name);
            return bytes == 0 ? "-" : $"{bytes / (stats.Median * 1e-9) / 1e9:0.00} GB/s";
        }

        private static long KnownBytes(string method)
        {
            if (Bytes.Count == 0) new KernelBenchmarks().Setup();
            return Bytes.GetValueOrDefault(method);
        }
    }
}
