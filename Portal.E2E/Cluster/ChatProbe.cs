using System.Net;
using System.Text;
using System.Text.Json;

namespace Portal.E2E.Cluster;

/// <summary>
/// One chat completion as a load test's client sends it, and how it ended; for tests that take the
/// store away under load and check that every answer is one a client can act on.
/// </summary>
public static class ChatProbe
{
    /// <summary>What <see cref="SendAsync"/> returns for a stream that began, then ended with an error event.</summary>
    public const int StreamError = -1;

    /// <returns>
    /// The status, or <see cref="StreamError"/>. Any error must come in the OpenAI envelope, and a 503
    /// with <c>Retry-After</c>.
    /// </returns>
    public static async Task<int> SendAsync(HttpClient client, bool stream, int index)
    {
        var body = $$"""{"model":"glm-5","messages":[{"role":"user","content":"Question {{index}}"}],"max_tokens":20,"stream":{{(stream ? "true" : "false")}}}""";
        using var response = await client.PostAsync("/api/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            AssertEnvelope(text);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.NotNull(response.Headers.RetryAfter);
            }

            return (int)response.StatusCode;
        }

        if (stream && !text.TrimEnd().EndsWith("data: [DONE]", StringComparison.Ordinal))
        {
            // Begun before the store went away, then failed: the stream ends with the error event.
            AssertEnvelope(text.TrimEnd().Split('\n')[^1]["data: ".Length..]);
            return StreamError;
        }

        return 200;
    }

    /// <summary>Holds no release has closed yet.</summary>
    public static Task<long> OpenHoldsAsync(ClusterDatabase database) => database.ScalarAsync<long>("""
        SELECT count(*) FROM "LedgerEntries" h WHERE h."Kind" = 'hold'
        AND NOT EXISTS (SELECT FROM "LedgerEntries" r WHERE r."RequestId" = h."RequestId" AND r."Kind" = 'release')
        """);

    /// <summary>"200 × 12, 503 × 3" for a test's output.</summary>
    public static string Describe(IEnumerable<int> statuses) =>
        string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{(g.Key == StreamError ? "stream error" : g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture))} × {g.Count()}"));

    private static void AssertEnvelope(string json)
    {
        var error = JsonDocument.Parse(json).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()), json);
    }
}
