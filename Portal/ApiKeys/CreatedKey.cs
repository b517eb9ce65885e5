namespace Portal.ApiKeys;

/// <summary>A key just created and its plaintext, which lives only as long as the panel showing it.</summary>
public sealed record CreatedKey(ApiKey Key, string Plaintext)
{
    // A record prints every member; this one must never put the secret into a log or an error.
    public override string ToString() => $"CreatedKey {{ Id = {Key.Id}, Key = {Key.Masked()} }}";
}
