using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Portal.Billing;
using Portal.Tests.Gateway;

namespace Portal.Tests.Billing;

/// <summary>
/// The hold bounds every byte Portal forwards (ADR 13): whatever a client puts in the body, a $0.01
/// account asking for one output token cannot get a prompt it cannot pay for past the hold.
/// </summary>
public sealed class HoldBoundTests : IDisposable
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Simulation:TokensPerSecond"] = "0", ["Simulation:FirstTokenDelayMs"] = "0" });

    public void Dispose() => _app.Dispose();

    private static string Blob(int bytes) => new('a', bytes);

    private async Task AssertRefusedFromPennyAccountAsync(JsonObject body)
    {
        var account = await _app.CreateApiAccountAsync(credits: 0.01m);

        var response = await _app.ApiClient(account.Key).PostChatAsync(body.ToJsonString());

        await GatewayFixtures.AssertErrorAsync(response, 402, "insufficient_quota");
        Assert.Equal(Money.FromUsd(0.01m), await _app.BalanceAsync(account.UserId));
        await _app.AssertLedgerConsistentAsync();
    }

    private static JsonObject Request(params JsonNode[] messages) => new()
    {
        ["model"] = "glm-5",
        ["max_tokens"] = 1,
        ["messages"] = new JsonArray(messages),
    };

    private static JsonObject User(string text) => new() { ["role"] = "user", ["content"] = text };

    [Fact]
    public async Task SevenMegabytesOfToolCallArgumentsAreRefusedWith402()
    {
        var body = Request(
            User("call it"),
            new JsonObject
            {
                ["role"] = "assistant",
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["id"] = "call_1",
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = Blob(7 * 1024 * 1024) },
                }),
            },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_1", ["content"] = "ok" });

        await AssertRefusedFromPennyAccountAsync(body);
    }

    [Fact]
    public async Task HugeReasoningContentIsRefusedWith402()
    {
        var body = Request(
            User("think"),
            new JsonObject { ["role"] = "assistant", ["content"] = "done", ["reasoning_content"] = Blob(1024 * 1024) },
            User("again"));

        await AssertRefusedFromPennyAccountAsync(body);
    }

    [Fact]
    public async Task HugeUnknownTopLevelFieldIsRefusedWith402()
    {
        var body = Request(User("hi"));
        body["vendor_extension"] = new JsonObject { ["notes"] = Blob(1024 * 1024) };

        await AssertRefusedFromPennyAccountAsync(body);
    }

    [Fact]
    public async Task HugeNonFunctionToolIsRefusedWith402()
    {
        var body = Request(User("search"));
        body["tools"] = new JsonArray(new JsonObject { ["type"] = "web_search", ["web_search"] = new JsonObject { ["search_prompt"] = Blob(1024 * 1024) } });

        await AssertRefusedFromPennyAccountAsync(body);
    }

    [Fact]
    public async Task ManyImagePartsAreRefusedAtTheirPerImageBound()
    {
        // Ten short URLs: a few hundred bytes, but up to 4,096 tokens each (the default per-image bound).
        var parts = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "compare" });
        for (var i = 0; i < 10; i++)
        {
            parts.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = $"https://img.example/{i}.png" } });
        }

        await AssertRefusedFromPennyAccountAsync(Request(new JsonObject { ["role"] = "user", ["content"] = parts }));
    }

    [Fact]
    public async Task EachMediaPartHoldsItsBoundNotItsBytes()
    {
        // A 1 MB base64 image is one image: held at the per-image bound, not a million tokens.
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var parts = new JsonArray(
            new JsonObject { ["type"] = "text", ["text"] = "what is this?" },
            new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "data:image/png;base64," + Convert.ToBase64String(new byte[768 * 1024]) } },
            new JsonObject { ["type"] = "input_audio", ["input_audio"] = new JsonObject { ["data"] = Convert.ToBase64String(new byte[3000]), ["format"] = "wav" } },
            new JsonObject { ["type"] = "file", ["file"] = new JsonObject { ["file_id"] = "file-abc" } },
            new JsonObject { ["type"] = "video_url", ["video_url"] = new JsonObject { ["url"] = "https://v.example/a.mp4" } });
        var body = Request(new JsonObject { ["role"] = "user", ["content"] = parts });

        var response = await _app.ApiClient(account.Key).PostChatAsync(body.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var hold = await _app.InStoreAsync(db => db.Ledger.SingleAsync(e => e.UserId == account.UserId && e.Kind == LedgerKind.Hold));
        // glm-5's defaults: image 4,096, audio, file and video 100,000 tokens each, at $1.50 per 1M.
        var media = 4_096 + 3 * 100_000;
        Assert.InRange(-hold.AmountMicros, Money.Cost(media, 1, Money.FromUsd(1.50m), Money.FromUsd(5m)), Money.Cost(media + 2_000, 1, Money.FromUsd(1.50m), Money.FromUsd(5m)));
        await _app.AssertLedgerConsistentAsync();
    }

    [Fact]
    public async Task TheBoundCoversTheWholeBodyNotJustMessageText()
    {
        // 50 KB of an unknown field on a funded account: the hold is at least 50,000 prompt tokens.
        var account = await _app.CreateApiAccountAsync(credits: 1m);
        var body = Request(User("hi"));
        body["vendor_extension"] = Blob(50_000);

        var response = await _app.ApiClient(account.Key).PostChatAsync(body.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var hold = await _app.InStoreAsync(db => db.Ledger.SingleAsync(e => e.UserId == account.UserId && e.Kind == LedgerKind.Hold));
        Assert.True(-hold.AmountMicros >= Money.Cost(50_000, 1, Money.FromUsd(1.50m), Money.FromUsd(5m)), $"hold {hold.AmountMicros}");
    }
}
