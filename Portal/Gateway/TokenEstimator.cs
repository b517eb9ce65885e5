using System.Text;
using Portal.Catalog;

namespace Portal.Gateway;

/// <summary>
/// Portal's documented token rule (docs: billing), used when an upstream reports no usage and by the
/// simulated upstream as its own tokenizer: one token per run of letters/digits (split every 4
/// characters) and one per other non-space character, plus 4 per message and 3 per request.
/// </summary>
public static class TokenEstimator
{
    public const int PerMessage = 4;
    public const int PerRequest = 3;

    public static int Count(string text)
    {
        var tokens = 0;
        var run = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                if (run % 4 == 0)
                {
                    tokens++;
                }

                run++;
                continue;
            }

            run = 0;
            if (!Rune.IsWhiteSpace(rune))
            {
                tokens++;
            }
        }

        return tokens;
    }

    public static int PromptTokens(IReadOnlyList<ChatMessage> messages)
    {
        var total = PerRequest;
        foreach (var message in messages)
        {
            total += PerMessage + Count(message.Text);
        }

        return total;
    }

    /// <summary>
    /// What Portal may change or add on the way upstream besides the model name: <c>max_tokens</c>,
    /// <c>stream</c>, <c>stream_options</c> (HttpUpstream.UpstreamBody).
    /// </summary>
    public const int ForwardedFieldsBytes = 128;

    /// <summary>
    /// A bound of the prompt tokens no upstream can exceed, for the worst-case hold (ADR 13): every
    /// byte of the body Portal forwards (a token is at least one UTF-8 byte, and a JSON escape is never
    /// shorter than what it stands for) plus <see cref="PerMessage"/> per message and
    /// <see cref="PerRequest"/>, except the payloads of media parts, which count the model's per-part
    /// bound instead. Arithmetic only: the validator measured the body and its media parts.
    /// </summary>
    public static long PromptTokensUpperBound(ChatRequest request, ModelInfo model)
    {
        var media = request.Media;
        long upstreamModel = 0;
        foreach (var upstream in model.Upstreams)
        {
            upstreamModel = Math.Max(upstreamModel, Encoding.UTF8.GetByteCount(upstream.UpstreamModel));
        }

        return PerRequest
            + (long)PerMessage * request.Messages.Count
            + request.BodyBytes - media.PayloadBytes + upstreamModel + ForwardedFieldsBytes
            + (long)media.Images * model.ImagePartTokens
            + (long)media.Files * model.FilePartTokens
            + (long)media.Audio * model.AudioPartTokens
            + (long)media.Video * model.VideoPartTokens;
    }
}
