using System.Net;

namespace Portal.E2E.Cluster;

/// <summary>Instances started together on a new database: one creates and migrates it, none fails.</summary>
[Collection(ClusterCollection.Name)]
public sealed class StartupTests
{
    [PostgresFact]
    public async Task ThreeInstancesStartingTogetherOnAnEmptyDatabaseAllBecomeReady()
    {
        await using var cluster = await PortalCluster.StartAsync(instances: 3);

        // Ready means: the store answers and no migration is pending.
        using var http = new HttpClient();
        foreach (var instance in cluster.Instances)
        {
            var ready = await http.GetAsync(new Uri(instance.BaseAddress, "/readyz"));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
    }
}
