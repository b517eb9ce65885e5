namespace Portal.Organizations;

/// <summary>What accepting an invitation came to; only <see cref="Joined"/> changed anything.</summary>
public enum InvitationOutcome
{
    Joined,
    /// <summary>No invitation has this token (one answer for unknown and malformed).</summary>
    NotValid,
    /// <summary>It was sent to another address than the signed-in user's (verified) one.</summary>
    OtherAddress,
    Expired,
    AlreadyUsed,
    Revoked,
}
