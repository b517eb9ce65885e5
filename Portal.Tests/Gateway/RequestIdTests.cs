using System.Text.RegularExpressions;
using Portal.Gateway;

namespace Portal.Tests.Gateway;

public sealed class RequestIdTests
{
    private const string Symbols = "0123456789abcdefghijklmnopqrstuv";

    [Fact]
    public void IdsCarryTheirMillisecondFirstSoLaterIdsSortLater()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        var ids = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            ids.Add(RequestIds.New(time));
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        var millis = ids[0][4..14].Aggregate(0L, (value, symbol) => value * 32 + Symbols.IndexOf(symbol));
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), millis);
    }

    [Fact]
    public void IdsOfOneMillisecondAreDistinctAndTheirRandomCharactersTakeAnyOf32Symbols()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        var ids = Enumerable.Range(0, 2000).Select(_ => RequestIds.New(time)).ToList();

        Assert.All(ids, id => Assert.Matches(new Regex("^req_[0-9a-v]{24}$"), id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Each random position draws its own five bits: over 2,000 ids every one shows all 32 symbols
        // (a bit taken twice or never would leave some out; by chance: 32 × (31/32)^2000 ≈ 10⁻²⁶).
        for (var position = 14; position < 28; position++)
        {
            Assert.Equal(32, ids.Select(id => id[position]).Distinct().Count());
        }
    }
}
