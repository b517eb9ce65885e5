using System.Text;
using System.Text.Json.Nodes;
using Portal.Catalog;
using Portal.Gateway;

namespace Portal.Tests.Upstreams;

/// <summary>The body Portal sends a provider, written from the client's parsed body without cloning it.</summary>
public sealed class UpstreamBodyTests
{
    private static readonly ModelInfo Glm = new()
    {
        Id = "glm-5",
        OwnedBy = "zhipu",
        MaxOutputTokens = 8192,
        InputPriceMicros = 1_500_000,
        OutputPriceMicros = 5_000_000,
    };

    private static ChatRequest Request(string json)
    {
        var result = ChatRequestValidator.Validate(JsonNode.Parse(json), name => name == "glm-5" ? Glm : null, 1024, Encoding.UTF8.GetByteCount(json));
        Assert.Null(result.Error);
        return result.Request!;
    }

    [Fact]
    public void TheClientsFieldsGoAsTheyCameWithPortalsOwnWrittenOnce()
    {
        var request = Request("""
            {"model":"glm-5","messages":[{"role":"user","content":"你好 <b>&amp;</b> \u2028 😀"}],"seed":null,
             "max_completion_tokens":50000,"request_id":"mine-123","stream":true,"stream_options":{"include_usage":false},
             "x_vendor":{"list":[1,2.50,"three",true,null]}}
            """);

        var sent = Encoding.UTF8.GetString(HttpUpstream.UpstreamBody(request, "upstream-glm-5").Span);

        var body = JsonNode.Parse(sent)!.AsObject();
        Assert.Equal(["model", "messages", "seed", "x_vendor", "max_tokens", "stream", "stream_options"], body.Select(p => p.Key));
        Assert.Equal(("upstream-glm-5", 8192, true), (body["model"]!.GetValue<string>(), body["max_tokens"]!.GetValue<int>(), body["stream"]!.GetValue<bool>()));
        Assert.True(body["stream_options"]!["include_usage"]!.GetValue<bool>()); // Portal needs the usage to bill
        Assert.Null(body["seed"]);
        // Text as UTF-8, not \u escapes (but for what JSON text may not hold raw, and astral characters,
        // which System.Text.Json always escapes), and numbers as the client wrote them.
        Assert.Contains("\"你好 <b>&amp;</b> \\u2028 \\uD83D\\uDE00\"", sent);
        Assert.Contains("[1,2.50,\"three\",true,null]", sent);
    }

    [Fact]
    public void WithoutAStreamThereAreNoStreamOptions()
    {
        var request = Request("""{"model":"glm-5","messages":[{"role":"user","content":"Hi"}],"max_tokens":7,"stream_options":{"include_usage":true}}""");

        var body = JsonNode.Parse(HttpUpstream.UpstreamBody(request, "glm-5").Span)!.AsObject();

        Assert.Equal(["model", "messages", "max_tokens", "stream"], body.Select(p => p.Key));
        Assert.Equal((7, false), (body["max_tokens"]!.GetValue<int>(), body["stream"]!.GetValue<bool>()));
    }
}
