using Portal.Audit;

namespace Portal.Admin;

/// <summary>
/// Proof that an admin action was authorized: the admin services take one, and only
/// <see cref="AdminGuard"/> (for a signed-in admin) and the command line make them.
/// </summary>
public sealed class AdminCaller
{
    internal AdminCaller(AuditActor actor) => Actor = actor;

    /// <summary>The operator at the server's command line, who has the store anyway.</summary>
    internal static AdminCaller Cli { get; } = new(AuditActor.Cli);

    public AuditActor Actor { get; }
}
