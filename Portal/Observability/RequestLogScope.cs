using System.Collections;

namespace Portal.Observability;

/// <summary>
/// The logging scope of one <c>/api/v1</c> request: every log written while serving it carries
/// <c>ApiRequestId</c>, the id the client got in <c>x-request-id</c>, so a quoted id finds its logs.
/// (ASP.NET Core's own <c>RequestId</c> scope is its connection-based trace id, a different thing.)
/// </summary>
public sealed class RequestLogScope(string requestId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string Key = "ApiRequestId";

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new(Key, requestId) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{Key}:{requestId}";
}
