using Microsoft.AspNetCore.Identity;

namespace Portal.Account;

public sealed class PortalUser : IdentityUser
{
    public DateTime CreatedAt { get; set; }
}
