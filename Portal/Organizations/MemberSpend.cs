namespace Portal.Organizations;

/// <summary>What one member's organization keys spent of the organization's credit in a period.</summary>
public sealed record MemberSpend(string MemberId, string Email, int Requests, long SpendMicros);
