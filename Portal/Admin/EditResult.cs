namespace Portal.Admin;

/// <summary>
/// What an admin edit came to: done (with a sentence to show), refused as a whole (a problem to
/// show above the form), or invalid (a message per field). Nothing is changed unless it is done.
/// </summary>
public sealed record EditResult(string? Done, string? Problem, IReadOnlyDictionary<string, string> Errors)
{
    private static readonly IReadOnlyDictionary<string, string> NoErrors = new Dictionary<string, string>();

    public bool Succeeded => Done is not null;

    public static EditResult Success(string message) => new(message, null, NoErrors);

    public static EditResult Refused(string problem) => new(null, problem, NoErrors);

    public static EditResult Invalid(IReadOnlyDictionary<string, string> errors) => new(null, null, errors);

    public string? ErrorFor(string field) => Errors.GetValueOrDefault(field);
}
