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

internal sealed class HoldWrite(string userId, string? apiKeyId, string requestId, long amount, DateTime now, string instanceId, long budgetPeriodStart = 0,
    string? memberId = null, long memberBudgetPeriodStart = 0) : LedgerWrite<HoldOutcome>
{
    /// <summary>On an organization key, its member, whose budget the hold also counts against (<see cref="UserId"/> is the organization).</summary>
    public string? MemberId { get; } = memberId;
    /// <summary>The start of the member's budget period the hold counts in; 0: the member has no budget.</summary>
    public long MemberBudgetPeriodStart { get; } = memberBudgetPeriodStart;
    /// <summary>The start of the key's budget period the hold counts in (Unix seconds); 0 for a key without a budget (ADR 29).</summary>
    public long BudgetPeriodStart { get; } = budgetPeriodStart;
    /// <summary>The lease of the instance taking the hold (ADR 20).</summary>
    public string InstanceId { get; } = instanceId;
    public string UserId { get; } = userId;
    public string? ApiKeyId { get; } = apiKeyId;
    public string RequestId { get; } = requestId;
    public long Amount { get; } = amount;
    public DateTime Now { get; } = now;
}

internal sealed class SettleWrite(Settlement settlement, UsageRecord record, DateTime now) : LedgerWrite<bool>
{
    public Settlement Settlement { get; } = settlement;
    /// <summary>What the request cost, as far as the hold covers it.</summary>
    public long WithinHold { get; } = Math.Clamp(settlement.ChargeMicros, 0, settlement.HoldMicros);
    public long Refund => Settlement.HoldMicros - WithinHold;
    /// <summary>What the request cost beyond its hold: charged from the balance as far as it goes (ADR 13).</summary>
    public long Excess { get; } = Math.Max(0, settlement.ChargeMicros - settlement.HoldMicros);
    /// <summary>The part of <see cref="Excess"/> the balance and the key's cap covered, decided inside each attempt's transaction.</summary>
    public long ExcessCharged { get; set; }
    public long Charge => WithinHold + ExcessCharged;
    public long Shortfall => Excess - ExcessCharged;
    public UsageRecord Record { get; } = record;
    public DateTime Now { get; } = now;
    /// <summary>A retry from the settlement journal: failing again leaves it there, it is not journaled twice.</summary>
    public bool FromJournal { get; init; }
}

/// <summary>A running stream's progress (ADR 20): upserted, one row per request.</summary>
internal sealed class ProgressWrite(string requestId, long chargeMicros, string record, DateTime now) : LedgerWrite<bool>
{
    public string RequestId { get; } = requestId;
    public long ChargeMicros { get; } = chargeMicros;
    public string Record { get; } = record;
    public DateTime Now { get; } = now;
}

internal sealed class RecordWrite(UsageRecord record) : LedgerWrite<bool>
{
    public UsageRecord Record { get; } = record;
}
