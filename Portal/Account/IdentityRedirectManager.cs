using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Components;

namespace Portal.Account;

/// <summary>Redirects from statically rendered account pages, refusing open redirects.</summary>
internal sealed class IdentityRedirectManager(NavigationManager navigation)
{
    [DoesNotReturn]
    public void RedirectTo(string? uri)
    {
        navigation.NavigateTo(LocalOnly(uri));
        // During static rendering NavigateTo throws NavigationException, which the framework turns
        // into a redirect; reaching this line means it was called from an interactive render.
        throw new InvalidOperationException($"{nameof(IdentityRedirectManager)} can only be used during static rendering.");
    }

    /// <summary>A return URL from the query string is only honoured when it stays on this site.</summary>
    public static string LocalOnly(string? uri) =>
        string.IsNullOrEmpty(uri)
        || !uri.StartsWith('/')
        || uri.StartsWith("//", StringComparison.Ordinal)
        || uri.StartsWith("/\\", StringComparison.Ordinal)
            ? "/"
            : uri;
}
