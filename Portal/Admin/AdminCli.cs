using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Account;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Billing;
using Portal.Data;

using Portal.Status;

namespace Portal.Admin;

/// <summary>
/// <c>Portal admin &lt;verb&gt; [--option value]…</c>: automation verbs that run against the configured
/// store. Exit codes: 0 done, 1 refused (the store said no), 2 bad usage.
/// </summary>
public static class AdminCli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    private const string Help = """
        Usage: Portal admin <verb> [options]

          create-user --email E (--password-stdin | --password-env VAR) [--admin]
                                                         create an account (optionally an admin); the
                                                         password is read from one line of standard input,
                                                         or from environment variable VAR
          set-role    --email E --role Admin|User        make an account an admin, or not
          list-users                                     list accounts with their role
          grant-credits --email E --amount USD --reason R  add credits (negative USD deducts)
          create-key  --email E --name N [--rate-limit RPM] [--tokens-per-minute TPM] [--spend-cap USD] [--budget USD --budget-period day|week|month [--budget-time-zone Z]]
                      [--models a,b] [--expires-days D]
                                                         create an API key; prints it once
          revoke-key  --id KEY_ID                        revoke a key (ids: list-keys)
          pause-key   --id KEY_ID                        pause a key: refused (401 api_key_paused) until resumed
          resume-key  --id KEY_ID                        resume a paused key
          list-keys   --email E                          an account's keys, without secrets
          generate-codes --amount USD --count N --note TEXT [--expires-days D]
                                                         make a batch of redemption codes (at most 1000);
                                                         prints them once, as CSV on standard output
          api --on | --off                               switch the public API on or off (503 when off)
          add-upstream --model M --url BASE_URL --upstream-model NAME [--key-env VAR] [--priority P] [--timeout SECONDS] [--messages-url URL]
                                                         serve a model from an OpenAI-compatible provider; the
                                                         provider key is read from environment variable VAR
          list-upstreams                                 upstreams per model (keys never shown)
          remove-upstream --id ID                        stop using an upstream
          set-prices  --model M [--input USD] [--output USD] [--cached-input USD|as-input]
                                                         change a model's prices, USD per 1M tokens; cached
                                                         input (cached_tokens) at most the input price,
                                                         as-input: the input price

        The store comes from configuration (appsettings, or environment variables such as
        Store__Provider=Postgres and Store__ConnectionString=...).
        """;

    public static bool IsInvocation(string[] args) => args.Length > 0 && args[0] == "admin";

    public static async Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (args.Count == 0 || args[0] is "help" or "--help" or "-h")
        {
            (args.Count == 0 ? stderr : stdout).WriteLine(Help);
            return args.Count == 0 ? Usage : Ok;
        }

        if (!CliArguments.TryParse(args.Skip(1), out var options, out var parseError))
        {
            return UsageError(stderr, parseError);
        }

        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        try
        {
            return args[0] switch
            {
                "create-user" => await CreateUserAsync(sp, options, stdin, stdout, stderr),
                "set-role" => await SetRoleAsync(sp, options, stdout, stderr),
                "list-users" => await ListUsersAsync(sp, options, stdout, stderr),
                "grant-credits" => await GrantCreditsAsync(sp, options, stdout, stderr),
                "create-key" => await CreateKeyAsync(sp, options, stdout, stderr),
                "revoke-key" => await RevokeKeyAsync(sp, options, stdout, stderr),
                "pause-key" => await PauseKeyAsync(sp, options, stdout, stderr, pause: true),
                "resume-key" => await PauseKeyAsync(sp, options, stdout, stderr, pause: false),
                "list-keys" => await ListKeysAsync(sp, options, stdout, stderr),
                "generate-codes" => await GenerateCodesAsync(sp, options, stdout, stderr),
                "api" => await SwitchApiAsync(sp, options, stdout),
                "add-upstream" => await AddUpstreamAsync(sp, options, stdout, stderr),
                "list-upstreams" => await ListUpstreamsAsync(sp, options, stdout),
                "remove-upstream" => await RemoveUpstreamAsync(sp, options, stdout, stderr),
                "set-prices" => await SetPricesAsync(sp, options, stdout, stderr),
                _ => UsageError(stderr, $"unknown verb '{args[0]}'."),
            };
        }
        catch (CliUsageException e)
        {
            return UsageError(stderr, e.Message);
        }
    }

    private static async Task<int> CreateUserAsync(IServiceProvider sp, CliArguments options, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var email = options.Required("email");
        var password = Password(options, stdin);
        var admin = options.Flag("admin");
        options.EnsureAllUsed();

        var (result, user) = await sp.GetRequiredService<UserAccounts>().CreateAsync(email, password, admin);
        if (!result.Succeeded)
        {
            return Refused(stderr, result);
        }

        stdout.WriteLine($"Created {(admin ? "admin" : "user")} {user.Email} (id {user.Id}).");
        return Ok;
    }

    /// <summary>
    /// A password never comes from the command line, where other users see it (<c>ps</c>) and the
    /// shell keeps it in its history; it is read from standard input or an environment variable, as
    /// add-upstream reads a provider key.
    /// </summary>
    private static string Password(CliArguments options, TextReader stdin)
    {
        if (options.Has("password"))
        {
            throw new CliUsageException("--password is not accepted: a password on the command line is visible in ps and the shell's history. "
                + "Pipe it in with --password-stdin (one line on standard input), or name an environment variable holding it with --password-env VAR.");
        }

        var variable = options.Optional("password-env");
        var fromStdin = options.Flag("password-stdin");
        if ((variable is not null) == fromStdin)
        {
            throw new CliUsageException("give the password with one of --password-stdin (one line on standard input) or --password-env VAR.");
        }

        if (variable is not null)
        {
            return Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
                ? value
                : throw new CliUsageException($"--password-env names {variable}, which is not set or empty.");
        }

        return stdin.ReadLine() is { Length: > 0 } line
            ? line
            : throw new CliUsageException("--password-stdin: standard input held no password; pipe it in as one line.");
    }

    private static async Task<int> SetRoleAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var email = options.Required("email");
        var role = options.Required("role");
        options.EnsureAllUsed();

        var makeAdmin = role.Equals(Roles.Admin, StringComparison.OrdinalIgnoreCase) ? true
            : role.Equals("User", StringComparison.OrdinalIgnoreCase) ? false
            : throw new CliUsageException($"--role must be Admin or User, not '{role}'.");

        var users = sp.GetRequiredService<UserManager<PortalUser>>();
        if (await FindUserAsync(sp, email, stderr) is not { } user)
        {
            return Failed;
        }

        var isAdmin = await users.IsInRoleAsync(user, Roles.Admin);
        if (isAdmin != makeAdmin)
        {
            // The user manager saves through the scope's context, so the role change and its audit entry share one transaction.
            var db = sp.GetRequiredService<PortalDbContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            var result = makeAdmin ? await users.AddToRoleAsync(user, Roles.Admin) : await users.RemoveFromRoleAsync(user, Roles.Admin);
            if (!result.Succeeded)
            {
                return Refused(stderr, result);
            }

            await sp.GetRequiredService<AuditLog>().AppendAsync(db, AuditActor.Cli, AuditActions.RoleSet, $"user:{user.Email}",
                new { userId = user.Id, role = makeAdmin ? Roles.Admin : "User" });
            await tx.CommitAsync();
        }

        stdout.WriteLine($"{user.Email} is {(makeAdmin ? "an admin" : "a user")}.");
        return Ok;
    }

    private static async Task<int> ListUsersAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        options.EnsureAllUsed();
        var users = sp.GetRequiredService<UserManager<PortalUser>>();
        var admins = (await users.GetUsersInRoleAsync(Roles.Admin)).Select(u => u.Id).ToHashSet();
        var all = await users.Users.OrderBy(u => u.CreatedAt).ToListAsync();

        stdout.WriteLine($"{"EMAIL",-40} {"ROLE",-6} {"CREATED (UTC)",-17} ID");
        foreach (var user in all)
        {
            var role = admins.Contains(user.Id) ? "Admin" : "User";
            stdout.WriteLine($"{user.Email,-40} {role,-6} {user.CreatedAt:yyyy-MM-dd HH:mm} {user.Id}");
        }

        stdout.WriteLine($"{all.Count} account(s).");
        return Ok;
    }

    private static async Task<int> GrantCreditsAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var email = options.Required("email");
        var amount = options.Usd("amount");
        var reason = options.Required("reason");
        options.EnsureAllUsed();
        if (amount == 0)
        {
            throw new CliUsageException("--amount must not be zero.");
        }

        if (await FindUserAsync(sp, email, stderr) is not { } user)
        {
            return Failed;
        }

        try
        {
            var balance = await sp.GetRequiredService<CreditsLedger>().GrantAsync(user.Id, amount, reason, actorId: null,
                (db, ct) => sp.GetRequiredService<AuditLog>().AppendAsync(db, AuditActor.Cli,
                    amount > 0 ? AuditActions.CreditsGrant : AuditActions.CreditsDeduct, $"user:{user.Email}",
                    new { userId = user.Id, amountUsd = UsdInput.Format(Math.Abs(amount)), reason }, ct));
            stdout.WriteLine($"{(amount > 0 ? "Granted" : "Deducted")} {Money.Format(Math.Abs(amount))} {(amount > 0 ? "to" : "from")} {user.Email}; balance {Money.Format(balance)}.");
            return Ok;
        }
        catch (InsufficientCreditsException)
        {
            stderr.WriteLine($"error: {user.Email}'s balance is smaller than {Money.Format(-amount)}; nothing was deducted.");
            return Failed;
        }
    }

    /// <summary>The admin page's batch, with the page's checks; the CSV goes to standard output, once (ADR 29).</summary>
    private static async Task<int> GenerateCodesAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var form = new Codes.NewCodeBatch
        {
            Value = options.Required("amount"),
            Count = options.Required("count"),
            Note = options.Required("note"),
            ExpiresInDays = options.Optional("expires-days") ?? "",
        };
        options.EnsureAllUsed();
        var (result, batch) = await sp.GetRequiredService<Codes.RedemptionCodes>().GenerateAsync(AdminCaller.Cli, form);
        if (batch is null)
        {
            foreach (var error in result.Errors.Values.Append(result.Problem).OfType<string>())
            {
                stderr.WriteLine($"error: {error}");
            }

            return Usage;
        }

        stderr.WriteLine($"{result.Done} Batch #{batch.Batch.Id}'s codes follow as CSV; they are shown once, so keep the output:");
        stdout.Write(Codes.CodesCsv.Of(batch));
        return Ok;
    }

    private static async Task<int> CreateKeyAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var email = options.Required("email");
        var name = options.Required("name");
        var rateLimit = options.OptionalInt("rate-limit", KeyForm.MinRateLimit, sp.GetRequiredService<IOptions<ApiKeyOptions>>().Value.MaxRequestsPerMinute);
        var spendCap = options.OptionalUsd("spend-cap");
        int? tokensPerMinute = null;
        if (options.Optional("tokens-per-minute") is { } tpm && !KeyForm.TryParseTokensPerMinute(tpm, out tokensPerMinute, out var tpmError))
        {
            throw new CliUsageException($"--tokens-per-minute: {tpmError}");
        }

        var models = options.Optional("models")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var expiresDays = options.OptionalInt("expires-days", 1, 3650);
        var budget = options.OptionalUsd("budget");
        var period = options.Optional("budget-period");
        var zoneText = options.Optional("budget-time-zone");
        options.EnsureAllUsed();
        if ((budget is null) != (period is null))
        {
            throw new CliUsageException("--budget and --budget-period go together: e.g. --budget 5 --budget-period day.");
        }

        if (zoneText is not null && (budget is null || !KeyBudget.TryParseTimeZone(zoneText, out _, out _)))
        {
            throw new CliUsageException("--budget-time-zone goes with --budget and is a time zone such as Europe/Berlin (periods then start at its midnight).");
        }

        KeyBudget.TryParseTimeZone(zoneText, out var zone, out _);

        KeyBudget? keyBudget = null;
        if (budget is { } amount)
        {
            keyBudget = new KeyBudget(period!.ToLowerInvariant() switch
            {
                "day" => BudgetPeriod.Day,
                "week" => BudgetPeriod.Week,
                "month" => BudgetPeriod.Month,
                _ => throw new CliUsageException($"--budget-period must be day, week or month, not '{period}'."),
            }, amount > 0 ? amount : throw new CliUsageException("--budget must be more than 0."), zone);
        }

        if (name.Length > 100)
        {
            throw new CliUsageException("--name is at most 100 characters.");
        }

        if (await FindUserAsync(sp, email, stderr) is not { } user)
        {
            return Failed;
        }

        var now = sp.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var (key, plaintext) = await sp.GetRequiredService<ApiKeyService>().CreateAsync(user.Id,
            new NewApiKey(name, expiresDays is { } d ? now.AddDays(d) : null, spendCap, models, rateLimit, keyBudget, tokensPerMinute));
        stderr.WriteLine($"Created key '{key.Name}' (id {key.Id}) for {user.Email}. It is shown once; store it now:");
        stdout.WriteLine(plaintext);
        return Ok;
    }

    private static async Task<int> RevokeKeyAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var id = options.Required("id");
        options.EnsureAllUsed();
        var db = sp.GetRequiredService<PortalDbContext>();
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id);
        if (key is null || !await sp.GetRequiredService<ApiKeyService>().RevokeAsync(key.UserId, key.Id))
        {
            stderr.WriteLine($"error: no live key has the id '{id}'.");
            return Failed;
        }

        stdout.WriteLine($"Revoked key '{key.Name}' ({key.Prefix}…{key.Last4}).");
        return Ok;
    }

    private static async Task<int> PauseKeyAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr, bool pause)
    {
        var id = options.Required("id");
        options.EnsureAllUsed();
        var key = await sp.GetRequiredService<PortalDbContext>().ApiKeys.FirstOrDefaultAsync(k => k.Id == id);
        var keys = sp.GetRequiredService<ApiKeyService>();
        if (key is null || !await (pause ? keys.PauseAsync(key.UserId, key.Id) : keys.ResumeAsync(key.UserId, key.Id)))
        {
            stderr.WriteLine(pause ? $"error: no active key has the id '{id}'." : $"error: no paused key has the id '{id}'.");
            return Failed;
        }

        stdout.WriteLine($"{(pause ? "Paused" : "Resumed")} key '{key.Name}' ({key.Prefix}…{key.Last4}).");
        return Ok;
    }

    private static async Task<int> ListKeysAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var email = options.Required("email");
        options.EnsureAllUsed();
        if (await FindUserAsync(sp, email, stderr) is not { } user)
        {
            return Failed;
        }

        var keys = await sp.GetRequiredService<PortalDbContext>().ApiKeys.Where(k => k.UserId == user.Id).OrderBy(k => k.CreatedAt).ToListAsync();
        var now = sp.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        stdout.WriteLine($"{"ID",-36} {"KEY",-24} {"STATUS",-8} NAME");
        foreach (var key in keys)
        {
            stdout.WriteLine($"{key.Id,-36} {key.Prefix + "…" + key.Last4,-24} {key.StatusAt(now).ToString().ToLowerInvariant(),-8} {key.Name}");
        }

        return Ok;
    }

    private static async Task<int> SwitchApiAsync(IServiceProvider sp, CliArguments options, TextWriter stdout)
    {
        var on = options.Flag("on");
        var off = options.Flag("off");
        options.EnsureAllUsed();
        if (on == off)
        {
            throw new CliUsageException("give exactly one of --on or --off.");
        }

        await sp.GetRequiredService<ApiSwitch>().SetAsync(on, AuditActor.Cli);
        stdout.WriteLine(on ? "The public API is on." : "The public API is off: /api/v1 answers 503 within a second.");
        return Ok;
    }

    private static async Task<int> AddUpstreamAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var modelId = options.Required("model");
        var url = options.Required("url");
        var upstreamModel = options.Required("upstream-model");
        var keyEnv = options.Optional("key-env");
        var priority = options.OptionalInt("priority", 0, 1000) ?? 0;
        var timeout = options.OptionalInt("timeout", 1, 3600) ?? 120;
        var messagesUrl = options.Optional("messages-url");
        options.EnsureAllUsed();
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            throw new CliUsageException($"--url must be an http(s) base URL such as https://api.example.com/v1, not '{url}'.");
        }

        string? key = null;
        if (keyEnv is not null && string.IsNullOrEmpty(key = Environment.GetEnvironmentVariable(keyEnv)))
        {
            throw new CliUsageException($"--key-env names {keyEnv}, which is not set or empty.");
        }

        var result = await sp.GetRequiredService<UpstreamAdmin>().SaveAsync(AdminCaller.Cli, new UpstreamForm
        {
            ModelId = modelId,
            BaseUrl = baseUrl.ToString(),
            UpstreamModel = upstreamModel,
            MessagesBaseUrl = messagesUrl ?? "",
            ApiKey = key ?? "",
            Priority = priority.ToString(CultureInfo.InvariantCulture),
            TimeoutSeconds = timeout.ToString(CultureInfo.InvariantCulture),
        });
        if (result.Errors.Count > 0)
        {
            throw new CliUsageException(string.Join(" ", result.Errors.Values));
        }

        if (!result.Succeeded)
        {
            stderr.WriteLine($"error: {result.Problem}");
            return Failed;
        }

        stdout.WriteLine($"{result.Done} Priority {priority}, {(key is null ? "no key" : "key stored encrypted")}.");
        return Ok;
    }

    private static async Task<int> ListUpstreamsAsync(IServiceProvider sp, CliArguments options, TextWriter stdout)
    {
        options.EnsureAllUsed();
        var upstreams = await sp.GetRequiredService<PortalDbContext>().ModelUpstreams.OrderBy(u => u.ModelId).ThenBy(u => u.Priority).ToListAsync();
        stdout.WriteLine($"{"ID",-5} {"MODEL",-16} {"PRIORITY",-8} {"TIMEOUT",-7} {"KEY",-4} URL → UPSTREAM MODEL");
        foreach (var u in upstreams)
        {
            stdout.WriteLine($"{u.Id,-5} {u.ModelId,-16} {u.Priority,-8} {u.TimeoutSeconds + "s",-7} {(u.ProtectedApiKey is null ? "no" : "yes"),-4} {u.BaseUrl} → {u.UpstreamModel}{(u.MessagesBaseUrl is null ? "" : $" (Messages: {u.MessagesBaseUrl})")}");
        }

        stdout.WriteLine(upstreams.Count == 0 ? "No upstreams: every model is served by the simulated upstream." : $"{upstreams.Count} upstream(s).");
        return Ok;
    }

    private static async Task<int> RemoveUpstreamAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var id = options.OptionalInt("id", 1, int.MaxValue) ?? throw new CliUsageException("--id is required and needs a value.");
        options.EnsureAllUsed();
        var result = await sp.GetRequiredService<UpstreamAdmin>().DeleteAsync(AdminCaller.Cli, id);
        if (!result.Succeeded)
        {
            stderr.WriteLine($"error: there is no upstream {id}.");
            return Failed;
        }

        stdout.WriteLine(result.Done);
        return Ok;
    }

    /// <summary>The model editor's prices from a script: the same checks and audit entry, through <see cref="CatalogAdmin"/>.</summary>
    private static async Task<int> SetPricesAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var modelId = options.Required("model");
        var input = options.Optional("input");
        var output = options.Optional("output");
        var cachedInput = options.Optional("cached-input");
        options.EnsureAllUsed();
        if (input is null && output is null && cachedInput is null)
        {
            throw new CliUsageException("give at least one of --input, --output or --cached-input (USD per 1M tokens).");
        }

        var admin = sp.GetRequiredService<CatalogAdmin>();
        if (await admin.FormForAsync(AdminCaller.Cli, modelId) is not { } form)
        {
            stderr.WriteLine($"error: there is no model '{modelId}'.");
            return Failed;
        }

        form.InputPrice = input ?? form.InputPrice;
        form.OutputPrice = output ?? form.OutputPrice;
        form.CachedInputPrice = cachedInput is null ? form.CachedInputPrice : cachedInput == "as-input" ? "" : cachedInput;
        var result = await admin.SaveAsync(AdminCaller.Cli, form, isNew: false);
        if (result.Errors.Count > 0)
        {
            throw new CliUsageException(string.Join(" ", result.Errors.Values));
        }

        if (!result.Succeeded)
        {
            stderr.WriteLine($"error: {result.Problem}");
            return Failed;
        }

        stdout.WriteLine(result.Done);
        return Ok;
    }

    private static async Task<PortalUser?> FindUserAsync(IServiceProvider sp, string email, TextWriter stderr)
    {
        var user = await sp.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(email);
        if (user is null)
        {
            stderr.WriteLine($"error: no account has the email '{email}'.");
        }

        return user;
    }

    private static int Refused(TextWriter stderr, IdentityResult result)
    {
        foreach (var error in result.Errors)
        {
            stderr.WriteLine($"error: {error.Description}");
        }

        return Failed;
    }

    private static int UsageError(TextWriter stderr, string message)
    {
        stderr.WriteLine($"error: {message}");
        stderr.WriteLine("Run 'Portal admin help' for the verbs and their options.");
        return Usage;
    }
}
