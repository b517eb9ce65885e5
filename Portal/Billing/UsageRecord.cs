using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Billing;

public static class Provenance
{
    /// <summary>Token counts as the upstream reported them.</summary>
    public const string Reported = "reported";
    /// <summary>The upstream reported none: counted with Portal's token rule.</summary>
    public const string Estimated = "estimated";
    /// <summary>The stream was cut short (client left or upstream failed): what was delivered, counted.</summary>
    public const string Partial = "partial";
}

/// <summary>
/// Which of the gateway's APIs a request came in through, as a usage record keeps it: the route under
/// <c>/api/v1</c>. Every API runs the same billing (<see cref="Gateway.ChatGateway"/>); the playground
/// speaks chat completions.
/// </summary>
public static class FrontDoor
{
    public const string ChatCompletions = "chat/completions";
    public const string Messages = "messages";
    public const string Responses = "responses";

    /// <summary>The longest name the store keeps.</summary>
    public const int MaxLength = 32;

    private static readonly string[] Routes = [ChatCompletions, Messages, Responses];

    /// <summary>The API whose route under <c>/api/v1</c> a request's path is in (chat completions for any other).</summary>
    public static string Of(PathString path)
    {
        foreach (var route in Routes)
        {
            if (path.StartsWithSegments($"{Gateway.GatewayApi.Prefix}/{route}", StringComparison.OrdinalIgnoreCase))
            {
                return route;
            }
        }

        return ChatCompletions;
    }
}

/// <summary>
/// One request through the gateway, whatever its outcome, with the prices in force then; or, for
/// refusals past an account's recorded allowance, several alike refusals of one minute together
/// (<see cref="Requests"/>, <see cref="Gateway.RefusalLog"/>).
/// </summary>
public sealed class UsageRecord
{
    public long Id { get; set; }
    public required string RequestId { get; set; }
    /// <summary>The account that paid: a user, or an organization (ADR 34).</summary>
    public required string UserId { get; set; }
    /// <summary>On an organization's record: the member whose key made the request. Null on a user's own records.</summary>
    public string? MemberId { get; set; }
    /// <summary>Null for playground calls.</summary>
    public string? ApiKeyId { get; set; }
    public required string ModelId { get; set; }
    /// <summary>The API the request came in through (<see cref="FrontDoor"/>).</summary>
    public string Api { get; set; } = FrontDoor.ChatCompletions;
    /// <summary>Which upstream answered: "simulated" or the upstream's id and model.</summary>
    public string? Upstream { get; set; }
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public int ReasoningTokens { get; set; }
    public int CachedTokens { get; set; }
    public long CostMicros { get; set; }
    public long InputPriceMicros { get; set; }
    public long OutputPriceMicros { get; set; }
    /// <summary>The price <see cref="CachedTokens"/> were billed at: the input price for a model without a cached-input price (ADR 25).</summary>
    public long CachedInputPriceMicros { get; set; }
    /// <summary>
    /// The client's own id for its end user (<c>user</c>, or Zhipu's <c>user_id</c>), made storable by
    /// <see cref="ClientText"/>; only its account ever sees or filters by it.
    /// </summary>
    public string? EndUser { get; set; }
    public bool Stream { get; set; }
    public int LatencyMs { get; set; }
    public int? TimeToFirstTokenMs { get; set; }
    /// <summary>
    /// The HTTP status the client got: 200 also for a stream that ended with an error event after part
    /// of the reply. A stream that failed before any of it (keep-alive comments are not the reply) has
    /// the error's status, as the request would have had without them.
    /// </summary>
    public int Status { get; set; }
    public string? ErrorCode { get; set; }
    public required string Provenance { get; set; }
    public DateTime CreatedAt { get; set; }

    /// <summary>
    /// How many requests this record stands for: 1, or for aggregated refusals how many alike ones
    /// came in its minute (the first one's id, time and the others' mean latency are kept). Whatever
    /// counts requests sums this, never the rows.
    /// </summary>
    public int Requests { get; set; } = 1;

    /// <summary>The longest <see cref="ModelId"/> the store keeps.</summary>
    public const int ModelIdMaxLength = 128;

    /// <summary>The longest <see cref="EndUser"/> the store keeps: the longest <c>user</c> the gateway accepts.</summary>
    public const int EndUserMaxLength = 256;

    /// <summary>A request refused before anything was held (bad input, 402, 403, 429…): no tokens, no cost.</summary>
    /// <param name="model">What the client asked for (made storable by <see cref="ClientText"/>), or null when it named none.</param>
    public static UsageRecord Refused(string api, string requestId, string userId, string? apiKeyId, string? model, int status, string errorCode, DateTime at, int latencyMs = 0, string? memberId = null) => new()
    {
        Api = api,
        RequestId = requestId,
        UserId = userId,
        MemberId = memberId,
        ApiKeyId = apiKeyId,
        ModelId = model is null ? "unknown" : ClientText(model, ModelIdMaxLength),
        Status = status,
        ErrorCode = errorCode,
        Provenance = Billing.Provenance.Reported,
        LatencyMs = latencyMs,
        CreatedAt = at,
    };

    /// <summary>
    /// Text a client wrote, made fit for a usage record on either store: control characters (NUL
    /// above all, which PostgreSQL refuses in text) and lone surrogates (not UTF-8 at all) become
    /// U+FFFD, and the text is cut to <paramref name="maxLength"/> UTF-16 units between code points,
    /// never inside a surrogate pair. Every client-written string stored in a record goes through here.
    /// </summary>
    public static string ClientText(string text, int maxLength)
    {
        var clean = new StringBuilder(Math.Min(text.Length, maxLength));
        Span<char> units = stackalloc char[2];
        foreach (var rune in text.EnumerateRunes()) // a lone surrogate comes out as U+FFFD
        {
            var kept = Rune.IsControl(rune) ? Rune.ReplacementChar : rune;
            if (clean.Length + kept.Utf16SequenceLength > maxLength)
            {
                break;
            }

            clean.Append(units[..kept.EncodeToUtf16(units)]);
        }

        return clean.ToString();
    }
}

internal sealed class UsageRecordConfiguration : IEntityTypeConfiguration<UsageRecord>
{
    public void Configure(EntityTypeBuilder<UsageRecord> builder)
    {
        builder.ToTable("UsageRecords");
        builder.Property(r => r.RequestId).HasMaxLength(64);
        builder.Property(r => r.ModelId).HasMaxLength(UsageRecord.ModelIdMaxLength);
        builder.Property(r => r.Api).HasMaxLength(FrontDoor.MaxLength);
        builder.Property(r => r.Upstream).HasMaxLength(300);
        builder.Property(r => r.ErrorCode).HasMaxLength(64);
        builder.Property(r => r.Provenance).HasMaxLength(16);
        builder.Property(r => r.EndUser).HasMaxLength(UsageRecord.EndUserMaxLength);
        builder.HasIndex(r => r.RequestId).IsUnique();
        builder.HasIndex(r => new { r.UserId, r.CreatedAt });
        // The dashboard's and /api/v1/usage's end-user filter: one account's requests for one end user, by time.
        builder.HasIndex(r => new { r.UserId, r.EndUser, r.CreatedAt });
        // The status page reads each model's last hour and day.
        builder.HasIndex(r => new { r.ModelId, r.CreatedAt });
        builder.Property(r => r.MemberId).HasMaxLength(64);
        // No foreign key to users: the account may be an organization (ADR 34).
    }
}
