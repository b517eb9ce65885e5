namespace Portal.ApiKeys;

/// <summary>
/// The key the current <c>/api/v1</c> request authenticated with: scoped to the request, filled
/// once by <see cref="ApiKeysExtensions.RequireApiKey{TBuilder}"/>, read by the handlers and the filters
/// after it.
/// </summary>
public sealed class CurrentApiKey
{
    private AuthenticatedKey? _key;

    public AuthenticatedKey Key
    {
        get => _key ?? throw new InvalidOperationException("No key authenticated this request: its route group lacks RequireApiKey().");
        internal set => _key = value;
    }
}
