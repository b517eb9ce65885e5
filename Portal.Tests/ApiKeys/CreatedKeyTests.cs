using Portal.ApiKeys;

namespace Portal.Tests.ApiKeys;

public sealed class CreatedKeyTests
{
    [Fact]
    public void PrintingACreatedKeyNeverShowsTheSecret()
    {
        const string plaintext = "sk-portal-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789wxyz";
        var key = new ApiKey { Id = "k1", UserId = "u1", Name = "ci", Hash = ApiKeyService.HashOf(plaintext), Prefix = plaintext[..14], Last4 = plaintext[^4..] };

        var printed = new CreatedKey(key, plaintext).ToString();

        Assert.DoesNotContain(plaintext, printed);
        Assert.Contains("sk-portal-AbCd…wxyz", printed);
    }
}
