namespace Portal.Account;

public static class Roles
{
    public const string Admin = "Admin";
}
