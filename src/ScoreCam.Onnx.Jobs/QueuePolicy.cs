namespace ScoreCam.Onnx.Jobs;

/// <summary>
/// The workers' consumer settings: how long a delivered item may go unacknowledged before it is delivered again (a
/// busy worker keeps extending it), how many deliveries an item gets before it becomes a dead letter, and the growing
/// delays between deliveries.
/// </summary>
public sealed record QueuePolicy
{
    public TimeSpan AckWait { get; init; } = TimeSpan.FromSeconds(30);
    public int MaxDeliveries { get; init; } = 5;

    /// <summary>The delay before delivery n + 1 (n ≥ 1): the ack wait doubled each time, at most 16 times.</summary>
    public TimeSpan Delay(int delivered) => AckWait * Math.Pow(2, Math.Clamp(delivered - 1, 0, 4));

    /// <summary>JetStream's back-off list: one delay per redelivery (the server wants fewer entries than deliveries).</summary>
    public TimeSpan[] Backoff() => Enumerable.Range(1, MaxDeliveries - 1).Select(Delay).ToArray();

    public void Validate()
    {
        if (AckWait < TimeSpan.FromSeconds(1) || AckWait > TimeSpan.FromHours(1))
            throw new ArgumentOutOfRangeException(nameof(AckWait), AckWait, "The ack wait must be between 1 second and 1 hour.");
        if (MaxDeliveries is < 2 or > 100)
            throw new ArgumentOutOfRangeException(nameof(MaxDeliveries), MaxDeliveries, "Items need 2 to 100 deliveries (one try and at least one retry).");
    }
}
