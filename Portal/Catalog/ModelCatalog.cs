using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.Catalog;

/// <summary>
/// The catalog as the gateway reads it: a snapshot reloaded from the store at most once a second,
/// so admin edits reach every instance within a second without a query per request.
/// </summary>
public sealed class ModelCatalog(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    private readonly StoreSnapshot<Snapshot> _snapshot = new(time, TimeSpan.FromSeconds(1), cancellationToken => LoadAsync(dbFactory, cancellationToken));

    public async ValueTask<IReadOnlyList<ModelInfo>> AllAsync(CancellationToken cancellationToken = default) =>
        (await CurrentAsync(cancellationToken)).Models;

    /// <summary>An enabled model by id or alias, or null.</summary>
    public async ValueTask<ModelInfo?> FindAsync(string idOrAlias, CancellationToken cancellationToken = default) =>
        (await CurrentAsync(cancellationToken)).Find(idOrAlias);

    /// <summary>Drops the snapshot so the next read sees the store (after an edit on this instance).</summary>
    public void Invalidate() => _snapshot.Invalidate();

    public ValueTask<Snapshot> CurrentAsync(CancellationToken cancellationToken) => _snapshot.GetAsync(cancellationToken);

    private static async Task<Snapshot> LoadAsync(IDbContextFactory<PortalDbContext> dbFactory, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var models = (await db.Models.AsNoTracking().Include(m => m.Upstreams).ToListAsync(cancellationToken))
            .OrderBy(m => m.Id, StringComparer.Ordinal)
            .Select(ModelInfo.From)
            .ToList();
        return new Snapshot(models);
    }

    public sealed class Snapshot
    {
        public Snapshot(IReadOnlyList<ModelInfo> models)
        {
            Models = models;
            ByName = new Dictionary<string, ModelInfo>(StringComparer.OrdinalIgnoreCase);
            foreach (var model in models.Where(m => m.Enabled))
            {
                ByName[model.Id] = model;
                foreach (var alias in model.Aliases)
                {
                    ByName.TryAdd(alias, model);
                }
            }
        }

        public IReadOnlyList<ModelInfo> Models { get; }
        private Dictionary<string, ModelInfo> ByName { get; }

        /// <summary>An enabled model by id or alias, or null.</summary>
        public ModelInfo? Find(string idOrAlias) => ByName.GetValueOrDefault(idOrAlias);
    }
}
