using Portal.ApiKeys;

namespace Portal.Tests.ApiKeys;

public sealed class KeyFormTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 23, 59, 0, TimeSpan.Zero);
    private const int Ceiling = 600;

    [Fact]
    public void AGoodFormBecomesTheRequestItDescribes()
    {
        var form = new KeyForm(Ceiling) { Name = " ci ", ExpiresOn = new DateOnly(2026, 11, 23), SpendCap = " $0.000001 ", RateLimit = " 600 " };
        form.Models.Add("kimi-k2");
        form.Models.Add("glm-5");

        Assert.Empty(form.Check(Now));
        var request = form.ToRequest();

        Assert.Equal("ci", request.Name);
        Assert.Equal(new DateTime(2026, 11, 23, 0, 0, 0, DateTimeKind.Utc), request.ExpiresAt);
        Assert.Equal(DateTimeKind.Utc, request.ExpiresAt!.Value.Kind);
        Assert.Equal(1, request.SpendCapMicros);
        Assert.Equal(Ceiling, request.RateLimitPerMinute);
        Assert.Equal(["glm-5", "kimi-k2"], request.AllowedModels);
    }

    [Fact]
    public void EmptyOptionalFieldsMeanNoLimit()
    {
        var request = new KeyForm(Ceiling) { Name = "ci" }.ToRequest();

        Assert.Equal(new NewApiKey("ci"), request with { AllowedModels = null });
        Assert.Null(request.AllowedModels);
    }

    [Fact]
    public void ANameOfExactlyTheLimitIsAccepted() =>
        Assert.Empty(new KeyForm(Ceiling) { Name = new string('n', KeyForm.MaxNameLength) }.Check(Now));

    [Fact]
    public void TheEarliestExpiryIsTomorrowInUtc() =>
        Assert.Equal(new DateOnly(2026, 11, 23), KeyForm.EarliestExpiry(Now));

    [Fact]
    public void AnUncheckedFormCannotBeTurnedIntoARequest() =>
        Assert.Throws<InvalidOperationException>(() => new KeyForm(Ceiling) { Name = "ci", RateLimit = "0" }.ToRequest());
}
