using Portal.RateLimits;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Account;
using Portal.ApiKeys;
using Portal.Audit;
using Portal.Catalog;
using Portal.Data;
using Portal.Gateway;

namespace Portal.Benchmarks;

/// <summary>
/// The pieces every API request pays for, one operation each: finding the caller's key (a cache hit,
/// as for every request but one a second), the rate limiter, relaying one upstream chunk to the
/// client (parse, account, rewrite, write as SSE) and the JSON of one chunk.
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private const int Chunks = 20;
    private static readonly byte[] Chunk = """{"id":"up-1","object":"chat.completion.chunk","created":1764000000,"model":"glm-5","choices":[{"index":0,"delta":{"content":"Hello th"},"finish_reason":null}]}"""u8.ToArray();

    private readonly RequestRateLimiter _limiter = new(TimeProvider.System);
    private readonly UpstreamInfo _upstream = new(1, "http://127.0.0.1:1/v1", "glm-5", null, TimeSpan.FromSeconds(30));
    private readonly ChatChunk _chunk = new() { Id = "chatcmpl-req_1", Created = 1764000000, Model = "glm-5", Choices = [new ChunkChoice { Delta = new ChatDelta { Content = "Hello th" } }] };
    private readonly System.Buffers.ArrayBufferWriter<byte> _json = new(4096);
    private byte[] _stream = [];
    private string _tempFolder = "";
    private ApiKeyResolver? _resolver;
    private string _key = "";
    private static readonly ModelInfo Model = new() { Id = "glm-5", OwnedBy = "zhipu", SupportsTools = true, MaxOutputTokens = 8192, InputPriceMicros = 1_500_000, OutputPriceMicros = 5_000_000 };
    private readonly System.Text.Json.Nodes.JsonNode _requestJson = ChatBodyReader.Parse(RequestBody, maxValues: 100_000).Json!;
    private ChatRequest _request = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _request = ChatRequestValidator.Validate(_requestJson, _ => Model, 8192, RequestBody.Length).Request!;
        var sse = new StringBuilder();
        for (var i = 0; i < Chunks; i++)
        {
            sse.Append("data: ").Append(Encoding.UTF8.GetString(Chunk)).Append("\n\n");
        }

        _stream = Encoding.UTF8.GetBytes(sse.Append("data: [DONE]\n\n").ToString());

        // A real store with one user and key; the clock stands still so the cached answer never expires.
        _tempFolder = Directory.CreateTempSubdirectory("portal-bench-").FullName;
        // Identity builds its tables from the application's IdentityOptions (schema version 3, as
        // AccountExtensions sets it); without them the model is an older schema than the migrations.
        var identity = new ServiceCollection().Configure<IdentityOptions>(o => o.Stores.SchemaVersion = IdentitySchemaVersions.Version3).BuildServiceProvider();
        var options = new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={Path.Combine(_tempFolder, "portal.db")}")
            .UseApplicationServiceProvider(identity).Options;
        var factory = new Factory(options);
        await using (var db = factory.CreateDbContext())
        {
            await db.Database.MigrateAsync();
            db.Users.Add(new PortalUser { Id = "user-1", UserName = "bench@example.test", Email = "bench@example.test" });
            await db.SaveChangesAsync();
        }

        var clock = new FrozenTime();
        (_, _key) = await new ApiKeyService(factory, clock, Options.Create(new ApiKeyOptions()), new AuditLog(factory, clock)).CreateAsync("user-1", new NewApiKey("bench"));
        _resolver = new ApiKeyResolver(factory, clock, Options.Create(new ApiKeyOptions()), Options.Create(new GatewayOptions()));
        _ = await _resolver.ResolveAsync(_key) ?? throw new InvalidOperationException("the key did not resolve");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_tempFolder, recursive: true);
    }

    [Benchmark]
    public ValueTask<AuthenticatedKey?> KeyLookupCached() => _resolver!.ResolveAsync(_key);

    [Benchmark]
    public RateDecision RateLimiterAcquire() => _limiter.Acquire("key-1", 1_000_000);

    /// <summary>One upstream chunk through the relay: read from the upstream's SSE, accounted, rewritten, written to the client.</summary>
    [Benchmark(OperationsPerInvoke = Chunks)]
    public async Task RelayChunk()
    {
        using var response = new HttpResponseMessage { Content = new ByteArrayContent(_stream) };
        response.Content.Headers.ContentType = new("text/event-stream");
        using var reader = new UpstreamReader(response, _upstream, new GatewayOptions(), NullLogger.Instance);
        var http = new DefaultHttpContext();
        http.Response.Body = Stream.Null;
        var sink = new HttpCompletionSink(http.Response);
        var accumulator = new CompletionAccumulator();
        var reply = new ReplyWriter("chatcmpl-req_1", 1764000000, "glm-5", null);
        while (await reader.NextAsync(CancellationToken.None) is { } chunk)
        {
            accumulator.Add(chunk);
            await sink.ChunkAsync(chunk.Facts, reply.Chunk(chunk), CancellationToken.None);
            accumulator.Delivered(chunk.Facts);
        }
    }

    [Benchmark]
    public int SerializeChunk()
    {
        _json.Clear();
        using var writer = new System.Text.Json.Utf8JsonWriter(_json);
        System.Text.Json.JsonSerializer.Serialize(writer, _chunk, Wire.Json);
        return _json.WrittenCount;
    }

    /// <summary>A typical request body (a system prompt, a question, a tool): read as every request is (ADR 15).</summary>
    [Benchmark]
    public ChatBody ParseRequestBody() => ChatBodyReader.Parse(RequestBody, maxValues: 100_000);

    /// <summary>The same body checked into a request (the validator's walk over the parsed body).</summary>
    [Benchmark]
    public ChatRequest? ValidateRequest() => ChatRequestValidator.Validate(_requestJson, _ => Model, 8192, RequestBody.Length).Request;

    /// <summary>The body the upstream is sent, written from the validated request.</summary>
    [Benchmark]
    public int WriteUpstreamBody() => HttpUpstream.UpstreamBody(_request, "glm-5").Length;

    [Benchmark]
    public ChatChunk? DeserializeChunk() => System.Text.Json.JsonSerializer.Deserialize<ChatChunk>(Chunk, Wire.Json);

    private static readonly byte[] RequestBody = Encoding.UTF8.GetBytes("""
        {"model":"glm-5","messages":[{"role":"system","content":"You are a careful assistant that answers in plain English and cites sources when it can."},
        {"role":"user","content":"What is the boiling point of water at the top of Mount Everest, and why is it lower than at sea level? Keep it short."}],
        "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"]}}}],
        "max_tokens":256,"temperature":0.7,"stream":true,"stream_options":{"include_usage":true}}
        """);

    private sealed class Factory(DbContextOptions<SqlitePortalDbContext> options) : IDbContextFactory<PortalDbContext>
    {
        public PortalDbContext CreateDbContext() => new SqlitePortalDbContext(options);
    }

    private sealed class FrozenTime : TimeProvider
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
