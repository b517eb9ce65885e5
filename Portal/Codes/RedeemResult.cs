using System.Globalization;
using Portal.Billing;

namespace Portal.Codes;

/// <summary>An attempt's outcome, the credits it added and, for an expired code, when it expired.</summary>
public sealed record RedeemResult(RedeemOutcome Outcome, long AmountMicros = 0, DateTime? ExpiredAt = null)
{
    public bool Succeeded => Outcome == RedeemOutcome.Redeemed;

    /// <summary>The sentence shown on an organization's dashboard (<paramref name="organization"/>) or the user's own.</summary>
    public string MessageFor(bool organization) => organization && Succeeded
        ? $"Code redeemed: {Money.Format(AmountMicros)} was added to the organization's balance."
        : Message;

    /// <summary>The one sentence the user is shown.</summary>
    public string Message => Outcome switch
    {
        RedeemOutcome.Redeemed => $"Code redeemed: {Money.Format(AmountMicros)} was added to your balance.",
        RedeemOutcome.AlreadyRedeemed => "This code has already been redeemed; each code works once.",
        RedeemOutcome.Expired => ExpiredAt is { } at
            ? string.Create(CultureInfo.InvariantCulture, $"This code expired on {at:yyyy-MM-dd HH:mm} UTC and can no longer be redeemed.")
            : "This code has expired and can no longer be redeemed.",
        RedeemOutcome.Revoked => "This code was withdrawn by its issuer and can no longer be redeemed.",
        RedeemOutcome.NotAllowed => "Only the organization's admins and owners may redeem codes into its balance. Nothing was redeemed.",
        RedeemOutcome.Throttled => "Too many attempts to redeem a code. Wait an hour, then try again.",
        _ => $"That is not a valid code. Check it for typos: codes look like {CodeFormat.Prefix}-XXXXX-XXXXX-XXXXX-XXXXX.",
    };
}
