using Microsoft.EntityFrameworkCore;
using Portal.Tests.Gateway;
using Portal.Admin;

namespace Portal.Tests.Admin;

public sealed class AdminCliTests
{
    private const string Password = "correct horse battery";

    [Fact]
    public async Task CreateKeyTakesABudgetThatResetsAndRefusesHalfOfOne()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("ada@example.com", Password);

        var made = await app.RunCliAsync("create-key", "--email", "ada@example.com", "--name", "ci", "--budget", "5", "--budget-period", "week");
        var half = await app.RunCliAsync("create-key", "--email", "ada@example.com", "--name", "ci", "--budget", "5");
        var odd = await app.RunCliAsync("create-key", "--email", "ada@example.com", "--name", "ci", "--budget", "5", "--budget-period", "fortnight");

        Assert.Equal(AdminCli.Ok, made.ExitCode);
        var key = await app.InStoreAsync(db => db.ApiKeys.SingleAsync());
        Assert.Equal((Portal.ApiKeys.BudgetPeriod.Week, (long?)5_000_000), (key.BudgetPeriod, key.BudgetMicros));
        Assert.Equal((AdminCli.Usage, AdminCli.Usage), (half.ExitCode, odd.ExitCode));
        Assert.Contains("go together", half.Stderr);
        Assert.Contains("day, week or month", odd.Stderr);
    }

    [Fact]
    public async Task GenerateCodesPrintsTheBatchOnceAsCsvAndStoresOnlyHashes()
    {
        await using var app = new PortalApplication();

        var made = await app.RunCliAsync("generate-codes", "--amount", "2.5", "--count", "4", "--note", "Workshop", "--expires-days", "30");
        var bad = await app.RunCliAsync("generate-codes", "--amount", "2.5", "--count", "5000", "--note", "Too many");

        Assert.Equal(AdminCli.Ok, made.ExitCode);
        var lines = made.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("code,value_usd,expires_at_utc,batch", lines[0]);
        var codes = lines.Skip(1).Select(l => l.Split(',')[0]).ToList();
        Assert.Equal(4, codes.Count);
        var hashes = await app.InStoreAsync(db => db.RedemptionCodes.Select(c => c.Hash).ToListAsync());
        Assert.Equal(hashes.Order(), codes.Select(c => Portal.Codes.CodeFormat.HashOf(Portal.Codes.CodeFormat.Canonical(c)!)).Order());
        Assert.Equal(AdminCli.Usage, bad.ExitCode);
        Assert.Contains("from 1 to 1,000", bad.Stderr);
        Assert.Equal(1, await app.InStoreAsync(db => db.CodeBatches.CountAsync()));
    }

    [Fact]
    public async Task SetPricesChangesAModelsPricesThroughTheCatalogChecksAndAuditsIt()
    {
        await using var app = new PortalApplication();

        var set = await app.RunCliAsync("set-prices", "--model", "glm-5", "--cached-input", "0.15", "--output", "4.5");
        var tooDear = await app.RunCliAsync("set-prices", "--model", "glm-5", "--cached-input", "2");
        var unknown = await app.RunCliAsync("set-prices", "--model", "no-such-model", "--input", "1");

        Assert.Equal((AdminCli.Ok, "Saved glm-5."), (set.ExitCode, set.Stdout.Trim()));
        Assert.Equal(AdminCli.Usage, tooDear.ExitCode);
        Assert.Contains("cannot be above the input price", tooDear.Stderr);
        Assert.Equal(AdminCli.Failed, unknown.ExitCode);
        var model = await app.InStoreAsync(db => db.Models.SingleAsync(m => m.Id == "glm-5"));
        Assert.Equal((1_500_000L, (long?)150_000L, 4_500_000L), (model.InputPriceMicros, model.CachedInputPriceMicros, model.OutputPriceMicros));
        Assert.Equal(Portal.Audit.AuditActions.ModelUpdate, (await app.InStoreAsync(db => db.AuditEntries.SingleAsync())).Action);

        var back = await app.RunCliAsync("set-prices", "--model", "glm-5", "--cached-input", "as-input");
        Assert.Equal(AdminCli.Ok, back.ExitCode);
        Assert.Null(await app.InStoreAsync(db => db.Models.Where(m => m.Id == "glm-5").Select(m => m.CachedInputPriceMicros).SingleAsync()));
    }

    [Fact]
    public async Task CreateUserCreatesAnOrdinaryAccountWithThePasswordFromStandardInput()
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliWithInputAsync(Password + "\n", "create-user", "--email", "ada@example.com", "--password-stdin");

        Assert.Equal(AdminCli.Ok, result.ExitCode);
        Assert.StartsWith("Created user ada@example.com (id ", result.Stdout);
        Assert.Empty(result.Stderr);
        Assert.False(await app.IsAdminAsync("ada@example.com"));
        using var browser = await app.SignedInBrowserAsync("ada@example.com", Password);
    }

    [Fact]
    public async Task CreateUserWithAdminCreatesAnAdmin()
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliWithInputAsync(Password, "create-user", "--email", "root@example.com", "--password-stdin", "--admin");

        Assert.Equal(AdminCli.Ok, result.ExitCode);
        Assert.StartsWith("Created admin root@example.com", result.Stdout);
        Assert.True(await app.IsAdminAsync("root@example.com"));
    }

    [Fact]
    public async Task CreateUserWithATakenEmailIsRefused()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("ada@example.com", Password);

        var result = await app.RunCliWithInputAsync("another good passphrase\n", "create-user", "--email", "ada@example.com", "--password-stdin");

        Assert.Equal(AdminCli.Failed, result.ExitCode);
        Assert.Contains("error: Email 'ada@example.com' is already taken.", result.Stderr);
        Assert.Equal(1, app.CountUsers());
    }

    [Fact]
    public async Task CreateUserWithAWeakPasswordIsRefusedWithIdentitysReason()
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliWithInputAsync("short\n", "create-user", "--email", "ada@example.com", "--password-stdin");

        Assert.Equal(AdminCli.Failed, result.ExitCode);
        Assert.Contains("error: Passwords must be at least 10 characters.", result.Stderr);
        Assert.Equal(0, app.CountUsers());
    }

    [Theory]
    [InlineData("create-user", "--password-stdin")]                                            // missing --email
    [InlineData("create-user", "--email", "--password-stdin")]                                 // --email without a value
    [InlineData("create-user", "--email", "ada@example.com", "--password-stdin", "--admin", "yes")]
    [InlineData("create-user", "--email", "ada@example.com", "--password-stdin", "--colour", "red")]
    [InlineData("create-user", "--email", "ada@example.com", "--email", "bob@example.com", "--password-stdin")]
    [InlineData("create-user", "--email", "ada@example.com")]                                  // no password
    [InlineData("create-user", "--email", "ada@example.com", "--password-stdin", "--password-env", "PORTAL_TEST_PASSWORD")] // two passwords
    [InlineData("create-user", "--email", "ada@example.com", "--password-stdin", "extra")]     // a flag with a value
    [InlineData("create-user", "ada@example.com")]                                             // not an option
    public async Task CreateUserWithBadUsageIsAUsageErrorAndCreatesNothing(params string[] args)
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliWithInputAsync(Password + "\n", args);

        Assert.Equal(AdminCli.Usage, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains("Run 'Portal admin help'", result.Stderr);
        Assert.Equal(0, app.CountUsers());
    }

    [Fact]
    public async Task MissingEmailNamesTheOption()
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliWithInputAsync(Password, "create-user", "--password-stdin");

        Assert.Equal(AdminCli.Usage, result.ExitCode);
        Assert.Contains("--email is required", result.Stderr);
    }

    [Fact]
    public async Task CreateUserReadsThePasswordFromTheNamedEnvironmentVariable()
    {
        await using var app = new PortalApplication();
        var variable = $"PORTAL_TEST_PASSWORD_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, Password);
        try
        {
            var result = await app.RunCliAsync("create-user", "--email", "ada@example.com", "--password-env", variable);

            Assert.Equal(AdminCli.Ok, result.ExitCode);
            Assert.StartsWith("Created user ada@example.com", result.Stdout);
            using var browser = await app.SignedInBrowserAsync("ada@example.com", Password);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Theory]
    [InlineData("", "--password-stdin: standard input held no password; pipe it in as one line.", "--password-stdin")]
    [InlineData(Password, "--password-env names PORTAL_TEST_NO_SUCH_VARIABLE, which is not set or empty.", "--password-env", "PORTAL_TEST_NO_SUCH_VARIABLE")]
    [InlineData(Password, "--password is not accepted: a password on the command line is visible in ps and the shell's history. "
        + "Pipe it in with --password-stdin (one line on standard input), or name an environment variable holding it with --password-env VAR.", "--password", Password)]
    public async Task CreateUserWithoutAPasswordItMayReadIsAUsageErrorSayingWhereToGiveIt(string stdin, string message, params string[] passwordOptions)
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliWithInputAsync(stdin, ["create-user", "--email", "ada@example.com", .. passwordOptions]);

        Assert.Equal(AdminCli.Usage, result.ExitCode);
        Assert.Contains($"error: {message}", result.Stderr);
        Assert.DoesNotContain(Password, result.Stderr + result.Stdout);
        Assert.Equal(0, app.CountUsers());
    }

    [Fact]
    public async Task SetRoleMakesAUserAnAdminAndBackAgain()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("ada@example.com", Password);

        var promote = await app.RunCliAsync("set-role", "--email", "ada@example.com", "--role", "Admin");
        Assert.Equal(AdminCli.Ok, promote.ExitCode);
        Assert.Equal("ada@example.com is an admin.", promote.Stdout.Trim());
        Assert.True(await app.IsAdminAsync("ada@example.com"));

        var again = await app.RunCliAsync("set-role", "--email", "ada@example.com", "--role", "admin");
        Assert.Equal(AdminCli.Ok, again.ExitCode);
        Assert.True(await app.IsAdminAsync("ada@example.com"));

        var demote = await app.RunCliAsync("set-role", "--email", "ada@example.com", "--role", "User");
        Assert.Equal(AdminCli.Ok, demote.ExitCode);
        Assert.Equal("ada@example.com is a user.", demote.Stdout.Trim());
        Assert.False(await app.IsAdminAsync("ada@example.com"));
    }

    [Fact]
    public async Task SetRoleForAnUnknownEmailIsRefused()
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliAsync("set-role", "--email", "nobody@example.com", "--role", "Admin");

        Assert.Equal(AdminCli.Failed, result.ExitCode);
        Assert.Contains("no account has the email 'nobody@example.com'", result.Stderr);
    }

    [Fact]
    public async Task SetRoleWithAnUnknownRoleIsAUsageError()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("ada@example.com", Password);

        var result = await app.RunCliAsync("set-role", "--email", "ada@example.com", "--role", "Superuser");

        Assert.Equal(AdminCli.Usage, result.ExitCode);
        Assert.Contains("--role must be Admin or User, not 'Superuser'.", result.Stderr);
        Assert.False(await app.IsAdminAsync("ada@example.com"));
    }

    [Fact]
    public async Task ListUsersShowsEveryAccountWithItsRoleInOrderOfCreation()
    {
        await using var app = new PortalApplication();
        await app.CreateUserAsync("zed@example.com", Password, admin: true);
        app.Time.Advance(TimeSpan.FromHours(26));
        await app.CreateUserAsync("amy@example.com", Password);

        var result = await app.RunCliAsync("list-users");

        Assert.Equal(AdminCli.Ok, result.ExitCode);
        var rows = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        Assert.Equal(["EMAIL", "ROLE", "CREATED", "(UTC)", "ID"], rows[0]);
        Assert.Equal(["zed@example.com", "Admin", "2026-11-22", "09:30"], rows[1][..4]);
        Assert.Equal(["amy@example.com", "User", "2026-11-23", "11:30"], rows[2][..4]);
        Assert.Equal("2 account(s).", string.Join(' ', rows[3]));
        Assert.Equal(4, rows.Count);
    }

    [Theory]
    [InlineData("delete-everything")]
    [InlineData("list-users", "--all")]
    [InlineData("list-users", "extra")]
    public async Task AnUnknownVerbOrOptionIsAUsageError(params string[] args)
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliAsync(args);

        Assert.Equal(AdminCli.Usage, result.ExitCode);
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task NoVerbPrintsTheUsageAsAnError()
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliAsync();

        Assert.Equal(AdminCli.Usage, result.ExitCode);
        Assert.Contains("Usage: Portal admin <verb>", result.Stderr);
    }

    [Fact]
    public async Task HelpPrintsTheUsage()
    {
        await using var app = new PortalApplication();

        var result = await app.RunCliAsync("help");

        Assert.Equal(AdminCli.Ok, result.ExitCode);
        Assert.Contains("create-user --email E (--password-stdin | --password-env VAR) [--admin]", result.Stdout);
        Assert.DoesNotContain("--password P", result.Stdout);
    }
}
