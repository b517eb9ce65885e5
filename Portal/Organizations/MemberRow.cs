using Portal.ApiKeys;

namespace Portal.Organizations;

/// <summary>
/// A member of an organization as its members page lists them, with their budget that resets (null: none)
/// and its counters as stored (<see cref="KeyBudget.SpentAt"/> reads what the current period has spent).
/// </summary>
public sealed record MemberRow(string UserId, string Email, OrganizationRole Role, DateTime JoinedAt, KeyBudget? Budget = null,
    long BudgetPeriodStart = 0, long BudgetSpentMicros = 0);
