using System.Net.Http.Headers;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Admin;
using Portal.Audit;
using Portal.Catalog;
using Portal.Gateway;
using Portal.Tests.Gateway;

namespace Portal.Tests.Admin;

public sealed class UpstreamAdminTests : IDisposable
{
    private const string Secret = "sk-provider-0123456789abcdefSECRET";
    private readonly PortalApplication _app = new();

    public void Dispose() => _app.Dispose();

    private UpstreamAdmin Upstreams => _app.Service<UpstreamAdmin>();

    private static UpstreamForm NewUpstream(string key = Secret) => new()
    {
        ModelId = "glm-5",
        BaseUrl = "https://api.provider.test/v1/",
        UpstreamModel = "glm-5-0425",
        ApiKey = key,
        Priority = "2",
        TimeoutSeconds = "30",
    };

    private async Task<string?> StoredKeyAsync(int id)
    {
        var protectedKey = await _app.InStoreAsync(db => db.ModelUpstreams.Where(u => u.Id == id).Select(u => u.ProtectedApiKey).SingleAsync());
        return protectedKey is null ? null : _app.Service<IDataProtectionProvider>().CreateProtector(HttpUpstream.ProtectorPurpose).Unprotect(protectedKey);
    }

    [Fact]
    public async Task TheKeyIsStoredEncryptedReachesTheGatewayAndIsNeverListedOrAudited()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();

        var result = await Upstreams.SaveAsync(caller, NewUpstream());

        Assert.True(result.Succeeded, result.Problem);
        var stored = await _app.InStoreAsync(db => db.ModelUpstreams.SingleAsync());
        Assert.Equal(("https://api.provider.test/v1", "glm-5-0425", 2, 30, true), (stored.BaseUrl, stored.UpstreamModel, stored.Priority, stored.TimeoutSeconds, stored.Enabled));
        Assert.DoesNotContain(Secret, stored.ProtectedApiKey);
        Assert.Equal(Secret, await StoredKeyAsync(stored.Id));
        // The gateway sees the new upstream at once (no waiting for the snapshot to age).
        var served = (await _app.Service<ModelCatalog>().FindAsync("glm-5"))!.Upstreams.Single();
        Assert.Equal(stored.ProtectedApiKey, served.ProtectedApiKey);

