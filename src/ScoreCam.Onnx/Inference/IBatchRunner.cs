using ScoreCam.Onnx.Core;
using ScoreCam.Onnx.Models;

namespace ScoreCam.Onnx.Inference;

/// <summary>Writes item <paramref name="item"/> of a run into its input slot (C×H×W floats); false leaves the item out.</summary>
public delegate bool BatchInputWriter(int item, Span<float> input);

/// <summary>Receives the model's output row for item <paramref name="item"/> of a run.</summary>
public delegate void BatchOutputReader(int item, ReadOnlySpan<float> scores);

/// <summary>What one <see cref="IBatchRunner.Run"/> did: passes run, items left out, time inside the model.</summary>
public readonly record struct BatchRunSummary(int Passes, int Skipped, TimeSpan InferenceTime);

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
}
