namespace Portal.Gateway;

/// <summary>An upstream failed; <see cref="Error"/> is what the client is told (never upstream secrets).</summary>
public sealed class UpstreamException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}
