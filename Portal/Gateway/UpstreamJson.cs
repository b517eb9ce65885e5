using System.Text.Json;

namespace Portal.Gateway;

/// <summary>
/// Reads a provider's chunk or non-streamed reply in one pass without building it (ADR 24): the fields
/// billing needs come out typed, every other top-level member is kept as the bytes the provider sent.
/// Anything that is not a JSON object of the expected shapes throws <see cref="JsonException"/>.
/// </summary>
internal static class UpstreamJson
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64 };

    /// <param name="whole">A <c>chat.completion</c> (choices hold a <c>message</c>) rather than a chunk (a <c>delta</c>).</param>
    public static UpstreamChunk Read(ReadOnlySpan<byte> json, bool whole)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new JsonException("The reply is not UTF-8.");
        }

        var reader = new Utf8JsonReader(json, Options);
        Expect(ref reader, JsonTokenType.StartObject);
        var members = new byte[json.Length]; // the kept members are never longer than the whole
        var kept = 0;
        IReadOnlyList<ChunkChoice> choices = [];
        var named = 0; // bits for id and model (strings) and created (a number): a chunk has all three
        var hasChoices = false;
        ChatUsage? usage = null;
        byte[]? usageBytes = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            var start = (int)reader.TokenStartIndex;
            var owned = false;
            if (reader.ValueTextEquals("choices"u8))
            {
                Next(ref reader);
                choices = ReadChoices(ref reader, whole);
                hasChoices = reader.TokenType == JsonTokenType.EndArray;
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                owned = true;
                if (Next(ref reader) == JsonTokenType.StartObject)
                {
                    var at = (int)reader.TokenStartIndex;
                    reader.Skip();
                    usageBytes = json[at..(int)reader.BytesConsumed].ToArray();
                    usage = JsonSerializer.Deserialize<ChatUsage>(usageBytes, Wire.Json);
                }
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                owned = true;
                named |= Next(ref reader) == JsonTokenType.String ? 1 : 0;
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                owned = true;
                named |= Next(ref reader) == JsonTokenType.String ? 2 : 0;
            }
            else if (reader.ValueTextEquals("created"u8))
            {
                owned = true;
                named |= Next(ref reader) == JsonTokenType.Number ? 4 : 0;
            }
            else
            {
                owned = reader.ValueTextEquals("object"u8) || reader.ValueTextEquals("request_id"u8);
                Next(ref reader);
                reader.Skip();
            }

            if (!owned)
            {
                if (kept > 0)
                {
                    members[kept++] = (byte)',';
                }

                var member = json[start..(int)reader.BytesConsumed];
                member.CopyTo(members.AsSpan(kept));
                kept += member.Length;
            }
        }

        if (reader.Read())
        {
            throw new JsonException("More follows the reply's object.");
        }

        // What the chunk and reply types require: anything else is not one ("{"error": …}" with a 200).
        if (named != 7 || (whole && !hasChoices))
        {
            throw new JsonException("Not a chat completion: id, created, model or choices is missing.");
        }

        var facts = new ChatChunk { Id = "", Created = 0, Model = "", Choices = choices, Usage = usage };
        return new UpstreamChunk(facts, members[..kept], usageBytes, whole);
    }

    private static List<ChunkChoice> ReadChoices(ref Utf8JsonReader reader, bool whole)
    {
        var choices = new List<ChunkChoice>();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return choices;
        }

        Expect(reader.TokenType, JsonTokenType.StartArray);
        while (Next(ref reader) == JsonTokenType.StartObject)
        {
            var index = choices.Count;
            string? finish = null;
            var delta = new ChatDelta();
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("index"u8))
                {
                    Next(ref reader);
                    index = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    Next(ref reader);
                    finish = reader.GetString();
                }
                else if (reader.ValueTextEquals(whole ? "message"u8 : "delta"u8))
                {
                    Next(ref reader);
                    delta = ReadDelta(ref reader, whole);
                }
                else
                {
                    Next(ref reader);
                    reader.Skip(); // logprobs, content_filter_results and the like: relayed, not read
                }
            }

            choices.Add(new ChunkChoice { Index = index, Delta = delta, FinishReason = finish });
        }

        Expect(reader.TokenType, JsonTokenType.EndArray);
        return choices;
    }

    private static ChatDelta ReadDelta(ref Utf8JsonReader reader, bool whole)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return new ChatDelta();
        }

        Expect(reader.TokenType, JsonTokenType.StartObject);
        string? role = null, content = null, reasoning = null;
        List<ToolCallDelta>? calls = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("role"u8))
            {
                Next(ref reader);
                role = reader.GetString();
            }
            else if (reader.ValueTextEquals("content"u8))
            {
                // A string, or null; a provider's array of parts is relayed but not counted as text.
                content = Next(ref reader) == JsonTokenType.String ? reader.GetString() : Skipped(ref reader);
            }
            else if (reader.ValueTextEquals("reasoning_content"u8))
            {
                reasoning = Next(ref reader) == JsonTokenType.String ? reader.GetString() : Skipped(ref reader);
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                Next(ref reader);
                calls = ReadToolCalls(ref reader, whole);
            }
            else
            {
                Next(ref reader);
                reader.Skip();
            }
        }

        return new ChatDelta { Role = role, Content = content, ReasoningContent = reasoning, ToolCalls = calls };
    }

    private static List<ToolCallDelta>? ReadToolCalls(ref Utf8JsonReader reader, bool whole)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(reader.TokenType, JsonTokenType.StartArray);
        var calls = new List<ToolCallDelta>();
        while (Next(ref reader) == JsonTokenType.StartObject)
        {
            // A whole reply's calls have no index: their place in the list is theirs.
            var index = calls.Count;
            string? id = null, type = null, name = null, arguments = null;
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                if (!whole && reader.ValueTextEquals("index"u8))
                {
                    Next(ref reader);
                    index = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    Next(ref reader);
                    id = reader.GetString();
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    Next(ref reader);
                    type = reader.GetString();
                }
                else if (reader.ValueTextEquals("function"u8))
                {
                    if (Next(ref reader) == JsonTokenType.Null)
                    {
                        continue;
                    }

                    Expect(reader.TokenType, JsonTokenType.StartObject);
                    while (Next(ref reader) == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("name"u8))
                        {
                            Next(ref reader);
                            name = reader.GetString();
                        }
                        else if (reader.ValueTextEquals("arguments"u8))
                        {
                            Next(ref reader);
                            arguments = reader.GetString();
                        }
                        else
                        {
                            Next(ref reader);
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    Next(ref reader);
                    reader.Skip();
                }
            }

            calls.Add(new ToolCallDelta
            {
                Index = index,
                Id = id,
                Type = type,
                Function = name is null && arguments is null ? null : new FunctionCallDelta { Name = name, Arguments = arguments },
            });
        }

        Expect(reader.TokenType, JsonTokenType.EndArray);
        return calls;
    }

    private static string? Skipped(ref Utf8JsonReader reader)
    {
        reader.Skip();
        return null;
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new JsonException("The reply ends too early.");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type) => Expect(Next(ref reader), type);

    private static void Expect(JsonTokenType found, JsonTokenType type)
    {
        if (found != type)
        {
            throw new JsonException($"Expected {type}, found {found}.");
        }
    }
}
