using Portal.ApiKeys;

namespace Portal.Tests.ApiKeys;

/// <summary>
/// Budget periods in a time zone: days, ISO weeks from Monday and calendar months start at local
/// midnight, across daylight-saving changes (a 23-hour and a 25-hour day), and where a change skips
/// midnight itself; the instants stay UTC. Junk zone ids are refused with a clear message.
/// </summary>
public sealed class KeyBudgetTimeZoneTests
{
    private static DateTime Utc(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, DateTimeKind.Utc);

    private static long Seconds(DateTime utc) => new DateTimeOffset(utc).ToUnixTimeSeconds();

    [Fact]
    public void ADayInNewYorkAcrossTheMarchChangeIs23HoursAndAcrossTheNovemberOne25()
    {
        var budget = new KeyBudget(BudgetPeriod.Day, 1_000_000, "America/New_York");

        // 2026-03-08 10:00 EDT: the day began at midnight EST (05:00Z) and ends at midnight EDT (04:00Z).
        var march = Utc(2026, 3, 8, 14);
        Assert.Equal(Seconds(Utc(2026, 3, 8, 5)), budget.PeriodStartAt(march));
        Assert.Equal(Utc(2026, 3, 9, 4), budget.ResetAfter(march));
        Assert.Equal(TimeSpan.FromHours(23), budget.ResetAfter(march) - Utc(2026, 3, 8, 5));

        var november = Utc(2026, 11, 1, 12);
        Assert.Equal(Seconds(Utc(2026, 11, 1, 4)), budget.PeriodStartAt(november));
        Assert.Equal(TimeSpan.FromHours(25), budget.ResetAfter(november) - Utc(2026, 11, 1, 4));

        // 23:59 local on 2026-03-07 (EST) is still the day before.
        Assert.Equal(Seconds(Utc(2026, 3, 7, 5)), budget.PeriodStartAt(Utc(2026, 3, 8, 4, 59)));
    }

    [Fact]
    public void WeeksStartOnLocalMondayAndMonthsOnTheLocalFirst()
    {
        // 2026-11-22 23:30Z is Monday 00:30 in Berlin (UTC+1): a new week there, still Sunday in UTC.
        var now = Utc(2026, 11, 22, 23, 30);
        var berlin = new KeyBudget(BudgetPeriod.Week, 1, "Europe/Berlin");
        Assert.Equal(Seconds(Utc(2026, 11, 22, 23)), berlin.PeriodStartAt(now));
        Assert.Equal(Utc(2026, 11, 29, 23), berlin.ResetAfter(now));
        Assert.Equal(Seconds(Utc(2026, 11, 16, 0)), new KeyBudget(BudgetPeriod.Week, 1).PeriodStartAt(now));

        // 2026-11-30 16:00Z is 1 December 01:00 in Tokyo (UTC+9).
        var tokyo = new KeyBudget(BudgetPeriod.Month, 1, "Asia/Tokyo");
        Assert.Equal(Seconds(Utc(2026, 11, 30, 15)), tokyo.PeriodStartAt(Utc(2026, 11, 30, 16)));
        Assert.Equal(Utc(2026, 12, 31, 15), tokyo.ResetAfter(Utc(2026, 11, 30, 16)));
        // What the row counted in the previous local month is not this month's.
        Assert.Equal(0, tokyo.SpentAt(Utc(2026, 11, 30, 16), Seconds(Utc(2026, 10, 31, 15)), 500));
        Assert.Equal(500, tokyo.SpentAt(Utc(2026, 11, 30, 16), Seconds(Utc(2026, 11, 30, 15)), 500));
    }

    [Fact]
    public void WhereTheClocksSkipMidnightTheDayStartsAtTheJump()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("America/Santiago");
        // Chile goes forward at midnight on the first Sunday of September: 2026-09-06 00:00 never happens there.
        Assert.True(zone.IsInvalidTime(new DateTime(2026, 9, 6, 0, 0, 0)));
        var budget = new KeyBudget(BudgetPeriod.Day, 1, "America/Santiago");

        // Noon on the 6th (UTC-3): the day began at the jump, 00:00 UTC-4 = 04:00Z (01:00 UTC-3), and ends at midnight UTC-3.
        Assert.Equal(Seconds(Utc(2026, 9, 6, 4)), budget.PeriodStartAt(Utc(2026, 9, 6, 15)));
        Assert.Equal(Utc(2026, 9, 7, 3), budget.ResetAfter(Utc(2026, 9, 6, 15)));
        // The day before ends exactly where this one starts.
        Assert.Equal(Utc(2026, 9, 6, 4), budget.ResetAfter(Utc(2026, 9, 5, 15)));
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("  ", null)]
    [InlineData("UTC", null)]
    [InlineData(" Europe/Berlin ", "Europe/Berlin")]
    [InlineData("America/New_York", "America/New_York")]
    public void ZonesAreReadAsTypedAndUtcNeedsNone(string typed, string? stored)
    {
        Assert.True(KeyBudget.TryParseTimeZone(typed, out var zone, out var error), error);
        Assert.Equal(stored, zone);
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("../../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("Europe/../Europe/Berlin")]
    [InlineData("Europe/Berlin\0")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("Europe\\Berlin")]
    public void JunkZonesAreRefusedWithAClearMessage(string typed)
    {
        Assert.False(KeyBudget.TryParseTimeZone(typed, out var zone, out var error));
        Assert.Null(zone);
        Assert.Equal("Enter a time zone such as Europe/Berlin or America/New_York, or leave it empty for UTC.", error);
    }

    [Fact]
    public void AHugeZoneIsRefusedBeforeAnyLookup()
    {
        Assert.False(KeyBudget.TryParseTimeZone("Europe/" + new string('A', 100_000), out _, out var error));
        Assert.NotNull(error);
        Assert.NotNull(KeyBudget.Problem(new KeyBudget(BudgetPeriod.Day, 1, "Nowhere/Atlantis")));
        Assert.NotNull(KeyBudget.Problem(new KeyBudget((BudgetPeriod)9, 1)));
        Assert.NotNull(KeyBudget.Problem(new KeyBudget(BudgetPeriod.Day, 0)));
        Assert.NotNull(KeyBudget.Problem(new KeyBudget(BudgetPeriod.Day, long.MaxValue)));
        Assert.Null(KeyBudget.Problem(new KeyBudget(BudgetPeriod.Day, 1, "Asia/Tokyo")));
    }
}
