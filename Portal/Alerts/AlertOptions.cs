using System.ComponentModel.DataAnnotations;

namespace Portal.Alerts;

/// <summary>Low-balance and upstream alerts (ADR 26). Bound from the <c>Alerts</c> section.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>The largest low-balance threshold a user may set, in USD.</summary>
    public const decimal MaxThresholdUsd = 1_000_000m;

    /// <summary>How often balances are compared with their owners' thresholds (off the settlement path).</summary>
    [Range(1, 3600)]
    public int LowBalanceCheckSeconds { get; set; } = 15;

    /// <summary>Failed attempts in a row after which an upstream's admins are mailed; 0 turns the alert off.</summary>
    [Range(0, 10_000)]
    public int UpstreamFailuresInARow { get; set; } = 10;

    /// <summary>At most one upstream alert per upstream in this many minutes, across instances.</summary>
    [Range(1, 10_080)]
    public int UpstreamAlertMinutes { get; set; } = 60;
}
