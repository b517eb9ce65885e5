using System.Globalization;

namespace Portal.Admin;

/// <summary>Options of one CLI verb: <c>--name value</c> pairs and bare <c>--flag</c>s.</summary>
internal sealed class CliArguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public static bool TryParse(IEnumerable<string> args, out CliArguments parsed, out string error)
    {
        parsed = new CliArguments();
        error = "";
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal) || list[i].Length == 2)
            {
                error = $"unexpected argument '{list[i]}'; options look like --name value.";
                return false;
            }

            var name = list[i][2..];
            var hasValue = i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal);
            if (!parsed._values.TryAdd(name, hasValue ? list[++i] : null))
            {
                error = $"--{name} is given twice.";
                return false;
            }
        }

        return true;
    }

    public string Required(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new CliUsageException($"--{name} is required and needs a value.");
    }

    public string? Optional(string name)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var value))
        {
            return null;
        }

        return string.IsNullOrWhiteSpace(value) ? throw new CliUsageException($"--{name} needs a value.") : value;
    }

    public int? OptionalInt(string name, int min, int max)
    {
        var text = Optional(name);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new CliUsageException($"--{name} must be a whole number from {min} to {max}, not '{text}'.");
    }

    /// <summary>A USD amount such as 10 or 2.50 (at most 6 decimals), as micro-dollars.</summary>
    public long Usd(string name) => ParseUsd(name, Required(name));

    public long? OptionalUsd(string name) => Optional(name) is { } text ? ParseUsd(name, text) : null;

    private static long ParseUsd(string name, string text) =>
        decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var usd)
        && decimal.Round(usd, 6) == usd && Math.Abs(usd) <= 1_000_000_000
            ? Money.FromUsd(usd)
            : throw new CliUsageException($"--{name} must be an amount in USD such as 10 or 2.50, not '{text}'.");

    /// <summary>Whether the option was given at all, with or without a value.</summary>
    public bool Has(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    public bool Flag(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var value)
            && (value is null ? true : throw new CliUsageException($"--{name} is a flag and takes no value."));
    }

    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new CliUsageException($"unknown option{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => "--" + u))}.");
        }
    }
}

internal sealed class CliUsageException(string message) : Exception(message);
