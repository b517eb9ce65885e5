namespace Portal.Gateway;

public sealed class GatewayOptions : System.ComponentModel.DataAnnotations.IValidatableObject
{
    public const string Section = "Gateway";

    /// <summary>Requests per minute per key, unless the key sets its own.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int DefaultRequestsPerMinute { get; set; } = 60;

    /// <summary>
    /// Refused requests (400, 402, 403, 404, 429…) of one account that get a usage record each per
    /// minute; past that, alike ones are written as one record per minute with their count
    /// (<see cref="RefusalLog"/>), so refusals cannot grow the store without bound.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 1_000_000)]
    public int RecordedRefusalsPerMinute { get; set; } = 60;

    /// <summary>
    /// Refused requests one account may have per minute (at least <see cref="RecordedRefusalsPerMinute"/>);
    /// past that its API requests get 429 before any store work until the minute is over.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100_000_000)]
    public int RefusalsPerMinute { get; set; } = 600;

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
    /// The largest non-streamed reply read from an upstream: a broken or hostile provider must not make
    /// Portal buffer gigabytes. 32 MB is far above any text reply (a 128k-token reply is under 1 MB of
    /// JSON) and leaves room for a few base64 images; a reply beyond it is a 502 and costs nothing.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(64 * 1024, 1024 * 1024 * 1024)]
    public int MaxUpstreamReplyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// The longest line of an upstream's stream, which is one event: a chunk is a few tokens, so 8 MB
    /// only stops a provider that never ends its line; a stream that sends one ends with an error event.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(64 * 1024, 1024 * 1024 * 1024)]
    public int MaxUpstreamEventBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// The last resort for holds that name no instance lease (made before leases, ADR 20, e.g. by an
    /// instance of an older version during a rolling upgrade): one older than this is settled by the next
    /// periodic sweep. Every other hold is settled once its instance's lease lapses, whatever its age.
    /// On SQLite every hold found at start-up is orphaned.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(10, 7 * 24 * 3600)]
    public int StaleHoldSeconds { get; set; } = 3600;

    /// <summary>
    /// Bytes of request bodies over 64 KB held at once, for as long as their requests run (ADR 15).
    /// Past it, a large body is answered 503 with Retry-After before it is read; small ones always pass.
    /// The process holds about three times this at worst (the bytes, their parsed tree, the upstream's copy).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(ChatBodyReader.MaxBodyBytes, long.MaxValue)]
    public long MaxLargeBodyBytesInFlight { get; set; } = 64 * 1024 * 1024;

    /// <summary>The most JSON values (strings, numbers, objects, arrays…) one request body may have; counted before it is parsed.</summary>
    [System.ComponentModel.DataAnnotations.Range(1_000, 10_000_000)]
    public int MaxJsonValues { get; set; } = 100_000;

    /// <summary>
    /// The longest a held request may run, keep-alives, retries and all: past it, it is stopped and
    /// settled at what it delivered, with the error <c>request_timeout</c>, so a request that hangs
    /// does not hold credits forever (ADR 18). A live instance's holds are never taken from it (ADR 20),
    /// so this is about bounding requests, not about the hold: an hour is far beyond any real completion.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 7 * 24 * 3600)]
    public int MaxRequestSeconds { get; set; } = 3600;

    /// <summary>
    /// How often a running stream records what it has delivered in the store: what it is charged if its
    /// instance dies before it settles, by whichever instance settles its hold (ADR 20). Shorter streams write nothing.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3600)]
    public int ProgressSeconds { get; set; } = 10;

    public TimeSpan RequestDeadline => TimeSpan.FromSeconds(MaxRequestSeconds);

    public IEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> Validate(System.ComponentModel.DataAnnotations.ValidationContext validationContext)
    {
        if (RefusalsPerMinute < RecordedRefusalsPerMinute)
        {
            yield return new(
                "Gateway:RefusalsPerMinute must be at least Gateway:RecordedRefusalsPerMinute: an account is throttled only once its recorded refusals are used up.",
                [nameof(RefusalsPerMinute)]);
        }
    }
}
