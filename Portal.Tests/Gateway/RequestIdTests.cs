using System.Text.RegularExpressions;
using Portal.Gateway;

namespace Portal.Tests.Gateway;

public sealed class RequestIdTests
{
    [Fact]
    public void IdsAreDistinctAndEveryCharacterTakesAnyOf32Symbols()
    {
        var ids = Enumerable.Range(0, 2000).Select(_ => GatewayEndpoints.NewRequestId()).ToList();

        Assert.All(ids, id => Assert.Matches(new Regex("^req_[0-9a-v]{24}$"), id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Each position draws its own five bits: over 2,000 ids every position shows all 32 symbols
        // (a bit taken twice or never would leave some out: 32 × (31/32)^2000 ≈ 10⁻²⁶ by chance).
        for (var position = 4; position < 28; position++)
        {
            Assert.Equal(32, ids.Select(id => id[position]).Distinct().Count());
        }
    }
}
