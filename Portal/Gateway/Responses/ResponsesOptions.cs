using System.ComponentModel.DataAnnotations;

namespace Portal.Gateway.Responses;

/// <summary>How long and how much of the Responses API's stored responses Portal keeps (ADR 32).</summary>
public sealed class ResponsesOptions
{
    public const string Section = "Responses";

    /// <summary>Days a stored Response can be fetched or continued; 0: nothing is stored, every Response says <c>"store": false</c>.</summary>
    [Range(0, 365)]
    public int KeepDays { get; set; } = 30;

    /// <summary>Most bytes of stored responses per account; storing past it deletes the account's oldest.</summary>
    [Range(1_000_000, 10_000_000_000)]
    public long StoredBytesPerAccount { get; set; } = 64_000_000;
}
