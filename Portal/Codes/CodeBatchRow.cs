namespace Portal.Codes;

/// <summary>A batch as the admin list shows it: never its codes.</summary>
public sealed record CodeBatchRow(int Id, long ValueMicros, int Count, int Redeemed, DateTime CreatedAt, DateTime? ExpiresAt,
    string Note, string CreatedBy, DateTime? RevokedAt);
