namespace Portal.Usage;

/// <summary>What a chart of <see cref="DailyUsageChart"/> plots per day.</summary>
public enum UsageMeasure
{
    Requests,
    Spend,
    Tokens,
}
