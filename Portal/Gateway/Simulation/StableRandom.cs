using System.Text;

namespace Portal.Gateway.Simulation;

/// <summary>
/// A small seeded generator (SplitMix64) whose sequence is the same on every process, machine and
/// .NET version — unlike <see cref="Random"/> and <see cref="string.GetHashCode()"/> — so a request
/// always gets the same simulated reply.
/// </summary>
internal sealed class StableRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>Seeds from an FNV-1a hash of the parts' UTF-8 bytes, each part closed by a separator.</summary>
    public static StableRandom From(IEnumerable<string> parts)
    {
        const ulong offsetBasis = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offsetBasis;
        foreach (var part in parts)
        {
            foreach (var b in Encoding.UTF8.GetBytes(part))
            {
                hash = (hash ^ b) * prime;
            }

            hash = (hash ^ 0xFF) * prime; // 0xFF never occurs in UTF-8: ("ab","c") ≠ ("a","bc")
        }

        return new StableRandom(hash);
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A number in [<paramref name="min"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int min, int maxExclusive) =>
        maxExclusive <= min ? min : min + (int)(NextUInt64() % (ulong)(maxExclusive - min));

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(0, items.Count)];

    public bool Chance(int percent) => Next(0, 100) < percent;
}
