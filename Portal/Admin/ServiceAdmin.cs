using Portal.Status;
using Portal.Usage;

namespace Portal.Admin;

/// <summary>The public API switch and service-wide usage, for the admin's service page.</summary>
public sealed class ServiceAdmin(ApiSwitch apiSwitch, UsageQueries usage)
{
    public async Task<bool> IsApiOnAsync(AdminCaller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return await apiSwitch.IsOnAsync(cancellationToken);
    }

    public async Task<EditResult> SetApiAsync(AdminCaller caller, bool on, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await apiSwitch.SetAsync(on, caller.Actor, cancellationToken);
        return EditResult.Success(on
            ? "The public API is on: /api/v1 serves requests again."
            : "The public API is off: every instance answers /api/v1 with 503 within a second.");
    }

    /// <summary>Every user's usage per UTC day over the last <see cref="UsageQueries.Days"/> days, oldest first, no gaps.</summary>
    public Task<IReadOnlyList<UsageDay>> UsageAsync(AdminCaller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return usage.EveryonesDailyAsync(cancellationToken);
    }
}
