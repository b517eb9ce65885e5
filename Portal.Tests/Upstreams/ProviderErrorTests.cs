using System.Text;
using Portal.Catalog;
using Portal.Gateway;

namespace Portal.Tests.Upstreams;

/// <summary>Reading a provider's error body: the shapes providers send, bodies cut off by the 64 KB bound, and cleaning.</summary>
public sealed class ProviderErrorTests
{
    private static ProviderError Parse(string body, bool whole = true) => ProviderError.Parse(Encoding.UTF8.GetBytes(body), whole);

    [Fact]
    public void OpenAisEnvelopeIsRead()
    {
        Assert.Equal(new ProviderError("Too long.", "invalid_request_error", "context_length_exceeded", "messages"),
            Parse("""{"error":{"message":"Too long.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"""));
    }

    [Fact]
    public void TopLevelFieldsAsVllmSendsThemAreReadWithANumericCode()
    {
        Assert.Equal(new ProviderError("Input too long.", "BadRequestError", "400", null),
            Parse("""{"object":"error","message":"Input too long.","type":"BadRequestError","param":null,"code":400}"""));
    }

    [Fact]
    public void AnErrorThatIsAStringIsItsMessage()
    {
        Assert.Equal(new ProviderError("model not found", null, null, null), Parse("""{"error":"model not found"}"""));
    }

    [Fact]
    public void WhatArrivedBeforeACutIsStillRead()
    {
        Assert.Equal(new ProviderError("Too long.", "invalid_request_error", null, null),
            Parse("""{"error":{"message":"Too long.","type":"invalid_request_error","details":["xxxxxxxx""", whole: false));
        Assert.Equal(new ProviderError(null, null, null, null), Parse("""{"error":[1,2,""", whole: false));
    }

    [Fact]
    public void ABodyThatIsNotJsonHasNoFields()
    {
        Assert.Equal(new ProviderError(null, null, null, null), Parse("<html>Bad Gateway</html>"));
    }

    [Fact]
    public void CleaningRemovesTheKeyTheUpstreamsAddressAndCredentialsAndBoundsTheFields()
    {
        var upstream = new UpstreamInfo(1, "https://llm.internal.example:8443/v1/", "m", null, TimeSpan.FromSeconds(1));
        var said = new ProviderError(
            "key abc123 rejected at https://llm.internal.example:8443/v1/chat/completions, see https://u:p4ss@logs.example/x " + new string('!', 2000),
            "invalid request error", "bad\ncode", string.Join(" ", Enumerable.Repeat("messages[0]", 20)));

        var cleaned = said.Cleaned(upstream, "abc123");

        Assert.StartsWith("key [redacted] rejected at [upstream]/chat/completions, see https://[redacted]@logs.example/x !", cleaned.Message);
        Assert.Equal(ProviderError.MaxMessageChars + 1, cleaned.Message!.Length);
        Assert.Null(cleaned.Type); // not an identifier
        Assert.Null(cleaned.Code);
        Assert.Equal(129, cleaned.Param!.Length);
    }
}
