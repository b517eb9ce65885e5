using System.Globalization;
using Portal.Billing;

namespace Portal.Usage;

public enum RequestOutcome
{
    Ok,
    Error,
}

/// <summary>What is wrong with one filter value: <paramref name="Param"/> is its query-string name.</summary>
public sealed record FilterError(string Param, string Message);

/// <summary>
/// Which of a user's requests to list or export. Days are UTC and inclusive at both ends. Built
/// only through <see cref="Parse"/>, which turns bad query-string input into messages, never exceptions.
/// </summary>
public sealed record RequestFilter
{
    /// <summary>The <c>key</c> value that selects playground calls (they have no key).</summary>
    public const string Playground = "playground";

    public static readonly RequestFilter None = new();

    public string? Model { get; init; }
    /// <summary>An API key id of the user, or <see cref="Playground"/>.</summary>
    public string? Key { get; init; }
    public RequestOutcome? Outcome { get; init; }
    /// <summary>The client's id for its end user (<c>user</c> in its requests), as the usage record keeps it.</summary>
    public string? EndUser { get; init; }
    public DateOnly? From { get; init; }
    public DateOnly? To { get; init; }

    public bool IsEmpty => this == None;

    /// <param name="knownModels">Model ids the user may filter by (the catalog's).</param>
    /// <param name="knownKeys">The user's own API key ids.</param>
    /// <param name="user">An end-user id: only the requests that named it in <c>user</c> (or <c>user_id</c>).</param>
    public static (RequestFilter Filter, IReadOnlyList<FilterError> Errors) Parse(string? model, string? key, string? status, string? from, string? to,
        IReadOnlyCollection<string> knownModels, IReadOnlyCollection<string> knownKeys, string? user = null)
    {
        var errors = new List<FilterError>();
        model = Blank(model);
        key = Blank(key);
        status = Blank(status);
        if (model is not null && !knownModels.Contains(model, StringComparer.Ordinal))
        {
            errors.Add(new("model", $"There is no model called “{Clip(model)}”. Pick one from the list."));
            model = null;
        }

        if (key is not null && key != Playground && !knownKeys.Contains(key, StringComparer.Ordinal))
        {
            errors.Add(new("key", "That API key isn't one of yours. Pick one from the list."));
            key = null;
        }

        // Compared with what was stored, which went through the same cleaning; no trimming: ids are
        // matched exactly, spaces and all, except that a blank one means "any".
        string? endUser = null;
        if (!string.IsNullOrWhiteSpace(user))
        {
            if (user.Length > UsageRecord.EndUserMaxLength)
            {
                errors.Add(new("user", $"An end-user id is at most {UsageRecord.EndUserMaxLength} characters long."));
            }
            else
            {
                endUser = UsageRecord.ClientText(user, UsageRecord.EndUserMaxLength);
            }
        }

        RequestOutcome? outcome = status switch
        {
            null => null,
            "ok" => RequestOutcome.Ok,
            "error" => RequestOutcome.Error,
            _ => null,
        };
        if (status is not null && outcome is null)
        {
            errors.Add(new("status", "Status must be “ok” or “error”."));
        }

        var fromDay = Day(from, "from", "From", errors);
        var toDay = Day(to, "to", "To", errors);
        if (fromDay > toDay)
        {
            errors.Add(new("from", $"The start date ({fromDay:yyyy-MM-dd}) is after the end date ({toDay:yyyy-MM-dd})."));
            fromDay = toDay = null;
        }

        return (new RequestFilter { Model = model, Key = key, Outcome = outcome, EndUser = endUser, From = fromDay, To = toDay }, errors);
    }

    /// <summary>The filter as query-string pairs, for links (paging, CSV) that keep it.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Query()
    {
        yield return new("model", Model);
        yield return new("key", Key);
        yield return new("status", Outcome?.ToString().ToLowerInvariant());
        yield return new("user", EndUser);
        yield return new("from", From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        yield return new("to", To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    internal DateTime? FromUtc => From?.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

    /// <summary>Exclusive: midnight after the last day (none after 9999-12-31, the last day a date can name).</summary>
    internal DateTime? ToUtcExclusive => To is { } to && to < DateOnly.MaxValue
        ? to.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc)
        : null;

    private static DateOnly? Day(string? text, string param, string name, List<FilterError> errors)
    {
        if (Blank(text) is not { } value)
        {
            return null;
        }

        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day;
        }

        errors.Add(new(param, $"{name} must be a date like 2026-11-22, not “{Clip(value)}”."));
        return null;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    // Echoed input stays short: the message is for the user, not a way to paste text into the page.
    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
