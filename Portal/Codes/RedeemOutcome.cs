namespace Portal.Codes;

/// <summary>What an attempt to redeem a code came to; each has its own sentence (<see cref="RedeemResult.Message"/>).</summary>
public enum RedeemOutcome
{
    Redeemed,
    /// <summary>Not a code, or no batch has it: one answer for both, so a guess learns nothing more.</summary>
    NotValid,
    AlreadyRedeemed,
    Expired,
    Revoked,
    /// <summary>Too many attempts from this account or address: refused before any lookup.</summary>
    Throttled,
    /// <summary>Into an organization, by a member who is not one of its admins or owners.</summary>
    NotAllowed,
}
