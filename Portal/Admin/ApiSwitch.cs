using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Data;

namespace Portal.Admin;

/// <summary>A service-wide setting, kept in the store so every instance sees the same value.</summary>
public sealed class PortalSetting
{
    public required string Key { get; set; }
    public required string Value { get; set; }
}

internal sealed class PortalSettingConfiguration : IEntityTypeConfiguration<PortalSetting>
{
    public void Configure(EntityTypeBuilder<PortalSetting> builder)
    {
        builder.ToTable("Settings");
        builder.HasKey(s => s.Key);
        builder.Property(s => s.Key).HasMaxLength(64);
        builder.Property(s => s.Value).HasMaxLength(1024);
    }
}

/// <summary>
/// The public API switch (SPEC §6). Read at most once a second from the store, so flipping it on
/// any instance (or from the CLI) takes effect everywhere within a second.
/// </summary>
public sealed class ApiSwitch(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    private const string Key = "api.enabled";
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private volatile State? _state;

    public async ValueTask<bool> IsOnAsync(CancellationToken cancellationToken = default)
    {
        var state = _state;
        var now = time.GetUtcNow();
        if (state is null || now - state.LoadedAt >= MaxAge)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var value = await db.Settings.Where(s => s.Key == Key).Select(s => s.Value).FirstOrDefaultAsync(cancellationToken);
            _state = state = new State(value != "false", now);
        }

        return state.On;
    }

    public async Task SetAsync(bool on, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var value = on ? "true" : "false";
        if (await db.Settings.Where(s => s.Key == Key).ExecuteUpdateAsync(s => s.SetProperty(x => x.Value, value), cancellationToken) == 0)
        {
            db.Settings.Add(new PortalSetting { Key = Key, Value = value });
            await db.SaveChangesAsync(cancellationToken);
        }

        _state = null;
    }

    private sealed record State(bool On, DateTimeOffset LoadedAt);
}
