using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>Writes item <paramref name="item"/> of a run into its input slot (C×H×W floats); false leaves the item out.</summary>
public delegate bool BatchInputWriter(int item, Span<float> input);

/// <summary>Receives the model's output row for item <paramref name="item"/> of a run.</summary>
public delegate void BatchOutputReader(int item, ReadOnlySpan<float> scores);

/// <summary>
/// What one <see cref="IBatchRunner"/> run did for one job: passes run, items left out, time inside the model (in a
/// batch shared with other jobs, the batch's time in proportion to this job's items in it).
/// </summary>
public readonly record struct BatchRunSummary(int Passes, int Skipped, TimeSpan InferenceTime);

/// <summary>
/// One caller's items in a run: <paramref name="Count"/> inputs shaped like <paramref name="Template"/>, written by
/// <paramref name="Write"/> and read by <paramref name="Read"/>; <paramref name="Progress"/> gets the number of this
/// job's items done.
/// </summary>
public sealed record BatchJob(ImageTensor Template, int Count, BatchInputWriter Write, BatchOutputReader Read, IProgress<int>? Progress = null);

/// <summary>
/// Runs many inputs of one shape through the model in batches: the masked images of Score-CAM, RISE's random masks,
/// the steps of deletion / insertion curves. Callers write each item's input and read each item's output row; the
/// runner owns the buffers, the batching and any overlap of building one batch with running another. Outputs arrive
/// in item order. One implementation runs ONNX Runtime in this process (<see cref="MaskedBatchRunner"/>); another
/// backend (a remote inference server) implements the same contract. Implementations are thread-safe: concurrent
/// runs do not share buffers.
/// </summary>
public interface IBatchRunner
{
    /// <summary>Length of one output row.</summary>
    int OutputSize { get; }

    /// <summary>What the output row holds (logits, probabilities, one logit): how class probabilities follow from it.</summary>
    ModelOutputKind OutputKind { get; }

    /// <summary>Inputs per model call.</summary>
    int BatchSize { get; }

    /// <summary>
    /// At most this many items are written and not yet read back: item i's output row arrives before item
    /// i + MaxInFlight is written, so a caller may keep per-item state in a ring of this size.
    /// </summary>
    int MaxInFlight { get; }

    /// <summary>
    /// Runs items 0..<paramref name="count"/>−1 shaped like <paramref name="template"/>: <paramref name="write"/> fills
    /// each item's input (on the calling thread, in item order), <paramref name="read"/> receives each output row.
    /// <paramref name="progress"/> gets the number of items done after each batch.
    /// </summary>
    BatchRunSummary Run(ImageTensor template, int count, BatchInputWriter write, BatchOutputReader read,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs several jobs' items in shared batches: job j + 1's items follow job j's in the same batches, so only the
    /// last batch of the whole run can be part-empty (several images' masked passes fill every batch). All templates
    /// have one shape. Each job sees the contract of the single-job <see cref="Run(ImageTensor, int, BatchInputWriter, BatchOutputReader, IProgress{int}?, CancellationToken)"/>:
    /// its items written in order, its rows read in order, at most <see cref="MaxInFlight"/> of its items in flight.
    /// Returns one summary per job.
    /// </summary>
    IReadOnlyList<BatchRunSummary> Run(IReadOnlyList<BatchJob> jobs, CancellationToken cancellationToken = default);
}
