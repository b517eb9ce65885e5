namespace Portal.Gateway;

public sealed class GatewayOptions : System.ComponentModel.DataAnnotations.IValidatableObject
{
    public const string Section = "Gateway";

    /// <summary>Requests per minute per key, unless the key sets its own.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int DefaultRequestsPerMinute { get; set; } = 60;

    /// <summary>max_tokens when a request gives none; capped at the model's maximum.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int DefaultMaxTokens { get; set; } = 8192;

    /// <summary>Seconds of upstream silence before a <c>: keep-alive</c> comment is sent on a stream.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 600)]
    public int KeepAliveSeconds { get; set; } = 15;

    /// <summary>On shutdown, how long running completions may take to finish before they are settled as partial.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 3600)]
    public int ShutdownGraceSeconds { get; set; } = 25;

    /// <summary>
    /// How long a non-streaming request waits for its upstream's whole reply, when that is longer than
    /// the upstream's own timeout: a provider asked for one reply sends nothing until it has written
    /// it all (ADR 8). 600 s is what the OpenAI SDKs wait by default.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3600)]
    public int NonStreamingReplySeconds { get; set; } = 600;

    /// <summary>
    /// An unsettled credit hold older than this was left by a request that died with its process, and is
    /// settled by the next periodic sweep (on PostgreSQL by whichever instance sweeps next). No request
    /// lives this long: <see cref="RequestDeadline"/>. On SQLite every hold found at start-up is stale.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(10, 7 * 24 * 3600)]
    public int StaleHoldSeconds { get; set; } = 3600;

    /// <summary>
    /// The longest a held request may run, keep-alives, retries and all: past it, it is stopped and
    /// settled at what it delivered, with the error <c>request_timeout</c>. Unset, nine tenths of
    /// <see cref="StaleHoldSeconds"/>; set, it must be below it, so no sweep takes a live request's hold (ADR XX).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 7 * 24 * 3600)]
    public int? MaxRequestSeconds { get; set; }

    /// <summary>
    /// How often a running stream records what it has delivered in the settlement journal: what it is
    /// charged if its process dies before it settles (ADR XX). Shorter streams write nothing.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3600)]
    public int ProgressSeconds { get; set; } = 10;

    public TimeSpan RequestDeadline => TimeSpan.FromSeconds(MaxRequestSeconds ?? StaleHoldSeconds * 9 / 10);

    public IEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> Validate(System.ComponentModel.DataAnnotations.ValidationContext validationContext)
    {
        if (MaxRequestSeconds >= StaleHoldSeconds)
        {
            yield return new(
                $"Gateway:MaxRequestSeconds ({MaxRequestSeconds}) must be below Gateway:StaleHoldSeconds ({StaleHoldSeconds}): a longer request would lose its hold to the stale-hold sweep.",
                [nameof(MaxRequestSeconds)]);
        }
    }
}
