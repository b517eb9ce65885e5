using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Portal.ApiKeys;

namespace Portal.Tests.Gateway;

/// <summary>
/// A generated corpus of hostile bodies against <c>/api/v1/chat/completions</c>, in memory: wrong
/// types in every field, deep nesting, huge strings and arrays, invalid UTF-8, duplicate keys,
/// truncated and mutated JSON, random bytes, oversized bodies. Every answer must be a 4xx in the
/// OpenAI envelope (or a real completion, when chance builds a valid request) — never a 5xx.
/// </summary>
public sealed class HostileCorpusTests : IDisposable
{
    private const int Bodies = 10_000;
    private const int Seed = 20_261_122;

    private static readonly string[] Fields =
    [
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "stream", "stream_options",
        "stop", "tools", "tool_choice", "parallel_tool_calls", "response_format", "seed", "user", "presence_penalty",
        "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "reasoning_effort", "thinking", "metadata",
    ];

    private static readonly string[] MessageFields = ["role", "content", "name", "tool_calls", "tool_call_id", "reasoning_content", "refusal"];

    private readonly PortalApplication _app = new(new Dictionary<string, string?>
    {
        ["Simulation:TokensPerSecond"] = "0",
        ["Simulation:FirstTokenDelayMs"] = "0",
        // Ten thousand requests in one (manual) minute: neither the key nor its refusals may be throttled.
        ["ApiKeys:MaxRequestsPerMinute"] = "1000000",
        ["Gateway:RefusalsPerMinute"] = "1000000",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task TenThousandHostileBodiesGetOnly4xxInTheOpenAiEnvelope()
    {
        var account = await _app.CreateApiAccountAsync(credits: 1000m, key: new NewApiKey("fuzz", RateLimitPerMinute: 1_000_000));
        var statuses = new int[Bodies];
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        // One client for all: the factory's CreateClient keeps each client in a list that is not safe to add to
        // from several threads (a null in it failed the factory's disposal once).
        using var client = _app.ApiClient(account.Key);

        await Parallel.ForEachAsync(Enumerable.Range(0, Bodies), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            // Each body from its own seed: reproducible one by one, generated only when sent.
            var (body, contentType) = Generate(new Random(Seed + i), i);
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            using var response = await client.PostAsync("/api/v1/chat/completions", content);
            var text = await response.Content.ReadAsStringAsync();
            statuses[i] = (int)response.StatusCode;
            if (Problem((int)response.StatusCode, text) is { } problem)
            {
                failures.Add($"#{i} ({Describe(body)}): {(int)response.StatusCode} {problem}: {Truncate(text)}");
            }
        });

        Assert.True(failures.IsEmpty, $"{failures.Count} of {Bodies} bodies got a bad answer, e.g.:\n{string.Join("\n", failures.Take(10))}");
        // The corpus really is hostile: nearly all of it is refused, across several kinds of refusal.
        Assert.InRange(statuses.Count(s => s is >= 400 and < 500), Bodies * 9 / 10, Bodies);
        Assert.Superset(new HashSet<int> { 400, 404, 413, 415 }, statuses.Where(s => s >= 400).ToHashSet());
        await _app.AssertLedgerConsistentAsync();
    }

    /// <summary>Null when the answer is acceptable, else what is wrong with it.</summary>
    private static string? Problem(int status, string text)
    {
        if (status >= 500)
        {
            return "server error";
        }

        if (status == 200)
        {
            return null; // chance made a valid request; it was served
        }

        if (status < 400)
        {
            return "not an error status";
        }

        try
        {
            var error = JsonNode.Parse(text)?["error"] as JsonObject;
            return error is not null && error["message"]?.GetValue<string>() is { Length: > 0 } && error["type"]?.GetValue<string>() is { Length: > 0 }
                && error["code"]?.GetValue<string>() is { Length: > 0 } && error.ContainsKey("param")
                ? null
                : "not the OpenAI error envelope";
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return "not JSON";
        }
    }

    private static (byte[] Body, string ContentType) Generate(Random random, int i)
    {
        const string json = "application/json";
        return (i % 12) switch
        {
            0 => (RandomBytes(random), json),
            1 => (Utf8(WrongTypeInOneField(random)), json),
            2 => (Utf8(HostileMessages(random)), json),
            3 => (Utf8(DeepNesting(random)), json),
            4 => (Utf8(DuplicateKeys(random)), json),
            5 => (Mutate(random, Utf8(Valid(random))), json),
            6 => (InvalidUtf8InAString(random), json),
            7 => (Utf8(HugeValue(random, i)), json),
            8 => (Utf8(WrongTypeInOneField(random) is var body && random.Next(2) == 0 ? body : Valid(random)), random.Next(3) switch { 0 => "text/plain", 1 => "application/x-www-form-urlencoded", _ => "multipart/form-data; boundary=x" }),
            9 => (Utf8(OddNumbers(random)), json),
            10 => (Utf8(WrongTypeEverywhere(random)), json),
            _ => (Utf8(Truncate(Valid(random), random)), json),
        };
    }

    private static string Valid(Random random) =>
        $$"""{"model":"{{Pick(random, "glm-5", "kimi-k2", "deepseek-r1", "glm-5.2")}}","messages":[{"role":"user","content":"hello {{random.Next()}}"}],"max_tokens":{{random.Next(1, 20)}}}""";

    private static JsonNode? HostileValue(Random random, int depth = 0) => random.Next(depth > 2 ? 9 : 12) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.Next(int.MinValue, int.MaxValue)),
        3 => JsonValue.Create(Pick(random, -1.5, 1e308, -1e308, 0.0, 3.14, double.Epsilon)),
        4 => JsonValue.Create(Pick(random, "", " ", "\0", "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "glm-5", "user", "assistant", "tool", "auto", "none", "json_object", "‮evil", "\ud83d\ude00", "{{", "%s%n", "../../etc/passwd")),
        5 => JsonValue.Create(new string('x', random.Next(1, 5000))),
        6 => JsonValue.Create(long.MaxValue),
        7 => new JsonArray(),
        8 => new JsonObject(),
        9 => new JsonArray(HostileValue(random, depth + 1), HostileValue(random, depth + 1)),
        10 => new JsonObject { ["type"] = HostileValue(random, depth + 1), ["function"] = HostileValue(random, depth + 1), ["name"] = HostileValue(random, depth + 1) },
        _ => new JsonObject { [Pick(random, MessageFields)] = HostileValue(random, depth + 1), ["text"] = HostileValue(random, depth + 1) },
    };

    private static JsonObject Skeleton(Random random) => new()
    {
        ["model"] = Pick(random, "glm-5", "kimi-k2", "deepseek-r1"),
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
        ["max_tokens"] = 5,
    };

    private static string WrongTypeInOneField(Random random)
    {
        var body = Skeleton(random);
        body[Pick(random, Fields)] = HostileValue(random);
        return body.ToJsonString();
    }

    private static string WrongTypeEverywhere(Random random)
    {
        var body = new JsonObject();
        foreach (var field in Fields.Where(_ => random.Next(3) == 0))
        {
            body[field] = HostileValue(random);
        }

        return body.ToJsonString();
    }

    private static string HostileMessages(Random random)
    {
        var body = Skeleton(random);
        var messages = new JsonArray();
        for (var m = random.Next(0, 4); m >= 0; m--)
        {
            var message = new JsonObject { ["role"] = Pick(random, "user", "assistant", "system", "tool", "developer", "root", "") };
            foreach (var field in MessageFields.Where(_ => random.Next(2) == 0))
            {
                message[field] = HostileValue(random);
            }

            messages.Add(random.Next(8) == 0 ? HostileValue(random) : message);
        }

        body["messages"] = messages;
        return body.ToJsonString();
    }

    private static string DeepNesting(Random random)
    {
        var depth = random.Next(65, 5000);
        var (open, close) = random.Next(2) == 0 ? ("[", "]") : ("{\"a\":", "}");
        var inner = new StringBuilder().Insert(0, open, depth).Append('1').Insert(0, "").Append(new StringBuilder().Insert(0, close, depth));
        return random.Next(2) == 0 ? inner.ToString() : $$"""{"model":"glm-5","messages":[{"role":"user","content":{{inner}}}]}""";
    }

    private static string DuplicateKeys(Random random) => random.Next(4) switch
    {
        0 => """{"model":"glm-5","model":"kimi-k2","messages":[{"role":"user","content":"hi"}]}""",
        1 => """{"model":"glm-5","messages":[{"role":"user","role":"system","content":"hi"}]}""",
        2 => """{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"text","type":"json_object"}}""",
        _ => """{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","name":"g","parameters":{"x":""" + random.Next() + ""","x":1}}}]}""",
    };

    private static string HugeValue(Random random, int i)
    {
        // A couple of bodies over the 8 MB limit; the rest large but under it, to keep memory bounded.
        if (i % 2400 == 7)
        {
            return $$"""{"model":"glm-5","messages":[{"role":"user","content":"{{new string('a', 9 * 1024 * 1024)}}"}]}""";
        }

        return random.Next(3) switch
        {
            0 => $$"""{"model":"glm-5","messages":[{{string.Join(",", Enumerable.Repeat("{\"role\":\"user\",\"content\":1}", random.Next(500, 5000)))}}]}""",
            1 => $$"""{"model":"{{new string('m', random.Next(1000, 20_000))}}","messages":[]}""",
            _ => $$"""{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"stop":[{{string.Join(",", Enumerable.Repeat("\"x\"", random.Next(5, 10_000)))}}]}""",
        };
    }

    private static string OddNumbers(Random random)
    {
        var number = Pick(random, "1e400", "-1e400", "NaN", "Infinity", "01", "1.", ".5", "0x10", "1_000", "-0", "99999999999999999999999", "4.9e-324");
        var field = Pick(random, "max_tokens", "temperature", "top_p", "n", "seed", "presence_penalty", "max_completion_tokens");
        return $$"""{"model":"glm-5","messages":[{"role":"user","content":"hi"}],"{{field}}":{{number}}}""";
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 2048)];
        random.NextBytes(bytes);
        if (bytes.Length > 0 && random.Next(2) == 0)
        {
            bytes[0] = (byte)'{'; // looks like JSON for a moment
        }

        return bytes;
    }

    private static byte[] InvalidUtf8InAString(Random random)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes("""{"model":"glm-5","messages":[{"role":"user","content":"ab"""));
        byte[][] invalid = [[0xC3], [0xFF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0x80], [0xE2, 0x82]];
        bytes.AddRange(invalid[random.Next(invalid.Length)]);
        bytes.AddRange(Encoding.UTF8.GetBytes("\"}]}"));
        return [.. bytes];
    }

    private static byte[] Mutate(Random random, byte[] body)
    {
        for (var flips = random.Next(1, 4); flips > 0; flips--)
        {
            var at = random.Next(body.Length);
            switch (random.Next(3))
            {
                case 0:
                    body[at] = (byte)random.Next(256);
                    break;
                case 1:
                    body[at] = (byte)Structural[random.Next(Structural.Length)];
                    break;
                default:
                    body = [.. body[..at], .. body[(at + 1)..]];
                    break;
            }
        }

        return body;
    }

    private const string Structural = "{}[]\",:\\";

    private static string Truncate(string json, Random random) => json[..random.Next(json.Length)];

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static T Pick<T>(Random random, params T[] items) => items[random.Next(items.Length)];

    private static string Describe(byte[] body) => $"{body.Length} bytes: {Truncate(Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 120)))}";

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
