using ScoreCam.Onnx.Methods;
using ScoreCam.Onnx.Output;

namespace ScoreCam.Onnx.Jobs;

/// <summary>A job: pictures × methods explained with one model and spec, the results written to a folder as a local run writes them.</summary>
public sealed record JobRequest
{
    /// <summary>The model file's bytes; uploaded once, under their content key.</summary>
    public required byte[] Model { get; init; }
    /// <summary>The model as results.json names it (a path as given).</summary>
    public required string ModelName { get; init; }
    /// <summary>Everything else that shapes the results; its model key is set on upload.</summary>
    public required ExplanationSpec Spec { get; init; }
    /// <summary>Picture files, named in the results as given; outputs are NAME-METHOD.png after the file name.</summary>
    public required IReadOnlyList<string> Pictures { get; init; }
    /// <summary>The methods, configured; each item carries its method's name and settings.</summary>
    public required IReadOnlyList<IExplanationMethod> Methods { get; init; }
    public required string OutputFolder { get; init; }
    /// <summary>The batch results.json states when no worker returned a result to take it from.</summary>
    public required BatchDocument Batch { get; init; }
    /// <summary>How long to wait for the workers; null: until every item is done or dead.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>How often the store is asked about unfinished items.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>Where a job stands: items finished (with a result), failed (dead letters, unreadable pictures) and in all.</summary>
public sealed record JobProgress(int Done, int Failed, int Total, string? Finished);

/// <summary>
/// A job's end: items in all, how many were already stored before this submission (not queued again), how many were
/// queued, how many have results, the failures, and the results.json written.
/// </summary>
public sealed record JobOutcome(int Total, int StoredBefore, int Queued, int Done, IReadOnlyList<FailureDocument> Failed, string ResultsPath);
