using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Portal.Admin;

public enum ConnectionOutcome
{
    Connected,
    /// <summary>The upstream answered, but something looks off (e.g. the model is not listed).</summary>
    Doubtful,
    Failed,
}

public sealed record ConnectionTestResult(ConnectionOutcome Outcome, string Message);

/// <summary>
/// "Test connection": asks an upstream for its model list (GET {base}/models) with the stored key
/// and says in plain words what happened. Never shows the key or the provider's raw reply, which
/// may echo it.
/// </summary>
public sealed class UpstreamConnectionTest(UpstreamAdmin upstreams, IHttpClientFactory httpFactory, ILogger<UpstreamConnectionTest> logger)
{
    public const string HttpClientName = "admin-upstream-test";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    /// <summary>
    /// The largest model list read: the biggest providers' lists, descriptions included, are about
    /// a megabyte; HttpClient would otherwise buffer up to 2 GB of whatever the upstream sends.
    /// </summary>
    public const int MaxModelListBytes = 16 * 1024 * 1024;

    public async Task<ConnectionTestResult> RunAsync(AdminCaller caller, int upstreamId, CancellationToken cancellationToken = default)
    {
        (UpstreamRow Row, string? Key)? found;
        try
        {
            found = await upstreams.ForConnectionTestAsync(caller, upstreamId, cancellationToken);
        }
        catch (CryptographicException)
        {
            return new(ConnectionOutcome.Failed, "The stored API key can no longer be decrypted (the server's data-protection keys changed). Enter the key again.");
        }

        if (found is not { Row: var upstream, Key: var key })
        {
            return new(ConnectionOutcome.Failed, $"There is no upstream {upstreamId} any more.");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, upstream.BaseUrl + "/models");
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            var client = httpFactory.CreateClient(HttpClientName);
            client.MaxResponseContentBufferSize = MaxModelListBytes;
            using var response = await client.SendAsync(request, timeout.Token);
            return await DescribeAsync(response, upstream, timeout.Token);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
        {
            return new(ConnectionOutcome.Doubtful, $"Connected, but the reply was larger than {MaxModelListBytes / (1024 * 1024)} MB, too large for a model list; a chat request may still work.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(ConnectionOutcome.Failed, $"No answer within {Timeout.TotalSeconds:0} seconds. Check the base URL and that the provider is up.");
        }
        catch (HttpRequestException e)
        {
            logger.LogInformation("Connection test of upstream {UpstreamId} failed: {Error}", upstream.Id, e.HttpRequestError);
            return new(ConnectionOutcome.Failed, e.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => $"Could not connect: the host name {new Uri(upstream.BaseUrl).Host} could not be found.",
                HttpRequestError.SecureConnectionError => "Could not connect: the secure (TLS) connection failed.",
                HttpRequestError.ConnectionError => "Could not connect: the connection was refused or dropped. Check the base URL and port.",
                _ => "Could not connect to the upstream.",
            });
        }
    }

    private static async Task<ConnectionTestResult> DescribeAsync(HttpResponseMessage response, UpstreamRow upstream, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        switch (response.StatusCode)
        {
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                return new(ConnectionOutcome.Failed, $"The upstream refused the API key (HTTP {status}). {(upstream.HasKey ? "Check the key." : "It needs a key.")}");
            case HttpStatusCode.NotFound:
                return new(ConnectionOutcome.Failed, "The upstream answered HTTP 404: the base URL is probably wrong (OpenAI-compatible ones usually end in /v1).");
            case HttpStatusCode.TooManyRequests:
                return new(ConnectionOutcome.Failed, "The upstream answered HTTP 429 (too many requests); try again in a minute.");
            case var _ when !response.IsSuccessStatusCode:
                return new(ConnectionOutcome.Failed, $"The upstream answered HTTP {status}.");
        }

        List<string> ids;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            ids = json.RootElement.GetProperty("data").EnumerateArray()
                .Select(m => m.TryGetProperty("id", out var id) ? id.GetString() : null).OfType<string>().ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return new(ConnectionOutcome.Doubtful, $"Connected (HTTP {status}), but the reply was not a model list; a chat request may still work.");
        }

        return ids.Contains(upstream.UpstreamModel, StringComparer.OrdinalIgnoreCase)
            ? new(ConnectionOutcome.Connected, $"Connected. The upstream lists {ids.Count} model(s), including {upstream.UpstreamModel}.")
            : new(ConnectionOutcome.Doubtful, $"Connected, but {upstream.UpstreamModel} is not among the {ids.Count} model(s) the upstream lists. Check the upstream model name.");
    }
}
