using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace Portal.Account;

/// <summary>
/// The two WebAuthn option documents <c>wwwroot/passkeys.js</c> fetches before it asks the browser's
/// authenticator. Identity makes them and keeps the challenge in its own short-lived cookie; the
/// pages' forms (antiforgery-checked, as these are) then hand the browser's answer back to Identity to verify.
/// </summary>
public static class PasskeyEndpoints
{
    public const string CreationOptions = "/account/passkey/creation-options";
    public const string RequestOptions = "/account/passkey/request-options";

    // Answers with a body: a bare status would be re-executed as the not-found page, which a POST cannot render.
    private static ProblemHttpResult NoToken => TypedResults.Problem("Send the page's antiforgery token.", statusCode: StatusCodes.Status400BadRequest);

    public static IEndpointRouteBuilder MapPasskeys(this IEndpointRouteBuilder endpoints)
    {
        // The page's antiforgery token comes along as a header: another site cannot start a ceremony
        // (and swap Identity's challenge cookie) in the user's browser.
        // (The antiforgery middleware checks form posts only; these have no body, so they check it themselves.)
        endpoints.MapPost(CreationOptions, CreationOptionsAsync).DisableAntiforgery();
        endpoints.MapPost(RequestOptions, RequestOptionsAsync).DisableAntiforgery();
        return endpoints;
    }

    /// <summary>Options to make a passkey for the signed-in user (401 for anyone else).</summary>
    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> CreationOptionsAsync(
        HttpContext http, UserManager<PortalUser> users, SignInManager<PortalUser> signIn, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return NoToken;
        }

        if (await users.GetUserAsync(http.User) is not { } user)
        {
            return TypedResults.Problem("Sign in to add a passkey.", statusCode: StatusCodes.Status401Unauthorized);
        }

        var name = user.Email ?? user.Id;
        var json = await signIn.MakePasskeyCreationOptionsAsync(new PasskeyUserEntity { Id = user.Id, Name = name, DisplayName = name });
        return TypedResults.Content(json, "application/json");
    }

    /// <summary>
    /// Options to use a passkey: any of the account's when a password step is waiting for a second
    /// factor, otherwise any passkey the authenticator holds for this site (sign-in without a password).
    /// </summary>
    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> RequestOptionsAsync(
        HttpContext http, SignInManager<PortalUser> signIn, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return NoToken;
        }

        var pending = await signIn.GetTwoFactorAuthenticationUserAsync();
        return TypedResults.Content(await signIn.MakePasskeyRequestOptionsAsync(pending), "application/json");
    }
}
