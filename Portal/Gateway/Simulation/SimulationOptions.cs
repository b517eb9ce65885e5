using System.ComponentModel.DataAnnotations;

namespace Portal.Gateway.Simulation;

/// <summary>Pace of the built-in simulated upstream (configuration section <c>Simulation</c>).</summary>
public sealed class SimulationOptions
{
    public const string Section = "Simulation";

    /// <summary>Output tokens per second, across all choices of a request; 0 streams without pausing.</summary>
    [Range(0, 1_000_000)]
    public int TokensPerSecond { get; set; } = 200;

    /// <summary>Time to the first chunk, in milliseconds; 0 answers at once.</summary>
    [Range(0, 600_000)]
    public int FirstTokenDelayMs { get; set; } = 120;
}
