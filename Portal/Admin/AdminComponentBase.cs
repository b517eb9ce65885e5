using Microsoft.AspNetCore.Components;

namespace Portal.Admin;

/// <summary>
/// Base of the admin components: every action asks <see cref="AdminGuard"/> again, and turns a
/// refusal or an unexpected failure into a message on the page instead of a broken circuit.
/// </summary>
public abstract class AdminComponentBase : ComponentBase
{
    public const string DeniedMessage = "Only administrators can do this, and your account is not (or is no longer) one. Nothing was changed.";

    [Inject]
    private AdminGuard Guard { get; set; } = default!;

    [Inject]
    private ILogger<AdminComponentBase> Logger { get; set; } = default!;

    /// <summary>Why the last action did not happen, for the page to show; null when it did.</summary>
    protected string? Failure { get; set; }

    /// <summary>Runs <paramref name="action"/> for a verified admin; false if it was refused or failed.</summary>
    protected async Task<bool> AsAdminAsync(Func<AdminCaller, Task> action)
    {
        Failure = null;
        try
        {
            await action(await Guard.RequireAdminAsync());
            return true;
        }
        catch (AdminAccessDeniedException)
        {
            Failure = DeniedMessage;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Logger.LogError(e, "Admin action failed");
            Failure = "Something went wrong and nothing was saved. Try again; if it keeps happening, the server log has the details.";
        }

        return false;
    }
}
