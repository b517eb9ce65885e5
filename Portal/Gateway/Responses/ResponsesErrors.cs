using System.Text.RegularExpressions;

namespace Portal.Gateway.Responses;

/// <summary>
/// An error of the chat completions validator, told in the Responses API's words: its <c>param</c> and
/// the names quoted in its message (<c>max_tokens</c> → <c>max_output_tokens</c>, <c>response_format</c> →
/// <c>text.format</c>, <c>tools[0].function.parameters</c> → <c>tools[0].parameters</c>…). The errors'
/// codes and statuses are OpenAI's in both APIs, so only the names change.
/// </summary>
public static partial class ResponsesErrors
{
    public static ApiError InResponsesTerms(ApiError error) => error.Param is null && !error.Message.Contains('\'')
        ? error
        : error with { Param = error.Param is null ? null : Rename(error.Param), Message = Quoted().Replace(error.Message, m => $"'{Rename(m.Groups[1].Value)}'") };

    /// <summary>A chat completions parameter's name in the request the client sent.</summary>
    public static string Rename(string param) => param switch
    {
        "max_tokens" or "max_completion_tokens" => "max_output_tokens",
        "reasoning_effort" => "reasoning.effort",
        "response_format.json_schema" or "response_format" => "text.format",
        _ when param.StartsWith("response_format.json_schema.", StringComparison.Ordinal) => "text.format." + param["response_format.json_schema.".Length..],
        _ when param.StartsWith("response_format.", StringComparison.Ordinal) => "text.format." + param["response_format.".Length..],
        _ when param.StartsWith("messages", StringComparison.Ordinal) => "input",
        _ when param.StartsWith("tool_choice.function.", StringComparison.Ordinal) => "tool_choice." + param["tool_choice.function.".Length..],
        _ when ToolFunction().Match(param) is { Success: true } m => m.Groups[1].Value + m.Groups[2].Value,
        _ => param,
    };

    [GeneratedRegex(@"'([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*)'")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"^(tools\[\d+\])\.function(.*)$")]
    private static partial Regex ToolFunction();
}
