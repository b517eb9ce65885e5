using System.Text;
using System.Text.Json;
using Portal.Gateway;

namespace Portal.Tests.Gateway;

/// <summary>A provider's chunk is read once: billing's fields typed, the rest kept byte for byte (ADR 24).</summary>
public sealed class UpstreamJsonTests
{
    private const string Head = "\"id\":\"p\",\"created\":1,\"model\":\"m\",";

    private static UpstreamChunk Read(string json, bool whole = false) => UpstreamJson.Read(Encoding.UTF8.GetBytes(json), whole);

    /// <summary>A chunk or reply with the members every one has, then <paramref name="rest"/>.</summary>
    private static UpstreamChunk ReadWith(string rest, bool whole = false) => Read("{" + Head + rest + "}", whole);

    [Fact]
    public void Portals_members_are_left_out_and_every_other_member_is_kept_as_written()
    {
        var chunk = Read("""{ "id" : "p", "\u006Fbject":"x","created":1,"model":"m","request_id":"r","usage":null, "a" : 1.50 ,"choices":[],"z":{"q":[true , null]} }""");

        Assert.Equal("""
            "a" : 1.50,"choices":[],"z":{"q":[true , null]}
            """, Encoding.UTF8.GetString(chunk.Members!));
        Assert.Null(chunk.Usage);
    }

    [Fact]
    public void Billings_fields_are_read_from_deltas_and_messages()
    {
        var delta = ReadWith("""
            "choices":[{"index":1,"delta":{"role":"assistant","content":"Hé\n","reasoning_content":"why","tool_calls":[{"index":2,"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\""}}],"extra":1},"logprobs":{"content":[]},"finish_reason":"tool_calls"}],
             "usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":2},"x":1}
            """);
        var choice = Assert.Single(delta.Facts.Choices);
        Assert.Equal((1, "assistant", "Hé\n", "why", "tool_calls"), (choice.Index, choice.Delta.Role, choice.Delta.Content, choice.Delta.ReasoningContent, choice.FinishReason));
        var call = Assert.Single(choice.Delta.ToolCalls!);
        Assert.Equal((2, "c1", "function", "f", "{\"a\""), (call.Index, call.Id, call.Type, call.Function!.Name, call.Function.Arguments));
        Assert.Equal((3, 4, 2), (delta.Facts.Usage!.PromptTokens, delta.Facts.Usage.CompletionTokens, delta.Facts.Usage.PromptTokensDetails!.CachedTokens));
        Assert.EndsWith("\"x\":1}", Encoding.UTF8.GetString(delta.Usage!));

        // A whole reply: a message, tool calls numbered by their place.
        var whole = ReadWith(""" "choices":[{"index":0,"message":{"content":null,"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{}"}},{"id":"b","function":{"name":"g","arguments":"[]"}}]},"finish_reason":"tool_calls"}]""", whole: true);
        Assert.Equal([(0, "a"), (1, "b")], whole.Facts.Choices[0].Delta.ToolCalls!.Select(c => (c.Index, c.Id)));
        Assert.Null(whole.Facts.Choices[0].Delta.Content);
        Assert.True(whole.Whole);
    }

    [Fact]
    public void Content_that_is_not_a_string_is_relayed_but_not_counted()
    {
        var chunk = ReadWith(""" "choices":[{"delta":{"content":[{"type":"text","text":"x"}]}}]""");

        Assert.Null(chunk.Facts.Choices[0].Delta.Content);
        Assert.Contains("\"type\":\"text\"", Encoding.UTF8.GetString(chunk.Members!));
    }

    [Theory]
    [InlineData("""{"id":"p","created":1,"model":"m","choices":[{"index":"0"}]}""")] // an index that is not a number
    [InlineData("""{"id":"p","created":1,"model":"m","choices":[{"index":0.5}]}""")]
    [InlineData("""{"id":"p","created":1,"model":"m","choices":{"index":0}}""")] // choices not an array
    [InlineData("""{"id":"p","created":1,"model":"m","choices":[{"delta":{"tool_calls":[{"function":{"name":1}}]}}]}""")]
    [InlineData("""{"id":"p","created":1,"model":"m","choices":[]} {}""")] // more after the object
    [InlineData("""{"created":1,"model":"m","choices":[]}""")] // no id
    [InlineData("""{"id":"p","created":"1","model":"m","choices":[]}""")] // created not a number
    [InlineData("""{"id":"p","id":"q","model":"m","choices":[]}""")] // no created, id twice
    [InlineData("""{"error":{"message":"quota exceeded","code":429}}""")] // an error answered with a 200
    [InlineData("""[]""")]
    [InlineData("""{"a":1""")]
    [InlineData("")]
    public void A_chunk_of_another_shape_is_refused(string json)
    {
        var refused = Record.Exception(() => Read(json));

        Assert.True(refused is JsonException or InvalidOperationException or FormatException, refused?.GetType().Name ?? "nothing thrown");
    }

    [Fact]
    public void A_whole_reply_needs_its_choices()
    {
        Assert.Throws<JsonException>(() => ReadWith("\"object\":\"chat.completion\"", whole: true));
        Assert.Empty(ReadWith("\"choices\":[]", whole: true).Facts.Choices);
    }

    [Fact]
    public void Bytes_that_are_not_utf8_are_refused()
    {
        byte[] json = [.. "{\"a\":\""u8, 0xC3, 0x28, .. "\"}"u8];

        Assert.Throws<JsonException>(() => UpstreamJson.Read(json, whole: false));
    }
}
