namespace Portal.Codes;

/// <summary>A batch as typed in the admin form: the value in USD, how many, days until they expire (empty: never), a note.</summary>
public sealed class NewCodeBatch
{
    public string Value { get; set; } = "";
    public string Count { get; set; } = "";
    public string ExpiresInDays { get; set; } = "";
    public string Note { get; set; } = "";
}
