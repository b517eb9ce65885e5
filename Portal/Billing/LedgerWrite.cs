namespace Portal.Billing;

/// <summary>One write queued for <see cref="LedgerWriter"/>; its task completes once the batch holding it has committed.</summary>
internal abstract class LedgerWrite
{
    public abstract void Complete(object outcome);
    public abstract void Fail(Exception error);
}

internal abstract class LedgerWrite<T> : LedgerWrite
{
    private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public Task<T> Task => _done.Task;
    public override void Complete(object outcome) => _done.TrySetResult((T)outcome);
    public override void Fail(Exception error) => _done.TrySetException(error);
}

internal sealed class HoldWrite(string userId, string? apiKeyId, string requestId, long amount, DateTime now) : LedgerWrite<HoldOutcome>
{
    public string UserId { get; } = userId;
    public string? ApiKeyId { get; } = apiKeyId;
    public string RequestId { get; } = requestId;
    public long Amount { get; } = amount;
    public DateTime Now { get; } = now;
}

internal sealed class SettleWrite(Settlement settlement, long charge, UsageRecord record, DateTime now) : LedgerWrite<bool>
{
    public Settlement Settlement { get; } = settlement;
    public long Charge { get; } = charge;
    public long Refund => Settlement.HoldMicros - Charge;
    public UsageRecord Record { get; } = record;
    public DateTime Now { get; } = now;
}

internal sealed class RecordWrite(UsageRecord record) : LedgerWrite<bool>
{
    public UsageRecord Record { get; } = record;
}
