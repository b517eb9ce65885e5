namespace Portal.Organizations;

/// <summary>The outcome of a change to an organization's members: done, or refused with the reason to show.</summary>
public sealed record MemberChange(bool Done, string Message)
{
    public static MemberChange Success(string message) => new(true, message);

    public static MemberChange Refused(string message) => new(false, message);

    public static readonly MemberChange NotAllowed = Refused("You may not do that in this organization. Nothing was changed.");
}
