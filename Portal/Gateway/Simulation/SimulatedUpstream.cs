using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Portal.Catalog;

namespace Portal.Gateway.Simulation;

/// <summary>
/// The built-in upstream that serves models with no provider configured, so a fresh install
/// works end to end offline. The reply is deterministic — derived from the conversation, model, seed
/// and choice index — and streamed one token per chunk at <see cref="SimulationOptions.TokensPerSecond"/>.
/// Tokens are Portal's own (<see cref="TokenEstimator"/>), so the usage it reports is exact.
/// </summary>
public sealed class SimulatedUpstream(IOptions<SimulationOptions> options)
{
    /// <summary>
    /// Streams the reply: per choice a role chunk, reasoning deltas (when the model reasons), then
    /// content or one tool call, then the finish reason; choices interleave. Always ends with a usage
    /// chunk (<c>choices: []</c>); whether the client sees it is the gateway's call.
    /// </summary>
    public async IAsyncEnumerable<ChatChunk> StreamAsync(
        ChatRequest request,
        ModelInfo model,
        string completionId,
        long created,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var choices = Enumerable.Range(0, Math.Max(1, request.N)).Select(i => SimulatedChoice.Plan(request, model, i)).ToList();
        var pace = options.Value;
        var firstToken = TimeSpan.FromMilliseconds(Math.Max(0, pace.FirstTokenDelayMs));
        var clock = Stopwatch.StartNew();
        var tokensSent = 0;

        await PauseUntilAsync(firstToken, clock, cancellationToken);
        for (var step = 0; step < choices.Max(c => c.Steps.Count); step++)
        {
            foreach (var choice in choices.Where(c => step < c.Steps.Count))
            {
                var next = choice.Steps[step];
                if (next.Tokens > 0 && pace.TokensPerSecond > 0)
                {
                    // On a schedule from the start rather than a pause per token, so timer slack doesn't add up.
                    await PauseUntilAsync(firstToken + TimeSpan.FromSeconds((double)tokensSent / pace.TokensPerSecond), clock, cancellationToken);
                }

                tokensSent += next.Tokens;
                cancellationToken.ThrowIfCancellationRequested();
                yield return Chunk(next.Choice);
            }
        }

        var completion = choices.Sum(c => c.CompletionTokens);
        var prompt = PromptTokens(request);
        cancellationToken.ThrowIfCancellationRequested();
        yield return Chunk(null) with
        {
            Usage = new ChatUsage
            {
                PromptTokens = prompt,
                CompletionTokens = completion,
                TotalTokens = prompt + completion,
                CompletionTokensDetails = new CompletionTokensDetails { ReasoningTokens = choices.Sum(c => c.ReasoningTokens) },
            },
        };

        ChatChunk Chunk(ChunkChoice? choice) => new()
        {
            Id = completionId,
            Created = created,
            Model = model.Id,
            Choices = choice is null ? [] : [choice],
        };
    }

    /// <summary>
    /// The prompt tokens the simulated upstream reports: <see cref="TokenEstimator.PromptTokens"/> of the
    /// messages, plus — when function tools are offered, whatever the tool choice — the tokens of each
    /// tool's definition <c>{"name","description","parameters"}</c> written as compact JSON (only
    /// quotes, backslashes and control characters escaped). That is never more than the UTF-8 bytes of
    /// the tools as the client sent them, so <see cref="TokenEstimator.PromptTokensUpperBound"/>, which
    /// counts every byte of the body, still bounds it.
    /// </summary>
    public static int PromptTokens(ChatRequest request)
    {
        var total = TokenEstimator.PromptTokens(request.Messages);
        foreach (var tool in request.Tools)
        {
            var definition = new JsonObject { ["name"] = tool.Name };
            if (tool.Description is not null)
            {
                definition["description"] = tool.Description;
            }

            if (tool.Parameters is not null)
            {
                definition["parameters"] = tool.Parameters.DeepClone();
            }

            total += TokenEstimator.Count(definition.ToJsonString(SimulatedChoice.Json));
        }

        return total;
    }

    private static async Task PauseUntilAsync(TimeSpan due, Stopwatch clock, CancellationToken cancellationToken)
    {
        var wait = due - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }
}
