namespace Portal.Components.Theme;

/// <summary>
/// The browser's light/dark choice, kept in cookies so that the server renders the right theme in
/// the first response (no flash), on static pages as on interactive ones. <see cref="ChoiceCookie"/>
/// holds what the person picked with the toggle; without it Portal follows the system setting,
/// which <c>portal.js</c> writes to <see cref="SystemCookie"/> on every page load.
/// </summary>
public static class ThemePreference
{
    public const string ChoiceCookie = "portal-theme";
    public const string SystemCookie = "portal-system-theme";
    public const string Dark = "dark";
    public const string Light = "light";

    /// <summary>True for dark, false for light, null when nothing is known yet (first visit).</summary>
    public static bool? IsDark(IRequestCookieCollection cookies) =>
        Parse(cookies[ChoiceCookie]) ?? Parse(cookies[SystemCookie]);

    /// <summary>Whether the person picked a mode, rather than following the system.</summary>
    public static bool IsChosen(IRequestCookieCollection cookies) => Parse(cookies[ChoiceCookie]) is not null;

    private static bool? Parse(string? value) => value switch
    {
        Dark => true,
        Light => false,
        _ => null,
    };

    /// <summary>
    /// <c>POST /theme</c>: the toggle on statically rendered pages (sign-in and friends) is a form,
    /// so it works without a circuit; interactive pages set the cookie through <c>portal.js</c>.
    /// </summary>
    public static IEndpointRouteBuilder MapThemeSwitch(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/theme", (HttpContext http, [Microsoft.AspNetCore.Mvc.FromForm] string mode, [Microsoft.AspNetCore.Mvc.FromForm] string? returnUrl) =>
        {
            if (mode is Dark or Light)
            {
                http.Response.Cookies.Append(ChoiceCookie, mode, CookieOptions());
            }

            // Only back to a page of this site: never an open redirect.
            var back = returnUrl is { Length: > 0 } && returnUrl[0] == '/' && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.StartsWith("/\\", StringComparison.Ordinal)
                ? returnUrl
                : "/";
            return Results.LocalRedirect(back);
        });
        return endpoints;
    }

    private static CookieOptions CookieOptions() => new()
    {
        Path = "/",
        MaxAge = TimeSpan.FromDays(365),
        SameSite = SameSiteMode.Lax,
        IsEssential = true,
        HttpOnly = false, // portal.js sets the same cookie on interactive pages
    };
}
