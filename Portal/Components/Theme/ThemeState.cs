namespace Portal.Components.Theme;

/// <summary>What the server knew of the browser's theme when the page was first rendered (cascaded by Routes).</summary>
/// <param name="IsDark">Dark or light; null on a first visit, before portal.js has told the server the system's setting.</param>
/// <param name="IsChosen">The person picked it with the toggle, rather than following the system.</param>
public sealed record ThemeState(bool? IsDark, bool IsChosen);