        var row = (await Upstreams.ListAsync(caller, "glm-5")).Single();
        Assert.True(row.HasKey);
        Assert.DoesNotContain(Secret, row.ToString());
        Assert.Equal("", (await Upstreams.FormForAsync(caller, stored.Id))!.ApiKey);
        var audit = await _app.InStoreAsync(db => db.AuditEntries.SingleAsync());
        Assert.Equal((AuditActions.UpstreamCreate, $"upstream:{stored.Id}"), (audit.Action, audit.Target));
        Assert.Contains("\"key\":\"set\"", audit.Details);
        Assert.DoesNotContain(Secret, audit.Details + result.Done);
    }

    [Fact]
    public async Task AnEmptyKeyOnEditKeepsTheOldKeyANewOneReplacesItAndRemoveClearsIt()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        await Upstreams.SaveAsync(caller, NewUpstream());
        var id = await _app.InStoreAsync(db => db.ModelUpstreams.Select(u => u.Id).SingleAsync());

        var edit = (await Upstreams.FormForAsync(caller, id))!;
        edit.Priority = "5";
        Assert.True((await Upstreams.SaveAsync(caller, edit)).Succeeded);
        Assert.Equal(Secret, await StoredKeyAsync(id));

        edit = (await Upstreams.FormForAsync(caller, id))!;
        edit.ApiKey = "sk-rotated-key-9876543210";
        Assert.True((await Upstreams.SaveAsync(caller, edit)).Succeeded);
        Assert.Equal("sk-rotated-key-9876543210", await StoredKeyAsync(id));

        edit = (await Upstreams.FormForAsync(caller, id))!;
        edit.RemoveKey = true;
        Assert.True((await Upstreams.SaveAsync(caller, edit)).Succeeded);
        Assert.Null(await StoredKeyAsync(id));

        var keys = await _app.InStoreAsync(db => db.AuditEntries.OrderBy(e => e.Id).Select(e => e.Details).ToListAsync());
        Assert.Equal(["\"key\":\"set\"", "\"key\":\"unchanged\"", "\"key\":\"set\"", "\"key\":\"removed\""],
            keys.Select(d => System.Text.RegularExpressions.Regex.Match(d, "\"key\":\"[a-z]+\"").Value));
    }

    [Theory]
    [InlineData(nameof(UpstreamForm.BaseUrl), "")]
    [InlineData(nameof(UpstreamForm.BaseUrl), "api.provider.test/v1")]
    [InlineData(nameof(UpstreamForm.BaseUrl), "ftp://api.provider.test/v1")]
    [InlineData(nameof(UpstreamForm.BaseUrl), "javascript:alert(1)")]
    [InlineData(nameof(UpstreamForm.BaseUrl), "https://user:password@api.provider.test/v1")]
    [InlineData(nameof(UpstreamForm.BaseUrl), "https://api.provider.test/v1?api_key=abc")]
    [InlineData(nameof(UpstreamForm.UpstreamModel), " ")]
    [InlineData(nameof(UpstreamForm.ApiKey), "two words")]
    [InlineData(nameof(UpstreamForm.Priority), "-1")]
    [InlineData(nameof(UpstreamForm.Priority), "high")]
    [InlineData(nameof(UpstreamForm.TimeoutSeconds), "0")]
    [InlineData(nameof(UpstreamForm.TimeoutSeconds), "3601")]
    public async Task ABadUpstreamIsRefusedWithAMessageAndNothingIsStored(string field, string value)
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var form = NewUpstream();
        typeof(UpstreamForm).GetProperty(field)!.SetValue(form, value);

        var result = await Upstreams.SaveAsync(caller, form);

        Assert.NotNull(result.ErrorFor(field));
        Assert.Equal(0, await _app.InStoreAsync(db => db.ModelUpstreams.CountAsync()));
        Assert.Equal(0, await _app.InStoreAsync(db => db.AuditEntries.CountAsync()));
    }

    [Fact]
    public async Task AnUpstreamForAnUnknownModelIsRefused()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        var form = NewUpstream();
        form.ModelId = "no-such-model";

        Assert.Equal("There is no model 'no-such-model' in the catalog.", (await Upstreams.SaveAsync(caller, form)).Problem);
    }

    [Fact]
    public async Task RemovingAnUpstreamIsAuditedAndHandsTheModelBackToTheSimulator()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        await Upstreams.SaveAsync(caller, NewUpstream());
        var id = await _app.InStoreAsync(db => db.ModelUpstreams.Select(u => u.Id).SingleAsync());

        Assert.Equal($"Removed upstream {id} of glm-5.", (await Upstreams.DeleteAsync(caller, id)).Done);

        Assert.True((await _app.Service<ModelCatalog>().FindAsync("glm-5"))!.IsSimulated);
        Assert.Equal([AuditActions.UpstreamCreate, AuditActions.UpstreamDelete], await _app.InStoreAsync(db => db.AuditEntries.OrderBy(e => e.Id).Select(e => e.Action).ToListAsync()));
        Assert.Equal($"There is no upstream {id}.", (await Upstreams.DeleteAsync(caller, id)).Problem);
    }

    [Fact]
    public async Task TestConnectionSendsTheDecryptedKeyAndReportsSuccessInPlainWords()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        await Upstreams.SaveAsync(caller, NewUpstream());
        var handler = new FakeUpstream(_ => Json(HttpStatusCode.OK, """{"object":"list","data":[{"id":"glm-4"},{"id":"glm-5-0425"}]}"""));

        var result = await Tester(handler).RunAsync(caller, await OnlyUpstreamIdAsync());

        Assert.Equal(new ConnectionTestResult(ConnectionOutcome.Connected, "Connected. The upstream lists 2 model(s), including glm-5-0425."), result);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("https://api.provider.test/v1/models", request.RequestUri!.ToString());
        Assert.Equal(new AuthenticationHeaderValue("Bearer", Secret), request.Headers.Authorization);
    }

    [Theory]
    [InlineData(401, """{"error":{"message":"Invalid key sk-provider-0123456789abcdefSECRET"}}""", ConnectionOutcome.Failed, "The upstream refused the API key (HTTP 401). Check the key.")]
    [InlineData(404, "<html>not found</html>", ConnectionOutcome.Failed, "The upstream answered HTTP 404: the base URL is probably wrong (OpenAI-compatible ones usually end in /v1).")]
    [InlineData(500, "boom sk-provider-0123456789abcdefSECRET", ConnectionOutcome.Failed, "The upstream answered HTTP 500.")]
    [InlineData(200, """{"data":[{"id":"other"}]}""", ConnectionOutcome.Doubtful, "Connected, but glm-5-0425 is not among the 1 model(s) the upstream lists. Check the upstream model name.")]
    [InlineData(200, "<html>welcome</html>", ConnectionOutcome.Doubtful, "Connected (HTTP 200), but the reply was not a model list; a chat request may still work.")]
    public async Task TestConnectionExplainsFailuresWithoutEchoingTheReply(int status, string body, ConnectionOutcome outcome, string message)
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        await Upstreams.SaveAsync(caller, NewUpstream());

        var result = await Tester(new FakeUpstream(_ => Json((HttpStatusCode)status, body))).RunAsync(caller, await OnlyUpstreamIdAsync());

        Assert.Equal(new ConnectionTestResult(outcome, message), result);
    }

    [Fact]
    public async Task TestConnectionReportsAnUnreachableOrSilentUpstream()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        await Upstreams.SaveAsync(caller, NewUpstream());
        var id = await OnlyUpstreamIdAsync();

        var refused = await Tester(new FakeUpstream(_ => throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (api.provider.test:443)"))).RunAsync(caller, id);
        Assert.Equal(new ConnectionTestResult(ConnectionOutcome.Failed, "Could not connect: the connection was refused or dropped. Check the base URL and port."), refused);

        // What HttpClient throws when the test's own timeout fires.
        var silent = await Tester(new FakeUpstream(_ => throw new TaskCanceledException("timed out"))).RunAsync(caller, id);
        Assert.Equal(new ConnectionTestResult(ConnectionOutcome.Failed, "No answer within 10 seconds. Check the base URL and that the provider is up."), silent);
    }

    [Fact]
    public async Task TestConnectionReadsAModelListOnlyUpToItsLimit()
    {
        var (_, caller) = await _app.CreateAdminCallerAsync();
        await Upstreams.SaveAsync(caller, NewUpstream());
        var endless = new EndlessStream();

        var result = await Tester(new FakeUpstream(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(endless) }))
            .RunAsync(caller, await OnlyUpstreamIdAsync());

        Assert.Equal(new ConnectionTestResult(ConnectionOutcome.Doubtful,
            "Connected, but the reply was larger than 16 MB, too large for a model list; a chat request may still work."), result);
        Assert.True(endless.Served < 2L * UpstreamConnectionTest.MaxModelListBytes, $"{endless.Served:N0} bytes were read");
    }

    private Task<int> OnlyUpstreamIdAsync() => _app.InStoreAsync(db => db.ModelUpstreams.Select(u => u.Id).SingleAsync());

    private UpstreamConnectionTest Tester(FakeUpstream handler) =>
        new(Upstreams, new FakeHttpClientFactory(handler), NullLogger<UpstreamConnectionTest>.Instance);

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, System.Text.Encoding.UTF8, body.StartsWith('{') ? "application/json" : "text/html") };

    /// <summary>A body that never ends, made up as it is read (spaces: the start of a JSON document that never comes).</summary>
    private sealed class EndlessStream : Stream
    {
        public long Served { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => Served;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            buffer.Fill((byte)' ');
            Served += buffer.Length;
            return buffer.Length;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>An upstream provider faked at the HTTP handler: records requests, answers as told.</summary>
public sealed class FakeUpstream(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
{
    public List<HttpRequestMessage> Requests { get; } = [];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        return Task.FromResult(answer(request));
    }
}

public sealed class FakeHttpClientFactory(HttpMessageHandler handler) : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
}
