namespace ScoreCam.Onnx.Jobs;

/// <summary>Where jobs live on the NATS server: the work-queue stream, the workers' durable consumer, the dead letters and the object stores.</summary>
public static class JobNames
{
    /// <summary>Work-queue stream of explanation items (one per picture × method); a message leaves it when a worker acks it.</summary>
    public const string ItemStream = "SCORECAM_ITEMS";
    public const string ItemSubject = "scorecam.items";
    /// <summary>The durable pull consumer every worker shares.</summary>
    public const string WorkerConsumer = "scorecam-workers";
    /// <summary>Items that failed on every delivery, with the error, one subject per result key (<c>scorecam.dead.KEY</c>).</summary>
    public const string DeadLetterStream = "SCORECAM_DEAD";
    public const string DeadLetterSubject = "scorecam.dead";
    /// <summary>Object stores: models and pictures by the SHA-256 of their bytes, results by their <see cref="ExplanationItem.ResultKey"/>.</summary>
    public const string ModelBucket = "scorecam-models", PictureBucket = "scorecam-pictures", ResultBucket = "scorecam-results";

    public static string DeadLetter(string resultKey) => $"{DeadLetterSubject}.{resultKey}";
}
