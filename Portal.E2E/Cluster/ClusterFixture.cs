namespace Portal.E2E.Cluster;

/// <summary>Two Portal instances on one fresh PostgreSQL database, shared by the tests of the collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private PortalCluster? _cluster;

    public PortalCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster tests are skipped here (no PostgreSQL).");

    public async Task InitializeAsync()
    {
        if (PostgresTestDatabase.TestsRun)
        {
            // As PortalFixture does: a first circuit on a busy 2-core machine can take more than 5 s.
            SetDefaultExpectTimeout(20_000);
            _cluster = await PortalCluster.StartAsync(instances: 2);
        }
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// Runs alone, after the other collections: each cluster test starts several Portal processes, which
/// is as much as a small CI machine should do at once.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Cluster";
}
