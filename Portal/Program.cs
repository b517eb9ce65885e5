using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Portal.Account;
using Portal.Admin;
using Portal.Alerts;
using Portal.ApiKeys;
using Portal.Billing;
using Portal.Catalog;
using Portal.Codes;
using Portal.Components;
using Portal.Components.Theme;
using Portal.Data;
using Portal.Docs;
using Portal.Email;
using Portal.Gateway;
using Portal.Observability;
using Portal.Organizations;
using Portal.RateLimits;
using Portal.Security;
using Portal.Status;
using Portal.Usage;

// `Portal admin <verb> …` runs a command-line verb against the store instead of serving; its
// arguments are not configuration, so they are kept away from the host.
var isCli = AdminCli.IsInvocation(args);
var builder = WebApplication.CreateBuilder(isCli ? [] : args);
if (isCli)
{
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
}

// A build's output (tests, bench, `dotnet run`) finds wwwroot and _content/ through the static web
// assets manifest, which only Development reads unless asked; a publish folder carries the files.
builder.WebHost.UseStaticWebAssets();

builder.Services.AddSingleton(TimeProvider.System);           // logic reads time from here; tests swap it
builder.AddPortalStore();                                      // SQLite by default, PostgreSQL when configured
builder.AddStoredDataProtection();                             // cookie and secret keys shared through the store, encrypted with a secret kept outside it (ADR 14)
builder.AddAccounts();                                         // Identity: sign-up, sign-in, lockout, roles, email links
builder.AddEmail();                                            // mail through a durable outbox in the store: SMTP, or .eml files in the data folder (ADR 23)
builder.AddAlerts();                                           // low-balance emails and the admins' alert about a failing upstream, swept beside the gateway (ADR 26)
builder.AddReverseProxy();                                     // client address and scheme from nginx's X-Forwarded-* headers
builder.AddObservability();                                    // gateway metrics and their /metrics exporter
builder.AddCatalog();                                          // models, prices, upstreams: the gateway reads them from a one-second snapshot
builder.AddApiKeys();                                          // keys, and the bearer-key authentication of /api/v1
builder.AddRateLimits();                                       // each key's requests per minute, shared through the store on PostgreSQL (ADR 7)
builder.AddBilling();                                          // credits: holds and settlements in group commits (ADR 6), stale holds released
builder.AddGateway();                                          // /api/v1's relay: upstreams, simulation, streaming, graceful drain
builder.AddDocs();                                              // /docs: Markdown compiled in, rendered once per page
builder.AddAdmin();                                            // admin editors, their role re-checks and the audit log
builder.AddUsage();                                            // dashboard queries and its CSV export
builder.AddCodes();                                            // redemption codes: admins' batches, redeemed once on the dashboard
builder.AddOrganizations();                                    // organizations: members and roles, their own keys and balance (ADR 34)
builder.AddStatus();                                           // the API switch and the public status page
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddMudServices(mud =>                         // MudBlazor: dialogs, snackbars (at the bottom: clear of the app bar and page actions), popovers
    mud.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight);

var app = builder.Build();

DataFolderLock? folderLock = null;
try
{
    if (!isCli)
    {
        folderLock = await app.Services.LockDataFolderAsync();  // SQLite: one serving process per data folder, so its start-up sweep touches only its own holds (ADR 18)
    }

    await app.Services.MigrateStoreAsync();
    await app.Services.EncryptKeyRingAtRestAsync();           // before the key ring is used: only the secret kept outside the store opens it (ADR 14)
}
catch (OptionsValidationException e)
{
    // A bad setting is the operator's to fix: say which one, without a stack trace.
    Console.Error.WriteLine($"Configuration error: {string.Join(" ", e.Failures)}");
    return 3;
}
catch (DataFolderInUseException e)
{
    Console.Error.WriteLine(e.Message);
    return 4;
}

using var ownsDataFolder = folderLock;

if (isCli)
{
    return await AdminCli.RunAsync(app.Services, args[1..], Console.In, Console.Out, Console.Error);
}

// Before serving: the journal's settlements first (ADR 18), then on SQLite every hold is stale, since
// the data folder's lock says no other process serves this file.
await app.Services.GetRequiredService<StaleHoldRecovery>().SweepAsync();

app.UseForwardedHeaders();                                     // first, so everything after sees the real client
app.UseSecurityHeaders();                                      // CSP, nosniff, no framing, on every response
app.UseGatewayErrors();                                        // /api/v1 answers in the OpenAI error envelope
app.UseWhen(http => !http.Request.Path.StartsWithSegments(GatewayApi.Prefix), browser =>
{
    if (!app.Environment.IsDevelopment())
    {
        browser.UseExceptionHandler("/error", createScopeForErrors: true);
    }

    browser.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
});
// Explicit and after the status-code pages, so a re-executed request (a 404 shown as /not-found)
// is routed again; left implicit, routing runs first and the re-executed request finds no page.
app.UseRouting();
// Explicit, so that they run after the middleware above: left implicit, WebApplication puts them
// first and a sign-in redirect would leave without the security headers.
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();

app.MapStaticAssets();                                         // wwwroot and _content/ (MudBlazor), precompressed, from build or publish output
app.MapObservability();                                        // /healthz, /readyz, /metrics (ADR 5: who may read it)
app.MapGateway();                                              // /api/v1 and its OpenAPI document: switch, key and rate limit on the route group
app.MapUsage();                                                // the dashboard's CSV export
app.MapCodes();                                                // the dashboard's "Redeem a code" form
app.MapOrganizations();                                        // an organization dashboard's CSV export
app.MapPasskeys();                                             // the WebAuthn options wwwroot/passkeys.js fetches (ADR 27)
app.MapThemeSwitch();                                          // the light/dark toggle of pages without a circuit
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
