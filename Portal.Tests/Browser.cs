using Microsoft.AspNetCore.Mvc.Testing.Handlers;

namespace Portal.Tests;

/// <summary>
/// An HTTP client with a cookie jar that fills in statically rendered forms the way a browser does:
/// it loads the page first and posts back the form's hidden <c>_handler</c> and antiforgery token.
/// Redirects are not followed, so tests see where the app sends the user.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string AuthCookie = "portal.auth";

    internal Browser(PortalApplication app)
    {
        Client = app.CreateDefaultClient(new Uri("http://localhost/"), new CookieContainerHandler(Cookies));
    }

    public HttpClient Client { get; }

    public CookieContainer Cookies { get; } = new();

    public bool HasAuthCookie => Cookies.GetCookies(Client.BaseAddress!).Any(c => c.Name == AuthCookie);

    public Task<HttpResponseMessage> GetAsync(string url) => Client.GetAsync(url);

    /// <summary>Loads a page that must render (200) and returns its HTML.</summary>
    public async Task<string> GetPageAsync(string url)
    {
        var response = await Client.GetAsync(url);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url} answered {(int)response.StatusCode}:\n{html}");
        return html;
    }

    /// <summary>Loads <paramref name="url"/> and submits its form <paramref name="formName"/> with <paramref name="fields"/>.</summary>
    public async Task<HttpResponseMessage> SubmitFormAsync(string url, string formName, IReadOnlyDictionary<string, string> fields)
    {
        var page = await GetPageAsync(url);
        var form = Html.Form(page, formName);
        var values = new Dictionary<string, string>(form.Fields);
        foreach (var (name, value) in fields)
        {
            values[name] = value;
        }

        return await Client.PostAsync(form.Action ?? url, new FormUrlEncodedContent(values));
    }

    public Task<HttpResponseMessage> SignUpAsync(string email, string password, string? confirmPassword = null, string url = "/signup") =>
        SubmitFormAsync(url, "signup", new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = confirmPassword ?? password,
        });

    public Task<HttpResponseMessage> SignInAsync(string email, string password, string url = "/login") =>
        SubmitFormAsync(url, "login", new Dictionary<string, string>
        {
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        });

    public Task<HttpResponseMessage> SignOutAsync() =>
        SubmitFormAsync("/logout", "logout", new Dictionary<string, string>());

    public Task<HttpResponseMessage> ChangePasswordAsync(string current, string next, string? confirm = null) =>
        SubmitFormAsync("/settings/profile", "change-password", new Dictionary<string, string>
        {
            ["Input.CurrentPassword"] = current,
            ["Input.NewPassword"] = next,
            ["Input.ConfirmPassword"] = confirm ?? next,
        });

    public void Dispose() => Client.Dispose();
}
