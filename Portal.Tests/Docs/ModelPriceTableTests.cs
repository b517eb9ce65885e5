using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Catalog;
using Portal.Data;
using Portal.Tests.Components;

namespace Portal.Tests.Docs;

public sealed class ModelPriceTableTests : ComponentTestBase
{
    [Fact]
    public void AStoreFailureShowsAMessageInsteadOfBreakingThePage()
    {
        Services.AddLogging();
        Services.AddSingleton(new ModelCatalog(new UnreachableStore(), TimeProvider.System));

        var table = Render<ModelPriceTable>();

        Assert.Equal("The model list can't be loaded right now. Try again in a moment.", table.Find("[role=alert]").TextContent.Trim());
        Assert.Empty(table.FindAll("table"));
    }

    private sealed class UnreachableStore : IDbContextFactory<PortalDbContext>
    {
        public PortalDbContext CreateDbContext() => throw new InvalidOperationException("The database is not reachable.");
    }
}
