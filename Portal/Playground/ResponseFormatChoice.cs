namespace Portal.Playground;

/// <summary>The playground's <c>response_format</c>: plain text, any JSON object, or JSON that follows a schema (ADR 22).</summary>
public enum ResponseFormatChoice
{
    Text,
    JsonObject,
    JsonSchema,
}
