using Portal.Data;

namespace Portal.Components.Layout;

/// <summary>
/// What a page says when the store is unavailable (<see cref="StoreOutage"/>): the same words on every
/// page, and not "couldn't be loaded" or "something went wrong" for what is no fault of the page's.
/// </summary>
public static class OutageText
{
    public const string Message = "Portal can't reach its database right now. Nothing is lost: try again shortly.";

    /// <summary><see cref="Message"/> when <paramref name="error"/> is a store outage, else the page's own <paramref name="otherwise"/>.</summary>
    public static string Or(Exception error, string otherwise) => StoreOutage.IsOutage(error) ? Message : otherwise;
}
