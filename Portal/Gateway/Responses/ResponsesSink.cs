using System.Text.Json;
using System.Text.Json.Nodes;

namespace Portal.Gateway.Responses;

/// <summary>
/// The Responses API's sink: the gateway's run, told as a Response. A non-streamed reply becomes the
/// Response object; a stream becomes the Responses API's typed events, each with its
/// <c>sequence_number</c> — <c>response.created</c>, <c>response.in_progress</c>, then per output item
/// <c>response.output_item.added</c>, its parts and deltas and <c>response.output_item.done</c>, and
/// last <c>response.completed</c> (or <c>response.incomplete</c>) with the settled usage, or
/// <c>error</c> and <c>response.failed</c>. Errors name parameters as the client sent them
/// (<see cref="ResponsesErrors"/>). Writing fails once the client has gone, which the gateway
/// settles as for chat completions (charged for what was delivered).
/// </summary>
public sealed class ResponsesSink(HttpResponse response, string responseId, long createdAt, string model, JsonObject echo) : ICompletionSink
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Wire.Json.Encoder };

    private readonly SseWriter _sse = new(response);
    private readonly List<ResponseOutputItem> _output = [];
    private readonly Dictionary<int, ResponseOutputItem> _calls = []; // by the chat tool call's index
    private readonly string _idBase = responseId["resp_".Length..];
    private ResponseOutputItem? _open;
    private int _sequence;
    private string? _finishReason;
    private ChatUsage? _usage;

    public bool Started => response.HasStarted;

    /// <summary>The finished Response as the client got it whole (completed or incomplete); null if it failed or the client left.</summary>
    public JsonObject? Final { get; private set; }

    public async Task ChunkAsync(ChatChunk chunk, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        if (chunk.Usage is { } usage && chunk.Choices.Count == 0)
        {
            _usage = usage; // Portal's usage chunk, after settlement
            return;
        }

        foreach (var choice in chunk.Choices.Where(c => c.Index == 0)) // a Responses request is never sent with n > 1
        {
            var delta = choice.Delta;
            if (!string.IsNullOrEmpty(delta.ReasoningContent))
            {
                var item = Open(ResponseOutputItem.Reasoning, "rs");
                item.Text.Append(delta.ReasoningContent);
                Write("response.reasoning_summary_text.delta", new JsonObject { ["item_id"] = item.Id, ["output_index"] = item.Index, ["summary_index"] = 0, ["delta"] = delta.ReasoningContent });
            }

            if (!string.IsNullOrEmpty(delta.Content))
            {
                var item = Open(ResponseOutputItem.Message, "msg");
                item.Text.Append(delta.Content);
                Write("response.output_text.delta", new JsonObject
                {
                    ["item_id"] = item.Id, ["output_index"] = item.Index, ["content_index"] = 0, ["delta"] = delta.Content, ["logprobs"] = new JsonArray(),
                });
            }

            foreach (var call in delta.ToolCalls ?? [])
            {
                if (!_calls.TryGetValue(call.Index, out var item))
                {
                    Close("completed");
                    item = new ResponseOutputItem(ResponseOutputItem.FunctionCall, $"fc_{_idBase}_{_output.Count}", _output.Count)
                    {
                        CallId = call.Id ?? $"call_{_idBase}_{_output.Count}",
                        Name = call.Function?.Name ?? "",
                    };
                    _calls[call.Index] = item;
                    Add(item);
                }
                else if (call.Function?.Name is { Length: > 0 } more && item.Name != more)
                {
                    item.Name += more;
                }

                if (call.Function?.Arguments is { Length: > 0 } arguments)
                {
                    if (_open != item)
                    {
                        Close("completed");
                        _open = item; // a provider interleaving calls: the deltas still go to their own item
                    }

                    item.Text.Append(arguments);
                    Write("response.function_call_arguments.delta", new JsonObject { ["item_id"] = item.Id, ["output_index"] = item.Index, ["delta"] = arguments });
                }
            }

            _finishReason = choice.FinishReason ?? _finishReason;
        }

        await _sse.FlushAsync(cancellationToken);
    }

    public async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        await _sse.WriteKeepAliveAsync(cancellationToken);
    }

    public async Task DoneAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        var (status, reason) = ResponseObject.Outcome(_finishReason);
        Close(status);
        var final = ResponseObject.Build(responseId, createdAt, model, echo, status, Items(),
            _usage is null ? null : ResponseObject.Usage(_usage), reason);
        Write(status == "completed" ? "response.completed" : "response.incomplete", new JsonObject { ["response"] = final });
        await _sse.FlushAsync(cancellationToken);
        Final = final;
    }

    public async Task CompletionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        var converted = CompletionToResponse.Convert(json.Span, responseId, createdAt, model, echo);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(converted, Wire.Json);
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, cancellationToken);
        Final = converted;
    }

    public void TokenLimit(RateLimits.TokenDecision decision) => RateLimits.TokenLimits.WriteHeaders(response, decision);

    public async Task ErrorAsync(ApiError error)
    {
        error = ResponsesErrors.InResponsesTerms(error);
        if (!Started)
        {
            await error.WriteAsync(response);
            return;
        }

        try
        {
            Close("incomplete");
            Write("error", new JsonObject { ["code"] = error.Relayed ? error.RelayedCode : error.Code, ["message"] = error.Message, ["param"] = error.Param });
            Write("response.failed", new JsonObject { ["response"] = ResponseObject.Build(responseId, createdAt, model, echo, "failed", Items(), error: error) });
            await _sse.FlushAsync(CancellationToken.None);
        }
        catch (IOException)
        {
            // The client is gone as well; the settlement already stands.
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Started)
        {
            return;
        }

        await _sse.StartAsync(cancellationToken);
        var begun = ResponseObject.Build(responseId, createdAt, model, echo, "in_progress", []);
        Write("response.created", new JsonObject { ["response"] = begun });
        Write("response.in_progress", new JsonObject { ["response"] = begun.DeepClone() });
    }

    private IEnumerable<JsonObject> Items() => _output.Select(item => item.ToJson(item.Kind == ResponseOutputItem.Reasoning ? "completed" : item.Status));

    /// <summary>The open item of this kind, or a new one after closing the one that was open.</summary>
    private ResponseOutputItem Open(string kind, string prefix)
    {
        if (_open?.Kind == kind)
        {
            return _open;
        }

        Close("completed");
        var item = new ResponseOutputItem(kind, $"{prefix}_{_idBase}_{_output.Count}", _output.Count);
        Add(item);
        if (kind == ResponseOutputItem.Message)
        {
            Write("response.content_part.added", new JsonObject
            {
                ["item_id"] = item.Id, ["output_index"] = item.Index, ["content_index"] = 0, ["part"] = ResponseOutputItem.TextPart(""),
            });
        }
        else
        {
            Write("response.reasoning_summary_part.added", new JsonObject
            {
                ["item_id"] = item.Id, ["output_index"] = item.Index, ["summary_index"] = 0, ["part"] = ResponseOutputItem.SummaryPart(""),
            });
        }

        return item;
    }

    private void Add(ResponseOutputItem item)
    {
        _output.Add(item);
        _open = item;
        Write("response.output_item.added", new JsonObject { ["output_index"] = item.Index, ["item"] = item.ToJson("in_progress") });
    }

    /// <summary>Ends the open item: its done events, then <c>response.output_item.done</c> with it whole.</summary>
    private void Close(string status)
    {
        if (_open is not { } item)
        {
            return;
        }

        _open = null;
        item.Status = status;
        var text = item.Text.ToString();
        switch (item.Kind)
        {
            case ResponseOutputItem.Message:
                Write("response.output_text.done", new JsonObject
                {
                    ["item_id"] = item.Id, ["output_index"] = item.Index, ["content_index"] = 0, ["text"] = text, ["logprobs"] = new JsonArray(),
                });
                Write("response.content_part.done", new JsonObject
                {
                    ["item_id"] = item.Id, ["output_index"] = item.Index, ["content_index"] = 0, ["part"] = ResponseOutputItem.TextPart(text),
                });
                break;
            case ResponseOutputItem.Reasoning:
                Write("response.reasoning_summary_text.done", new JsonObject { ["item_id"] = item.Id, ["output_index"] = item.Index, ["summary_index"] = 0, ["text"] = text });
                Write("response.reasoning_summary_part.done", new JsonObject
                {
                    ["item_id"] = item.Id, ["output_index"] = item.Index, ["summary_index"] = 0, ["part"] = ResponseOutputItem.SummaryPart(text),
                });
                break;
            default:
                Write("response.function_call_arguments.done", new JsonObject { ["item_id"] = item.Id, ["output_index"] = item.Index, ["name"] = item.Name, ["arguments"] = text });
                break;
        }

        Write("response.output_item.done", new JsonObject { ["output_index"] = item.Index, ["item"] = item.ToJson(item.Kind == ResponseOutputItem.Reasoning ? "completed" : status) });
    }

    /// <summary>One event: <c>event:</c> its type, <c>data:</c> its JSON with <c>type</c> and <c>sequence_number</c> first. Flushed by the caller.</summary>
    private void Write(string type, JsonObject payload)
    {
        using (var json = new Utf8JsonWriter(_sse.BeginEvent(type), WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteNumber("sequence_number", _sequence++);
            foreach (var (name, value) in payload)
            {
                json.WritePropertyName(name);
                if (value is null)
                {
                    json.WriteNullValue();
                }
                else
                {
                    value.WriteTo(json);
                }
            }

            json.WriteEndObject();
        }

        _sse.EndEvent();
    }
}
