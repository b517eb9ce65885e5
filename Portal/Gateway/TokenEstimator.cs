using System.Text;

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
    /// A bound no real tokenizer exceeds (a token is at least one UTF-8 byte), for the worst-case hold.
    /// <paramref name="extraBytes"/> covers what else is sent (tool schemas).
    /// </summary>
    public static long PromptTokensUpperBound(IReadOnlyList<ChatMessage> messages, long extraBytes)
    {
        long total = PerRequest + extraBytes;
        foreach (var message in messages)
        {
            total += PerMessage + Encoding.UTF8.GetByteCount(message.Text);
        }

        return total;
    }
}
