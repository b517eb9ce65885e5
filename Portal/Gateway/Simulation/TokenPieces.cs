using System.Text;

namespace Portal.Gateway.Simulation;

/// <summary>
/// Cuts text into the simulated upstream's tokens: pieces that are one token each under
/// <see cref="TokenEstimator.Count"/> and whose counts add up to the count of the whole text.
/// </summary>
/// <remarks>
/// A letter/digit run is cut every 4 characters — exactly where <see cref="TokenEstimator"/> starts a
/// new token — so a piece boundary never merges or splits a token. Each other non-space character is
/// its own piece; whitespace rides at the front of the piece that follows it (trailing whitespace
/// joins the last piece). Text of whitespace only has no tokens and yields no pieces.
/// </remarks>
internal static class TokenPieces
{
    public static List<string> Split(string text)
    {
        var pieces = new List<string>();
        var current = new StringBuilder();
        var pending = new StringBuilder(); // whitespace waiting for the next piece
        var run = 0;
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            // Same decoding as string.EnumerateRunes: an unpaired surrogate is one replacement rune.
            Rune.DecodeFromUtf16(rest, out var rune, out var consumed);
            var chars = rest[..consumed];
            rest = rest[consumed..];
            if (Rune.IsLetterOrDigit(rune))
            {
                if (run % 4 == 0)
                {
                    StartPiece();
                }

                current.Append(chars);
                run++;
                continue;
            }

            run = 0;
            if (Rune.IsWhiteSpace(rune))
            {
                pending.Append(chars);
                continue;
            }

            StartPiece();
            current.Append(chars);
        }

        if (current.Length > 0)
        {
            pieces.Add(current.Append(pending).ToString());
        }

        return pieces;

        void StartPiece()
        {
            if (current.Length > 0)
            {
                pieces.Add(current.ToString());
            }

            current.Clear().Append(pending);
            pending.Clear();
        }
    }
}
