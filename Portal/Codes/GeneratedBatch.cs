namespace Portal.Codes;

/// <summary>A batch just made, with its codes in plain text: they exist nowhere else, and are shown this once.</summary>
public sealed record GeneratedBatch(CodeBatch Batch, IReadOnlyList<string> Codes);
