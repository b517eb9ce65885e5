namespace Portal.Gateway;

/// <summary>An upstream failed; <see cref="Error"/> is what the client is told (never upstream secrets).</summary>
/// <param name="retryable">
/// False once the provider has answered with a reply Portal could not use (unreadable, or too large): it
/// has done the work and billed for it, so another attempt, here or at the next upstream, could bill again.
/// </param>
public sealed class UpstreamException(ApiError error, bool retryable = true) : Exception(error.Message)
{
    public ApiError Error { get; } = error;

    public bool Retryable { get; } = retryable;
}
