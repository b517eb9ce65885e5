using System.Text;

namespace Portal.Gateway.Simulation;

/// <summary>
/// Readable English-like filler for the simulated upstream: sentences from a tiny grammar, opened by
/// one that names the topic of the prompt, so replies visibly follow what was asked.
/// </summary>
internal static class SimulatedText
{
    private static readonly string[] Nouns =
    [
        "system", "model", "request", "answer", "idea", "detail", "pattern", "result", "question",
        "context", "value", "signal", "method", "process", "design", "change", "record", "source",
        "layer", "window", "stream", "token", "budget", "schedule", "network", "library", "project",
        "choice", "balance", "example", "feature", "review", "summary", "option", "outcome", "measure",
        "limit", "path", "plan", "note", "step", "case", "rule", "test", "goal", "view", "task", "team",
        "tool", "fact", "part", "form", "line", "list", "map",
    ];

    private static readonly string[] Adjectives =
    [
        "simple", "clear", "small", "careful", "useful", "stable", "quiet", "direct", "early", "recent",
        "common", "steady", "rough", "solid", "gentle", "practical", "modest", "typical", "broad",
        "narrow", "quick", "plain", "fair", "open", "brief", "exact", "local", "final", "main",
    ];

    private static readonly string[] Verbs =
    [
        "shape", "support", "explain", "follow", "change", "improve", "reflect", "guide", "limit",
        "reveal", "connect", "balance", "measure", "describe", "suggest", "inform", "carry", "define",
        "frame", "extend", "track", "keep", "need", "show", "make", "hold", "move", "meet", "fit",
    ];

    private static readonly string[] Adverbs =
    [
        "often", "usually", "clearly", "quietly", "simply", "mostly", "rarely", "gently", "quickly",
        "steadily", "carefully", "naturally",
    ];

    private static readonly string[] Determiners = ["the", "the", "each", "this", "that", "one", "our", "your", "its", "every"];

    private static readonly string[] Prepositions = ["with", "for", "from", "into", "across", "around", "over", "under", "within", "beyond", "about"];

    private static readonly string[] Openers =
    [
        "In practice", "For example", "As a result", "In short", "At first", "Over time", "Even so",
        "In this case", "On balance", "By contrast",
    ];

    // D determiner, A adjective, N noun, V verb (third person), B verb (base), R adverb, P preposition, O opener.
    private static readonly string[] AnswerTemplates =
    [
        "D A N V D N.",
        "O, D N R V D A N.",
        "D N V D N P D A N.",
        "We can B D N so that D N V R.",
        "It helps to B D A N before you B D N.",
        "D N P D N V how D A N V D N.",
        "If D N V D N, D A N V R.",
        "O, D A N V D N.",
    ];

    private static readonly string[] ReasoningTemplates =
    [
        "First, I should B D N and B D A N.",
        "Let me B D N P D N.",
        "Maybe D N V D A N.",
        "I need to B D N before I answer.",
        "So D A N V D N.",
        "Next, D N R V D N.",
        "Hmm, D N P D N might B D A N.",
        "I could B D N, but D A N V R.",
    ];

    private static readonly HashSet<string> CommonWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "about", "after", "also", "been", "before", "could", "does", "from", "have", "here", "into",
        "just", "like", "make", "more", "much", "only", "over", "please", "some", "tell", "than", "that",
        "their", "them", "then", "there", "these", "they", "this", "what", "when", "where", "which",
        "while", "will", "with", "would", "your", "give", "want", "need", "know", "explain", "write",
    };

    /// <summary>
    /// The answer: an opening sentence naming <paramref name="topic"/>, then sentences until about
    /// <paramref name="targetTokens"/> tokens (the sentence in progress is finished).
    /// </summary>
    public static string Answer(StableRandom random, string topic, int targetTokens, bool afterToolResult)
    {
        var opening = afterToolResult
            ? $"Based on the tool result, here is a simulated answer about {topic}."
            : $"Here is a simulated answer about {topic}.";
        return Compose(random, opening, AnswerTemplates, targetTokens);
    }

    public static string Reasoning(StableRandom random, string topic, int targetTokens) =>
        Compose(random, $"The user asks about {topic}.", ReasoningTemplates, targetTokens);

    /// <summary>
    /// A short phrase for what the last user message is about: up to three of its distinctive words,
    /// or "your message" when it has none.
    /// </summary>
    public static string Topic(string? message)
    {
        var words = new List<string>();
        foreach (var word in Words(message ?? ""))
        {
            var lower = word.ToLowerInvariant();
            if (word.Length is >= 4 and <= 20 && !CommonWords.Contains(lower) && !words.Contains(lower))
            {
                words.Add(lower);
                if (words.Count == 3)
                {
                    break;
                }
            }
        }

        return words.Count switch
        {
            0 => "your message",
            1 => words[0],
            _ => string.Join(", ", words[..^1]) + " and " + words[^1],
        };
    }

    /// <summary>The message with whitespace collapsed, cut at a word boundary to at most <paramref name="max"/> characters.</summary>
    public static string Excerpt(string? message, int max)
    {
        var collapsed = string.Join(' ', (message ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (collapsed.Length <= max)
        {
            return collapsed;
        }

        var cut = collapsed.LastIndexOf(' ', max);
        return cut > 0 ? collapsed[..cut] : collapsed[..max];
    }

    private static string Compose(StableRandom random, string opening, string[] templates, int targetTokens)
    {
        var text = new StringBuilder(opening);
        var tokens = TokenEstimator.Count(opening);
        var sinceBreak = 1;
        var previous = "";
        while (tokens < targetTokens)
        {
            var template = random.Pick(templates);
            if (template == previous)
            {
                continue; // the same shape twice in a row reads as a machine
            }

            previous = template;
            var sentence = Sentence(random, template);
            // A paragraph break now and then, as real replies have.
            var separator = sinceBreak >= 3 && random.Chance(30) ? "\n\n" : " ";
            sinceBreak = separator == " " ? sinceBreak + 1 : 0;
            text.Append(separator).Append(sentence);
            tokens += TokenEstimator.Count(sentence);
        }

        return text.ToString();
    }

    private static string Sentence(StableRandom random, string template)
    {
        var sentence = new StringBuilder();
        foreach (var c in template)
        {
            sentence.Append(c switch
            {
                'D' => random.Pick(Determiners),
                'A' => random.Pick(Adjectives),
                'N' => random.Pick(Nouns),
                'V' => ThirdPerson(random.Pick(Verbs)),
                'B' => random.Pick(Verbs),
                'R' => random.Pick(Adverbs),
                'P' => random.Pick(Prepositions),
                'O' => random.Pick(Openers),
                _ => c.ToString(),
            });
        }

        sentence[0] = char.ToUpperInvariant(sentence[0]);
        return sentence.ToString();
    }

    private static string ThirdPerson(string verb) => verb switch
    {
        _ when verb.EndsWith('y') && !"aeiou".Contains(verb[^2]) => verb[..^1] + "ies",
        _ when verb.EndsWith("sh") || verb.EndsWith("ch") || verb.EndsWith('s') || verb.EndsWith('x') => verb + "es",
        _ => verb + "s",
    };

    private static IEnumerable<string> Words(string text)
    {
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetter(rune))
            {
                word.Append(rune.ToString());
            }
            else if (word.Length > 0)
            {
                yield return word.ToString();
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            yield return word.ToString();
        }
    }
}
