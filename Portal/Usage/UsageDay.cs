namespace Portal.Usage;

/// <summary>One UTC day of usage: one user's on the dashboard, everyone's on the admin's service page.</summary>
public sealed record UsageDay(DateTime Day, int Requests, long PromptTokens, long CompletionTokens, long SpendMicros)
{
    public long Tokens => PromptTokens + CompletionTokens;
}
