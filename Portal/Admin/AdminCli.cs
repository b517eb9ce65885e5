using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Account;

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

          create-user --email E --password P [--admin]   create an account (optionally an admin)
          set-role    --email E --role Admin|User        make an account an admin, or not
          list-users                                     list accounts with their role

        The store comes from configuration (appsettings, or environment variables such as
        Store__Provider=Postgres and Store__ConnectionString=...).
        """;

    public static bool IsInvocation(string[] args) => args.Length > 0 && args[0] == "admin";

    public static async Task<int> RunAsync(IServiceProvider services, IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
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
                "create-user" => await CreateUserAsync(sp, options, stdout, stderr),
                "set-role" => await SetRoleAsync(sp, options, stdout, stderr),
                "list-users" => await ListUsersAsync(sp, options, stdout, stderr),
                _ => UsageError(stderr, $"unknown verb '{args[0]}'."),
            };
        }
        catch (CliUsageException e)
        {
            return UsageError(stderr, e.Message);
        }
    }

    private static async Task<int> CreateUserAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var email = options.Required("email");
        var password = options.Required("password");
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

    private static async Task<int> SetRoleAsync(IServiceProvider sp, CliArguments options, TextWriter stdout, TextWriter stderr)
    {
        var email = options.Required("email");
        var role = options.Required("role");
        options.EnsureAllUsed();

        var makeAdmin = role.Equals(Roles.Admin, StringComparison.OrdinalIgnoreCase) ? true
            : role.Equals("User", StringComparison.OrdinalIgnoreCase) ? false
            : throw new CliUsageException($"--role must be Admin or User, not '{role}'.");

        var users = sp.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            stderr.WriteLine($"error: no account has the email '{email}'.");
            return Failed;
        }

        var isAdmin = await users.IsInRoleAsync(user, Roles.Admin);
        if (isAdmin != makeAdmin)
        {
            var result = makeAdmin ? await users.AddToRoleAsync(user, Roles.Admin) : await users.RemoveFromRoleAsync(user, Roles.Admin);
            if (!result.Succeeded)
            {
                return Refused(stderr, result);
            }
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
